"""The advisors' side of the inbox: presence and capacity, colleagues, transfers."""

from __future__ import annotations

import datetime as dt
from typing import Any

from aiohttp import web
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.console import queries
from bot.console import texts as console_texts
from bot.console.keys import assignment_key
from bot.console.views import advisor_for_post, current_advisor, json_body
from bot.conversation import store
from bot.conversation.models import Advisor
from bot.conversation.presence import ONLINE_WINDOW
from bot.conversation.pubsub import CONSOLE
from bot.rules import assignment as rules
from bot.rules import validation
from bot.rules.validation import Invalid
from bot.web.keys import clock_key, db_key, hub_key, settings_key


async def colleagues(
    sessions: async_sessionmaker[AsyncSession], now: dt.datetime, default_limit: int
) -> list[dict[str, Any]]:
    """Every active advisor: at the console or not, available or away, chats and cap."""
    async with sessions() as s:
        rows = list(await s.scalars(select(Advisor).where(Advisor.active.is_(True)).order_by(Advisor.name)))
        loads = await store.advisor_loads(s, [a.id for a in rows])
    return [
        {
            "id": a.id,
            "name": a.name,
            "presence": a.presence,
            "online": a.last_seen_at is not None and a.last_seen_at >= now - ONLINE_WINDOW,
            "chats": loads.get(a.id, 0),
            "max_chats": rules.limit_of(a.max_chats, default_limit),
            "own_max_chats": a.max_chats,
        }
        for a in rows
    ]


async def advisors(request: web.Request) -> web.Response:
    await current_advisor(request)
    settings = request.app[settings_key]
    team = await colleagues(request.app[db_key], request.app[clock_key](), settings.console_max_chats_default)
    return web.json_response({"advisors": team})


async def set_presence(request: web.Request) -> web.Response:
    """The advisor's own presence (available/away) and cap (null: the default)."""
    advisor = await advisor_for_post(request)
    body = await json_body(request)
    values: dict[str, Any] = {}
    if "presence" in body:
        if body["presence"] not in rules.PRESENCES:
            raise Invalid("invalid_presence", console_texts.INVALID_PRESENCE)
        values["presence"] = body["presence"]
    if "max_chats" in body:
        cap = body["max_chats"]
        whole = isinstance(cap, int) and not isinstance(cap, bool)
        if cap is not None and not (whole and 1 <= cap <= rules.MAX_CHATS_LIMIT):
            raise Invalid("invalid_max_chats", console_texts.INVALID_MAX_CHATS.format(limit=rules.MAX_CHATS_LIMIT))
        values["max_chats"] = cap
    if values:
        async with request.app[db_key].begin() as s:
            await store.updated(s, update(Advisor).where(Advisor.id == advisor.id).values(**values))
        await request.app[hub_key].publish(CONSOLE, {"type": "queue", "event": "presence", "conversation_id": None})
    settings = request.app[settings_key]
    team = await colleagues(request.app[db_key], request.app[clock_key](), settings.console_max_chats_default)
    me = next(a for a in team if a["id"] == advisor.id)
    return web.json_response({"me": me})


async def transfer(request: web.Request) -> web.Response:
    advisor = await advisor_for_post(request)
    body = await json_body(request)
    target = body.get("advisor_id")
    if not isinstance(target, int) or isinstance(target, bool):
        raise Invalid("bad_request", console_texts.TRANSFER_ADVISOR_MISSING)
    note_raw = body.get("note")
    note = validation.clean_text(note_raw, 2000) if isinstance(note_raw, str) and note_raw.strip() else None
    conversation_id = request.match_info["id"]
    await request.app[assignment_key].transfer(conversation_id, advisor, target, note)
    return web.json_response({"conversation": await queries.conversation_json(request.app[db_key], conversation_id)})

