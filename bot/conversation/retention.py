"""The daily purge: what is older than its retention period is deleted everywhere.

Chats (with everything hanging off them) by their last activity, tickets by when they
were left, Rasa's tracker events by their own time, audit entries quoting content by
theirs, and the receipts of platform events past the chat period. Runs as a background
duty in the gateway (every hour it checks whether a day has passed since the last purge,
which is kept in `sync_cursors`, so a restart neither skips nor repeats a day). The log
line says how many rows went, never what they held.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable, Sequence

from sqlalchemy import delete, func, select
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from bot.conversation import store, tracker_store
from bot.conversation.copies import CompanyWordsCopy
from bot.conversation.models import Conversation, InboundReceipt, Message, SyncCursor, Ticket
from bot.rules import queue as queue_rules
from bot.rules import retention as rules
from core.audit import AuditEntry

log = logging.getLogger(__name__)
Clock = Callable[[], dt.datetime]

CURSOR = "retention_purge"  # position: the last purge, in seconds since the epoch
LIVE_STATES = (queue_rules.QUEUED, queue_rules.ADVISOR)


class Retention:
    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        tracker: AsyncEngine,
        periods: rules.Periods,
        clock: Clock,
        copies: Sequence[CompanyWordsCopy] = (),
    ) -> None:
        self.copies = copies  # copies of company words kept elsewhere expire with the transcripts
        self.sessions = sessions
        self.tracker = tracker
        self.periods = periods
        self.clock = clock

    async def run_if_due(self) -> dict[str, int] | None:
        now = self.clock()
        async with self.sessions() as s:
            cursor = await s.get(SyncCursor, CURSOR)
        last = dt.datetime.fromtimestamp(cursor.position, dt.timezone.utc) if cursor and cursor.position else None
        if not rules.purge_due(last, now):
            return None
        return await self.purge()

    async def purge(self) -> dict[str, int]:
        now = self.clock()
        cut = rules.cutoffs(self.periods, now)
        counts: dict[str, int] = {}
        async with self.sessions.begin() as s:
            old = select(Conversation.id).where(
                Conversation.updated_at < cut.transcripts, Conversation.state.not_in(LIVE_STATES)
            )
            counts["messages"] = int(
                await s.scalar(select(func.count()).select_from(Message).where(Message.conversation_id.in_(old))) or 0
            )
            counts["tickets"] = await store.updated(s, delete(Ticket).where(Ticket.created_at < cut.tickets))
            counts["conversations"] = await store.updated(s, delete(Conversation).where(Conversation.id.in_(old)))
            counts["inbound_receipts"] = await store.updated(
                s, delete(InboundReceipt).where(InboundReceipt.received_at < cut.transcripts)
            )
            counts["audit_entries"] = await store.updated(
                s,
                delete(AuditEntry).where(
                    AuditEntry.entity.in_(rules.AUDIT_CONTENT_ENTITIES), AuditEntry.at < cut.audit_content
                ),
            )
            for copy in self.copies:
                counts[copy.name] = await copy.forget_before(s, cut.transcripts)
            cursor = await s.get(SyncCursor, CURSOR)
            stamp = int(now.timestamp())
            if cursor is None:
                s.add(SyncCursor(name=CURSOR, position=stamp))
            else:
                cursor.position = stamp
        counts["tracker_events"] = await tracker_store.delete_before(self.tracker, cut.tracker)
        log.info("retention purge: %s", ", ".join(f"{name} {n}" for name, n in counts.items()))
        return counts

