"""Accounts: the command line (create with a role, update, deactivate, list) and the admin
page; a deactivated person's sessions end at once and their open console socket closes."""

from __future__ import annotations

import asyncio
import html as html_lib
import io
import re
from collections.abc import Awaitable, Callable
from pathlib import Path

import aiohttp
import pytest
from aiohttp.test_utils import TestClient
from sqlalchemy import func, select

from bot.__main__ import main
from bot.conversation.models import Advisor, AdvisorSession
from bot.web.socket import ACCOUNT_ENDED
from core.audit import AuditEntry
from core.db import make_engine, make_sessionmaker
from tests.admin.conftest import AdminBrowser
from tests.gateway.conftest import AdvisorAccount, Console, origin_of


def cli(monkeypatch: pytest.MonkeyPatch, tmp_path: Path, db_url: str, args: list[str], stdin: str = "") -> int:
    monkeypatch.setenv("DATABASE_URL", db_url)
    monkeypatch.setenv("VAR_DIR", str(tmp_path / "var"))
    monkeypatch.setattr("sys.stdin", io.StringIO(stdin))
    return main(args)


def sessions_of(db_url: str, email: str) -> int:
    engine = make_engine(db_url)
    with make_sessionmaker(engine)() as session:
        count = session.scalar(select(func.count()).select_from(AdvisorSession).join(Advisor)
                               .where(Advisor.email == email))
    engine.dispose()
    return int(count or 0)


def account(db_url: str, email: str) -> Advisor:
    engine = make_engine(db_url)
    with make_sessionmaker(engine)() as session:
        row = session.scalar(select(Advisor).where(Advisor.email == email))
        assert row is not None
        session.expunge(row)
    engine.dispose()
    return row


# ---------------------------------------------------------------- the command line


def test_the_cli_creates_an_admin_lists_and_deactivates_accounts(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, db_url: str, capsys: pytest.CaptureFixture[str],
    advisor: AdvisorAccount,
) -> None:
    args = ["create-advisor", "--email", "Ada@Foretagssupport.se", "--name", "Ada Admin", "--role", "admin",
            "--password-stdin"]
    assert cli(monkeypatch, tmp_path, db_url, args, "ett-långt-lösenord\n") == 0
    assert "Administratören Ada Admin <ada@foretagssupport.se> är skapad." in capsys.readouterr().out
    assert cli(monkeypatch, tmp_path, db_url, ["list-accounts"]) == 0
    listing = capsys.readouterr().out.splitlines()
    assert "ada@foretagssupport.se\tAda Admin\tAdministratör\taktivt" in listing
    assert f"{advisor.email}\t{advisor.name}\tRådgivare\taktivt" in listing

    assert cli(monkeypatch, tmp_path, db_url, ["deactivate-account", "--email", advisor.email]) == 0
    assert "är inaktiverat" in capsys.readouterr().out
    assert account(db_url, advisor.email).active is False
    # The only active admin cannot be deactivated: someone must be able to log in here.
    assert cli(monkeypatch, tmp_path, db_url, ["deactivate-account", "--email", "ada@foretagssupport.se"]) == 1
    assert "den enda aktiva administratören" in capsys.readouterr().err
    assert cli(monkeypatch, tmp_path, db_url, ["deactivate-account", "--email", "ingen@x.se"]) == 1

    engine = make_engine(db_url)
    with make_sessionmaker(engine)() as session:
        log = [(e.actor, e.action, (e.after or {}).get("active")) for e in session.scalars(
            select(AuditEntry).where(AuditEntry.entity == "account").order_by(AuditEntry.id))]
    engine.dispose()
    # The advisor fixture's account, Ada's, and the deactivation.
    assert log == [("kommandoraden", "created", True), ("kommandoraden", "created", True),
                   ("kommandoraden", "updated", False)]


def test_update_resets_the_password_changes_the_role_and_reactivates(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, db_url: str, advisor: AdvisorAccount, admin: AdvisorAccount
) -> None:
    assert cli(monkeypatch, tmp_path, db_url, ["deactivate-account", "--email", advisor.email]) == 0
    args = ["create-advisor", "--email", advisor.email, "--name", "Anna Berg", "--role", "admin", "--update",
            "--password-stdin"]
    assert cli(monkeypatch, tmp_path, db_url, args, "ett-nytt-långt-lösen\n") == 0
    row = account(db_url, advisor.email)
    assert (row.role, row.active) == ("admin", True)


async def test_deactivating_from_the_cli_ends_the_sessions_and_closes_the_console_within_a_beat(
    make_gateway: Callable[..., Awaitable[TestClient]], sessions: Callable[[], aiohttp.ClientSession],
    advisor: AdvisorAccount, admin: AdvisorAccount, db_url: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path,
) -> None:
    client = await make_gateway(ADVISOR_TIMEOUT_SECONDS="4")  # one heartbeat a second
    person = Console(sessions(), str(client.make_url("")).rstrip("/"), origin_of(client))
    await person.login(advisor)
    frames = await person.open_socket()
    assert sessions_of(db_url, advisor.email) == 1
    await asyncio.to_thread(cli, monkeypatch, tmp_path, db_url, ["deactivate-account", "--email", advisor.email])
    assert sessions_of(db_url, advisor.email) == 0
    await asyncio.wait_for(frames._reader, 5)
    assert frames.ws.close_code == ACCOUNT_ENDED
    status, _ = await person.get("/console/api/queue")
    assert status == 401


# ---------------------------------------------------------------- the admin page


async def test_an_admin_creates_an_account_and_makes_it_an_admin(
    admin_browser: AdminBrowser, form_browser: Callable[[], AdminBrowser], db_url: str
) -> None:
    status, html, _ = await admin_browser.post("/admin/accounts", {
        "name": "Karin Lund", "email": "Karin@Foretagssupport.se", "role": "advisor", "password": "kort"})
    assert status == 400 and "Lösenordet måste ha minst 10 tecken." in html_lib.unescape(html)
    assert 'value="Karin Lund"' in html
    await admin_browser.post("/admin/accounts", {
        "name": "Karin Lund", "email": "Karin@Foretagssupport.se", "role": "advisor", "password": "ett-långt-lösen"})
    karin = account(db_url, "karin@foretagssupport.se")
    _, page = await admin_browser.get(f"/admin/accounts/{karin.id}")
    token = re.search(r'name="token" value="([^"]+)"', page).group(1)  # type: ignore[union-attr]
    _, _, path = await admin_browser.post(f"/admin/accounts/{karin.id}", {
        "token": token, "name": "Karin Lund", "role": "admin", "active": "1"})
    assert path == f"/admin/accounts/{karin.id}?klart=sparat"
    assert account(db_url, "karin@foretagssupport.se").role == "admin"


async def test_deactivating_on_the_page_closes_the_persons_console_at_once(
    gateway: TestClient, console: Callable[..., Console], admin_browser: AdminBrowser, advisor: AdvisorAccount,
    db_url: str,
) -> None:
    person = console()
    await person.login(advisor)
    frames = await person.open_socket()
    _, page = await admin_browser.get(f"/admin/accounts/{advisor.id}")
    token = re.search(r'name="token" value="([^"]+)"', page).group(1)  # type: ignore[union-attr]
    _, _, path = await admin_browser.post(f"/admin/accounts/{advisor.id}", {
        "token": token, "name": advisor.name, "role": "advisor", "active": "0"})
    assert path.endswith("klart=sparat")
    await asyncio.wait_for(frames._reader, 2)  # the advisor timeout is 120 s: this is the hub event
    assert frames.ws.close_code == ACCOUNT_ENDED
    assert sessions_of(db_url, advisor.email) == 0


async def test_an_admin_cannot_lock_everyone_out(admin_browser: AdminBrowser, admin: AdvisorAccount) -> None:
    _, page = await admin_browser.get(f"/admin/accounts/{admin.id}")
    token = re.search(r'name="token" value="([^"]+)"', page).group(1)  # type: ignore[union-attr]
    status, html, _ = await admin_browser.post(f"/admin/accounts/{admin.id}", {
        "token": token, "name": admin.name, "role": "advisor", "active": "1"})
    assert status == 400 and "den enda aktiva administratören" in html_lib.unescape(html)
    status, html, _ = await admin_browser.post(f"/admin/accounts/{admin.id}", {
        "token": token, "name": admin.name, "role": "admin", "active": "0"})
    assert status == 400 and "Du kan inte inaktivera ditt eget konto." in html_lib.unescape(html)


async def test_an_account_saved_from_an_old_page_is_refused(
    admin_browser: AdminBrowser, advisor: AdvisorAccount, db_url: str
) -> None:
    _, page = await admin_browser.get(f"/admin/accounts/{advisor.id}")
    token = re.search(r'name="token" value="([^"]+)"', page).group(1)  # type: ignore[union-attr]
    await admin_browser.post(f"/admin/accounts/{advisor.id}", {
        "token": token, "name": "Anna Berg-Ek", "role": "advisor", "active": "1"})
    status, html, _ = await admin_browser.post(f"/admin/accounts/{advisor.id}", {
        "token": token, "name": "Anna B.", "role": "admin", "active": "1"})
    assert status == 409 and "Någon annan har ändrat det här" in html_lib.unescape(html)
    row = account(db_url, advisor.email)
    assert (row.name, row.role) == ("Anna Berg-Ek", "advisor")


async def test_reverting_an_account_creation_deactivates_it(admin_browser: AdminBrowser, db_url: str) -> None:
    await admin_browser.post("/admin/accounts", {
        "name": "Karin Lund", "email": "karin@foretagssupport.se", "role": "advisor", "password": "ett-långt-lösen"})
    _, html = await admin_browser.get("/admin/history?vad=account")
    entry_id = re.search(r'id="andring-(\d+)"', html).group(1)  # type: ignore[union-attr]
    await admin_browser.post(f"/admin/history/{entry_id}/revert")
    assert account(db_url, "karin@foretagssupport.se").active is False
