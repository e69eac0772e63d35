"""Review real conversations: every company message with the intent the bot predicted,
its confidence and the referral given; filters; one click (or a key, bot/static/admin/
review.js) files a message as an example of an intent, or dismisses it."""

from __future__ import annotations

import contextlib
import datetime as dt
from collections.abc import AsyncIterator
from urllib.parse import parse_qsl, urlencode
from zoneinfo import ZoneInfo

from aiohttp import web
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.admin.access import post_form, require_admin
from bot.admin.pages import actor_of, errors_by_field, not_found, now_of, page, read, transact
from bot.admin.review import filing, tracker
from bot.admin.review.queries import Filters, review_page
from bot.conversation.context import AdvisorRef
from bot.web.keys import db_key, settings_key
from content import queries as content_queries
from core.editing import Invalid, NotFound
from directory.queries import organisation_names


class TrackerStore:
    """The engine on Rasa's tracker store, made when the store first exists."""

    def __init__(self, url: str) -> None:
        self.url = url
        self._engine: AsyncEngine | None = None

    def engine(self) -> AsyncEngine | None:
        if self._engine is None:
            self._engine = tracker.make_engine(self.url)
        return self._engine

    async def dispose(self) -> None:
        if self._engine is not None:
            await self._engine.dispose()


tracker_store_key = web.AppKey("tracker_store", TrackerStore)


async def tracker_context(app: web.Application) -> AsyncIterator[None]:
    store = TrackerStore(app[settings_key].rasa_tracker_url)
    app[tracker_store_key] = store
    yield
    await store.dispose()


def setup(app: web.Application) -> None:
    app.cleanup_ctx.append(tracker_context)
    app.router.add_get("/admin/review", review, name="admin_review")
    app.router.add_post("/admin/review/{id:\\d{1,18}}", review_action, name="admin_review_action")


FILTER_KEYS = ("lag", "fallback", "overlamning", "grans", "kanal", "fran", "till", "sida")


def filters_from(query: dict[str, str]) -> Filters:
    def date(key: str) -> dt.date | None:
        with contextlib.suppress(ValueError):
            return dt.date.fromisoformat(query.get(key, ""))
        return None

    try:
        threshold = min(1.0, max(0.0, float(query.get("grans", "0.6").replace(",", "."))))
    except ValueError:
        threshold = 0.6
    try:
        number = int(query.get("sida", "1"))
    except ValueError:
        number = 1
    return Filters(low=query.get("lag") == "1", fallback=query.get("fallback") == "1",
                   handoff=query.get("overlamning") == "1", threshold=threshold, channel=query.get("kanal", ""),
                   start=date("fran"), end=date("till"), page=number)


def _query(request: web.Request) -> dict[str, str]:
    return {k: v for k, v in request.query.items() if k in FILTER_KEYS}


async def review(request: web.Request) -> web.StreamResponse:
    account = await require_admin(request)
    return await _page(request, account, _query(request))


async def _page(request: web.Request, account: AdvisorRef, query: dict[str, str], *, status: int = 200,
                error: Invalid | None = None, failed: int | None = None) -> web.Response:
    filters = filters_from(query)
    zone = ZoneInfo(request.app[settings_key].opening_timezone)
    found = await review_page(request.app[db_key], request.app[tracker_store_key].engine(), filters, zone)
    names = {org_id: values[0] for org_id, values in (await read(request, organisation_names)).items()}
    intents = await read(request, content_queries.intent_names)
    errors, general = errors_by_field(error.problems if error else [])
    back = urlencode({k: v for k, v in query.items() if k != "sida"})
    known = request.app[tracker_store_key].engine() is not None
    return page(request, "review.html", account, "review", status=status, data=found, filters=filters, query=query,
                back=back, organisations=names, intents=intents, zone=zone, errors=errors,
                general_errors=general, failed=failed, tracker_known=known)


async def review_action(request: web.Request) -> web.StreamResponse:
    account = await require_admin(request)
    form = await post_form(request)
    message_id = int(request.match_info["id"])
    query = {k: v for k, v in parse_qsl(form.get("back", "")) if k in FILTER_KEYS}
    actor, now = actor_of(account), now_of(request)
    try:
        if form.get("do") == "dismiss":
            await transact(request, filing.dismiss, actor, now, message_id)
            code = "arkiverad"
        else:
            intent = form.get("other_intent", "") if form.get("do") == "other" else form.get("intent", "")
            await transact(request, filing.file_as_example, actor, now, message_id, intent)
            code = "inlagd"
    except Invalid as exc:
        return await _page(request, account, query, status=400, error=exc, failed=message_id)
    except NotFound as exc:
        return not_found(request, account, exc.message)
    next_item = form.get("next", "")
    anchor = f"#granska-{next_item}" if next_item.isdigit() else ""
    raise web.HTTPSeeOther(f"/admin/review?{urlencode({**query, 'klart': code})}{anchor}")
