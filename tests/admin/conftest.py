"""Fixtures for the admin pages: the gateway's building blocks (tests/gateway/conftest.py)
on a database that also holds the shipped directory and content, admin accounts, and
`AdminBrowser`: a logged-in browser that submits the pages' forms.

A test that writes to the database while the in-process gateway runs does it in a thread
(asyncio.to_thread): a blocking SQLite write on the event loop's thread would wait for a
lock that only the loop itself can release."""

from __future__ import annotations

import datetime as dt
import re
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from aiohttp.test_utils import TestClient
from sqlalchemy import update

from bot.conversation.models import Advisor
from core.db import make_engine, make_sessionmaker, transaction
from scripts.db import seed, upgrade
from tests.gateway import conftest as gateway_fixtures
from tests.gateway.conftest import PASSWORD, AdvisorAccount, FakeClock, origin_of

advisor = gateway_fixtures.advisor
fake_rasa = gateway_fixtures.fake_rasa
gateway = gateway_fixtures.gateway
make_advisor = gateway_fixtures.make_advisor
make_gateway = gateway_fixtures.make_gateway
make_settings = gateway_fixtures.make_settings
rasa_server = gateway_fixtures.rasa_server
sessions = gateway_fixtures.sessions
ui_dirs = gateway_fixtures.ui_dirs
console = gateway_fixtures.console
widget = gateway_fixtures.widget

CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')
# Tuesday 8 December 2026, 10:00 in Stockholm: after the shipped directory's review date
# (2026-12-04), which may not lie in the future.
ADMIN_MOMENT = dt.datetime(2026, 12, 8, 9, 0, tzinfo=dt.timezone.utc)


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(ADMIN_MOMENT)


@pytest.fixture(scope="session")
def seeded_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Migrated and seeded once (directory and content); each test gets a copy."""
    path = tmp_path_factory.mktemp("admin-template") / "gateway.db"
    upgrade(f"sqlite:///{path}")
    seed(f"sqlite:///{path}")
    return path


@pytest.fixture
def db_url(tmp_path: Path, seeded_template: Path) -> str:
    path = tmp_path / "gateway.db"
    shutil.copyfile(seeded_template, path)
    return f"sqlite:///{path}"


def set_role(db_url: str, account_id: int, role: str) -> None:
    engine = make_engine(db_url)
    with transaction(make_sessionmaker(engine)) as session:
        session.execute(update(Advisor).where(Advisor.id == account_id).values(role=role))
    engine.dispose()


@pytest.fixture
def make_admin(make_advisor: Callable[[str, str], AdvisorAccount], db_url: str) -> Callable[[str, str], AdvisorAccount]:
    def build(email: str, name: str) -> AdvisorAccount:
        account = make_advisor(email, name)
        set_role(db_url, account.id, "admin")
        return account

    return build


@pytest.fixture
def admin(make_admin: Callable[[str, str], AdvisorAccount]) -> AdvisorAccount:
    return make_admin("eva.ek@foretagssupport.se", "Eva Ek")


class AdminBrowser:
    """A browser on the admin pages: logs in with the form, reads pages, submits forms
    with the page's CSRF token and this site's Origin, like a browser without JavaScript."""

    def __init__(self, session: aiohttp.ClientSession, client: TestClient) -> None:
        self.session = session
        self.base = str(client.make_url("")).rstrip("/")
        self.origin = origin_of(client)
        self.csrf = ""

    async def login(self, account: AdvisorAccount) -> int:
        async with self.session.get(f"{self.base}/admin/login") as page:
            self.csrf = self._csrf(await page.text())
        async with self.session.post(
            f"{self.base}/admin/login",
            data={"csrf_token": self.csrf, "email": account.email, "password": PASSWORD, "next": "/admin"},
            headers={"Origin": self.origin}, allow_redirects=False,
        ) as response:
            status = response.status
        await self.get("/admin")  # the session's CSRF token changed at login
        return status

    def _csrf(self, html: str) -> str:
        match = CSRF.search(html)
        return match.group(1) if match else self.csrf

    async def get(self, path: str) -> tuple[int, str]:
        async with self.session.get(f"{self.base}{path}", allow_redirects=False) as response:
            html = await response.text()
        self.csrf = self._csrf(html)
        return response.status, html

    async def post(self, path: str, data: dict[str, Any] | list[tuple[str, str]] | None = None,
                   follow: bool = True) -> tuple[int, str, str]:
        """Submit a form; returns (status, html, final path)."""
        fields = list(data.items()) if isinstance(data, dict) else list(data or [])
        fields.append(("csrf_token", self.csrf))
        async with self.session.post(f"{self.base}{path}", data=fields, headers={"Origin": self.origin},
                                     allow_redirects=follow) as response:
            html = await response.text()
            final = response.url.path_qs if follow else response.headers.get("Location", "")
        self.csrf = self._csrf(html)
        return response.status, html, final


@pytest.fixture
def form_browser(gateway: TestClient, sessions: Callable[[], aiohttp.ClientSession]) -> Callable[[], AdminBrowser]:
    def build() -> AdminBrowser:
        return AdminBrowser(sessions(), gateway)

    return build


@pytest.fixture
async def admin_browser(form_browser: Callable[[], AdminBrowser], admin: AdvisorAccount) -> AdminBrowser:
    page = form_browser()
    assert await page.login(admin) == 303
    return page
