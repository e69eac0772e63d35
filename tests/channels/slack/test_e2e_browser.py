"""Slack end to end: the real Rasa and actions (the session's `rasa_stack`), a second
gateway process with Slack configured against the fake Slack, and an advisor in a real
browser (Debian's Chromium) in that gateway's console.

A company asks in a Slack DM and gets the referral; asks for a person and is queued; the
advisor claims the chat and answers, and the answer arrives at Slack's chat.postMessage;
the gateway restarts between two Slack events (one arrives while it is down and is
retried by Slack afterwards, and an earlier one is repeated) and nothing is lost or
doubled; the advisor hands back and the bot answers the next question with the context.
The fake's transcript and the console are saved to test-artifacts/."""

from __future__ import annotations

import os
import re
import signal
import subprocess
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from sqlalchemy import select

from bench.fake_slack import SIGNING_SECRET, TOKEN, FakeSlack, SlackMessage, SlackSide
from bot.accounts.manage import create_advisor
from bot.conversation.models import Conversation, Message
from core.db import make_engine, make_sessionmaker
from core.settings import PROJECT_ROOT, Settings
from scripts.stack import free_port, wait_http
from tests.browser_support import ARTIFACTS, LiveServer, console_login, screenshot
from tests.gateway.conftest import AdvisorAccount

pytest_plugins = ["tests.browser_support"]
pytestmark = [pytest.mark.e2e, pytest.mark.browser]

QUESTION = "vi har inga pengar kvar i kassan, kan vi få lån någonstans?"
HUMAN = "jag vill prata med en människa"
ADVISOR_REPLY = "Hej! Jag heter Sara och är rådgivare. Hur mycket behöver ni låna?"
DM = "D0E2ESLACK"
WAIT = 60.0


class SlackGatewayProcess:
    """`python -m bot serve` with Slack configured, on its own port, the stack's database."""

    def __init__(self, stack: Settings, slack_api: str, var_dir: Path) -> None:
        self.port = free_port()
        self.env = {
            **os.environ,
            "DATABASE_URL": stack.database_url,
            "RASA_HOST": stack.rasa_host,
            "RASA_PORT": str(stack.rasa_port),
            "RASA_TOKEN": stack.rasa_token,
            "GATEWAY_HOST": "127.0.0.1",
            "GATEWAY_PORT": str(self.port),
            "OPENING_HOURS": "always",
            "VAR_DIR": str(var_dir),
            "SESSION_SECRET": "slack-e2e-session-secret",
            "SLACK_BOT_TOKEN": TOKEN,
            "SLACK_SIGNING_SECRET": SIGNING_SECRET,
            "SLACK_API_URL": slack_api,
        }
        self.log = PROJECT_ROOT / "var" / "test-logs" / "slack-gateway.log"
        self.log.parent.mkdir(parents=True, exist_ok=True)
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> None:
        with self.log.open("ab") as out:
            self.process = subprocess.Popen(
                [str(PROJECT_ROOT / ".venv" / "bin" / "python"), "-m", "bot", "serve"],
                cwd=PROJECT_ROOT, env=self.env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True,
            )
        wait_http(f"{self.url}/healthz", 60, self.process)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait()
        self.process = None


class Slack:
    """The fake Slack on a loopback port (its own event loop), driven from the test."""

    def __init__(self) -> None:
        self.fake = FakeSlack()
        self.server = LiveServer(self.fake.app)
        self.server.start()
        self.side: SlackSide | None = None

    @property
    def api_url(self) -> str:
        return f"{self.server.url}/api/"

    def connect(self, gateway_url: str) -> None:
        async def session() -> SlackSide:
            return SlackSide(aiohttp.ClientSession(), gateway_url, self.fake)

        self.side = self.server.call(session)

    def send(self, envelope: dict[str, Any], retry: int | None = None) -> int:
        side = self.side
        assert side is not None
        status, _ = self.server.call(lambda: side.send_envelope(envelope, retry=retry))
        return int(status)

    def dm(self, text: str) -> dict[str, Any]:
        """A person writes in the DM: the event Slack sends for it (sent, answered 200)."""
        assert self.side is not None
        envelope = self.side.envelope(self.side.dm_event(text, channel=DM))
        assert self.send(envelope) == 200
        return envelope

    def reply(self, count: int, pattern: str) -> SlackMessage:
        """The bot's `count`-th post in the DM; it must match `pattern`."""
        message: SlackMessage = self.server.call(lambda: self.fake.wait_posts(DM, count, WAIT), timeout=WAIT + 5)
        assert re.search(pattern, message.shown_text()), message.shown_text()
        return message

    def wait_for(self, pattern: str) -> int:
        """Wait for a bot post matching `pattern`; how many posts the DM has by then."""
        for count in range(len(self.fake.bot_posts(DM)) + 1, 40):
            message = self.server.call(lambda n=count: self.fake.wait_posts(DM, n, WAIT), timeout=WAIT + 5)
            if re.search(pattern, message.shown_text()):
                return count
        raise AssertionError(f"no post matching {pattern!r}: {self.fake.bot_texts(DM)}")

    def close(self) -> None:
        if self.side is not None:
            side = self.side
            self.server.call(lambda: side.http.close())
        self.server.close()


@pytest.fixture
def slack() -> Iterator[Slack]:
    fake = Slack()
    try:
        yield fake
    finally:
        fake.close()


@pytest.fixture
def slack_gateway(rasa_stack: Settings, slack: Slack, tmp_path: Path) -> Iterator[SlackGatewayProcess]:
    gateway = SlackGatewayProcess(rasa_stack, slack.api_url, tmp_path / "var")
    gateway.start()
    slack.connect(gateway.url)
    try:
        yield gateway
    finally:
        gateway.stop()


@pytest.fixture
def sara(rasa_stack: Settings) -> AdvisorAccount:
    engine = make_engine(rasa_stack.database_url)
    try:
        advisor = create_advisor(make_sessionmaker(engine), "sara@example.se", "Sara Holm", "ett-långt-lösenord",
                                 update=True)
    finally:
        engine.dispose()
    return AdvisorAccount(advisor.id, "sara@example.se", "Sara Holm", "ett-långt-lösenord")


def conversation_of(stack: Settings) -> tuple[str, list[tuple[str, str | None]]]:
    """Our Slack conversation's id and the company's messages in it (text, Slack ts)."""
    engine = make_engine(stack.database_url)
    try:
        with make_sessionmaker(engine)() as s:
            conversation = s.scalar(select(Conversation).where(Conversation.channel == "slack",
                                                              Conversation.external_id == DM))
            assert conversation is not None
            rows = s.execute(select(Message.text, Message.client_id).where(
                Message.conversation_id == conversation.id, Message.role == "user").order_by(Message.seq)).all()
            return conversation.id, [(r.text, r.client_id) for r in rows]
    finally:
        engine.dispose()


def test_slack_referral_handoff_restart_and_back_to_the_bot(
    rasa_stack: Settings, slack: Slack, slack_gateway: SlackGatewayProcess, sara: AdvisorAccount, new_context: Any,
) -> None:
    from playwright.sync_api import expect

    # A question in a Slack DM gets the real referral, composed from the directory.
    slack.dm(QUESTION)
    slack.reply(1, "Vänd dig till Almi Företagspartner Mälardalen")

    # Asking for a person queues the chat; Slack shows the place in the queue and the wait.
    slack.dm(HUMAN)
    queued = slack.wait_for(r"Du är nummer \d+ i kön\. Beräknad väntetid:")
    conversation_id, _ = conversation_of(rasa_stack)

    # An advisor claims it in the console (a real browser) and answers.
    page = new_context(viewport={"width": 1400, "height": 860}).new_page()
    console_login(page, slack_gateway.url, sara)
    page.locator(f'.chat-item[data-conversation-id="{conversation_id}"]').click()
    expect(page.get_by_role("log", name="Samtalet med företaget")).to_contain_text(HUMAN)
    page.get_by_role("button", name="Ta chatten").click()
    slack.reply(queued + 1, r"\*Sara Holm\* har anslutit till chatten")
    reply_box = page.get_by_role("textbox", name="Svar till företaget")
    reply_box.fill(ADVISOR_REPLY)
    reply_box.press("Enter")
    said = slack.reply(queued + 2, re.escape(ADVISOR_REPLY))
    assert said.text == f"Sara Holm: {ADVISOR_REPLY}"  # the reply arrived at chat.postMessage

    transcript = page.get_by_role("log", name="Samtalet med företaget")
    before_restart = slack.dm("Ungefär 300 000 kronor till lagret.")
    expect(transcript.get_by_text("Ungefär 300 000 kronor till lagret.")).to_be_visible(timeout=20_000)

    # The gateway restarts between two Slack events. The one sent while it is down fails,
    # so Slack retries it afterwards; Slack also repeats the event from before the restart.
    slack_gateway.stop()
    assert slack.side is not None
    while_down = slack.side.envelope(slack.side.dm_event("Vi har fem anställda.", channel=DM))
    with pytest.raises(aiohttp.ClientConnectionError):
        slack.send(while_down)
    slack_gateway.start()
    assert slack.send(while_down, retry=1) == 200
    assert slack.send(before_restart, retry=2) == 200
    assert [text for text, _ in conversation_of(rasa_stack)[1]][-2:] == [
        "Ungefär 300 000 kronor till lagret.", "Vi har fem anställda."
    ]
    # The console reconnects by itself (with backoff) and catches up.
    expect(transcript.get_by_text("Vi har fem anställda.")).to_be_visible(timeout=60_000)
    screenshot(page, "slack-console-claimed-chat")

    # Hand back: Slack is told, and the bot answers with the context (it named Almi before).
    page.get_by_role("button", name="Lämna tillbaka till boten").click()
    back = slack.wait_for("Du chattar nu med den digitala assistenten igen")
    slack.dm("hur kontaktar jag dem?")
    slack.reply(back + 1, "Så här når du Almi Företagspartner Mälardalen")

    # Nothing lost, nothing twice: every company message stored once, every reply posted once.
    _, company = conversation_of(rasa_stack)
    texts = [text for text, _ in company]
    assert texts == [QUESTION, HUMAN, "Ungefär 300 000 kronor till lagret.", "Vi har fem anställda.",
                     "hur kontaktar jag dem?"]
    assert len({ts for _, ts in company}) == len(company)
    ids = Counter(m.metadata["event_payload"]["message_id"] for m in slack.fake.bot_posts(DM) if m.metadata)
    assert ids and max(ids.values()) == 1
    assert slack.fake.problems == []

    ARTIFACTS.mkdir(exist_ok=True)
    html = slack.fake.transcript_html("Slack: samtalet som företaget såg det")
    (ARTIFACTS / "slack-transcript.html").write_text(html)
    view = new_context(viewport={"width": 900, "height": 600}).new_page()
    view.set_content(html)
    view.screenshot(path=str(ARTIFACTS / "slack-handoff.png"), full_page=True)
