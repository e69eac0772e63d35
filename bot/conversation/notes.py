"""Internal notes: what advisors write in a chat's transcript for each other.

A note is a message with role "note" and `custom = {"internal": true}`. It takes its
place in the transcript (its own sequence number) but no channel ever delivers it: the
outbox's `deliverable()`, the REST endpoint's `take_unread` and the widget's reader
(`ConversationCore.messages_after`) all leave it out, and it never reaches Rasa. Only
the consoles hear of it.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.exc import IntegrityError

from bot.conversation import store
from bot.conversation.context import AdvisorRef, CoreContext
from bot.conversation.errors import NotFound
from bot.conversation.models import Conversation
from bot.conversation.pubsub import CONSOLE

NOTE = "note"
INTERNAL = {"internal": True}


class Notes:
    def __init__(self, ctx: CoreContext) -> None:
        self.ctx = ctx

    async def add(
        self, conversation_id: str, advisor: AdvisorRef, client_id: str, text: str
    ) -> tuple[dict[str, Any], bool]:
        """Store a note (once per client_id). Returns (message, created)."""
        now = self.ctx.now()
        try:
            async with self.ctx.sessions.begin() as s:
                if await s.get(Conversation, conversation_id) is None:
                    raise NotFound()
                existing = await store.by_client_id(s, conversation_id, client_id)
                if existing is not None:
                    return store.message_json(existing), False
                message = await store.add_message(
                    s, conversation_id, NOTE, text, now,
                    custom=dict(INTERNAL), author=advisor.name, advisor_id=advisor.id, client_id=client_id,
                )
                stored = store.message_json(message)
        except IntegrityError:
            async with self.ctx.sessions() as s:
                existing = await store.by_client_id(s, conversation_id, client_id)
            if existing is None:
                raise
            return store.message_json(existing), False
        await self.announce(conversation_id, stored)
        return stored, True

    async def announce(self, conversation_id: str, message: dict[str, Any]) -> None:
        """Consoles only: the company's screens and the channels are not even nudged."""
        await self.ctx.announce.hub.publish(
            CONSOLE, {"type": "message", "conversation_id": conversation_id, "message": message}
        )
