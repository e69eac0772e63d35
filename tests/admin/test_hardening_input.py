"""Hostile input on the admin pages: hidden characters are removed from every field before
anything reads it, HTML is escaped where it is shown, an oversized form is a Swedish 413,
and the login form throttles per account and address (issue 11)."""

from __future__ import annotations

import html as html_lib
import io

import aiohttp
from aiohttp.test_utils import TestClient

from bot import texts
from core.db import make_engine, make_sessionmaker
from directory import queries
from tests.admin.conftest import AdminBrowser
from tests.admin.test_directory_pages import form_fields, replace
from tests.gateway.conftest import AdvisorAccount, origin_of
from tests.hostile import visible


async def test_an_organisation_summary_loses_its_bidi_override_and_its_html_is_escaped(
    admin_browser: AdminBrowser, db_url: str
) -> None:
    _, page = await admin_browser.get("/admin/directory/organisations/almi")
    hostile = "Almi \u202egpj.exe <script>alert(1)</script>\u200b lånar ut."
    status, html, _ = await admin_browser.post("/admin/directory/organisations/almi",
                                               replace(form_fields(page), summary=hostile))
    assert status == 200
    assert "<script>alert(1)</script>" not in html  # escaped wherever it is shown
    engine = make_engine(db_url)
    with make_sessionmaker(engine)() as s:
        summary = queries.organisations(s, ["almi"])["almi"].summary
    engine.dispose()
    assert summary == "Almi gpj.exe <script>alert(1)</script> lånar ut."
    assert visible(summary)
    assert html_lib.escape("<script>") in html or "&lt;script&gt;" in html


async def test_an_oversized_admin_form_is_a_swedish_413(admin_browser: AdminBrowser) -> None:
    data = io.BytesIO(b"summary=" + b"x" * (2 * 1024 * 1024))
    async with admin_browser.session.post(
        f"{admin_browser.base}/admin/directory/organisations/almi", data=data,
        headers={"Origin": admin_browser.origin, "Content-Type": "application/x-www-form-urlencoded"},
    ) as response:
        assert response.status == 413
        assert "text/html" in response.headers["Content-Type"]


async def test_admin_login_guesses_are_throttled_with_retry_after(
    gateway: TestClient, admin: AdvisorAccount
) -> None:
    browser = AdminBrowser(aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True)), gateway)
    try:
        statuses = []
        for n in range(6):
            await browser.get("/admin/login")
            status, html, _ = await browser.post(
                "/admin/login", {"email": admin.email, "password": f"gissning{n}", "next": "/admin"}, follow=False
            )
            statuses.append(status)
        assert statuses == [401] * 5 + [429]
        assert html_lib.escape(texts.login_throttled(300)).split(" 300 ")[0] in html
    finally:
        await browser.session.close()
    assert origin_of(gateway)
