"""Bot Framework Activities as this channel reads and addresses them.

An incoming Activity (Bot Framework Activity schema) is reduced to what the gateway
needs: who wrote, in which conversation, through which Connector (`serviceUrl`), the
text, a clicked button's payload, and who was added to a conversation. The address a
reply goes to is kept with the conversation (`Address`), so the outbox can deliver long
after the request that opened it.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

MESSAGE = "message"
CONVERSATION_UPDATE = "conversationUpdate"
TEAMS_CHANNEL_ID = "msteams"

MAX_ID = 1000
MAX_NAME = 200
MAX_PAYLOAD = 500
MAX_VALUE = 16 * 1024
MAX_EXTERNAL_ID = 255

# The value a button of ours carries back (a messageBack's `value`), and the Adaptive
# Card form's submit action.
PAYLOAD_KEY = "payload"
# A client id that is a hash of an over-long activity id, not the activity id itself.
HASHED_ID_PREFIX = "sha256-"
ACTION_KEY = "action"
TICKET_ACTION = "ticket"


class BadActivity(ValueError):
    """The body is not an Activity this channel can act on."""


@dataclass(frozen=True)
class Account:
    id: str
    name: str | None


@dataclass(frozen=True)
class Activity:
    type: str
    id: str | None
    channel_id: str
    service_url: str
    conversation_id: str
    conversation_type: str | None
    tenant_id: str | None
    sender: Account | None
    recipient: Account | None
    text: str | None
    value: Any
    members_added: tuple[Account, ...]


@dataclass(frozen=True)
class Address:
    """Where a conversation's messages go (stored with the conversation)."""

    service_url: str
    conversation_id: str
    bot_id: str
    bot_name: str | None
    user_id: str | None
    user_name: str | None
    tenant_id: str | None

    def json(self) -> dict[str, Any]:
        return {
            "service_url": self.service_url,
            "conversation_id": self.conversation_id,
            "bot_id": self.bot_id,
            "bot_name": self.bot_name,
            "user_id": self.user_id,
            "user_name": self.user_name,
            "tenant_id": self.tenant_id,
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Address | None:
        service_url, conversation_id, bot_id = (data.get(k) for k in ("service_url", "conversation_id", "bot_id"))
        if not (isinstance(service_url, str) and isinstance(conversation_id, str) and isinstance(bot_id, str)):
            return None
        return cls(
            service_url=service_url,
            conversation_id=conversation_id,
            bot_id=bot_id,
            bot_name=_optional(data.get("bot_name")),
            user_id=_optional(data.get("user_id")),
            user_name=_optional(data.get("user_name")),
            tenant_id=_optional(data.get("tenant_id")),
        )


def parse(body: object) -> Activity:
    """The parts of an Activity this channel uses; BadActivity if they are malformed."""
    if not isinstance(body, dict):
        raise BadActivity("not a JSON object")
    kind = _string(body.get("type"), "type")
    service_url = _string(body.get("serviceUrl"), "serviceUrl")
    channel_id = _string(body.get("channelId"), "channelId")
    conversation = body.get("conversation")
    if not isinstance(conversation, dict):
        raise BadActivity("conversation missing")
    conversation_id = _string(conversation.get("id"), "conversation.id")
    tenant_id = _optional(conversation.get("tenantId"))
    channel_data = body.get("channelData")
    if tenant_id is None and isinstance(channel_data, dict) and isinstance(channel_data.get("tenant"), dict):
        tenant_id = _optional(channel_data["tenant"].get("id"))
    text = body.get("text")
    members = body.get("membersAdded")
    return Activity(
        type=kind,
        id=_optional(body.get("id")),
        channel_id=channel_id,
        service_url=service_url,
        conversation_id=conversation_id,
        conversation_type=_optional(conversation.get("conversationType")),
        tenant_id=tenant_id,
        sender=_account(body.get("from")),
        recipient=_account(body.get("recipient")),
        text=text if isinstance(text, str) else None,
        value=body.get("value"),
        members_added=tuple(a for a in (_account(m) for m in members) if a) if isinstance(members, list) else (),
    )


def external_id(activity: Activity) -> str:
    """The conversation's stable key in this channel: the tenant and the Teams conversation
    id (a conversation id is only unique within its tenant). Hashed if it would not fit."""
    key = f"{activity.tenant_id}/{activity.conversation_id}" if activity.tenant_id else activity.conversation_id
    if len(key) > MAX_EXTERNAL_ID:
        key = "sha256:" + hashlib.sha256(key.encode()).hexdigest()
    return key


def address(activity: Activity) -> Address:
    if activity.recipient is None:
        raise BadActivity("recipient missing")
    return Address(
        service_url=activity.service_url,
        conversation_id=activity.conversation_id,
        bot_id=activity.recipient.id,
        bot_name=activity.recipient.name,
        user_id=activity.sender.id if activity.sender else None,
        user_name=activity.sender.name if activity.sender else None,
        tenant_id=activity.tenant_id,
    )


def bot_was_added(activity: Activity) -> bool:
    """A conversationUpdate that adds this bot (it was installed, or added to a chat)."""
    if activity.type != CONVERSATION_UPDATE or activity.recipient is None:
        return False
    return any(member.id == activity.recipient.id for member in activity.members_added)


def message_text(activity: Activity) -> str:
    """What the person wrote, without the `<at>Bot</at>` mention Teams puts in front of a
    message to the bot in a group chat or channel."""
    text = activity.text or ""
    if activity.recipient and activity.recipient.name:
        text = re.sub(rf"<at>\s*{re.escape(activity.recipient.name)}\s*</at>", "", text)
    return text


def clicked_payload(activity: Activity) -> str | None:
    """The payload of one of our buttons (a messageBack's value), if this is a click."""
    value = _value(activity)
    if isinstance(value, dict):
        payload = value.get(PAYLOAD_KEY)
        if isinstance(payload, str) and 0 < len(payload) <= MAX_PAYLOAD:
            return payload
    return None


def submitted_ticket(activity: Activity) -> dict[str, Any] | None:
    """The fields of the offline form (an Adaptive Card submit), if this is one."""
    value = _value(activity)
    if isinstance(value, dict) and value.get(ACTION_KEY) == TICKET_ACTION:
        return value
    return None


def _value(activity: Activity) -> Any:
    """A messageBack's value may arrive as an object or as a JSON string."""
    value = activity.value
    if isinstance(value, str) and value.startswith("{") and len(value) <= MAX_VALUE:
        try:
            return json.loads(value)
        except ValueError:
            return None
    return value


def _string(value: object, name: str) -> str:
    if not isinstance(value, str) or not value or len(value) > MAX_ID:
        raise BadActivity(f"{name} missing or malformed")
    return value


def _optional(value: object) -> str | None:
    if isinstance(value, str) and value and len(value) <= MAX_ID:
        return value
    return None


def _account(value: object) -> Account | None:
    if not isinstance(value, dict):
        return None
    account_id = _optional(value.get("id"))
    if account_id is None:
        return None
    name = _optional(value.get("name"))
    return Account(account_id, name[:MAX_NAME] if name else None)
