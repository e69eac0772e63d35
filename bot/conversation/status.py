"""A conversation's ownership status as the company sees it (protocol section 2)."""

from __future__ import annotations

from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from bot.conversation import store
from bot.conversation.context import CoreContext
from bot.conversation.errors import NotFound
from bot.conversation.models import Conversation
from bot.conversation.presence import ONLINE_WINDOW
from bot.rules import hours as opening
from bot.rules import queue as rules


class CompanyStatus:
    def __init__(self, ctx: CoreContext) -> None:
        self.ctx = ctx

    async def of(self, conversation_id: str) -> dict[str, Any]:
        async with self.ctx.sessions() as s:
            conv = await s.get(Conversation, conversation_id)
            if conv is None:
                raise NotFound()
            return await self.in_session(s, conv)

    async def in_session(self, s: AsyncSession, conv: Conversation) -> dict[str, Any]:
        now = self.ctx.now()
        if conv.state == rules.QUEUED:
            return {"state": rules.QUEUED, **await self.queue_place(s, conv.id)}
        if conv.state == rules.ADVISOR:
            names = await store.advisor_names(s, {conv.advisor_id} if conv.advisor_id else set())
            return {"state": rules.ADVISOR, "advisor": {"name": names.get(conv.advisor_id or 0, "Rådgivare")}}
        if conv.state == rules.OFFLINE:
            opens = opening.next_opening(self.ctx.config.hours, now)
            return {
                "state": rules.OFFLINE,
                "opens_at": opens.isoformat() if opens else None,
                "opens_text": opening.format_moment_sv(opens, now) if opens else None,
                "question": conv.question,  # the ticket form starts with it
            }
        if conv.state == rules.CLOSED:
            return {"state": rules.CLOSED, "outcome": conv.outcome}
        return {"state": rules.BOT}

    async def queue_place(self, s: AsyncSession, conversation_id: str) -> dict[str, Any]:
        """Position in the queue and the expected wait."""
        waiting = await store.waiting_entries(s)
        ids = [e.conversation_id for e in waiting]
        position = ids.index(conversation_id) + 1 if conversation_id in ids else len(ids) + 1
        online = set(await store.advisors_online(s, self.ctx.now() - ONLINE_WINDOW, available_only=True))
        free = len(online - await store.busy_advisors(s))
        minutes = rules.expected_wait_minutes(position, len(online), free, self.ctx.config.queue_minutes_per_chat)
        return {
            "position": position,
            "expected_wait_minutes": minutes,
            "expected_wait_text": rules.wait_text_sv(minutes),
        }
