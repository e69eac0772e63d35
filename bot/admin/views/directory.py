"""The directory editor: organisations (contacts, aliases), schemes (status, dates) and
topics (ranked targets), each with its source, review date and what to check. An edit is
in the next answer at once: answers are composed from these rows at every turn."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from aiohttp import web
from multidict import MultiDictProxy
from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from bot.admin import directory_forms as forms
from bot.admin.access import post_form, require_admin
from bot.admin.pages import actor_of, done, errors_by_field, not_found, now_of, page, read, transact, version_of
from bot.conversation.context import AdvisorRef
from core.editing import STALE, Conflict, Invalid, NotFound
from directory import edit
from directory.models import Organisation, Scheme, Topic
from directory.seed import organisation_from_row, scheme_from_row, topic_from_row
from directory.validation import AUDIENCES, CONTACT_KINDS, ORGANISATION_KINDS, STATUSES, needs_review

ID = r"{id:[a-z0-9][a-z0-9-]*}"
TOPIC_ID = r"{id:[a-z][a-z0-9_]*}"
BLANK_ROWS = 2


@dataclass(frozen=True)
class Entry:
    id: str
    name: str
    detail: str
    reviewed: dt.date | None
    flagged: bool
    to_check: str


@dataclass(frozen=True)
class Kind:
    """One kind of directory entry, as the editor handles it."""

    key: str  # organisations | schemes | topics
    model: type[Any]
    canonical: Callable[[Any], dict[str, Any]]
    parse: Callable[[MultiDictProxy[str]], dict[str, Any]]
    template: str
    can_create: bool


KINDS = {
    "organisations": Kind("organisations", Organisation, organisation_from_row, forms.organisation,
                          "directory_organisation.html", True),
    "schemes": Kind("schemes", Scheme, scheme_from_row, forms.scheme, "directory_scheme.html", True),
    "topics": Kind("topics", Topic, topic_from_row, forms.topic, "directory_topic.html", False),
}


def setup(router: web.UrlDispatcher) -> None:
    router.add_get("/admin/directory", overview, name="admin_directory")
    for kind in ("organisations", "schemes"):
        router.add_get(f"/admin/directory/{kind}/new", _new_page(kind), name=f"admin_{kind}_new_form")
        router.add_post(f"/admin/directory/{kind}/new", _create(kind), name=f"admin_{kind}_new")
        router.add_get(f"/admin/directory/{kind}/{ID}", _edit_page(kind), name=f"admin_{kind}_edit")
        router.add_post(f"/admin/directory/{kind}/{ID}", _save(kind), name=f"admin_{kind}_save")
    router.add_get(f"/admin/directory/topics/{TOPIC_ID}", _edit_page("topics"), name="admin_topics_edit")
    router.add_post(f"/admin/directory/topics/{TOPIC_ID}", _save("topics"), name="admin_topics_save")


# ---------------------------------------------------------------- the overview


def _overview(session: Session, today: dt.date) -> dict[str, list[Entry]]:
    names = {o.id: o.name for o in session.scalars(select(Organisation))}

    def entry(row: Any, detail: str) -> Entry:
        return Entry(row.id, row.name, detail, row.reviewed, needs_review(row.reviewed, today), row.to_check)

    organisations = [entry(o, ORGANISATION_KINDS.get(o.kind, o.kind))
                     for o in session.scalars(select(Organisation).order_by(Organisation.name))]
    schemes = []
    for s in session.scalars(select(Scheme).order_by(Scheme.name)):
        status = STATUSES.get(s.status, s.status)
        if s.end_date:
            status += f", slut {s.end_date.isoformat()}"
        schemes.append(entry(s, f"{names.get(s.organisation_id, s.organisation_id)} · {status}"))
    topics = [entry(t, " → ".join(names.get(x.organisation_id, x.organisation_id) for x in t.targets[:3]))
              for t in session.scalars(select(Topic).options(selectinload(Topic.targets)).order_by(Topic.name))]
    return {"organisations": organisations, "schemes": schemes, "topics": topics}


async def overview(request: web.Request) -> web.StreamResponse:
    account = await require_admin(request)
    lists = await read(request, _overview, now_of(request).date())
    only_flagged = request.query.get("granska") == "1"
    flagged = sum(e.flagged for entries in lists.values() for e in entries)
    if only_flagged:
        lists = {k: [e for e in v if e.flagged] for k, v in lists.items()}
    return page(request, "directory.html", account, "directory", lists=lists, flagged=flagged,
                only_flagged=only_flagged)


# ---------------------------------------------------------------- one entry


def _choices(session: Session) -> list[tuple[str, str]]:
    return [(o.id, o.name) for o in session.scalars(select(Organisation).order_by(Organisation.name))]


def _load(session: Session, kind: Kind, row_id: str) -> tuple[dict[str, Any], int] | None:
    row = session.get(kind.model, row_id)
    return (kind.canonical(row), row.version) if row is not None else None


def _blank(kind: str) -> dict[str, Any]:
    base: dict[str, Any] = {"name": "", "aliases": [], "summary": "", "source": "", "source_url": "", "to_check": "",
                            "reviewed": None}
    if kind == "organisations":
        return {**base, "kind": "organisation", "region": "Västmanland", "reached_through": None, "contacts": []}
    return {**base, "organisation": "", "status": "active", "start_date": None, "end_date": None,
            "now_applies": "", "now_targets": []}


async def _render(request: web.Request, account: AdvisorRef, kind: Kind, row_id: str | None, data: Mapping[str, Any],
                  version: int | None, *, status: int = 200, error: Invalid | None = None,
                  conflict: dict[str, Any] | None = None) -> web.Response:
    errors, general = errors_by_field(error.problems if error else [])
    today = now_of(request).date()
    reviewed = data.get("reviewed")
    flagged = needs_review(dt.date.fromisoformat(str(reviewed)) if _iso(reviewed) else None, today)
    padded = {**data,
              "contacts": [*data.get("contacts", []), *([{"kind": "", "value": "", "label": ""}] * BLANK_ROWS)],
              "targets": [*data.get("targets", []),
                          *([{"target": "", "audience": "company", "min_employees": None, "max_employees": None,
                              "pitch": ""}] * BLANK_ROWS)],
              "now_targets": [*data.get("now_targets", []), ""]}
    return page(request, kind.template, account, "directory", status=status, kind=kind.key, row_id=row_id,
                data=padded, version=version, organisations=await read(request, _choices), flagged=flagged,
                errors=errors, general_errors=general, conflict=conflict, contact_kinds=CONTACT_KINDS,
                organisation_kinds=ORGANISATION_KINDS, audiences=AUDIENCES, statuses=STATUSES,
                today=today.isoformat())


def _iso(value: object) -> bool:
    try:
        dt.date.fromisoformat(str(value))
    except ValueError:
        return False
    return True


def _new_page(key: str) -> Callable[[web.Request], Any]:
    async def handler(request: web.Request) -> web.StreamResponse:
        account = await require_admin(request)
        return await _render(request, account, KINDS[key], None, _blank(key), None)

    return handler


def _edit_page(key: str) -> Callable[[web.Request], Any]:
    async def handler(request: web.Request) -> web.StreamResponse:
        account = await require_admin(request)
        kind = KINDS[key]
        found = await read(request, _load, kind, request.match_info["id"])
        if found is None:
            return not_found(request, account, "Posten finns inte i katalogen.")
        return await _render(request, account, kind, request.match_info["id"], found[0], found[1])

    return handler


SAVERS: dict[str, Callable[..., Any]] = {
    "organisations": edit.save_organisation, "schemes": edit.save_scheme, "topics": edit.save_topic,
}


def _create(key: str) -> Callable[[web.Request], Any]:
    async def handler(request: web.Request) -> web.StreamResponse:
        account = await require_admin(request)
        form = await post_form(request)
        kind, data, row_id = KINDS[key], KINDS[key].parse(form), form.get("id", "").strip()
        try:
            await transact(request, SAVERS[key], actor_of(account), now_of(request), row_id, None, data, create=True)
        except Invalid as exc:
            return await _render(request, account, kind, None, {**data, "id": row_id}, None, status=400, error=exc)
        raise done(f"/admin/directory/{key}/{row_id}", "skapad")

    return handler


def _save(key: str) -> Callable[[web.Request], Any]:
    async def handler(request: web.Request) -> web.StreamResponse:
        account = await require_admin(request)
        form = await post_form(request)
        kind, data, row_id = KINDS[key], KINDS[key].parse(form), request.match_info["id"]
        try:
            await transact(request, SAVERS[key], actor_of(account), now_of(request), row_id, version_of(form), data)
        except Invalid as exc:
            return await _render(request, account, kind, row_id, data, version_of(form), status=400, error=exc)
        except Conflict:
            found = await read(request, _load, kind, row_id)
            if found is None:
                return not_found(request, account, "Posten finns inte i katalogen.")
            latest = forms.typed_fields(found[0])
            yours = [field for field in forms.typed_fields(data) if field not in latest]
            return await _render(request, account, kind, row_id, found[0], found[1], status=409,
                                 conflict={"message": STALE, "yours": yours})
        except NotFound:
            return not_found(request, account, "Posten finns inte i katalogen.")
        raise done(f"/admin/directory/{key}/{row_id}", "sparat")

    return handler
