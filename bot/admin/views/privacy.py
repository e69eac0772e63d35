"""Personal data (GDPR art. 15 and 17): find what is stored about a person, export it as
JSON, or erase it everywhere. Both an export and an erasure are recorded in the audit log
with counts only (`bot.conversation.privacy`)."""

from __future__ import annotations

import json
import secrets
from typing import Any
from urllib.parse import urlencode

from aiohttp import web
from sqlalchemy import func, select

from bot.admin.access import post_form, require_admin
from bot.admin.pages import now_of, page
from bot.conversation import privacy
from bot.conversation.models import Conversation, Message, Ticket
from bot.web.keys import core_key, db_key, tracker_key
from core.audit import Change, record_async

KIND_LABELS = {
    "conversation": "Samtals-id",
    "email": "E-postadress",
    "phone": "Telefonnummer",
    "slack": "Slack-användare (namn, DM-kanal eller tråd)",
    "teams": "Teams-användare (namn eller användar-id)",
}
CONFIRM_MISSING = "Kryssa i rutan för att bekräfta att allt om personen ska raderas."
NOTHING_FOUND = "Inget sparat hittades för den uppgiften."


def setup(router: web.UrlDispatcher) -> None:
    router.add_get("/admin/privacy", search_page, name="admin_privacy")
    router.add_post("/admin/privacy/export", export_json, name="admin_privacy_export")
    router.add_post("/admin/privacy/erase", erase_data, name="admin_privacy_erase")


def _lookup(values: Any) -> privacy.Lookup | None:
    kind = str(values.get("vad", ""))
    value = str(values.get("varde", "")).strip()[:300]
    if kind not in privacy.KINDS or not value:
        return None
    return privacy.Lookup(kind, value)


async def search_page(request: web.Request) -> web.StreamResponse:
    account = await require_admin(request)
    lookup = _lookup(request.query)
    erased = {k: int(v) for k, v in request.query.items() if k.startswith("n_") and v.isdigit()}
    return await _render(request, account, lookup, erased=erased)


async def _render(
    request: web.Request, account: Any, lookup: privacy.Lookup | None, *, status: int = 200,
    error: str | None = None, erased: dict[str, int] | None = None,
) -> web.Response:
    conversations: list[dict[str, Any]] = []
    tickets: list[dict[str, Any]] = []
    if lookup is not None:
        async with request.app[db_key]() as s:
            found = await privacy.find(s, lookup)
            for cid in found.conversation_ids:
                conv = await s.get(Conversation, cid)
                if conv is None:
                    continue
                count = await s.scalar(select(func.count()).select_from(Message).where(Message.conversation_id == cid))
                conversations.append({
                    "id": cid, "channel": conv.channel, "created_at": conv.created_at.strftime("%Y-%m-%d %H:%M"),
                    "state": conv.state, "messages": int(count or 0),
                })
            for tid in found.ticket_ids:
                ticket = await s.get(Ticket, tid)
                if ticket is not None:
                    tickets.append({"id": tid, "created_at": ticket.created_at.strftime("%Y-%m-%d %H:%M"),
                                    "status": ticket.status})
    return page(
        request, "privacy.html", account, "privacy", status=status, kinds=KIND_LABELS,
        kind=lookup.kind if lookup else "email", value=lookup.value if lookup else "",
        searched=lookup is not None, conversations=conversations, tickets=tickets, error=error,
        erased=erased or {},
    )


async def export_json(request: web.Request) -> web.StreamResponse:
    account = await require_admin(request)
    form = await post_form(request)
    lookup = _lookup(form)
    if lookup is None:
        return await _render(request, account, None, status=400, error=NOTHING_FOUND)
    now = now_of(request)
    async with request.app[db_key].begin() as s:
        found = await privacy.find(s, lookup)
        data = await privacy.export(s, request.app[tracker_key], found, now)
        await record_async(
            s,
            Change("personal_data", secrets.token_hex(8), "exported", None,
                   {"conversations": len(found.conversation_ids), "tickets": len(found.ticket_ids)}),
            account.id, f"{account.name} <{account.email}>", now,
        )
    body = json.dumps(data, ensure_ascii=False, indent=2, default=str)
    return web.Response(
        text=body, content_type="application/json", charset="utf-8",
        headers={"Content-Disposition": f'attachment; filename="personuppgifter-{now:%Y%m%d-%H%M}.json"'},
    )


async def erase_data(request: web.Request) -> web.StreamResponse:
    account = await require_admin(request)
    form = await post_form(request)
    lookup = _lookup(form)
    if lookup is None:
        return await _render(request, account, None, status=400, error=NOTHING_FOUND)
    if form.get("bekrafta") != "ja":
        return await _render(request, account, lookup, status=400, error=CONFIRM_MISSING)
    async with request.app[db_key]() as s:
        found = await privacy.find(s, lookup)
    if found.empty:
        return await _render(request, account, lookup, status=404, error=NOTHING_FOUND)
    counts = await privacy.erase(
        request.app[db_key], request.app[tracker_key], found, account.id,
        f"{account.name} <{account.email}>", now_of(request), "admin_request",
        request.app[core_key].ctx.copies,
    )
    await request.app[core_key].ctx.announce.queue("erased", None)  # consoles drop the erased chats
    query = {f"n_{k}": str(v) for k, v in counts.items()}
    raise web.HTTPSeeOther(f"/admin/privacy?{urlencode(query)}")
