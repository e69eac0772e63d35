"""Faults while chats run, against a private copy of the whole product: its own PostgreSQL
cluster and Redis (on free ports in a temporary directory), one real Rasa server with the
session's trained model, the action server and two gateways (A and B), supervised as
`make run` supervises them. Each test kills or restarts one part and counts at the end,
per conversation, every message the company sent against every message stored and
answered: equal, nothing twice. The figures go to the run's summary (docs/operations.md).

Rasa takes a while to load a model, so the module starts it once (and a second time only
in the test that kills it).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import signal
import threading
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from aiohttp import web
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from bench.fake_slack import SIGNING_SECRET, FakeSlack, SlackSide
from bench.fake_slack import TOKEN as SLACK_TOKEN
from bot import texts
from bot.accounts.manage import create_advisor
from bot.conversation.models import Message
from core.db import make_engine, make_sessionmaker
from core.settings import PROJECT_ROOT, Settings, load_settings
from scripts.db import seed, upgrade
from scripts.model import model_path
from scripts.stack import Stack, free_port, wait_http
from tests.e2e.conftest import SUMMARY
from tests.private_servers import PrivatePostgres, PrivateRedis, private_postgres, private_redis

# Loading the model takes minutes on a busy machine (the fixture) and again after the kill.
pytestmark = [pytest.mark.e2e, pytest.mark.faults, pytest.mark.timeout(2400)]

PASSWORD = "fel-tolerant-lösen"
ANSWER_TIMEOUT = 240.0  # a killed Rasa loads its model again (longer on a busy machine)
LOAN = "vi behöver låna pengar till en maskin, vart vänder vi oss?"
FAULT_TABLE: list[str] = []


class FakeSlackThread:
    """The fake Slack (bench/fake_slack.py) on a free port, served from its own thread and
    event loop, so that it outlives the tests' loops and gateway restarts."""

    def __init__(self) -> None:
        self.fake = FakeSlack()
        self.port = free_port()
        self.loop = asyncio.new_event_loop()
        self._ready = threading.Event()
        self._thread = threading.Thread(target=self._serve, name="fake-slack", daemon=True)
        self._thread.start()
        assert self._ready.wait(30), "the fake Slack did not start"

    @property
    def api_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/api/"

    def _serve(self) -> None:
        asyncio.set_event_loop(self.loop)
        self.runner = web.AppRunner(self.fake.app(), access_log=None)
        self.loop.run_until_complete(self.runner.setup())
        self.loop.run_until_complete(web.TCPSite(self.runner, "127.0.0.1", self.port).start())
        self._ready.set()
        self.loop.run_forever()

    def stop(self) -> None:
        asyncio.run_coroutine_threadsafe(self.runner.cleanup(), self.loop).result(10)
        self.loop.call_soon_threadsafe(self.loop.stop)
        self._thread.join(10)
        self.loop.close()  # an unclosed loop leaks its self-pipe sockets into a later test


@dataclass
class FaultStack:
    settings: Settings
    stack: Stack
    postgres: PrivatePostgres
    redis: PrivateRedis
    sessions: sessionmaker[Session]
    advisor_email: str
    slack: FakeSlackThread

    @property
    def gateways(self) -> list[str]:
        return self.stack.gateway_urls

    def kill(self, name: str) -> int:
        """kill -9 of one supervised process; the supervisor restarts it with backoff."""
        process = self.stack.processes[name]
        pid = process.pid
        os.killpg(pid, signal.SIGKILL)
        assert process.process is not None
        process.process.wait()
        return pid

    def wait_restarted(self, name: str, old_pid: int, url: str, timeout: float = ANSWER_TIMEOUT) -> None:
        deadline = time.monotonic() + timeout
        while self.stack.processes[name].process is None or self.stack.processes[name].pid == old_pid:
            assert time.monotonic() < deadline, f"{name} was not restarted"
            time.sleep(0.2)
        wait_http(url, max(1.0, deadline - time.monotonic()))


@pytest.fixture(scope="module")
def fault_stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[FaultStack]:
    model = model_path()
    if not model.exists():
        pytest.fail(f"No trained model for the current data ({model.name}): run `make model`")
    root = tmp_path_factory.mktemp("faults")
    slack = FakeSlackThread()
    with private_postgres(root / "pg") as postgres, private_redis(root / "redis") as redis:
        database_url = postgres.create_database("foretagsstod")
        tracker_url = postgres.create_database("rasa_tracker")
        upgrade(database_url)
        seed(database_url)
        env = {
            **os.environ,
            "VAR_DIR": str(root / "var"),
            "DATABASE_URL": database_url,
            "RASA_TRACKER_URL": tracker_url,
            "REDIS_URL": redis.url,
            "RASA_TOKEN": "fault-test-token",
            "RASA_PORT": str(free_port()),
            "ACTION_SERVER_PORT": str(free_port()),
            "GATEWAY_PORT": str(free_port()),
            "OPENING_HOURS": "always",
            "SESSION_SECRET": "fault-test-secret",
            "ADVISOR_TIMEOUT_SECONDS": "20",  # the gateways sweep (and retry) every 5 s
            "RASA_TIMEOUT_SECONDS": "30",
            "SLACK_BOT_TOKEN": SLACK_TOKEN,
            "SLACK_SIGNING_SECRET": SIGNING_SECRET,
            "SLACK_API_URL": slack.api_url,
        }
        # The second gateway's port must be free too (ports count up from GATEWAY_PORT).
        while True:
            with contextlib.suppress(OSError):
                import socket

                with socket.socket() as sock:
                    sock.bind(("127.0.0.1", int(env["GATEWAY_PORT"]) + 1))
                break
            env["GATEWAY_PORT"] = str(free_port())
        settings = load_settings(env)
        saved = dict(os.environ)
        os.environ.update(env)  # the supervised processes read their settings from it
        stack = Stack(settings, model, with_gateway=True, log_dir=PROJECT_ROOT / "var" / "test-logs" / "faults",
                      replicas=2, rasa_replicas=1)
        stop = threading.Event()

        def supervise() -> None:
            while not stop.wait(0.5):
                stack.poll()

        supervisor = threading.Thread(target=supervise, name="fault-supervisor", daemon=True)
        engine = make_engine(database_url)
        try:
            stack.start(timeout=600)
            os.environ.clear()
            os.environ.update(saved)
            supervisor.start()
            sessions = make_sessionmaker(engine)
            email = "rut.rad@foretagssupport.se"
            create_advisor(sessions, email, "Rut Rådgivare", PASSWORD)
            yield FaultStack(settings, stack, postgres, redis, sessions, email, slack)
        finally:
            slack.stop()
            os.environ.clear()
            os.environ.update(saved)
            stop.set()
            if supervisor.is_alive():
                supervisor.join()
            stack.stop()
            engine.dispose()
            if FAULT_TABLE:
                SUMMARY.append("fault | sent | stored | answered once | duplicates | what the company saw")
                SUMMARY.extend(FAULT_TABLE)


# ------------------------------------------------------------------ a widget that resends


@dataclass
class ResendingWidget:
    """The chat widget as it behaves in a browser: it reconnects (to whichever gateway
    answers) and sends a message again, with the same id, until the gateway acknowledges
    it."""

    http: aiohttp.ClientSession
    gateways: list[str]
    conversation_id: str | None = None
    seen: dict[int, dict[str, Any]] = field(default_factory=dict)
    sent: list[str] = field(default_factory=list)
    ws: aiohttp.ClientWebSocketResponse | None = None
    reader: asyncio.Task[None] | None = None
    acks: set[str] = field(default_factory=set)
    reconnects: int = 0

    async def connect(self, prefer: int = 0) -> None:
        order = self.gateways[prefer:] + self.gateways[:prefer]
        deadline = time.monotonic() + ANSWER_TIMEOUT
        while True:
            for base in order:
                with contextlib.suppress(aiohttp.ClientError, aiohttp.WSMessageTypeError, asyncio.TimeoutError, OSError,
                                         KeyError):  # a close (1011: the database away) means: try again
                    ws = await self.http.ws_connect(f"{base.replace('http', 'ws', 1)}/widget/ws",
                                                    headers={"Origin": base})
                    last_seq = max(self.seen, default=0)
                    await ws.send_json({"type": "hello", "protocol": 1, "conversation_id": self.conversation_id,
                                        "last_seq": last_seq})
                    welcome = await ws.receive_json(timeout=10)
                    while welcome.get("type") != "welcome":
                        welcome = await ws.receive_json(timeout=10)
                    assert self.conversation_id in (None, welcome["conversation_id"]), "the chat was lost"
                    self.conversation_id = welcome["conversation_id"]
                    self.ws = ws
                    self.reader = asyncio.create_task(self._read(ws))
                    return
            assert time.monotonic() < deadline, "no gateway took the widget back"
            self.reconnects += 1
            await asyncio.sleep(1)

    async def _read(self, ws: aiohttp.ClientWebSocketResponse) -> None:
        async for msg in ws:
            if msg.type != aiohttp.WSMsgType.TEXT:
                continue
            frame = json.loads(msg.data)
            if frame.get("type") == "message":
                self.seen[frame["message"]["seq"]] = frame["message"]
            elif frame.get("type") == "ack":
                self.acks.add(frame["client_id"])

    async def say(self, text: str, payload: str | None = None) -> str:
        """Send until acknowledged (reconnecting as often as needed); returns its id."""
        client_id = f"fault-{uuid.uuid4().hex[:16]}"
        self.sent.append(client_id)
        frame: dict[str, Any] = {"type": "message", "client_id": client_id, "text": text}
        if payload:
            frame["payload"] = payload
        deadline = time.monotonic() + ANSWER_TIMEOUT
        while client_id not in self.acks:
            assert time.monotonic() < deadline, f"{text!r} was never acknowledged"
            if self.ws is None or self.ws.closed:
                await self.connect()
            with contextlib.suppress(aiohttp.ClientError, ConnectionError, RuntimeError):
                assert self.ws is not None
                await self.ws.send_json(frame)
            for _ in range(50):
                if client_id in self.acks or self.ws is None or self.ws.closed:
                    break
                await asyncio.sleep(0.1)
            if client_id not in self.acks and self.ws is not None and not self.ws.closed:
                await self.ws.close()  # like the widget: no ack in 5 s, reconnect and resend
        return client_id

    async def wait_for(self, role: str, contains: str = "", timeout: float = ANSWER_TIMEOUT) -> dict[str, Any]:
        deadline = time.monotonic() + timeout
        while True:
            for message in self.seen.values():
                if message["role"] == role and contains in (message.get("text") or ""):
                    return message
            assert time.monotonic() < deadline, f"no {role} message with {contains!r}"
            if self.ws is None or self.ws.closed:
                await self.connect()
            await asyncio.sleep(0.2)

    def transcript(self) -> list[tuple[int, str, str]]:
        return [(seq, m["role"], (m.get("text") or "")[:40]) for seq, m in sorted(self.seen.items())]

    async def close(self) -> None:
        if self.ws is not None:
            await self.ws.close()
        if self.reader is not None:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self.reader


async def answered(stack: FaultStack, company: ResendingWidget, count: int,
                   timeout: float = ANSWER_TIMEOUT) -> None:
    """Wait until `count` of the company's messages have a stored bot answer, and the
    widget has shown every answer stored."""
    deadline = time.monotonic() + timeout
    while True:
        if company.conversation_id is not None:
            with stack.sessions() as s:
                rows = list(s.execute(select(Message.seq, Message.reply_to).where(
                    Message.conversation_id == company.conversation_id, Message.role == "bot")))
            replied = {reply_to for _, reply_to in rows if reply_to is not None}
            if len(replied) >= count and all(seq in company.seen for seq, _ in rows):
                return
        assert time.monotonic() < deadline, f"fewer than {count} messages were answered: {company.transcript()}"
        if company.ws is None or company.ws.closed:
            await company.connect()
        await asyncio.sleep(0.3)


@pytest.fixture
async def http() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True),
                                     timeout=aiohttp.ClientTimeout(total=60)) as session:
        yield session


# ------------------------------------------------------------------ the count


@dataclass
class Count:
    sent: int
    stored: int
    answered: int
    duplicates: int
    seen_on_screen: bool


def count(stack: FaultStack, widget: ResendingWidget, answered_by_bot: bool = True) -> Count:
    """Sent (the widget's ids) against stored (the company's rows) and answered (bot turns
    per company message; more than one turn for a message is a duplicate)."""
    assert widget.conversation_id is not None
    with stack.sessions() as s:
        rows = list(s.scalars(select(Message).where(Message.conversation_id == widget.conversation_id)
                              .order_by(Message.seq)))
    users = [m for m in rows if m.role == "user"]
    turns: dict[int, set[Any]] = {}
    for m in rows:
        if m.role == "bot" and m.reply_to is not None:
            turns.setdefault(m.reply_to, set()).add(m.created_at)
    duplicates = len(users) - len({m.client_id for m in users}) + sum(len(t) - 1 for t in turns.values())
    answered = sum(1 for m in users if m.seq in turns) if answered_by_bot else len(users)
    on_screen = all(m.seq in widget.seen for m in rows if m.role in ("user", "bot", "advisor", "system"))
    return Count(len(widget.sent), len(users), answered, duplicates, on_screen)


def record(fault: str, result: Count, saw: str) -> None:
    FAULT_TABLE.append(f"{fault} | {result.sent} | {result.stored} | {result.answered} | {result.duplicates} | {saw}")


def assert_nothing_lost_nothing_twice(result: Count) -> None:
    assert result.sent == result.stored == result.answered, result
    assert result.duplicates == 0, result
    assert result.seen_on_screen, result


async def rasa_user_turns(stack: FaultStack, http: aiohttp.ClientSession, conversation_id: str) -> int:
    """User turns in Rasa's tracker, undone ones (rewind) not counted."""
    url = f"{stack.settings.rasa_url}/conversations/{conversation_id}/tracker"
    async with http.get(url, params={"token": stack.settings.rasa_token}) as response:
        events = (await response.json())["events"]
    return sum(1 for e in events if e["event"] == "user") - sum(1 for e in events if e["event"] == "rewind")


# ------------------------------------------------------------------ the faults


async def test_kill_9_of_the_action_server_the_company_is_told_and_answered_once_it_is_back(
    fault_stack: FaultStack, http: aiohttp.ClientSession
) -> None:
    company = ResendingWidget(http, fault_stack.gateways)
    await company.connect()
    await company.say("hej")
    await answered(fault_stack, company, 1)

    pid = fault_stack.kill("actions")
    await company.say(LOAN)
    notice = await company.wait_for("system", "svarar inte")
    assert notice["text"] == texts.BOT_UNAVAILABLE
    assert notice["buttons"] == [dict(texts.REQUEST_ADVISOR_BUTTON)]
    s = fault_stack.settings
    await asyncio.to_thread(fault_stack.wait_restarted, "actions", pid,
                            f"http://{s.action_server_host}:{s.action_server_port}/health")
    await answered(fault_stack, company, 2)
    await asyncio.sleep(6)  # one more sweep: nothing is answered a second time

    result = count(fault_stack, company)
    record("kill -9 action server", result, "“svarar inte just nu … sparat” + advisor button, then the answer")
    assert_nothing_lost_nothing_twice(result)
    assert company.conversation_id is not None
    assert await rasa_user_turns(fault_stack, http, company.conversation_id) == result.sent
    await company.close()


async def test_kill_9_of_a_gateway_the_widget_reconnects_to_the_other_and_resends(
    fault_stack: FaultStack, http: aiohttp.ClientSession
) -> None:
    company = ResendingWidget(http, fault_stack.gateways)
    await company.connect(prefer=0)
    await company.say("hej")
    await answered(fault_stack, company, 1)

    killed = asyncio.create_task(asyncio.to_thread(fault_stack.kill, "gateway"))
    await company.say(LOAN)  # sent around the kill: acknowledged by whichever gateway took it
    await killed
    await company.say("hur kontaktar jag dem?")
    await answered(fault_stack, company, 3)
    await asyncio.sleep(6)

    result = count(fault_stack, company)
    record("kill -9 gateway A", result, "nothing (the widget reconnected to B and resent)")
    assert_nothing_lost_nothing_twice(result)
    assert company.reconnects >= 0
    await company.close()


async def test_a_company_on_gateway_a_and_an_advisor_on_gateway_b_chat_live(
    fault_stack: FaultStack, http: aiohttp.ClientSession
) -> None:
    a, b = fault_stack.gateways
    wait_http(f"{a}/healthz", ANSWER_TIMEOUT)  # gateway A is back after the previous test
    company = ResendingWidget(http, [a, b])
    await company.connect(prefer=0)
    await company.say("Prata med en rådgivare", payload="gateway:request_advisor")
    async with aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True)) as browser:
        async with browser.get(f"{b}/console/api/session") as response:
            csrf = (await response.json())["csrf_token"]
        headers = {"X-CSRF-Token": csrf, "Origin": b}
        async with browser.post(f"{b}/console/api/login", headers=headers,
                                json={"email": fault_stack.advisor_email, "password": PASSWORD}) as response:
            assert response.status == 200
            headers["X-CSRF-Token"] = (await response.json())["csrf_token"]
        path = f"{b}/console/api/conversations/{company.conversation_id}"
        deadline = time.monotonic() + 60
        while True:
            async with browser.post(f"{path}/claim", headers=headers) as response:
                if response.status == 200:
                    break
            assert time.monotonic() < deadline, "the chat never reached the queue"
            await asyncio.sleep(0.5)
        async with browser.post(f"{path}/messages", headers=headers,
                                json={"client_id": "fault-advisor-0001", "text": "Hej, Rut här."}) as response:
            assert response.status == 201, await response.text()
        await company.wait_for("advisor", "Rut här", timeout=30)  # across gateways, through Redis
        await company.say("Tack! Vi behöver ett lån.")

        async def advisor_sees(text: str) -> bool:
            async with browser.get(f"{path}/messages", params={"after_seq": "0"}, headers=headers) as response:
                body = await response.json()
            return any(m.get("text") == text for m in body.get("messages", []))

        for _ in range(100):
            if await advisor_sees("Tack! Vi behöver ett lån."):
                break
            await asyncio.sleep(0.2)
        else:
            raise AssertionError("the advisor on B never saw the company's message from A")

        fault_stack.kill("gateway")  # A dies: the widget continues on B
        await company.say("Är du kvar?")
        for _ in range(100):
            if await advisor_sees("Är du kvar?"):
                break
            await asyncio.sleep(0.2)
        else:
            raise AssertionError("after A died the company's message did not reach the advisor")
    assert company.conversation_id is not None
    with fault_stack.sessions() as s:
        users = list(s.scalars(select(Message.client_id).where(
            Message.conversation_id == company.conversation_id, Message.role == "user")))
    assert sorted(users) == sorted(company.sent)
    FAULT_TABLE.append(f"kill -9 gateway A during a live advisor chat (advisor on B) | {len(company.sent)} | "
                       f"{len(users)} | {len(users)} (advisor) | 0 | nothing: the chat went on through B")
    await company.close()


async def test_a_postgresql_restart_while_chatting_loses_nothing(
    fault_stack: FaultStack, http: aiohttp.ClientSession
) -> None:
    wait_http(f"{fault_stack.gateways[0]}/healthz", ANSWER_TIMEOUT)
    company = ResendingWidget(http, fault_stack.gateways)
    await company.connect()
    await company.say("hej")
    await answered(fault_stack, company, 1)

    restart = asyncio.create_task(asyncio.to_thread(fault_stack.postgres.restart))
    await company.say(LOAN)  # during the restart: stored once PostgreSQL is back
    await restart
    await company.say("hur kontaktar jag dem?")
    await answered(fault_stack, company, 3)
    await asyncio.sleep(6)

    result = count(fault_stack, company)
    record("PostgreSQL restart", result, "a delay; answers (or the “svarar inte” notice, then answers)")
    assert_nothing_lost_nothing_twice(result)
    await company.close()


async def test_a_redis_outage_while_chatting_the_company_is_told_and_answered_once_it_is_back(
    fault_stack: FaultStack, http: aiohttp.ClientSession
) -> None:
    company = ResendingWidget(http, fault_stack.gateways)
    await company.connect()
    await company.say("hej")
    await answered(fault_stack, company, 1)

    fault_stack.redis.kill()  # Rasa's lock store and the gateways' pub/sub are gone
    try:
        await company.say(LOAN)
        await company.wait_for("system", "svarar inte", timeout=60)
    finally:
        fault_stack.redis.start()
    await answered(fault_stack, company, 2)
    await asyncio.sleep(6)

    result = count(fault_stack, company)
    record("Redis outage (killed, started again)", result, "“svarar inte just nu … sparat”, then the answer")
    assert_nothing_lost_nothing_twice(result)
    await company.close()


async def test_kill_9_of_rasa_mid_turn_the_company_is_told_and_answered_once_it_is_back(
    fault_stack: FaultStack, http: aiohttp.ClientSession
) -> None:
    company = ResendingWidget(http, fault_stack.gateways)
    await company.connect()
    await company.say("hej")
    await answered(fault_stack, company, 1)

    await company.say(LOAN)
    pid = fault_stack.kill("rasa")  # while Rasa works on the turn (if it has not answered yet)
    await company.say("hur kontaktar jag dem?")  # surely while Rasa is down
    await company.wait_for("system", "svarar inte", timeout=90)
    s = fault_stack.settings
    await asyncio.to_thread(fault_stack.wait_restarted, "rasa", pid, f"{s.rasa_url}/status?token={s.rasa_token}")
    await answered(fault_stack, company, 3)
    await asyncio.sleep(6)

    result = count(fault_stack, company)
    record("kill -9 Rasa mid-turn", result, "“svarar inte just nu … sparat” + advisor button, then the answer")
    assert_nothing_lost_nothing_twice(result)
    assert company.conversation_id is not None
    assert await rasa_user_turns(fault_stack, http, company.conversation_id) == result.sent
    await company.close()


async def test_kill_9_of_a_gateway_while_slack_replies_are_due_each_is_posted_once(
    fault_stack: FaultStack, http: aiohttp.ClientSession
) -> None:
    a = fault_stack.gateways[0]
    wait_http(f"{a}/healthz", ANSWER_TIMEOUT)
    fake = fault_stack.slack.fake
    channel = f"D0FAULT{uuid.uuid4().hex[:4].upper()}"
    slack_to_a = SlackSide(http, a, fake)
    status, _ = await slack_to_a.dm("hej", channel=channel)
    assert status == 200
    await asyncio.wait_for(fake.wait_posts(channel, 1, timeout=ANSWER_TIMEOUT), ANSWER_TIMEOUT)

    status, _ = await slack_to_a.dm(LOAN, channel=channel)
    assert status == 200  # stored and acknowledged: A's outbox owes Slack the answer
    fault_stack.kill("gateway")  # before (or while) it posts: B's outbox relay delivers it
    await asyncio.wait_for(fake.wait_posts(channel, 2, timeout=ANSWER_TIMEOUT), ANSWER_TIMEOUT)
    await asyncio.sleep(8)  # gateway A back, its relay too: nothing is posted a second time

    posts = fake.bot_posts(channel)
    with fault_stack.sessions() as s:
        from bot.conversation.models import Conversation

        conversation_id = s.scalar(select(Conversation.id).where(Conversation.channel == "slack",
                                                                 Conversation.external_id.contains(channel)))
        rows = list(s.scalars(select(Message).where(Message.conversation_id == conversation_id)))
    users = [m for m in rows if m.role == "user"]
    bot = [m for m in rows if m.role == "bot"]
    assert len(users) == 2 and len({m.client_id for m in users}) == 2
    assert len(posts) == len(bot), (fake.bot_texts(channel), [m.text for m in bot])
    assert len({p.text for p in posts}) == len(posts)  # no reply posted twice
    FAULT_TABLE.append(f"kill -9 gateway A with a Slack reply due | 2 | {len(users)} | "
                       f"{len({m.reply_to for m in bot})} (posted {len(posts)} for {len(bot)} stored) | 0 | "
                       "the answer in Slack, once (the outbox on B posted it)")


def test_the_supervisor_logged_every_restart(fault_stack: FaultStack) -> None:
    log_dir = Path(PROJECT_ROOT / "var" / "test-logs" / "faults")
    assert fault_stack.stack.processes["gateway"].running()
    assert fault_stack.stack.processes["actions"].running()
    assert log_dir.is_dir()
