"""What an advisor writes in a chat they own: replies, and the typing indicator."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sqlalchemy.exc import IntegrityError

from bot.conversation import store
from bot.conversation.context import AdvisorRef, CoreContext
from bot.conversation.errors import NotFound, NotOwner
from bot.conversation.models import Conversation
from bot.rules import queue as rules


class AdvisorReplies:
    def __init__(self, ctx: CoreContext, kick: Callable[[str], object]) -> None:
        self.ctx = ctx
        self.kick = kick  # the Rasa worker records the reply in the paused tracker

    async def send(
        self, conversation_id: str, advisor: AdvisorRef, client_id: str, text: str
    ) -> tuple[dict[str, Any], bool]:
        """Store an advisor's reply (once per client_id). Returns (message, created)."""
        now = self.ctx.now()
        try:
            async with self.ctx.sessions.begin() as s:
                conv = await s.get(Conversation, conversation_id)
                if conv is None:
                    raise NotFound()
                existing = await store.by_client_id(s, conversation_id, client_id)
                if existing is not None:
                    return store.message_json(existing), False
                if conv.state != rules.ADVISOR or conv.advisor_id != advisor.id:
                    raise NotOwner()
                message = await store.add_message(
                    s,
                    conversation_id,
                    "advisor",
                    text,
                    now,
                    author=advisor.name,
                    advisor_id=advisor.id,
                    client_id=client_id,
                    rasa_status="pending",
                )
                conv.updated_at = now
                channel = conv.channel
                stored = store.message_json(message)
        except IntegrityError:
            async with self.ctx.sessions() as s:
                existing = await store.by_client_id(s, conversation_id, client_id)
            if existing is None:
                raise
            return store.message_json(existing), False
        await self.ctx.announce.typing(conversation_id, "advisor", advisor.name, False)
        await self.ctx.announce.messages(conversation_id, channel, rules.ADVISOR, [stored])
        self.kick(conversation_id)
        return stored, True

    async def typing(self, conversation_id: str, advisor: AdvisorRef, typing: bool) -> None:
        async with self.ctx.sessions() as s:
            conv = await s.get(Conversation, conversation_id)
        if conv is None or conv.state != rules.ADVISOR or conv.advisor_id != advisor.id:
            return
        await self.ctx.announce.typing(conversation_id, "advisor", advisor.name, typing)
