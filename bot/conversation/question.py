"""Finding the company's question in a conversation, with the NLU's help.

The question is the company's latest typed message that the NLU takes for a situation
the directory has a topic for (`bot.rules.question`). It is looked for right after a
hand-off (in the background, so the hand-off itself is not slowed) and remembered on the
conversation: the queue shows it, and the offline ticket form starts with it. When Rasa
cannot be asked, the company's last typed message stands in for it.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select, update

from bot.conversation import store
from bot.conversation.context import CoreContext
from bot.conversation.models import Conversation, Message
from bot.conversation.pubsub import CONSOLE
from bot.conversation.rasa_client import RasaClient, RasaUnavailable
from bot.rules.question import names_a_situation
from directory.models import Topic

log = logging.getLogger(__name__)

# How many of the company's latest typed messages are looked through, newest first.
LOOK_BACK = 6


@dataclass(frozen=True)
class Found:
    seq: int
    text: str
    parse: dict[str, Any]


class Questions:
    def __init__(self, ctx: CoreContext, rasa: RasaClient) -> None:
        self.ctx = ctx
        self.rasa = rasa

    async def typed(self, conversation_id: str, limit: int = LOOK_BACK) -> list[tuple[int, str]]:
        """The company's latest typed messages, newest first: (seq, text)."""
        async with self.ctx.sessions() as s:
            rows = await s.execute(
                select(Message.seq, Message.text)
                .where(Message.conversation_id == conversation_id, store.typed_by_company())
                .order_by(Message.seq.desc())
                .limit(limit)
            )
            return [(int(r.seq), str(r.text)) for r in rows]

    async def topic_ids(self) -> set[str]:
        async with self.ctx.sessions() as s:
            return set(await s.scalars(select(Topic.id)))

    async def find(self, conversation_id: str) -> Found | None:
        """The newest typed message that names a situation. Raises RasaUnavailable."""
        candidates = await self.typed(conversation_id)
        if not candidates:
            return None
        topics = await self.topic_ids()
        for seq, text in candidates:
            parse = await self.rasa.parse(text)
            if names_a_situation(parse, topics):
                return Found(seq, text, parse)
        return None

    async def remember(self, conversation_id: str) -> None:
        """Store the conversation's question and tell the screens that show it."""
        try:
            found = await self.find(conversation_id)
            question = found.text if found else None
        except RasaUnavailable as exc:
            log.info("question of %s: NLU unavailable (%s); using the last typed message", conversation_id, exc)
            typed = await self.typed(conversation_id, limit=1)
            question = typed[0][1] if typed else None
        if question is None:
            return
        async with self.ctx.sessions.begin() as s:
            changed = await store.updated(
                s,
                update(Conversation)
                .where(Conversation.id == conversation_id)
                .values(question=question[:2000]),
            )
        if changed:
            hub = self.ctx.announce.hub
            await hub.publish(CONSOLE, {"type": "queue", "event": "updated", "conversation_id": conversation_id})
            await self.ctx.announce.conversation(conversation_id)
            await self.ctx.announce.status(conversation_id)
