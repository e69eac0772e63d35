"""`POST /webhooks/teams/messages`: the bot's messaging endpoint in Azure Bot Service.

Nothing is stored before the request is proven to come from the Bot Connector
(`auth.py`): any failed check answers 401. Then:

- a `message` is the company writing (or clicking one of our buttons: the same as typing
  the button's payload, with its title as the text; or sending the offline form): it is
  stored once per activity id (a redelivered activity is recognised) and answered later
  through the outbox, never from this request;
- a `conversationUpdate` that adds the bot opens the conversation with the greeting;
- everything else (typing, reactions, other updates) is acknowledged and ignored.
"""

from __future__ import annotations

import hashlib
import logging
from typing import Any

from aiohttp import web

from bot import texts as core_texts
from bot.channels.teams import auth, texts
from bot.channels.teams.activity import (
    HASHED_ID_PREFIX,
    MESSAGE,
    TEAMS_CHANNEL_ID,
    Activity,
    BadActivity,
    address,
    bot_was_added,
    clicked_payload,
    external_id,
    message_text,
    parse,
    submitted_ticket,
)
from bot.channels.teams.connector import CHANNEL_NAME
from bot.channels.teams.services import teams_key
from bot.rules import validation
from bot.rules.validation import TicketForm
from bot.web.body import read_json
from bot.web.keys import core_key, limits_key, settings_key
from bot.web.security import json_error, json_exception

log = logging.getLogger(__name__)

MAX_CLIENT_ID = 128  # Message.client_id
MAX_TICKET_CLIENT_ID = 64  # Ticket.client_id


async def teams_messages(request: web.Request) -> web.Response:
    settings = request.app[settings_key]
    services = request.app[teams_key]
    try:
        identity = await auth.authenticate(request.headers.get("Authorization"), services.keys, settings.teams_app_id)
    except auth.Unauthorized as exc:
        return _unauthorized(request, exc)
    except auth.KeysUnavailable as exc:
        log.warning("teams: cannot verify requests, Bot Framework's keys are unavailable: %s", exc)
        return json_error(503, "keys_unavailable", texts.KEYS_UNAVAILABLE)
    try:
        activity = parse(await read_json(request))  # bounded: 413 or 400 in the JSON shape
    except BadActivity:
        return json_error(400, "bad_request", core_texts.BAD_REQUEST)
    try:
        auth.check_activity(identity, activity.service_url, activity.channel_id, settings.teams_allowed_service_urls)
    except auth.Unauthorized as exc:
        return _unauthorized(request, exc)

    try:
        if activity.channel_id != TEAMS_CHANNEL_ID:
            log.info("teams: ignored an activity from channel %r", activity.channel_id)
        elif activity.type == MESSAGE:
            await _take_message(request, activity)
        elif bot_was_added(activity):
            await request.app[core_key].intake.open(
                CHANNEL_NAME,
                external_id=external_id(activity),
                display_name=activity.sender.name if activity.sender else None,
                address=address(activity).json(),
                greeting=True,
            )
    except BadActivity:  # e.g. no recipient to address the replies from
        return json_error(400, "bad_request", core_texts.BAD_REQUEST)
    return web.Response(status=200)


async def _take_message(request: web.Request, activity: Activity) -> None:
    # The Bot Connector's addresses are shared by every tenant: the limit is per tenant and user.
    user = activity.sender.id if activity.sender else ""
    if await request.app[limits_key].message(f"teams:{activity.tenant_id}:{user}", platform_user=True) > 0:
        log.info("teams: user %s in tenant %s is rate limited", user, activity.tenant_id)
        raise json_exception(web.HTTPTooManyRequests, "rate_limited", core_texts.RATE_LIMITED)
    max_chars = request.app[settings_key].max_message_chars
    core = request.app[core_key]
    ticket = submitted_ticket(activity)
    # Everything is checked before anything is stored (Invalid → 400 with the Swedish text).
    form = ticket_form(ticket, max_chars) if ticket is not None else None
    payload = clicked_payload(activity) if form is None else None
    text = ""
    if form is None:
        typed = message_text(activity)
        if not typed.strip() and payload is None:
            log.info("teams: ignored a message without text (attachments only)")
            return
        text = validation.clean_text(typed if typed.strip() else payload, max_chars)
    conversation_id = (
        await core.intake.open(
            CHANNEL_NAME,
            external_id=external_id(activity),
            display_name=activity.sender.name if activity.sender else None,
            address=address(activity).json(),
        )
    ).id
    if form is not None:
        await core.intake.create_ticket(conversation_id, _client_id(activity.id, MAX_TICKET_CLIENT_ID), form)
        return
    submitted = await core.intake.submit(conversation_id, _client_id(activity.id, MAX_CLIENT_ID), text, payload)
    if payload == texts.CANCEL_HANDOFF and not submitted.duplicate:
        # The widget's "Lämna kön" / "Nej tack": leave the queue or decline the form.
        await core.ownership.cancel_handoff(conversation_id)


def ticket_form(value: dict[str, Any], max_chars: int) -> TicketForm:
    """The offline card's fields as the widget's ticket form: the one contact field is an
    e-mail address if it has an @, otherwise a phone number."""
    contact = value.get("contact")
    contact = contact.strip() if isinstance(contact, str) else ""
    is_email = "@" in contact
    return validation.ticket_form(
        {
            "question": value.get("question"),
            "name": value.get("name") or "",
            "company": value.get("company") or "",
            "email": contact if is_email else "",
            "phone": "" if is_email else contact,
        },
        max_chars,
    )


def _client_id(activity_id: str | None, limit: int) -> str | None:
    """The activity id is the message's client id (a redelivery is stored once); one too
    long for the column is hashed, marked so that it is never used as a replyToId."""
    if activity_id is None:
        return None
    if len(activity_id) <= limit:
        return activity_id
    return (HASHED_ID_PREFIX + hashlib.sha256(activity_id.encode()).hexdigest())[:limit]


def _unauthorized(request: web.Request, exc: Exception) -> web.Response:
    log.warning("teams: refused a request from %s: %s", request.remote, exc)
    response = json_error(401, "unauthorized", texts.UNAUTHORIZED)
    response.headers["WWW-Authenticate"] = 'Bearer realm="teams"'
    return response
