"""Modeller: every trained model with its metadata and scores, the active one marked;
one model's evaluation beside the active model's with the questions whose answer changed;
activate (or restore) and throw away. Activation is the supervisor's swap (no downtime)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo

from aiohttp import web
from sqlalchemy.orm import Session

from bot.admin.access import post_form, require_admin
from bot.admin.pages import actor_of, done, not_found, now_of, page, transact
from bot.web.keys import db_key, settings_key
from core import serving
from core.editing import Invalid, NotFound
from training import evaluation, registry
from training.models import ModelRecord
from training.plan import MODE_NAMES


def setup(router: web.UrlDispatcher) -> None:
    router.add_get("/admin/models", model_list, name="admin_models")
    router.add_get("/admin/models/{id:\\d+}", model_page, name="admin_model")
    router.add_post("/admin/models/{id:\\d+}/activate", activate_model, name="admin_model_activate")
    router.add_post("/admin/models/{id:\\d+}/discard", discard_model, name="admin_model_discard")


def _local(request: web.Request) -> Any:
    """Times as the admins read them (the opening hours' time zone), like the history."""
    zone = ZoneInfo(request.app[settings_key].opening_timezone)

    def local(at: dt.datetime) -> str:
        aware = at.replace(tzinfo=dt.timezone.utc) if at.tzinfo is None else at
        return aware.astimezone(zone).strftime("%Y-%m-%d %H:%M")

    return local


@dataclass(frozen=True)
class IntentRow:
    name: str
    this: float | None
    active: float | None


async def _adopt_active(request: web.Request) -> None:
    """The active model has a record (with its labels) even if `make model` trained it."""
    async with request.app[db_key]() as session:
        current = await session.run_sync(serving.read)
    if current is not None:
        await registry.adopt_async(request.app[db_key], request.app[settings_key].model_dir, current.active_model,
                                   now_of(request))


def _list(session: Session, request: web.Request) -> dict[str, Any]:
    model_dir = request.app[settings_key].model_dir
    return {"models": registry.listing(session, model_dir), "serving": serving.read(session)}


async def model_list(request: web.Request) -> web.StreamResponse:
    account = await require_admin(request)
    return await _render_list(request, account)


async def _render_list(request: web.Request, account: Any, *, status: int = 200,
                       error: str | None = None) -> web.Response:
    await _adopt_active(request)
    data = await transact(request, _list, request)
    return page(request, "models.html", account, "models", status=status, modes=MODE_NAMES, local=_local(request),
                general_errors=[error] if error else [], **data)


def _one(session: Session, model_id: int, request: web.Request) -> dict[str, Any] | None:
    record = session.get(ModelRecord, model_id)
    if record is None:
        return None
    data = _list(session, request)
    active = next((row.record for row in data["models"] if row.active), None)
    listed = next(row for row in data["models"] if row.record.id == model_id)
    return {"model": listed, "active_model": active, "serving": data["serving"]}


async def model_page(request: web.Request) -> web.StreamResponse:
    account = await require_admin(request)
    await _adopt_active(request)
    data = await transact(request, _one, int(request.match_info["id"]), request)
    if data is None:
        return not_found(request, account, "Modellen finns inte i förteckningen.")
    this: dict[str, Any] = data["model"].record.evaluation or {}
    active: dict[str, Any] = (data["active_model"].evaluation if data["active_model"] is not None else None) or {}
    this_f1, active_f1 = this.get("per_intent_f1") or {}, active.get("per_intent_f1") or {}
    intents = [IntentRow(name, this_f1.get(name), active_f1.get(name)) for name in sorted({*this_f1, *active_f1})]
    same_set = bool(this and active and this.get("set") == active.get("set"))
    changes = evaluation.changed(this, active) if data["active_model"] is not None and not data["model"].active else []
    return page(request, "model.html", account, "models", modes=MODE_NAMES, local=_local(request), this=this,
                active_eval=active,
                intents=intents, changes=changes, same_set=same_set, **data)


async def activate_model(request: web.Request) -> web.StreamResponse:
    return await _change_model(request, registry.activate, "aktiveras")


async def discard_model(request: web.Request) -> web.StreamResponse:
    return await _change_model(request, registry.discard, "slangd")


async def _change_model(
    request: web.Request, change: Callable[..., ModelRecord], notice: str
) -> web.StreamResponse:
    """Activate or throw away the model in the URL; a refusal is shown on the list (409)."""
    account = await require_admin(request)
    await post_form(request)
    model_id = int(request.match_info["id"])
    model_dir = request.app[settings_key].model_dir
    try:
        await transact(request, change, model_id, model_dir, actor_of(account), now_of(request))
    except (Invalid, NotFound) as exc:
        message = exc.problems[0].message if isinstance(exc, Invalid) else exc.message
        return await _render_list(request, account, status=409, error=message)
    raise done("/admin/models", notice)
