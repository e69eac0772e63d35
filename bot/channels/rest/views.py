"""Rasa-REST-compatible endpoint for programs (docs/gateway-protocol.md, section 6)."""

from __future__ import annotations

import json
from typing import Any

from aiohttp import web

from bot import texts
from bot.conversation.rasa_worker import GATEWAY_PAYLOAD, REQUEST_ADVISOR
from bot.conversation.store import StoredMessage
from bot.rules import validation
from bot.rules.ratelimit import MESSAGES_SENDER
from bot.rules.validation import Invalid
from bot.web.body import read_json
from bot.web.keys import core_key, limits_key, settings_key
from bot.web.security import rate_limited

CHANNEL_NAME = "rest"

MAX_METADATA_BYTES = 4096


async def rest_webhook(request: web.Request) -> web.Response:
    settings = request.app[settings_key]
    core = request.app[core_key]
    body = await read_json(request)
    if not isinstance(body, dict):
        raise Invalid("bad_request", texts.BAD_REQUEST)
    sender = validation.sender_id(body.get("sender"))
    text = validation.clean_text(body.get("message"), settings.max_message_chars)
    metadata = body.get("metadata")
    if not isinstance(metadata, dict) or len(json.dumps(metadata)) > MAX_METADATA_BYTES:
        metadata = None

    # The sender's own bucket, then the address's (invented senders share it), then everyone's.
    limits = request.app[limits_key]
    address = limits.address(request)
    wait = await limits.buckets.take(MESSAGES_SENDER, f"{sender}|{address}", limits.per_user)
    if wait <= 0:
        wait = await limits.message(address)
    if wait <= 0 and text.startswith(GATEWAY_PAYLOAD) and text == REQUEST_ADVISOR:
        wait = await limits.handoff(address)
        if wait > 0:
            return rate_limited(wait, "handoff_limited", texts.TOO_MANY_HANDOFFS)
    if wait > 0:
        return rate_limited(wait)

    payload = text if text.startswith(GATEWAY_PAYLOAD) else None
    conversation_id = (await core.intake.submit_by_key(CHANNEL_NAME, sender, text, payload, metadata)).conversation_id
    messages = await core.rasa.wait_and_take(conversation_id)
    if messages is None:
        messages = await core.outbox.take_unread(conversation_id)
    return web.json_response([rest_message(m, sender) for m in messages])


def rest_message(message: StoredMessage, sender: str) -> dict[str, Any]:
    """A stored message in the shape of Rasa's REST channel."""
    out: dict[str, Any] = {"recipient_id": sender}
    if message.text is not None:
        out["text"] = message.text
    if message.buttons:
        out["buttons"] = list(message.buttons)
    if message.image:
        out["image"] = message.image
    if message.role == "bot":
        if message.custom:
            out["custom"] = message.custom
    elif message.role == "advisor":
        out["custom"] = {"role": "advisor", "author": message.author}
    else:
        out["custom"] = {"role": message.role}
    return out
