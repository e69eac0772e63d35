"""Only admins get into /admin, with the console's session; the role is checked on the server."""

from __future__ import annotations

import re
from collections.abc import Callable

import aiohttp
import pytest
from aiohttp.test_utils import TestClient
from sqlalchemy import update
from yarl import URL

from bot.conversation.models import Advisor
from core.db import make_engine, make_sessionmaker, transaction
from tests.gateway.conftest import PASSWORD, AdvisorAccount, origin_of


def make_admin(db_url: str, account: AdvisorAccount) -> None:
    engine = make_engine(db_url)
    with transaction(make_sessionmaker(engine)) as session:
        session.execute(update(Advisor).where(Advisor.id == account.id).values(role="admin"))
    engine.dispose()


async def form_login(session: aiohttp.ClientSession, client: TestClient, email: str) -> aiohttp.ClientResponse:
    base = str(client.make_url("")).rstrip("/")
    async with session.get(f"{base}/admin/login") as page:
        html = await page.text()
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert csrf is not None
    return await session.post(
        f"{base}/admin/login",
        data={"csrf_token": csrf.group(1), "email": email, "password": PASSWORD, "next": "/admin"},
        headers={"Origin": origin_of(client)},
        allow_redirects=False,
    )


async def test_without_a_session_the_admin_pages_send_you_to_the_login(
    gateway: TestClient, sessions: Callable[[], aiohttp.ClientSession]
) -> None:
    base = str(gateway.make_url("")).rstrip("/")
    async with sessions().get(f"{base}/admin", allow_redirects=False) as response:
        assert response.status == 303
        location = URL(response.headers["Location"])
        assert (location.path, location.query["next"]) == ("/admin/login", "/admin")


async def test_an_advisor_gets_403_on_the_admin_pages(
    gateway: TestClient, sessions: Callable[[], aiohttp.ClientSession], advisor: AdvisorAccount
) -> None:
    browser = sessions()
    login = await form_login(browser, gateway, advisor.email)
    assert (login.status, login.headers["Location"]) == (303, "/console")
    async with browser.get(f"{str(gateway.make_url('')).rstrip('/')}/admin") as response:
        assert response.status == 403
        assert "bara för administratörer" in await response.text()


async def test_an_admin_logs_in_with_the_form_and_sees_the_overview(
    gateway: TestClient, sessions: Callable[[], aiohttp.ClientSession], advisor: AdvisorAccount, db_url: str
) -> None:
    make_admin(db_url, advisor)
    browser = sessions()
    login = await form_login(browser, gateway, advisor.email)
    assert (login.status, login.headers["Location"]) == (303, "/admin")
    async with browser.get(f"{str(gateway.make_url('')).rstrip('/')}/admin") as response:
        assert response.status == 200
        html = await response.text()
    assert "Översikt" in html and advisor.name in html
    assert response.headers["Cache-Control"] == "no-store"
    assert "script-src 'self'" in response.headers["Content-Security-Policy"]


@pytest.mark.parametrize("bad", ["", "not-the-token"])
async def test_a_login_without_the_forms_csrf_token_is_refused(
    gateway: TestClient, sessions: Callable[[], aiohttp.ClientSession], advisor: AdvisorAccount, bad: str
) -> None:
    base = str(gateway.make_url("")).rstrip("/")
    browser = sessions()
    async with browser.get(f"{base}/admin/login"):
        pass
    async with browser.post(f"{base}/admin/login", data={"csrf_token": bad, "email": advisor.email,
                                                          "password": PASSWORD}, headers={"Origin": origin_of(gateway)},
                            allow_redirects=False) as response:
        assert response.status == 403


async def test_a_wrong_password_is_told_in_swedish(
    gateway: TestClient, sessions: Callable[[], aiohttp.ClientSession], advisor: AdvisorAccount
) -> None:
    base = str(gateway.make_url("")).rstrip("/")
    browser = sessions()
    async with browser.get(f"{base}/admin/login") as page:
        csrf = re.search(r'name="csrf_token" value="([^"]+)"', await page.text())
    assert csrf is not None
    async with browser.post(f"{base}/admin/login", data={"csrf_token": csrf.group(1), "email": advisor.email,
                                                          "password": "fel-lösenord"},
                            headers={"Origin": origin_of(gateway)}, allow_redirects=False) as response:
        assert response.status == 401
        assert "Fel e-postadress eller lösenord." in await response.text()
