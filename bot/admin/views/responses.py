"""The bot's responses: the list (with where each is used) and one response's form
(variations, each with its buttons)."""

from __future__ import annotations

from typing import Any

from aiohttp import web
from multidict import MultiDictProxy

from bot.admin.access import post_form, require_admin
from bot.admin.pages import actor_of, done, errors_by_field, not_found, now_of, page, read, rows, transact, version_of
from bot.conversation.context import AdvisorRef
from content import edit, queries, usage
from core.editing import STALE, Conflict, Invalid, NotFound

NAME = r"{name:utter_[a-z0-9_]+(?:/[a-z0-9_]+)?}"
BLANK_VARIATIONS = 1
BLANK_BUTTONS = 2


def setup(router: web.UrlDispatcher) -> None:
    router.add_get("/admin/responses", response_list, name="admin_responses")
    router.add_get(f"/admin/responses/{NAME}", response_page, name="admin_response")
    router.add_post(f"/admin/responses/{NAME}", save_response, name="admin_response_save")


async def response_list(request: web.Request) -> web.StreamResponse:
    account = await require_admin(request)
    responses = await read(request, queries.response_rows)
    uses = await read(request, usage.uses)
    listed = [(r, usage.uses_of(r.name, uses)) for r in responses]
    return page(request, "responses.html", account, "responses", rows=listed)


async def response_page(request: web.Request) -> web.StreamResponse:
    account = await require_admin(request)
    return await _page(request, account)


def _editable(variations: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Variations as the form shows them: every one with room for more buttons, and one
    blank variation to add."""
    shown = [{"text": v.get("text", ""), "buttons": [*list(v.get("buttons") or []),
                                                      *([{"title": "", "payload": ""}] * BLANK_BUTTONS)]}
             for v in variations]
    blank = {"text": "", "buttons": [{"title": "", "payload": ""}] * BLANK_BUTTONS}
    return shown + [blank] * BLANK_VARIATIONS


async def _page(request: web.Request, account: AdvisorRef, *, status: int = 200, error: Invalid | None = None,
                conflict: dict[str, Any] | None = None, typed: list[dict[str, Any]] | None = None) -> web.Response:
    name = request.match_info["name"]
    found = await read(request, queries.response, name)
    if found is None:
        return not_found(request, account, f"Det finns inget svar som heter {name}.")
    uses = usage.uses_of(name, await read(request, usage.uses))
    errors, general = errors_by_field(error.problems if error else [])
    shown = typed if typed is not None and conflict is None else found.variations
    return page(request, "response.html", account, "responses", status=status, response=found,
                variations=_editable(shown), uses=uses, errors=errors, general_errors=general, conflict=conflict)


def parse_variations(form: MultiDictProxy[str]) -> list[dict[str, Any]]:
    """Variations from the form: `text_<i>`, buttons `button_<i>_title_<j>` and
    `button_<i>_payload_<j>`; removed or blank variations left out."""
    indices = sorted({int(k.split("_", 1)[1]) for k in form if k.startswith("text_") and k.split("_", 1)[1].isdigit()})
    variations = []
    for i in indices:
        if form.get(f"remove_{i}"):
            continue
        buttons = rows(form, f"button_{i}", ("title", "payload"))
        text = form.get(f"text_{i}", "")
        if text.strip() or buttons:
            variations.append({"text": text, "buttons": buttons})
    return variations


async def save_response(request: web.Request) -> web.StreamResponse:
    account = await require_admin(request)
    form = await post_form(request)
    name = request.match_info["name"]
    variations = parse_variations(form)
    try:
        await transact(request, edit.update_response, actor_of(account), now_of(request), name, version_of(form),
                       variations)
    except Invalid as exc:
        return await _page(request, account, status=400, error=exc, typed=variations)
    except Conflict:
        yours = [(f"Variant {n}", v["text"]) for n, v in enumerate(variations, start=1)]
        return await _page(request, account, status=409, conflict={"message": STALE, "yours": yours})
    except NotFound as exc:
        return not_found(request, account, exc.message)
    raise done(f"/admin/responses/{name}", "sparat")
