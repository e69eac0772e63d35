"""Fixtures for the gateway: a migrated database, a fake Rasa, the app, advisors, and
small clients that speak the widget and console protocols (docs/gateway-protocol.md).

Reusable building blocks:
  fake_rasa / rasa_server    the fake Rasa (bench.fake_rasa) and its test server
  db_url                     a fresh SQLite database migrated by Alembic (override it to
                             use `any_db_url`, which adds PostgreSQL when TEST_DATABASE_URL)
  clock                      a settable clock; starts on a Tuesday at 10:00 in Stockholm
  make_settings(**env)       Settings for the gateway under test
  make_gateway(**env)        a started gateway (aiohttp TestClient)
  gateway                    the default gateway
  advisor / make_advisor     advisor accounts
  widget() / console()       protocol clients bound to the default gateway
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import gc
import shutil
import warnings
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from aiohttp.test_utils import TestClient, TestServer

from bench.fake_rasa import TOKEN, FakeRasa
from bot.accounts.manage import create_advisor
from bot.app import create_app
from bot.channels.base import Channel
from bot.channels.registry import CHANNELS
from bot.conversation.core import ConversationCore
from bot.conversation.pubsub import Hub
from bot.web.keys import core_key
from core.db import make_engine, make_sessionmaker
from core.settings import Settings, load_settings
from scripts.db import seed, upgrade

UTC = dt.timezone.utc
# Tuesday 24 November 2026, 10:00 in Stockholm (UTC+1): advisors are at work.
OPEN_MOMENT = dt.datetime(2026, 11, 24, 9, 0, tzinfo=UTC)
# The same Tuesday at 20:00 in Stockholm: closed.
CLOSED_MOMENT = dt.datetime(2026, 11, 24, 19, 0, tzinfo=UTC)
FOREIGN_ORIGIN = "https://evil.example.com"
CUSTOMER_SITE = "https://kund.example.se"
PASSWORD = "rätt-hemligt-lösen"
TIMEOUT = 5.0


class FakeClock:
    def __init__(self, start: dt.datetime) -> None:
        self.current = start

    def __call__(self) -> dt.datetime:
        return self.current

    def advance(self, seconds: float) -> None:
        self.current += dt.timedelta(seconds=seconds)

    def set(self, moment: dt.datetime) -> None:
        self.current = moment


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(OPEN_MOMENT)


# ------------------------------------------------------------------ database


@pytest.fixture(scope="session")
def migrated_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The Alembic history applied once; each test gets a copy of the file."""
    path = tmp_path_factory.mktemp("template") / "gateway.db"
    upgrade(f"sqlite:///{path}")
    return path


@pytest.fixture
def db_url(tmp_path: Path, migrated_template: Path) -> str:
    path = tmp_path / "gateway.db"
    shutil.copyfile(migrated_template, path)
    return f"sqlite:///{path}"


@pytest.fixture(scope="session")
def seeded_template(tmp_path_factory: pytest.TempPathFactory, migrated_template: Path) -> Path:
    """The migrated database with the shipped directory seeded (for the NLU's topics)."""
    path = tmp_path_factory.mktemp("seeded") / "gateway.db"
    shutil.copyfile(migrated_template, path)
    seed(f"sqlite:///{path}")
    return path


@pytest.fixture
def seeded_db_url(tmp_path: Path, seeded_template: Path) -> str:
    """A fresh copy of the seeded database; a module that needs the directory overrides
    `db_url` with it."""
    path = tmp_path / "gateway.db"
    shutil.copyfile(seeded_template, path)
    return f"sqlite:///{path}"


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def any_db_url(request: pytest.FixtureRequest, tmp_path: Path, migrated_template: Path) -> str:
    """SQLite always; PostgreSQL too when TEST_DATABASE_URL is set (else skipped, with why)."""
    if request.param == "sqlite":
        path = tmp_path / "gateway.db"
        shutil.copyfile(migrated_template, path)
        return f"sqlite:///{path}"
    url: str = request.getfixturevalue("postgres_url")
    upgrade(url)
    return url


# ------------------------------------------------------------------ fake Rasa


@pytest.fixture
def fake_rasa() -> FakeRasa:
    return FakeRasa()


@pytest.fixture
async def rasa_server(
    fake_rasa: FakeRasa, aiohttp_server: Callable[..., Awaitable[TestServer]]
) -> TestServer:
    return await aiohttp_server(fake_rasa.app())


# ------------------------------------------------------------------ the gateway


@pytest.fixture
def ui_dirs(tmp_path: Path) -> tuple[Path, Path]:
    """Stand-ins for the UI engineer's files (bot/static, bot/templates)."""
    static, templates = tmp_path / "static", tmp_path / "templates"
    static.mkdir()
    templates.mkdir()
    (static / "widget.js").write_text("/* widget */\n")
    (static / "console.css").write_text("body {}\n")
    (templates / "index.html").write_text("<!doctype html><title>Demo</title>\n")
    (templates / "console.html").write_text("<!doctype html><title>Rådgivare</title>\n")
    (tmp_path / "secret.txt").write_text("not for the web\n")
    return static, templates


@pytest.fixture
def make_settings(tmp_path: Path, db_url: str, rasa_server: TestServer) -> Callable[..., Settings]:
    def build(**env: str) -> Settings:
        values = {
            "DATABASE_URL": db_url,
            "VAR_DIR": str(tmp_path / "var"),
            "RASA_HOST": "127.0.0.1",
            "RASA_PORT": str(rasa_server.port),
            "RASA_TOKEN": TOKEN,
            "SESSION_SECRET": "test-session-secret",
            "GATEWAY_ALLOWED_ORIGINS": CUSTOMER_SITE,
            "RASA_TIMEOUT_SECONDS": "3",
            "ADVISOR_TIMEOUT_SECONDS": "120",
            # Every test client comes from 127.0.0.1, where production would see many
            # companies' addresses: the address-wide limits are out of the way here, and the
            # hardening tests (test_hardening_*.py) set them to what they check.
            "RATE_LIMIT_ADDRESS_MESSAGES": "100000",
            "RATE_LIMIT_GLOBAL_MESSAGES": "100000",
            "RATE_LIMIT_HANDOFFS": "100000",
            "RATE_LIMIT_CONNECTIONS": "100000",
            "MAX_SOCKETS_PER_ADDRESS": "100000",
            **env,
        }
        return load_settings(values)

    return build


@pytest.fixture
async def make_gateway(
    make_settings: Callable[..., Settings],
    clock: FakeClock,
    ui_dirs: tuple[Path, Path],
) -> AsyncIterator[Callable[..., Awaitable[TestClient]]]:
    """Start gateways (several may share the database, like replicas or a restart)."""
    clients: list[TestClient] = []

    async def build(hub: Hub | None = None, extra_channels: Sequence[Channel] = (), **env: str) -> TestClient:
        app = create_app(
            make_settings(**env),
            hub=hub,
            clock=clock,
            static_dir=ui_dirs[0],
            templates_dir=ui_dirs[1],
            sweep_interval=3600,  # tests sweep explicitly
            outbox_poll_interval=0.05,
            nlu_log_interval=3600,  # tests copy explicitly
            channels=(*CHANNELS, *extra_channels),
        )
        client = TestClient(TestServer(app))
        await client.start_server()
        clients.append(client)
        return client

    yield build
    for client in clients:
        await client.close()
    # A database call cut off at shutdown (a background duty cancelled while aiosqlite was
    # still connecting) can leave a connection that nobody closed; collected later, in
    # another test, it would answer a closed event loop from its thread. Collect it now,
    # while this test's loop still runs, and let it finish. Its "deleted before being
    # closed" ResourceWarning is expected here and only here, so it is not an error.
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", "<aiosqlite.core.Connection", ResourceWarning)
        gc.collect()
    # What is still alive after a full collection is not this test's garbage. Freezing it
    # keeps the next test's collection from walking it all again: by the end of the suite a
    # full collection walked about a million objects, most of a second per test.
    gc.freeze()
    await asyncio.sleep(0.05)


@pytest.fixture
async def gateway(make_gateway: Callable[..., Awaitable[TestClient]]) -> TestClient:
    return await make_gateway()


def core_of(client: TestClient) -> ConversationCore:
    return client.app[core_key]


def origin_of(client: TestClient) -> str:
    return f"http://127.0.0.1:{client.port}"


# ------------------------------------------------------------------ advisors


@dataclass(frozen=True)
class AdvisorAccount:
    id: int
    email: str
    name: str
    password: str


@pytest.fixture
def make_advisor(db_url: str) -> Iterator[Callable[[str, str], AdvisorAccount]]:
    engine = make_engine(db_url)
    factory = make_sessionmaker(engine)

    def build(email: str, name: str) -> AdvisorAccount:
        row = create_advisor(factory, email, name, PASSWORD)
        return AdvisorAccount(row.id, row.email, row.name, PASSWORD)

    yield build
    engine.dispose()


@pytest.fixture
def advisor(make_advisor: Callable[[str, str], AdvisorAccount]) -> AdvisorAccount:
    return make_advisor("anna.berg@foretagssupport.se", "Anna Berg")


# ------------------------------------------------------------------ protocol clients


class Frames:
    """Every frame a WebSocket received, with waiting for the one a test expects."""

    def __init__(self, ws: aiohttp.ClientWebSocketResponse) -> None:
        self.ws = ws
        self.frames: list[dict[str, Any]] = []
        self._arrived = asyncio.Event()
        self._reader = asyncio.create_task(self._read())

    async def _read(self) -> None:
        async for msg in self.ws:
            if msg.type == aiohttp.WSMsgType.TEXT:
                self.frames.append(msg.json())
                self._arrived.set()
        self._arrived.set()

    async def wait_for(
        self, predicate: Callable[[dict[str, Any]], bool], timeout: float = TIMEOUT, start: int = 0
    ) -> dict[str, Any]:
        async def search() -> dict[str, Any]:
            seen = start
            while True:
                for frame in self.frames[seen:]:
                    if predicate(frame):
                        return frame
                seen = len(self.frames)
                if self._reader.done():
                    raise AssertionError(f"socket closed; frames: {self.frames}")
                self._arrived.clear()
                await self._arrived.wait()

        try:
            return await asyncio.wait_for(search(), timeout)
        except asyncio.TimeoutError:
            raise AssertionError(f"no matching frame within {timeout}s: {self.frames}") from None

    async def wait_type(self, kind: str, timeout: float = TIMEOUT, **fields: Any) -> dict[str, Any]:
        return await self.wait_for(
            lambda f: f.get("type") == kind and all(f.get(k) == v for k, v in fields.items()),
            timeout,
        )

    async def close(self) -> None:
        await self.ws.close()
        with contextlib.suppress(asyncio.CancelledError):
            await self._reader


class Widget:
    """A company's chat widget."""

    def __init__(self, session: aiohttp.ClientSession, base: str, origin: str) -> None:
        self.session = session
        self.base = base
        self.origin = origin
        self.frames: Frames | None = None
        self.conversation_id: str | None = None
        self._counter = 0

    async def connect(
        self, conversation_id: str | None = None, last_seq: int = 0
    ) -> dict[str, Any]:
        ws = await self.session.ws_connect(
            f"{self.base}/widget/ws", headers={"Origin": self.origin}
        )
        self.frames = Frames(ws)
        await ws.send_json(
            {
                "type": "hello",
                "protocol": 1,
                "conversation_id": conversation_id or self.conversation_id,
                "last_seq": last_seq,
                "page": "https://kund.example.se/kontakt",
            }
        )
        welcome = await self.frames.wait_type("welcome")
        self.conversation_id = welcome["conversation_id"]
        return welcome

    async def disconnect(self) -> None:
        assert self.frames is not None
        await self.frames.close()

    def next_client_id(self) -> str:
        self._counter += 1
        return f"client-{self._counter:04d}-abcdef"

    async def send(self, frame: dict[str, Any]) -> None:
        assert self.frames is not None
        await self.frames.ws.send_json(frame)

    async def say(
        self, text: str, payload: str | None = None, client_id: str | None = None
    ) -> dict[str, Any]:
        """Send a message and return the server's ack (or error) for it."""
        client_id = client_id or self.next_client_id()
        frame: dict[str, Any] = {"type": "message", "client_id": client_id, "text": text}
        if payload is not None:
            frame["payload"] = payload
        start = len(self.all)
        await self.send(frame)
        assert self.frames is not None
        return await self.frames.wait_for(
            lambda f: f.get("type") in {"ack", "error"} and f.get("client_id") == client_id,
            start=start,
        )

    @property
    def all(self) -> list[dict[str, Any]]:
        return self.frames.frames if self.frames else []

    @property
    def messages(self) -> list[dict[str, Any]]:
        """Messages received, de-duplicated by seq, in order."""
        by_seq = {f["message"]["seq"]: f["message"] for f in self.all if f["type"] == "message"}
        return [by_seq[s] for s in sorted(by_seq)]

    async def wait_message(self, role: str, text: str | None = None, **kw: Any) -> dict[str, Any]:
        assert self.frames is not None
        frame = await self.frames.wait_for(
            lambda f: (
                f.get("type") == "message"
                and f["message"]["role"] == role
                and (text is None or text in (f["message"]["text"] or ""))
            ),
            **kw,
        )
        return dict(frame["message"])

    async def wait_status(self, state: str, **kw: Any) -> dict[str, Any]:
        assert self.frames is not None
        return await self.frames.wait_for(
            lambda f: f.get("type") == "status" and f.get("state") == state, **kw
        )


class Console:
    """An advisor's browser: cookie jar, CSRF token, API calls and the console socket."""

    def __init__(self, session: aiohttp.ClientSession, base: str, origin: str) -> None:
        self.session = session
        self.base = base
        self.origin = origin
        self.csrf = ""
        self.frames: Frames | None = None
        self._counter = 0

    async def fetch_csrf(self) -> str:
        async with self.session.get(f"{self.base}/console/api/session") as response:
            self.csrf = (await response.json())["csrf_token"]
        return self.csrf

    async def login(self, account: AdvisorAccount) -> dict[str, Any]:
        await self.fetch_csrf()
        status, body = await self.post(
            "/console/api/login", {"email": account.email, "password": account.password}
        )
        assert status == 200, body
        self.csrf = body["csrf_token"]
        return body

    async def get(self, path: str) -> tuple[int, Any]:
        async with self.session.get(f"{self.base}{path}") as response:
            return response.status, await response.json()

    async def post(self, path: str, body: dict[str, Any] | None = None) -> tuple[int, Any]:
        headers = {"X-CSRF-Token": self.csrf, "Origin": self.origin}
        async with self.session.post(f"{self.base}{path}", json=body or {}, headers=headers) as r:
            return r.status, await r.json()

    async def put(self, path: str, body: dict[str, Any] | None = None) -> tuple[int, Any]:
        headers = {"X-CSRF-Token": self.csrf, "Origin": self.origin}
        async with self.session.put(f"{self.base}{path}", json=body or {}, headers=headers) as r:
            return r.status, await r.json()

    async def delete(self, path: str) -> tuple[int, Any]:
        headers = {"X-CSRF-Token": self.csrf, "Origin": self.origin}
        async with self.session.delete(f"{self.base}{path}", headers=headers) as r:
            return r.status, await r.json()

    async def claim(self, conversation_id: str) -> tuple[int, Any]:
        return await self.post(f"/console/api/conversations/{conversation_id}/claim")

    async def reply(self, conversation_id: str, text: str) -> tuple[int, Any]:
        self._counter += 1
        return await self.post(
            f"/console/api/conversations/{conversation_id}/messages",
            {"client_id": f"console-{self._counter:04d}-xyz", "text": text},
        )

    async def open_socket(self) -> Frames:
        ws = await self.session.ws_connect(
            f"{self.base}/console/ws?csrf={self.csrf}", headers={"Origin": self.origin}
        )
        self.frames = Frames(ws)
        await self.frames.wait_type("queue", event="snapshot")
        return self.frames


@pytest.fixture
async def sessions() -> AsyncIterator[Callable[[], aiohttp.ClientSession]]:
    """Independent browsers (own cookie jars), closed at the end."""
    opened: list[aiohttp.ClientSession] = []

    def new() -> aiohttp.ClientSession:
        session = aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True))
        opened.append(session)
        return session

    yield new
    for session in opened:
        await session.close()


@pytest.fixture
def widget(
    gateway: TestClient, sessions: Callable[[], aiohttp.ClientSession]
) -> Callable[..., Widget]:
    def build(client: TestClient | None = None, origin: str | None = None) -> Widget:
        target = client or gateway
        return Widget(sessions(), str(target.make_url("")).rstrip("/"), origin or origin_of(target))

    return build


@pytest.fixture
def console(
    gateway: TestClient, sessions: Callable[[], aiohttp.ClientSession]
) -> Callable[..., Console]:
    def build(client: TestClient | None = None) -> Console:
        target = client or gateway
        return Console(sessions(), str(target.make_url("")).rstrip("/"), origin_of(target))

    return build


async def eventually(check: Callable[[], bool], timeout: float = TIMEOUT) -> None:
    """Wait until `check()` holds (for effects with no event to wait on, e.g. in fake Rasa)."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not check():
        if loop.time() > deadline:
            raise AssertionError("condition not met in time")
        await asyncio.sleep(0.01)


async def eventually_async(check: Callable[[], Awaitable[bool]], timeout: float = TIMEOUT) -> None:
    """Wait until the awaitable `check()` holds (a state that is stored just after an event)."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not await check():
        if loop.time() > deadline:
            raise AssertionError("condition not met in time")
        await asyncio.sleep(0.02)


async def queued_conversation(widget: Widget) -> str:
    """Connect a widget and ask for a human (the fake bot hands off); returns its id."""
    from bench.fake_rasa import HUMAN_PLEASE

    if widget.frames is None:
        await widget.connect()
    await widget.say(HUMAN_PLEASE)
    await widget.wait_status("queued")
    assert widget.conversation_id is not None
    return widget.conversation_id
