"""The conversation core, assembled: one object that holds its parts.

Channels and the console call the parts directly (`core.intake.submit(...)`,
`core.ownership.claim(...)`); nothing here knows which channels exist. Push channels
register their delivery side with `core.outbox` before `start`.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.conversation import store
from bot.conversation.advisor_replies import AdvisorReplies
from bot.conversation.context import CoreConfig, CoreContext
from bot.conversation.intake import Intake
from bot.conversation.live import Announcer
from bot.conversation.models import utcnow
from bot.conversation.notes import Notes
from bot.conversation.outbox import Outbox
from bot.conversation.ownership import Ownership
from bot.conversation.presence import Presence
from bot.conversation.pubsub import Hub
from bot.conversation.question import Questions
from bot.conversation.rasa_client import RasaClient
from bot.conversation.rasa_target import RasaTarget
from bot.conversation.rasa_worker import RasaWorker
from bot.conversation.status import CompanyStatus


@dataclass(frozen=True)
class ConversationCore:
    ctx: CoreContext
    intake: Intake
    ownership: Ownership
    replies: AdvisorReplies
    rasa: RasaWorker
    presence: Presence
    status: CompanyStatus
    outbox: Outbox
    rasa_target: RasaTarget
    notes: Notes
    questions: Questions

    async def messages_after(self, conversation_id: str, seq: int) -> list[dict[str, Any]]:
        """What the company's own screen shows after `seq`: never an internal note."""
        async with self.ctx.sessions() as s:
            messages = await store.messages_after(s, conversation_id, seq)
        return [store.message_json(m) for m in messages if not store.is_internal(m)]

    async def start(self) -> None:
        await self.rasa_target.start()
        await self.outbox.start()

    async def stop(self) -> None:
        await self.outbox.stop()
        await self.rasa.stop()
        await self.rasa_target.stop()


def build_core(
    sessions: async_sessionmaker[AsyncSession],
    hub: Hub,
    rasa: RasaClient,
    config: CoreConfig,
    clock: Callable[[], dt.datetime] = utcnow,
    *,
    outbox_poll_interval: float = 2.0,
) -> ConversationCore:
    ctx = CoreContext(sessions, Announcer(sessions, hub), config, clock)
    worker = RasaWorker(ctx, rasa)
    presence = Presence(ctx)
    status = CompanyStatus(ctx)
    ownership = Ownership(ctx, worker, presence, status)
    worker.hand_off = ownership.hand_off
    worker.reopen = ownership.reopen
    questions = Questions(ctx, rasa)
    ownership.after_handoff.append(questions.remember)
    return ConversationCore(
        ctx=ctx,
        intake=Intake(ctx, worker.kick, worker),
        ownership=ownership,
        replies=AdvisorReplies(ctx, worker.kick),
        rasa=worker,
        presence=presence,
        status=status,
        outbox=Outbox(ctx, hub, poll_interval=outbox_poll_interval),
        rasa_target=RasaTarget(sessions, rasa),
        notes=Notes(ctx),
        questions=questions,
    )
