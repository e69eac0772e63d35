"""An advisor's working tools in a chat: internal notes, canned replies, the bot's
suggested referral, and what the advisor knows about the company."""

from __future__ import annotations

from typing import Any

from aiohttp import web
from sqlalchemy import update

from bot.console import canned, queries, suggestion
from bot.console import texts as console_texts
from bot.console.views import advisor_for_post, current_advisor, json_body, transcript_address
from bot.conversation import store
from bot.conversation.errors import NotFound
from bot.conversation.models import Conversation
from bot.conversation.rasa_client import RasaUnavailable
from bot.rules import canned as canned_rules
from bot.rules import validation
from bot.web.keys import clock_key, core_key, db_key, settings_key
from bot.web.security import json_error, json_exception

# ---------------------------------------------------------------- notes


async def post_note(request: web.Request) -> web.Response:
    advisor = await advisor_for_post(request)
    body = await json_body(request)
    client_id = validation.client_id(body.get("client_id"))
    text = validation.clean_text(body.get("text"), request.app[settings_key].max_message_chars)
    message, created = await request.app[core_key].notes.add(request.match_info["id"], advisor, client_id, text)
    return web.json_response({"message": message}, status=201 if created else 200)


# ---------------------------------------------------------------- canned replies


async def canned_list(request: web.Request) -> web.Response:
    """Every canned reply; with `conversation_id`, each also filled in for that chat."""
    advisor = await current_advisor(request)
    values = None
    conversation_id = request.query.get("conversation_id")
    if conversation_id:
        async with request.app[db_key]() as s:
            conv = await s.get(Conversation, conversation_id)
        if conv is None:
            raise NotFound()
        values = canned_rules.values_for(conv.company_name, conv.display_name, advisor.name)
    rows = await canned.listing(request.app[db_key], values)
    return web.json_response({"canned": rows, "placeholders": dict(canned_rules.PLACEHOLDERS)})


def _canned_id(request: web.Request) -> int:
    try:
        return validation.row_id(request.match_info["canned_id"])
    except ValueError as exc:
        raise json_exception(web.HTTPNotFound, "not_found", console_texts.CANNED_NOT_FOUND) from exc


async def canned_create(request: web.Request) -> web.Response:
    advisor = await advisor_for_post(request)
    title, text = canned.clean(await json_body(request))
    row = await canned.save(request.app[db_key], None, title, text, advisor.id, request.app[clock_key]())
    return web.json_response({"canned": row}, status=201)


async def canned_update(request: web.Request) -> web.Response:
    advisor = await advisor_for_post(request)
    title, text = canned.clean(await json_body(request))
    row = await canned.save(request.app[db_key], _canned_id(request), title, text, advisor.id, request.app[clock_key]())
    return web.json_response({"canned": row})


async def canned_delete(request: web.Request) -> web.Response:
    await advisor_for_post(request)
    await canned.remove(request.app[db_key], _canned_id(request))
    return web.json_response({"deleted": True})


# ---------------------------------------------------------------- suggested referral

REASONS = {"no_question": console_texts.NO_QUESTION, "no_referral": console_texts.NO_REFERRAL}


async def suggest(request: web.Request) -> web.Response:
    await current_advisor(request)
    settings = request.app[settings_key]
    try:
        result: dict[str, Any] = await suggestion.suggestion(
            request.app[core_key], request.match_info["id"], request.app[clock_key](), settings.opening_timezone
        )
    except RasaUnavailable:
        return json_error(503, "nlu_unavailable", console_texts.NLU_UNAVAILABLE)
    if result["suggestion"] is None:
        result["message"] = REASONS.get(str(result.get("reason")), console_texts.NO_REFERRAL)
    return web.json_response(result)


# ---------------------------------------------------------------- the company


async def set_company(request: web.Request) -> web.Response:
    """What the advisor knows about the company: its name and e-mail address."""
    await advisor_for_post(request)
    body = await json_body(request)
    values: dict[str, Any] = {}
    if "company_name" in body:
        values["company_name"] = validation.clean_line(body["company_name"], 200) or None
    if "company_email" in body:
        values["company_email"] = transcript_address(body["company_email"])
    conversation_id = request.match_info["id"]
    async with request.app[db_key].begin() as s:
        if await s.get(Conversation, conversation_id) is None:
            raise NotFound()
        if values:
            await store.updated(s, update(Conversation).where(Conversation.id == conversation_id).values(**values))
    if values:
        await request.app[core_key].ctx.announce.conversation(conversation_id)
    return web.json_response({"conversation": await queries.conversation_json(request.app[db_key], conversation_id)})
