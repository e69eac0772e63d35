"""Teams end to end with the real Rasa and actions, and a real advisor in a real browser.

The shared stack (tests/e2e: Rasa, action server, a plain gateway) stays as it is; this
test starts a second gateway process (`python -m bot serve`) on the same database and
Rasa with the Teams channel pointed at the fake Bot Framework, which runs in a thread on
a free port and signs its tokens with an RSA key made here. The company's side is the
fake (it posts Activities like the Bot Connector and records what the bot posts back);
the advisor's side is Chromium on the second gateway's console.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from bench.fake_botframework import FakeBotFramework, Post
from bot.accounts.manage import create_advisor
from bot.conversation.models import Conversation
from core.db import make_engine, make_sessionmaker
from core.settings import PROJECT_ROOT, Settings
from scripts.stack import free_port, wait_http
from tests.browser_support import ARTIFACTS, LiveServer, console_login, screenshot
from tests.gateway.conftest import AdvisorAccount

pytest_plugins = ["tests.browser_support"]
pytestmark = [pytest.mark.e2e, pytest.mark.browser]

QUESTION = "vi har inga pengar kvar i kassan, kan vi få lån någonstans?"
HUMAN = "jag vill prata med en människa"
ADVISOR_REPLY = "Hej Eva! Jag heter Karin och är rådgivare. Hur mycket behöver ni låna?"
COMPANY_ANSWER = "Ungefär 300 000 kronor till lagret."
FOLLOW_UP = "hur kontaktar jag dem?"
CONVERSATION = "a:1e2e-teams-eva-ek"


@dataclass
class TeamsGateway:
    url: str
    bf: FakeBotFramework
    database_url: str


@pytest.fixture
def teams_gateway(rasa_stack: Settings, tmp_path: Path) -> Iterator[TeamsGateway]:
    bf = FakeBotFramework()
    fake = LiveServer(bf.app)
    bf.base_url = fake.url
    fake.start()
    port = free_port()
    env = {
        **os.environ,
        **bf.env(),
        "DATABASE_URL": rasa_stack.database_url,
        "RASA_PORT": str(rasa_stack.rasa_port),
        "RASA_TOKEN": rasa_stack.rasa_token,
        "GATEWAY_HOST": "127.0.0.1",
        "GATEWAY_PORT": str(port),
        "OPENING_HOURS": "always",
        "VAR_DIR": str(tmp_path / "var"),
        "SESSION_SECRET": "teams-e2e-session-secret",
    }
    log_dir = PROJECT_ROOT / "var" / "test-logs"
    log_dir.mkdir(parents=True, exist_ok=True)
    with (log_dir / "teams-gateway.log").open("wb") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "bot", "serve"], cwd=PROJECT_ROOT, env=env, stdout=log, stderr=subprocess.STDOUT
        )
        try:
            wait_http(f"http://127.0.0.1:{port}/healthz", 60, process)
            yield TeamsGateway(f"http://127.0.0.1:{port}", bf, rasa_stack.database_url)
        finally:
            process.terminate()
            try:
                process.wait(15)
            except subprocess.TimeoutExpired:
                process.kill()
            fake.close()


@pytest.fixture
def karin(rasa_stack: Settings) -> AdvisorAccount:
    engine = make_engine(rasa_stack.database_url)
    try:
        account = create_advisor(make_sessionmaker(engine), "karin.teams@example.se", "Karin Lund",
                                 "ett-långt-lösenord", update=True)
    finally:
        engine.dispose()
    return AdvisorAccount(account.id, "karin.teams@example.se", "Karin Lund", "ett-långt-lösenord")


def wait_post(bf: FakeBotFramework, match: Callable[[Post], bool], timeout: float = 60) -> Post:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for post in list(bf.posts):
            if match(post):
                return post
        time.sleep(0.1)
    raise AssertionError(f"no such post within {timeout:.0f} s; posts: {bf.texts_to(CONVERSATION)}")


def conversation_id(database_url: str) -> str:
    engine = make_engine(database_url)
    try:
        with make_sessionmaker(engine)() as s:
            found = s.scalar(
                select(Conversation.id).where(Conversation.channel == "teams",
                                              Conversation.external_id.endswith(CONVERSATION))
            )
    finally:
        engine.dispose()
    assert found is not None
    return str(found)


def test_teams_referral_handoff_advisor_and_back_to_the_bot(
    teams_gateway: TeamsGateway, karin: AdvisorAccount, new_context: Any
) -> None:
    from playwright.sync_api import expect

    bf, url = teams_gateway.bf, teams_gateway.url

    def say(text: str, **kw: Any) -> dict[str, Any]:
        activity = bf.message(text, conversation=CONVERSATION, **kw)
        assert bf.post_activity_sync(url, activity) == 200
        return activity

    # Installing the bot: the greeting.
    assert bf.post_activity_sync(url, bf.added(conversation=CONVERSATION)) == 200
    wait_post(bf, lambda p: "digitala assistent" in p.text)

    # A question: the real assistant's referral, posted as a reply to it.
    question = say(QUESTION)
    referral = wait_post(bf, lambda p: p.reply_to == question["id"] and "Almi Företagspartner Mälardalen" in p.text)
    assert referral.conversation_id == CONVERSATION

    # "jag vill prata med en människa": queued, with the position and the expected wait.
    say(HUMAN)
    queued = wait_post(bf, lambda p: "i kö" in p.text)
    assert re.search(r"Du är nummer \d+ i kön\. Beräknad väntetid: .+\.", queued.text), queued.text
    assert [b["title"] for b in queued.buttons] == ["Lämna kön"]

    # The advisor claims it in the console and answers.
    cid = conversation_id(teams_gateway.database_url)
    adv = new_context(viewport={"width": 1400, "height": 860}).new_page()
    console_login(adv, url, karin)
    detail = adv.request.get(f"{url}/console/api/conversations/{cid}").json()["conversation"]
    assert (detail["channel"], detail["display_name"]) == ("teams", "Eva Ek")
    adv.locator(f'.chat-item[data-conversation-id="{cid}"]').first.click()
    adv.get_by_role("button", name="Ta chatten").click()
    wait_post(bf, lambda p: p.text == "Karin Lund har anslutit till chatten.")
    reply = adv.get_by_role("textbox", name="Svar till företaget")
    reply.fill(ADVISOR_REPLY)
    reply.press("Enter")
    posted = wait_post(bf, lambda p: ADVISOR_REPLY in p.text)
    assert posted.text == f"Karin Lund, rådgivare:\n{ADVISOR_REPLY}"

    # The company answers in Teams; the advisor reads it, the bot stays silent.
    say(COMPANY_ANSWER)
    transcript = adv.get_by_role("log", name="Samtalet med företaget")
    expect(transcript.get_by_text(COMPANY_ANSWER)).to_be_visible(timeout=30_000)
    screenshot(adv, "teams-console-claimed-chat")

    # Hand back: the company is told, and the bot answers with the conversation's context.
    adv.get_by_role("button", name="Lämna tillbaka till boten").click()
    wait_post(bf, lambda p: p.text == "Du chattar nu med den digitala assistenten igen.")
    follow_up = say(FOLLOW_UP)
    answer = wait_post(bf, lambda p: p.reply_to == follow_up["id"])
    assert "Almi Företagspartner Mälardalen" in answer.text, answer.text
    assert bf.refused_posts == 0 and bf.bad_posts == []
    assert len(bf.token_requests) == 1  # one client-credentials token served every reply

    # What the company saw, as a page, for the documentation.
    company = new_context(viewport={"width": 900, "height": 1400}).new_page()
    company.goto(f"{bf.base_url}/transcript/{CONVERSATION}")
    expect(company.get_by_text(ADVISOR_REPLY)).to_be_visible()
    screenshot(company, "teams-company-transcript")
    (ARTIFACTS / "teams-company-transcript.html").write_text(company.content(), encoding="utf-8")
    # docs/screenshots/teams-handoff.png and teams-company-view.png are copies of these two.
