"""Slack's two request URLs: the Events API and interactivity (buttons, the question form).

Every request is verified (Slack's signature over the raw body, at most five minutes
old) before anything in it is read: a forged or stale request gets 401 and nothing is
stored. Then, within Slack's three seconds, the message is stored (once: Slack's
`event_id` and the message's `ts` are both remembered in the database) and the answer
is 200; the Rasa worker and the outbox do the rest in the background, and the person's
display name is fetched after the answer.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any
from urllib.parse import parse_qs

import aiohttp
from aiohttp import web
from slack_sdk.errors import SlackApiError

from bot import texts as core_texts
from bot.channels.slack import records, texts, ticket
from bot.channels.slack.inbound import Click, Ignored, IncomingMessage, parse_clicks, parse_event
from bot.channels.slack.records import CHANNEL_NAME, EVENT_SOURCE
from bot.channels.slack.render import BUTTON_VALUE_MAX, REPLY_ACTION, TICKET_ACTION
from bot.channels.slack.runtime import SlackRuntime, slack_key
from bot.rules import validation
from bot.rules.payload import parse_object
from bot.rules.validation import Invalid
from bot.web.body import MAX_REQUEST_BYTES, read_body
from bot.web.keys import limits_key
from bot.web.security import json_error

log = logging.getLogger(__name__)

NOT_VERIFIED = "Förfrågan kunde inte verifieras."


def _unverified() -> web.Response:
    return json_error(401, "invalid_signature", NOT_VERIFIED)


def _acknowledged() -> web.Response:
    return web.Response(status=200)


async def slack_events(request: web.Request) -> web.Response:
    runtime = request.app[slack_key]
    body = await read_body(request)  # 413 beyond the gateway's body limit
    if not runtime.verified(body, request.headers):
        return _unverified()
    envelope = parse_object(body, MAX_REQUEST_BYTES)  # bounded depth: 400 in the JSON shape
    kind = envelope.get("type")
    if kind == "url_verification":
        challenge = envelope.get("challenge")
        if not isinstance(challenge, str):
            return json_error(400, "bad_request", core_texts.BAD_REQUEST)
        return web.json_response({"challenge": challenge})
    if kind != "event_callback":
        return _acknowledged()
    event_id = envelope.get("event_id")
    if isinstance(event_id, str) and event_id and await records.event_seen(runtime.core, event_id):
        log.info("Slack event %s seen before (retry %s): ignored", event_id, request.headers.get("X-Slack-Retry-Num"))
        return _acknowledged()
    parsed = parse_event(envelope, await runtime.bot_user_id(envelope))
    if isinstance(parsed, Ignored):
        log.debug("Slack event ignored: %s", parsed.reason)
        return _acknowledged()
    team = envelope.get("team_id")
    if not await _allowed(request, runtime, parsed, team if isinstance(team, str) else ""):
        return _acknowledged()
    await take_message(runtime, parsed)
    return _acknowledged()


async def _allowed(request: web.Request, runtime: SlackRuntime, message: IncomingMessage, team: str) -> bool:
    """Slack's requests all come from Slack's addresses: the limit is per workspace and
    user. A refused message is not stored; the person is told, in the thread."""
    wait = await request.app[limits_key].message(f"slack:{team}:{message.user}", platform_user=True)
    if wait <= 0:
        return True
    log.info("Slack user %s in %s is rate limited", message.user, team)
    place = message.place
    runtime.spawn(runtime.api.tell(place.channel, message.user, place.thread_ts, core_texts.RATE_LIMITED))
    return False


async def take_message(runtime: SlackRuntime, message: IncomingMessage) -> None:
    """Store a person's message in its conversation (once), then remember the event."""
    core = runtime.core
    place = message.place
    if not message.addressed and await records.conversation_id(core, place.external_id) is None:
        return  # a message in a thread that is not ours
    try:
        text = validation.clean_text(message.text, runtime.settings.max_message_chars)
    except Invalid as exc:
        if exc.code == "message_too_long":
            too_long = texts.too_long(runtime.settings.max_message_chars)
            runtime.spawn(runtime.api.tell(place.channel, message.user, place.thread_ts, too_long))
        elif message.addressed:
            # A bare mention: a new conversation starts with the greeting, nothing else.
            await core.intake.open(
                CHANNEL_NAME, external_id=place.external_id, address=place.address,
                display_name=runtime.names.cached(message.user), greeting=True,
            )
            runtime.learn_name(message.user, place.external_id)
    else:
        opened = await core.intake.open(
            CHANNEL_NAME, external_id=place.external_id, address=place.address,
            display_name=runtime.names.cached(message.user),
        )
        await core.intake.submit(opened.id, message.ts, text)
        runtime.learn_name(message.user, place.external_id)
    if message.event_id:
        await core.intake.first_time(EVENT_SOURCE, message.event_id)


async def slack_interactive(request: web.Request) -> web.Response:
    runtime = request.app[slack_key]
    body = await read_body(request)
    if not runtime.verified(body, request.headers):
        return _unverified()
    try:
        raw = parse_qs(body.decode("utf-8"), strict_parsing=True).get("payload", [""])[0]
    except (UnicodeDecodeError, ValueError):
        return json_error(400, "bad_request", core_texts.BAD_REQUEST)
    payload = parse_object(raw, MAX_REQUEST_BYTES)
    if payload.get("type") == "view_submission":
        return await _ticket_submitted(runtime, payload)
    clicks = parse_clicks(payload)
    if isinstance(clicks, Ignored):
        log.debug("Slack interaction ignored: %s", clicks.reason)
        return _acknowledged()
    for click in clicks:
        if click.action_id.startswith(REPLY_ACTION):
            await _clicked(runtime, click)
        elif click.action_id == TICKET_ACTION:
            await _open_ticket_form(runtime, click)
    return _acknowledged()


async def _clicked(runtime: SlackRuntime, click: Click) -> None:
    """A click is the company typing the button's payload (its title is what they read)."""
    max_chars = runtime.settings.max_message_chars
    if not click.value or len(click.value) > BUTTON_VALUE_MAX:
        return
    try:
        title = validation.clean_text(click.title, max_chars)
    except Invalid:
        title = click.value[:max_chars]
    core = runtime.core
    opened = await core.intake.open(
        CHANNEL_NAME, external_id=click.place.external_id, address=click.place.address,
        display_name=runtime.names.cached(click.user),
    )
    await core.intake.submit(opened.id, f"click:{click.action_ts}", title, payload=click.value)
    runtime.learn_name(click.user, click.place.external_id)


async def _open_ticket_form(runtime: SlackRuntime, click: Click) -> None:
    if not click.trigger_id:
        return
    view = ticket.ticket_view(
        click.place.external_id, runtime.settings.max_message_chars, runtime.names.cached(click.user)
    )
    try:
        await runtime.api.open_view(click.trigger_id, view)
    except (SlackApiError, aiohttp.ClientError, asyncio.TimeoutError) as exc:
        log.warning("Slack views.open failed (the person can click again): %r", exc)


async def _ticket_submitted(runtime: SlackRuntime, payload: dict[str, Any]) -> web.Response:
    form = ticket.submitted(payload)
    if form is None:
        return _acknowledged()
    view_id, external_id, data = form
    conversation_id = await records.conversation_id(runtime.core, external_id)
    if conversation_id is None:
        return web.json_response(ticket.field_errors({}, texts.TICKET_EXPIRED))
    try:
        fields = validation.ticket_form(data, runtime.settings.max_message_chars)
    except Invalid as exc:
        return web.json_response(ticket.field_errors(exc.fields, exc.message))
    await runtime.core.intake.create_ticket(conversation_id, f"slack-view-{view_id}", fields)
    return _acknowledged()
