"""What the Slack channel reads from the conversation store (read-only look-ups)."""

from __future__ import annotations

from sqlalchemy import select

from bot.conversation.core import ConversationCore
from bot.conversation.models import Conversation, InboundReceipt

CHANNEL_NAME = "slack"
EVENT_SOURCE = "slack:event"  # InboundReceipt.source for Slack's envelope event_id


async def event_seen(core: ConversationCore, event_id: str) -> bool:
    """Whether this Events API event was taken in before (a retry, even after a restart).
    Only read here: the receipt is written after the message is stored
    (`Intake.first_time`), so an event cut off half-way is taken in again."""
    async with core.ctx.sessions() as s:
        return await s.get(InboundReceipt, (EVENT_SOURCE, event_id[:255])) is not None


async def conversation_id(core: ConversationCore, external_id: str) -> str | None:
    """Our conversation for a Slack DM or thread, if there is one."""
    async with core.ctx.sessions() as s:
        found = await s.scalar(
            select(Conversation.id).where(Conversation.channel == CHANNEL_NAME, Conversation.external_id == external_id)
        )
    return str(found) if found is not None else None
