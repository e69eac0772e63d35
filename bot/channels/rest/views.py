"""Rasa-REST-compatible endpoint for programs (docs/gateway-protocol.md, section 6)."""

from __future__ import annotations

import json
import math
import time
from typing import Any

from aiohttp import web

from bot import texts
from bot.conversation.models import Message
from bot.conversation.rasa_worker import GATEWAY_PAYLOAD
from bot.rules import validation
from bot.rules.validation import Invalid
from bot.web.keys import core_key, rest_limits_key, settings_key
from bot.web.security import json_error

CHANNEL_NAME = "rest"

MAX_METADATA_BYTES = 4096


async def rest_webhook(request: web.Request) -> web.Response:
    settings = request.app[settings_key]
    core = request.app[core_key]
    try:
        body = await request.json()
    except ValueError:
        body = None
    if not isinstance(body, dict):
        raise Invalid("bad_request", texts.BAD_REQUEST)
    sender = body.get("sender")
    if not isinstance(sender, str) or not 0 < len(sender.strip()) <= 128:
        raise Invalid("bad_request", texts.BAD_REQUEST)
    sender = sender.strip()
    text = validation.clean_text(body.get("message"), settings.max_message_chars)
    metadata = body.get("metadata")
    if not isinstance(metadata, dict) or len(json.dumps(metadata)) > MAX_METADATA_BYTES:
        metadata = None

    wait = request.app[rest_limits_key].take(f"{sender}|{request.remote}", time.monotonic())
    if wait > 0:
        response = json_error(429, "rate_limited", texts.RATE_LIMITED, retry_after=math.ceil(wait))
        response.headers["Retry-After"] = str(math.ceil(wait))
        return response

    conversation_id = (await core.intake.open(CHANNEL_NAME, external_id=sender)).id
    payload = text if text.startswith(GATEWAY_PAYLOAD) else None
    await core.intake.submit(conversation_id, None, text, payload, metadata)
    await core.rasa.wait_delivered(conversation_id)
    messages = await core.outbox.take_unread(conversation_id)
    return web.json_response([rest_message(m, sender) for m in messages])


def rest_message(message: Message, sender: str) -> dict[str, Any]:
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
