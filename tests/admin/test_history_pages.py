"""The history page: every change with who and when, as a diff, and the revert button."""

from __future__ import annotations

import html as html_lib
import re

from sqlalchemy import select

from content.models import Example, Intent
from core.db import make_engine, make_sessionmaker
from tests.admin.conftest import AdminBrowser


def texts(db_url: str, intent: str) -> list[str]:
    engine = make_engine(db_url)
    with make_sessionmaker(engine)() as session:
        found = list(session.scalars(select(Example.text).join(Intent).where(Intent.name == intent)))
    engine.dispose()
    return found


def entries(html: str) -> list[str]:
    return [" ".join(html_lib.unescape(re.sub(r"<[^>]+>", " ", li)).split())
            for li in re.findall(r'<li class="card" id="andring-\d+">.*?</li>', html, re.S)]


async def edit_first_example(page: AdminBrowser, intent: str, text: str) -> str:
    _, html = await page.get(f"/admin/intents/{intent}")
    example_id = re.search(r'/admin/examples/(\d+)"', html).group(1)  # type: ignore[union-attr]
    _, form = await page.get(f"/admin/examples/{example_id}")
    version = re.search(r'name="version" value="(\d+)"', form).group(1)  # type: ignore[union-attr]
    old = html_lib.unescape(re.search(r'name="text" rows="3">(.*?)</textarea>', form).group(1))  # type: ignore[union-attr]
    await page.post(f"/admin/examples/{example_id}", {"do": "save", "version": version, "intent": intent,
                                                      "text": text})
    return old


async def test_a_change_is_shown_with_who_when_and_what_and_can_be_reverted(
    admin_browser: AdminBrowser, db_url: str
) -> None:
    old = await edit_first_example(admin_browser, "greet", "god morgon på er")
    _, html = await admin_browser.get("/admin/history")
    latest = entries(html)[0]
    assert latest.startswith("2026-12-08 10:00 Eva Ek <eva.ek@foretagssupport.se> ändrade 1 exempel på greet")
    assert f"Exempel {old} god morgon på er" in latest  # before, after
    assert '<del>' in html and '<ins>god morgon på er</ins>' in html
    entry_id = re.search(r'id="andring-(\d+)"', html).group(1)  # type: ignore[union-attr]

    status, html, path = await admin_browser.post(f"/admin/history/{entry_id}/revert")
    assert (status, path) == (200, "/admin/history?klart=angrad")
    assert old in texts(db_url, "greet") and "god morgon på er" not in texts(db_url, "greet")
    newest = entries(html)[0]
    assert "ångrade 1 exempel på greet" in newest and f"Ångrar ändring {entry_id}" in newest
    assert "Ångrad av ändring" in entries(html)[1]


async def test_a_revert_after_a_later_change_is_refused_with_the_reason(
    admin_browser: AdminBrowser, db_url: str
) -> None:
    await admin_browser.post("/admin/intents/financing", {"do": "add", "examples": "lån till en zeppelinare"})
    _, html = await admin_browser.get("/admin/history")
    added = re.search(r'id="andring-(\d+)"', html).group(1)  # type: ignore[union-attr]
    _, page = await admin_browser.get("/admin/intents/financing?sok=zeppelinare")
    example_id = re.search(r'/admin/examples/(\d+)"', page).group(1)  # type: ignore[union-attr]
    _, form = await admin_browser.get(f"/admin/examples/{example_id}")
    version = re.search(r'name="version" value="(\d+)"', form).group(1)  # type: ignore[union-attr]
    await admin_browser.post(f"/admin/examples/{example_id}", {"do": "save", "version": version,
                                                               "intent": "financing", "text": "lån till en matbil"})
    status, html, _ = await admin_browser.post(f"/admin/history/{added}/revert")
    assert status == 409
    assert "Ångra de senare ändringarna först" in html_lib.unescape(html)
    assert "lån till en matbil" in texts(db_url, "financing")


async def test_directory_and_account_changes_are_in_the_history_too(admin_browser: AdminBrowser) -> None:
    status, _, _ = await admin_browser.post("/admin/accounts", {
        "name": "Karin Lund", "email": "karin@foretagssupport.se", "role": "advisor", "password": "ett-långt-lösen"})
    assert status == 200
    _, html = await admin_browser.get("/admin/history?vad=account")
    latest = entries(html)[0]
    assert "skapade kontot karin@foretagssupport.se" in latest
    assert "Roll – Rådgivare" in latest and "lösen" not in latest  # never the password
