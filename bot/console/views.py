"""The console's HTTP API (docs/gateway-protocol.md, section 4)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

from aiohttp import web
from sqlalchemy import update

from bot import texts
from bot.accounts import auth
from bot.console import queries
from bot.console import texts as console_texts
from bot.console.keys import assignment_key, mailer_key
from bot.conversation import store
from bot.conversation.context import AdvisorRef
from bot.conversation.models import Conversation
from bot.rules import queue as rules
from bot.rules import transcript, validation
from bot.rules.ratelimit import retry_after
from bot.rules.validation import Invalid
from bot.web.body import read_json
from bot.web.keys import (
    channel_labels_key,
    clock_key,
    core_key,
    db_key,
    hours_key,
    limits_key,
    settings_key,
)
from bot.web.security import console_origin_ok, json_error, json_exception, rate_limited
from bot.web.session_cookie import session_token, set_session_cookie


def _check_csrf(request: web.Request) -> None:
    """Every POST: the page's own origin and the CSRF token bound to the session cookie."""
    if not console_origin_ok(request):
        raise json_exception(web.HTTPForbidden, "forbidden_origin", texts.FORBIDDEN_ORIGIN)
    secret = request.app[settings_key].session_secret
    if not auth.csrf_ok(secret, session_token(request), request.headers.get("X-CSRF-Token")):
        raise json_exception(web.HTTPForbidden, "csrf_failed", texts.CSRF_FAILED)


async def current_advisor(request: web.Request) -> AdvisorRef:
    """The logged-in advisor, or 401. Counts as presence for the advisor timeout."""
    advisor = await auth.session_advisor(request.app[db_key], session_token(request), request.app[clock_key]())
    if advisor is None:
        raise json_exception(web.HTTPUnauthorized, "not_authenticated", texts.NOT_AUTHENTICATED)
    await request.app[core_key].presence.touch(advisor.id)
    return advisor


async def advisor_for_post(request: web.Request) -> AdvisorRef:
    _check_csrf(request)
    return await current_advisor(request)


async def json_body(request: web.Request) -> dict[str, Any]:
    if not request.can_read_body:
        return {}
    body = await read_json(request)  # bounded: 413 or 400 in the JSON error shape
    if not isinstance(body, dict):
        raise Invalid("bad_request", texts.BAD_REQUEST)
    return body


def _session_body(request: web.Request, token: str, advisor: AdvisorRef | None) -> dict[str, Any]:
    body: dict[str, Any] = {
        "authenticated": advisor is not None,
        "csrf_token": auth.csrf_for(request.app[settings_key].session_secret, token),
    }
    if advisor is not None:
        settings = request.app[settings_key]
        body["advisor"] = {"id": advisor.id, "name": advisor.name, "email": advisor.email}
        body["outcomes"] = [{"code": c, "label": label} for c, label in rules.OUTCOMES.items()]
        labels: Mapping[str, str] = request.app[channel_labels_key]
        body["channels"] = {name: label for name, label in labels.items()}
        body["inbox"] = {
            "queue_wait_alert_seconds": settings.queue_wait_alert_seconds,
            "max_chats_default": settings.console_max_chats_default,
            "auto_assign": settings.auto_assign,
            "transcript_email": settings.transcript_email_enabled,
            "max_message_chars": settings.max_message_chars,
        }
    return body


# ---------------------------------------------------------------- session


async def session(request: web.Request) -> web.Response:
    token = session_token(request)
    advisor = await auth.session_advisor(request.app[db_key], token, request.app[clock_key]())
    fresh = token is None
    token = token or auth.new_token()
    response = web.json_response(_session_body(request, token, advisor))
    if fresh:
        set_session_cookie(request, response, token, persistent=False)
    return response


async def login(request: web.Request) -> web.Response:
    _check_csrf(request)
    body = await json_body(request)
    email, password = body.get("email"), body.get("password")
    if not isinstance(email, str) or not isinstance(password, str) or len(password) > 1024:
        raise Invalid("bad_request", texts.BAD_REQUEST)
    limits = request.app[limits_key]
    address = limits.address(request)
    wait = await limits.login_wait(email, address)
    if wait > 0:
        seconds = retry_after(wait)
        return rate_limited(wait, "too_many_attempts", texts.login_throttled(seconds))
    advisor = await auth.authenticate(request.app[db_key], email, password)
    if advisor is None:
        await limits.login_failed(email, address)
        return json_error(401, "invalid_credentials", texts.INVALID_CREDENTIALS)
    await limits.login_succeeded(email, address)
    settings = request.app[settings_key]
    old = session_token(request)
    if old:
        await auth.end_session(request.app[db_key], old)
    token = await auth.start_session(
        request.app[db_key],
        advisor.id,
        request.app[clock_key](),
        dt.timedelta(hours=settings.session_max_age_hours),
    )
    await request.app[core_key].presence.touch(advisor.id, force=True)
    response = web.json_response(_session_body(request, token, advisor))
    set_session_cookie(request, response, token, persistent=True)
    return response


async def logout(request: web.Request) -> web.Response:
    _check_csrf(request)
    old = session_token(request)
    if old:
        await auth.end_session(request.app[db_key], old)
    token = auth.new_token()
    response = web.json_response(_session_body(request, token, None))
    set_session_cookie(request, response, token, persistent=False)
    return response


# ---------------------------------------------------------------- queue and conversations


async def queue(request: web.Request) -> web.Response:
    advisor = await current_advisor(request)
    snapshot = await queries.queue_snapshot(
        request.app[db_key], advisor.id, request.app[clock_key](), request.app[hours_key],
        request.app[settings_key].console_max_chats_default,
    )
    return web.json_response(snapshot)


async def conversations(request: web.Request) -> web.Response:
    await current_advisor(request)
    if request.query.get("state", "bot") != "bot":
        raise Invalid("bad_request", texts.BAD_REQUEST)
    rows = await queries.bot_conversations(request.app[db_key], request.app[clock_key]())
    return web.json_response({"conversations": rows})


async def conversation(request: web.Request) -> web.Response:
    await current_advisor(request)
    detail = await queries.conversation_detail(request.app[db_key], request.match_info["id"])
    return web.json_response(detail)


async def conversation_messages(request: web.Request) -> web.Response:
    await current_advisor(request)
    try:
        after = int(request.query.get("after_seq", "0"))
    except ValueError as exc:
        raise Invalid("bad_request", texts.BAD_REQUEST) from exc
    messages = await queries.messages_after(request.app[db_key], request.match_info["id"], after)
    return web.json_response({"messages": messages})


async def claim(request: web.Request) -> web.Response:
    advisor = await advisor_for_post(request)
    conversation_id = request.match_info["id"]
    await request.app[assignment_key].claim(conversation_id, advisor)  # within the advisor's cap
    return web.json_response(await queries.conversation_detail(request.app[db_key], conversation_id))


async def post_message(request: web.Request) -> web.Response:
    advisor = await advisor_for_post(request)
    body = await json_body(request)
    settings = request.app[settings_key]
    client_id = validation.client_id(body.get("client_id"))
    text = validation.clean_text(body.get("text"), settings.max_message_chars)
    message, created = await request.app[core_key].replies.send(request.match_info["id"], advisor, client_id, text)
    return web.json_response({"message": message}, status=201 if created else 200)


async def hand_back(request: web.Request) -> web.Response:
    advisor = await advisor_for_post(request)
    conversation_id = request.match_info["id"]
    await request.app[core_key].ownership.hand_back(conversation_id, advisor)
    return web.json_response({"conversation": await queries.conversation_json(request.app[db_key], conversation_id)})


async def release(request: web.Request) -> web.Response:
    advisor = await advisor_for_post(request)
    conversation_id = request.match_info["id"]
    await request.app[core_key].ownership.release(conversation_id, advisor)
    return web.json_response({"conversation": await queries.conversation_json(request.app[db_key], conversation_id)})


async def close(request: web.Request) -> web.Response:
    """Close with an outcome; with `email`, the transcript is e-mailed to that address."""
    advisor = await advisor_for_post(request)
    body = await json_body(request)
    outcome = body.get("outcome")
    note_raw = body.get("note")
    note = validation.clean_text(note_raw, 2000) if isinstance(note_raw, str) and note_raw.strip() else None
    mailer = request.app[mailer_key]
    email = transcript_address(body.get("email"))
    if email is not None and not mailer.enabled:
        return json_error(400, "email_not_configured", console_texts.EMAIL_NOT_CONFIGURED)
    conversation_id = request.match_info["id"]
    await request.app[core_key].ownership.close(conversation_id, advisor, str(outcome or ""), note)
    transcript_email = None
    if email is not None:
        async with request.app[db_key].begin() as s:
            await store.updated(
                s, update(Conversation).where(Conversation.id == conversation_id).values(company_email=email)
            )
        await mailer.request(conversation_id, email, advisor.id)
        transcript_email = {"to": email, "status": "pending"}
    conversation = await queries.conversation_json(request.app[db_key], conversation_id)
    return web.json_response({"conversation": conversation, "transcript_email": transcript_email})


def transcript_address(raw: object) -> str | None:
    """The close form's e-mail address (None: no transcript), or a Swedish Invalid."""
    if raw is None or (isinstance(raw, str) and not raw.strip()):
        return None
    address = validation.clean_line(raw, transcript.MAX_EMAIL)
    if not transcript.valid_email(address):
        raise Invalid("invalid_email", console_texts.INVALID_EMAIL, {"email": console_texts.INVALID_EMAIL})
    return address


# ---------------------------------------------------------------- tickets


async def tickets(request: web.Request) -> web.Response:
    await current_advisor(request)
    status = request.query.get("status", "open")
    if status not in {"open", "done"}:
        raise Invalid("bad_request", texts.BAD_REQUEST)
    return web.json_response({"tickets": await queries.tickets(request.app[db_key], status)})


async def ticket_done(request: web.Request) -> web.Response:
    advisor = await advisor_for_post(request)
    body = await json_body(request)
    try:
        ticket_id = validation.row_id(request.match_info["id"])
    except ValueError as exc:
        raise json_exception(web.HTTPNotFound, "not_found", texts.TICKET_NOT_FOUND) from exc
    note_raw = body.get("note")
    note = validation.clean_text(note_raw, 2000) if isinstance(note_raw, str) and note_raw.strip() else None
    ticket, open_count = await queries.mark_ticket_done(
        request.app[db_key], ticket_id, advisor.id, note, request.app[clock_key]()
    )
    await request.app[core_key].ctx.announce.tickets("done", ticket, open_count)
    return web.json_response({"ticket": ticket})
