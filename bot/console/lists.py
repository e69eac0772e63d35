"""The inbox's list of closed chats, searched and filtered."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping

from aiohttp import web

from bot.console import search
from bot.console import texts as console_texts
from bot.console.views import current_advisor
from bot.rules import queue as rules
from bot.rules.validation import Invalid
from bot.web.keys import channel_labels_key, db_key, settings_key


def _date(raw: str | None) -> dt.date | None:
    if not raw:
        return None
    try:
        return dt.date.fromisoformat(raw)
    except ValueError as exc:
        raise Invalid("bad_date", console_texts.BAD_DATE) from exc


def closed_query(query: Mapping[str, str]) -> search.ClosedQuery:
    """The search from the request's query string (unknown filters are refused)."""
    get = query.get
    channel = get("channel") or None
    outcome = get("outcome") or None
    if outcome is not None and outcome not in rules.OUTCOMES:
        raise Invalid("bad_request", console_texts.INVALID_OUTCOME_FILTER)
    advisor_raw = get("advisor") or None
    before_raw = get("before") or None
    try:
        advisor_id = int(advisor_raw) if advisor_raw else None
        limit = int(get("limit") or 50)
        before = None
        if before_raw:
            at, _, conversation_id = before_raw.partition("|")
            before = (dt.datetime.fromisoformat(at), conversation_id)
    except ValueError as exc:
        raise Invalid("bad_request", console_texts.BAD_FILTER) from exc
    return search.ClosedQuery(
        words=tuple((get("q") or "").split()),
        channel=channel,
        outcome=outcome,
        advisor_id=advisor_id,
        closed_from=_date(get("from")),
        closed_to=_date(get("to")),
        before=before,
        limit=limit,
    )


async def closed(request: web.Request) -> web.Response:
    await current_advisor(request)
    result = await search.closed_chats(
        request.app[db_key],
        closed_query(request.query),
        request.app[channel_labels_key],
        request.app[settings_key].opening_timezone,
    )
    return web.json_response(result)
