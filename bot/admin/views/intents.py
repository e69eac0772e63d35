"""Intents and their examples: the list (with example counts and F1), a new intent, one
intent's page (description, retire, add examples, move or delete several), one example."""

from __future__ import annotations

from typing import Any

from aiohttp import web
from multidict import MultiDictProxy
from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.admin.access import post_form, require_admin
from bot.admin.keys import f1_source_key
from bot.admin.pages import (
    actor_of,
    done,
    errors_by_field,
    not_found,
    now_of,
    page,
    read,
    transact,
    version_of,
)
from bot.conversation.context import AdvisorRef
from content import edit, queries
from content.metrics import f1_for
from content.validation import split_lines
from core.editing import STALE, Conflict, Invalid, NotFound
from core.problems import Problem
from directory.models import Organisation

NAME = r"{name:[a-z][a-z0-9_]*(?:/[a-z][a-z0-9_]*)?}"
KIND_HELP = {
    "referral": "Hänvisar till organisationer i katalogen (ett ämne med samma namn skapas).",
    "conversation": "Svarar med en egen text (till exempel en hälsning eller ett besked).",
    "retrieval": "En fråga om tjänsten som besvaras med en egen text (namnet skrivs grupp/namn, t.ex. faq/parkering).",
}


def setup(router: web.UrlDispatcher) -> None:
    router.add_get("/admin/intents", intent_list, name="admin_intents")
    router.add_get("/admin/intents/new", new_intent_form, name="admin_intent_new_form")
    router.add_post("/admin/intents/new", create_intent, name="admin_intent_new")
    router.add_get(f"/admin/intents/{NAME}", intent_page, name="admin_intent")
    router.add_post(f"/admin/intents/{NAME}", intent_change, name="admin_intent_change")
    router.add_get("/admin/examples/{id:\\d{1,18}}", example_page, name="admin_example")
    router.add_post("/admin/examples/{id:\\d{1,18}}", example_change, name="admin_example_change")


async def intent_list(request: web.Request) -> web.StreamResponse:
    account = await require_admin(request)
    rows = await read(request, queries.intent_rows)
    figures = await request.app[f1_source_key](request.app)
    show_retired = request.query.get("visa") == "alla"
    listed = [(row, f1_for(row.name, figures)) for row in rows if show_retired or not row.retired]
    return page(request, "intents.html", account, "intents", rows=listed, show_retired=show_retired,
                retired_count=sum(r.retired for r in rows))


# ---------------------------------------------------------------- a new intent


def _organisation_choices(session: Session) -> list[tuple[str, str]]:
    return [(o.id, o.name) for o in session.scalars(select(Organisation).order_by(Organisation.name))]


async def new_intent_form(request: web.Request) -> web.StreamResponse:
    account = await require_admin(request)
    return await _new_form(request, account, {"kind": request.query.get("sort", "referral")})


async def _new_form(request: web.Request, account: AdvisorRef, values: dict[str, str], status: int = 200,
                    error: Invalid | None = None) -> web.Response:
    errors, general = errors_by_field(error.problems if error else [])
    return page(request, "intent_new.html", account, "intents", status=status, values=values,
                organisations=await read(request, _organisation_choices), kinds=KIND_HELP,
                kind_labels=queries.KIND_LABELS, errors=errors, general_errors=general)


async def create_intent(request: web.Request) -> web.StreamResponse:
    account = await require_admin(request)
    form = await post_form(request)
    values = {k: str(form.get(k, "")) for k in ("name", "kind", "description", "examples", "answer", "topic_name",
                                                 "first_target")}
    try:
        await transact(request, edit.create_intent, actor_of(account), now_of(request),
                       name=values["name"].strip(), kind=values["kind"], description=values["description"],
                       examples=split_lines(values["examples"]), answer=values["answer"],
                       topic_name=values["topic_name"], first_target=values["first_target"])
    except Invalid as exc:
        return await _new_form(request, account, values, 400, exc)
    raise done(f"/admin/intents/{values['name'].strip()}", "skapad")


# ---------------------------------------------------------------- one intent


async def intent_page(request: web.Request) -> web.StreamResponse:
    account = await require_admin(request)
    return await _intent_page(request, account)


async def _intent_page(request: web.Request, account: AdvisorRef, *, status: int = 200, error: Invalid | None = None,
                       conflict: dict[str, Any] | None = None, values: dict[str, str] | None = None) -> web.Response:
    name = request.match_info["name"]
    search = request.query.get("sok", "")
    try:
        number = int(request.query.get("sida", "1"))
    except ValueError:
        number = 1
    found = await read(request, queries.intent_page, name, search, number)
    if found is None:
        return not_found(request, account, f"Det finns ingen avsikt som heter {name}.")
    figures = await request.app[f1_source_key](request.app)
    errors, general = errors_by_field(error.problems if error else [])
    targets = await read(request, queries.intent_names)
    return page(request, "intent.html", account, "intents", status=status, data=found, search=search,
                f1=f1_for(name, figures), targets=[t for t in targets if t != name], errors=errors,
                general_errors=general, conflict=conflict, values=values or {})


async def intent_change(request: web.Request) -> web.StreamResponse:
    """One POST route per intent; `do` says what: details | retire | restore | add | bulk."""
    account = await require_admin(request)
    form = await post_form(request)
    name = request.match_info["name"]
    action = form.get("do", "")
    actor, now = actor_of(account), now_of(request)
    values = {"description": form.get("description", ""), "examples": form.get("examples", "")}
    try:
        if action == "details":
            await transact(request, edit.update_intent, actor, now, name, version_of(form),
                           description=values["description"])
            code = "sparat"
        elif action in ("retire", "restore"):
            await transact(request, edit.update_intent, actor, now, name, version_of(form), retired=action == "retire")
            code = "avvecklad" if action == "retire" else "aterstalld"
        elif action == "add":
            await transact(request, edit.add_examples, actor, now, name, split_lines(values["examples"]))
            code = "tillagda"
        elif action == "bulk":
            code = await _bulk(request, form, account)
        else:
            raise web.HTTPBadRequest(text="Okänd åtgärd.")
    except Invalid as exc:
        return await _intent_page(request, account, status=400, error=exc, values=values)
    except Conflict:
        yours = [("Beskrivning", values["description"])] if action == "details" else []
        return await _intent_page(request, account, status=409, conflict={"message": STALE, "yours": yours},
                                  values={"examples": values["examples"]})
    except NotFound as exc:
        return not_found(request, account, exc.message)
    raise done(f"/admin/intents/{name}", code)


def selected(form: MultiDictProxy[str]) -> dict[int, int | None]:
    """The checked examples: `example=<id>:<version>`."""
    chosen: dict[int, int | None] = {}
    for value in form.getall("example", []):
        example_id, _, version = value.partition(":")
        if example_id.isdigit():
            chosen[int(example_id)] = int(version) if version.isdigit() else None
    return chosen


async def _bulk(request: web.Request, form: MultiDictProxy[str], account: AdvisorRef) -> str:
    actor, now = actor_of(account), now_of(request)
    if form.get("bulk") == "delete":
        await transact(request, edit.delete_examples, actor, now, selected(form))
        return "borttagna"
    target = form.get("target", "")
    if not target:
        raise Invalid([Problem("target", "Välj vilken avsikt exemplen ska flyttas till.")])
    await transact(request, edit.move_examples, actor, now, selected(form), target)
    return "flyttade"


# ---------------------------------------------------------------- one example


async def example_page(request: web.Request) -> web.StreamResponse:
    account = await require_admin(request)
    return await _example_page(request, account)


async def _example_page(request: web.Request, account: AdvisorRef, *, status: int = 200,
                        error: Invalid | None = None, conflict: dict[str, Any] | None = None,
                        typed: str | None = None) -> web.Response:
    found = await read(request, queries.example, int(request.match_info["id"]))
    if found is None:
        return not_found(request, account, "Exemplet finns inte längre; någon annan kan ha tagit bort det.")
    errors, general = errors_by_field(error.problems if error else [])
    targets = await read(request, queries.intent_names)
    return page(request, "example.html", account, "intents", status=status, example=found,
                text=found.text if typed is None or conflict else typed, errors=errors, general_errors=general,
                conflict=conflict, targets=[t for t in targets if t != found.intent])


async def example_change(request: web.Request) -> web.StreamResponse:
    account = await require_admin(request)
    form = await post_form(request)
    example_id = int(request.match_info["id"])
    action, text = form.get("do", "save"), form.get("text", "")
    actor, now, version = actor_of(account), now_of(request), version_of(form)
    try:
        if action == "delete":
            deleted = await read(request, queries.example, example_id)
            await transact(request, edit.delete_examples, actor, now, {example_id: version})
            raise done(f"/admin/intents/{deleted.intent if deleted else ''}", "borttagna")
        if action == "move":
            target = form.get("target", "")
            if not target:
                raise Invalid([Problem("target", "Välj vilken avsikt exemplet ska flyttas till.")])
            await transact(request, edit.move_examples, actor, now, {example_id: version}, target)
            raise done(f"/admin/intents/{target}", "flyttade")
        saved = await transact(request, edit.edit_example, actor, now, example_id, version, text)
        raise done(f"/admin/intents/{saved.intent.name}", "sparat")
    except Invalid as exc:
        return await _example_page(request, account, status=400, error=exc, typed=text)
    except Conflict:
        return await _example_page(request, account, status=409, typed=text,
                                   conflict={"message": STALE, "yours": [("Exempel", text)]})
    except NotFound as exc:
        return not_found(request, account, exc.message)
