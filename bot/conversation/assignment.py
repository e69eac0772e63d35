"""Who holds a chat beyond claiming it: transfers between advisors, and automatic
assignment of waiting chats to the least busy available advisor.

Both respect each advisor's cap on concurrent chats. A transfer is one conditional
UPDATE on the current owner (only the advisor holding the chat can give it away), and
the receiving advisor's row is locked in the same transaction while their load is
counted, like a claim with a limit.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from bot import texts
from bot.conversation import events, store
from bot.conversation.context import AdvisorRef, CoreContext
from bot.conversation.errors import AlreadyClaimed, AtCapacity, DomainError, NotClaimable, NotFound, NotOwner
from bot.conversation.events import EventKind
from bot.conversation.models import Advisor, Conversation, Participant
from bot.conversation.notes import INTERNAL, NOTE, Notes
from bot.conversation.ownership import Ownership
from bot.conversation.presence import ONLINE_WINDOW
from bot.conversation.pubsub import CONSOLE
from bot.rules import assignment as rules_assignment
from bot.rules import queue as rules

log = logging.getLogger(__name__)


class TransferRefused(DomainError):
    code = "transfer_refused"
    status = 409


class Assignment:
    def __init__(self, ctx: CoreContext, ownership: Ownership, notes: Notes, default_limit: int) -> None:
        self.ctx = ctx
        self.ownership = ownership
        self.notes = notes
        self.default_limit = default_limit
        self._lock = asyncio.Lock()

    async def limit_for(self, advisor_id: int) -> int:
        async with self.ctx.sessions() as s:
            own = await s.scalar(select(Advisor.max_chats).where(Advisor.id == advisor_id))
        return rules_assignment.limit_of(own, self.default_limit)

    async def claim(self, conversation_id: str, advisor: AdvisorRef) -> None:
        """A manual claim (or take-over) within the advisor's cap."""
        await self.ownership.claim(conversation_id, advisor, limit=await self.limit_for(advisor.id))

    # ------------------------------------------------------------------ transfer

    async def transfer(self, conversation_id: str, sender: AdvisorRef, to_advisor_id: int, note: str | None) -> None:
        """Give a chat the sender holds to a colleague who is at the console, available
        and below their cap. The company is told who takes over; the note (and who handed
        over to whom) stays inside, as an internal note in the transcript."""
        if to_advisor_id == sender.id:
            raise TransferRefused(texts.TRANSFER_TO_SELF)
        now = self.ctx.now()
        async with self.ctx.sessions.begin() as s:
            target = await s.get(Advisor, to_advisor_id)
            if target is None or not target.active:
                raise TransferRefused(texts.TRANSFER_UNKNOWN_ADVISOR)
            await store.hold_advisor(s, target.id, now)
            online = target.last_seen_at is not None and target.last_seen_at >= now - ONLINE_WINDOW
            if not online or target.presence != "available":
                raise TransferRefused(texts.transfer_not_available(target.name))
            limit = rules_assignment.limit_of(target.max_chats, self.default_limit)
            if not rules_assignment.has_room(await store.advisor_load(s, target.id), limit):
                raise TransferRefused(texts.transfer_full(target.name, limit))
            moved = await store.updated(
                s,
                update(Conversation)
                .where(
                    Conversation.id == conversation_id,
                    Conversation.state == rules.ADVISOR,
                    Conversation.advisor_id == sender.id,
                )
                .values(advisor_id=target.id, claimed_at=now, updated_at=now),
            )
            if not moved:
                if await s.get(Conversation, conversation_id) is None:
                    raise NotFound()
                raise NotOwner()
            channel = str(await s.scalar(select(Conversation.channel).where(Conversation.id == conversation_id)))
            await store.updated(
                s,
                update(Participant)
                .where(
                    Participant.conversation_id == conversation_id,
                    Participant.advisor_id == sender.id,
                    Participant.left_at.is_(None),
                )
                .values(left_at=now, left_reason=EventKind.TRANSFERRED.value),
            )
            s.add(Participant(conversation_id=conversation_id, kind="advisor", advisor_id=target.id, joined_at=now))
            await events.record(
                s, conversation_id, EventKind.TRANSFERRED, now, channel=channel, advisor_id=sender.id,
                to_advisor_id=target.id,
            )
            handover = await store.add_message(
                s, conversation_id, NOTE, texts.transfer_note(sender.name, target.name, note), now,
                custom={**INTERNAL, "transfer": {"from": sender.id, "to": target.id}},
                author=sender.name, advisor_id=sender.id,
            )
            joined = await store.add_message(
                s, conversation_id, "system", texts.advisor_joined(target.name), now,
                custom={"notice": "advisor_joined", "advisor": target.name},
            )
            stored_note, stored_joined = store.message_json(handover), store.message_json(joined)
            target_name = target.name
        await self.notes.announce(conversation_id, stored_note)
        await self.ctx.announce.messages(conversation_id, channel, rules.ADVISOR, [stored_joined])
        await self.ctx.announce.status(conversation_id)
        await self.ctx.announce.conversation(conversation_id)
        await self.ctx.announce.hub.publish(
            CONSOLE,
            {
                "type": "transfer",
                "conversation_id": conversation_id,
                "from": {"id": sender.id, "name": sender.name},
                "to": {"id": to_advisor_id, "name": target_name},
                "note": note,
            },
        )
        await self.ctx.announce.queue("transferred", conversation_id)

    # ------------------------------------------------------------------ automatic assignment

    async def candidates(self, s: AsyncSession, now: dt.datetime) -> list[rules_assignment.Candidate]:
        rows = await s.execute(
            select(Advisor.id, Advisor.max_chats, Advisor.last_assigned_at).where(
                Advisor.active.is_(True),
                Advisor.presence == "available",
                Advisor.last_seen_at >= now - ONLINE_WINDOW,
            )
        )
        advisors = list(rows)
        loads = await store.advisor_loads(s, [int(a.id) for a in advisors])
        return [
            rules_assignment.Candidate(
                int(a.id), loads.get(int(a.id), 0),
                rules_assignment.limit_of(a.max_chats, self.default_limit), a.last_assigned_at,
            )
            for a in advisors
        ]

    async def assign_waiting(self) -> list[tuple[str, int]]:
        """Give waiting chats, first in line first, to the least busy available advisors
        until the queue is empty or every advisor is full. Returns (chat, advisor) pairs."""
        assigned: list[tuple[str, int]] = []
        async with self._lock:
            skipped: set[str] = set()
            while True:
                now = self.ctx.now()
                async with self.ctx.sessions() as s:
                    entries = await store.waiting_entries(s)
                    waiting = [e.conversation_id for e in entries if e.conversation_id not in skipped]
                    if not waiting:
                        return assigned
                    chosen = rules_assignment.least_busy(await self.candidates(s, now))
                    if chosen is None:
                        return assigned
                    names = await store.advisor_names(s, {chosen.advisor_id})
                    row = await s.scalar(select(Advisor.email).where(Advisor.id == chosen.advisor_id))
                advisor = AdvisorRef(chosen.advisor_id, names.get(chosen.advisor_id, ""), str(row or ""))
                try:
                    await self.ownership.claim(waiting[0], advisor, limit=chosen.limit)
                except AtCapacity:
                    continue  # someone gave them a chat meanwhile: choose again
                except (AlreadyClaimed, NotClaimable, NotFound):
                    skipped.add(waiting[0])
                    continue
                assigned.append((waiting[0], chosen.advisor_id))
                log.info("assigned %s to advisor %s", waiting[0], chosen.advisor_id)
