"""Live nudges after a change is stored: to the company's open screens, to the consoles,
and to the outbox relay of the conversation's channel.

Nudges carry no data that matters: each reader fetches what changed from the database,
so a lost nudge only delays a screen until the next one (or a reconnect, or the relay's
poll).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.conversation import store
from bot.conversation.pubsub import CONSOLE, Hub, conversation_channel, outbox_channel
from bot.rules import queue as rules


class Announcer:
    def __init__(self, sessions: async_sessionmaker[AsyncSession], hub: Hub) -> None:
        self.sessions = sessions
        self.hub = hub

    async def messages(
        self, conversation_id: str, channel: str, state: str, messages: list[dict[str, Any]]
    ) -> None:
        """New stored messages: the company's screens fetch them, the channel delivers them,
        and the consoles see them when an advisor is (or may soon be) involved."""
        if not messages:
            return
        await self.hub.publish(conversation_channel(conversation_id), {"type": "messages"})
        await self.hub.publish(outbox_channel(channel), {"type": "pending", "conversation_id": conversation_id})
        if state in (rules.QUEUED, rules.ADVISOR, rules.CLOSED) or any(m["role"] == "system" for m in messages):
            for message in messages:
                await self.hub.publish(
                    CONSOLE, {"type": "message", "conversation_id": conversation_id, "message": message}
                )

    async def typing(self, conversation_id: str, role: str, author: str | None, typing: bool) -> None:
        await self.hub.publish(
            conversation_channel(conversation_id),
            {"type": "typing", "role": role, "author": author, "typing": typing},
        )

    async def company_typing(self, conversation_id: str, typing: bool) -> None:
        await self.hub.publish(
            CONSOLE, {"type": "typing", "conversation_id": conversation_id, "role": "user", "typing": typing}
        )

    async def status(self, conversation_id: str) -> None:
        await self.hub.publish(conversation_channel(conversation_id), {"type": "status"})

    async def conversation(self, conversation_id: str) -> None:
        await self.hub.publish(CONSOLE, {"type": "conversation", "conversation_id": conversation_id})

    async def queue(self, event: str, conversation_id: str | None) -> None:
        """Tell the consoles, and every waiting company (their position may have moved)."""
        await self.hub.publish(CONSOLE, {"type": "queue", "event": event, "conversation_id": conversation_id})
        async with self.sessions() as s:
            waiting = [e.conversation_id for e in await store.waiting_entries(s)]
        for waiting_id in {*waiting, *([conversation_id] if conversation_id else [])}:
            await self.status(waiting_id)

    async def tickets(self, event: str, ticket: dict[str, Any], open_tickets: int) -> None:
        await self.hub.publish(
            CONSOLE, {"type": "tickets", "event": event, "ticket": ticket, "open_tickets": open_tickets}
        )
