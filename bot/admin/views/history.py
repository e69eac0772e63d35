"""The history: every change (examples, intents, responses, directory, accounts, model
activations) with who and when, shown as a diff, and a button to revert it."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from aiohttp import web
from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.accounts.history import revert_account
from bot.admin.access import post_form, require_admin
from bot.admin.diff import ACTIONS, ENTITIES, Line, diff
from bot.admin.pages import actor_of, done, now_of, page, read, transact
from bot.admin.views.accounts import announce_ended
from bot.web.keys import settings_key
from content.history import Reverter, content_handlers, revert
from core.audit import AuditEntry
from core.editing import Invalid, NotFound
from training import registry

PER_PAGE = 40
LINKS = {
    "intent": "/admin/intents/{}", "example": "/admin/intents/{}", "response": "/admin/responses/{}",
    "organisation": "/admin/directory/organisations/{}", "scheme": "/admin/directory/schemes/{}",
    "topic": "/admin/directory/topics/{}", "account": "/admin/accounts/{}", "model": "/admin/models#{}",
}


def handlers(model_dir: Path) -> dict[str, Reverter]:
    # Reverting a model activation is a rollback to the model active before it (same swap).
    return {**content_handlers(), "account": revert_account, "model": registry.reverter(model_dir)}


def setup(router: web.UrlDispatcher) -> None:
    router.add_get("/admin/history", history, name="admin_history")
    router.add_post("/admin/history/{id:\\d{1,18}}/revert", revert_entry, name="admin_history_revert")


@dataclass(frozen=True)
class Shown:
    entry: AuditEntry
    at: str
    title: str
    link: str | None
    lines: list[Line]
    revertable: bool
    undone_by: int | None


def _entries(session: Session, entity: str, before_id: int | None) -> tuple[list[AuditEntry], dict[int, int]]:
    query = select(AuditEntry).order_by(AuditEntry.id.desc()).limit(PER_PAGE + 1)
    if entity:
        query = query.where(AuditEntry.entity == entity)
    if before_id:
        query = query.where(AuditEntry.id < before_id)
    entries = list(session.scalars(query))
    ids = [e.id for e in entries]
    undone = {int(r): int(i) for r, i in session.execute(
        select(AuditEntry.reverts, AuditEntry.id).where(AuditEntry.reverts.in_(ids))).tuples() if r is not None}
    return entries, undone


def _title(entry: AuditEntry) -> str:
    what = ENTITIES.get(entry.entity, entry.entity)
    if entry.entity == "example":
        count = len((entry.after or entry.before or {}).get("texts") or [])
        what = f"{count} exempel på"
    elif entry.entity == "account":
        what = f"kontot {(entry.after or entry.before or {}).get('email', entry.entity_id)}"
        return f"{entry.actor} {ACTIONS.get(entry.action, entry.action)} {what}"
    return f"{entry.actor} {ACTIONS.get(entry.action, entry.action)} {what} {entry.entity_id}"


async def history(request: web.Request) -> web.StreamResponse:
    account = await require_admin(request)
    entity = request.query.get("vad", "")
    try:
        before_id = int(request.query.get("fore", "0")) or None
    except ValueError:
        before_id = None
    return await _page(request, account, entity, before_id)


async def _page(request: web.Request, account: Any, entity: str, before_id: int | None, *, status: int = 200,
                error: str | None = None) -> web.Response:
    entries, undone = await read(request, _entries, entity, before_id)
    zone = ZoneInfo(request.app[settings_key].opening_timezone)
    known = handlers(request.app[settings_key].model_dir)
    shown = [
        Shown(e, _local(e.at, zone), _title(e),
              LINKS[e.entity].format(e.entity_id) if e.entity in LINKS else None,
              diff(e.before, e.after), e.entity in known and e.action != "erased", undone.get(e.id))
        for e in entries[:PER_PAGE]
    ]
    older = entries[PER_PAGE - 1].id if len(entries) > PER_PAGE else None
    return page(request, "history.html", account, "history", status=status, entries=shown, entity=entity,
                entities=ENTITIES, older=older, error=error)


def _local(at: dt.datetime, zone: ZoneInfo) -> str:
    if at.tzinfo is None:
        at = at.replace(tzinfo=dt.timezone.utc)
    return at.astimezone(zone).strftime("%Y-%m-%d %H:%M")


async def revert_entry(request: web.Request) -> web.StreamResponse:
    account = await require_admin(request)
    await post_form(request)
    entry_id = int(request.match_info["id"])
    try:
        new = await transact(request, revert, entry_id, handlers(request.app[settings_key].model_dir),
                             actor_of(account), now_of(request))
    except (Invalid, NotFound) as exc:
        message = exc.problems[0].message if isinstance(exc, Invalid) else exc.message
        return await _page(request, account, "", None, status=409, error=message)
    if new.entity == "account" and new.after is not None and not new.after.get("active", True):
        await announce_ended(request.app, int(new.entity_id))
    raise done("/admin/history", "angrad")
