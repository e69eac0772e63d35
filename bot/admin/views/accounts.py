"""Accounts: the list, a new account, and one account's name, role and whether it is
active. Deactivating ends the person's sessions at once and closes their open sockets."""

from __future__ import annotations

from typing import Any

from aiohttp import web
from sqlalchemy.orm import Session

from bot.accounts import manage
from bot.admin.access import post_form, require_admin
from bot.admin.pages import actor_of, done, errors_by_field, not_found, now_of, page, read, transact
from bot.conversation.context import AdvisorRef
from bot.conversation.models import Advisor
from bot.web.keys import hub_key
from core.editing import STALE, Conflict, Invalid, NotFound

# Every gateway replica listens here and closes the sockets of an account that ended.
ACCOUNTS_CHANNEL = "accounts"


def setup(router: web.UrlDispatcher) -> None:
    router.add_get("/admin/accounts", account_list, name="admin_accounts")
    router.add_post("/admin/accounts", create_account, name="admin_account_new")
    router.add_get("/admin/accounts/{id:\\d{1,18}}", account_page, name="admin_account")
    router.add_post("/admin/accounts/{id:\\d{1,18}}", save_account, name="admin_account_save")


async def announce_ended(app: web.Application, account_id: int) -> None:
    await app[hub_key].publish(ACCOUNTS_CHANNEL, {"type": "account_ended", "account_id": account_id})


async def account_list(request: web.Request) -> web.StreamResponse:
    account = await require_admin(request)
    return await _list(request, account)


async def _list(request: web.Request, account: AdvisorRef, *, status: int = 200, error: Invalid | None = None,
                values: dict[str, str] | None = None) -> web.Response:
    errors, general = errors_by_field(error.problems if error else [])
    return page(request, "accounts.html", account, "accounts", status=status,
                rows=await read(request, manage.list_rows), roles=manage.ROLE_LABELS, values=values or {},
                errors=errors, general_errors=general)


async def create_account(request: web.Request) -> web.StreamResponse:
    account = await require_admin(request)
    form = await post_form(request)
    values = {k: form.get(k, "") for k in ("email", "name", "role")}
    try:
        await transact(request, manage.create_account, actor_of(account), now_of(request), email=values["email"],
                       name=values["name"], password=form.get("password", "")[:1024], role=values["role"])
    except Invalid as exc:
        return await _list(request, account, status=400, error=exc, values=values)
    raise done("/admin/accounts", "skapad")


def _load(session: Session, account_id: int) -> tuple[dict[str, Any], str] | None:
    row = session.get(Advisor, account_id)
    return (manage.account_state(row), manage.state_token(row)) if row is not None else None


async def account_page(request: web.Request) -> web.StreamResponse:
    account = await require_admin(request)
    return await _page(request, account)


async def _page(request: web.Request, account: AdvisorRef, *, status: int = 200, error: Invalid | None = None,
                conflict: dict[str, Any] | None = None, typed: dict[str, Any] | None = None) -> web.Response:
    found = await read(request, _load, int(request.match_info["id"]))
    if found is None:
        return not_found(request, account, "Kontot finns inte.")
    errors, general = errors_by_field(error.problems if error else [])
    state, token = found
    shown = {**state, **typed} if typed is not None and conflict is None else state
    return page(request, "account.html", account, "accounts", status=status, account_id=int(request.match_info["id"]),
                data=shown, token=token, roles=manage.ROLE_LABELS, errors=errors, general_errors=general,
                conflict=conflict, own=account.id == int(request.match_info["id"]))


async def save_account(request: web.Request) -> web.StreamResponse:
    account = await require_admin(request)
    form = await post_form(request)
    account_id = int(request.match_info["id"])
    typed = {"name": form.get("name", ""), "role": form.get("role", ""), "active": form.get("active") == "1"}
    try:
        saved = await transact(request, manage.update_account, actor_of(account), now_of(request), account_id,
                               form.get("token"), name=typed["name"], role=typed["role"], active=typed["active"])
    except Invalid as exc:
        return await _page(request, account, status=400, error=exc, typed=typed)
    except Conflict:
        conflict = {"message": STALE, "yours": [("Namn", typed["name"])]}
        return await _page(request, account, status=409, conflict=conflict)
    except NotFound as exc:
        return not_found(request, account, exc.message)
    if not saved.active:
        await announce_ended(request.app, account_id)
    raise done(f"/admin/accounts/{account_id}", "sparat")
