"""Who owns a conversation: the bot, the queue, an advisor, or nobody (closed).

Ownership follows the state machine in `bot.rules.queue` (bot → queued → advisor →
bot/closed, offline outside opening hours). Every change is one conditional UPDATE on the
current state, so concurrent requests and replicas agree (two advisors claiming: exactly
one wins), and it writes its event (`events.EventKind`) and its notice to the company in
the same transaction.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable, Collection, Coroutine
from typing import Any, Protocol

from sqlalchemy import ColumnElement, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from bot import texts
from bot.conversation import csat, events, store
from bot.conversation.context import AdvisorRef, CoreContext
from bot.conversation.errors import (
    AlreadyClaimed,
    AtCapacity,
    InvalidOutcome,
    NotClaimable,
    NotFound,
    NotOwner,
)
from bot.conversation.events import EventKind
from bot.conversation.models import Conversation, Message, Participant, QueueEntry
from bot.conversation.presence import Presence
from bot.conversation.status import CompanyStatus
from bot.rules import hours as opening
from bot.rules import queue as rules
from bot.rules.personal_numbers import mask_optional

log = logging.getLogger(__name__)


class RasaControl(Protocol):
    """What ownership changes need from the Rasa worker."""

    async def set_paused(self, conversation_id: str, paused: bool) -> None: ...

    async def sync_then_resume(self, conversation_id: str) -> None: ...

    def spawn(self, coro: Coroutine[Any, Any, None]) -> None: ...


class Ownership:
    def __init__(self, ctx: CoreContext, rasa: RasaControl, presence: Presence, status: CompanyStatus) -> None:
        self.ctx = ctx
        self.rasa = rasa
        self.presence = presence
        self.status = status
        # Run in the background after each hand-off (finding the company's question).
        self.after_handoff: list[Callable[[str], Coroutine[Any, Any, None]]] = []

    # ------------------------------------------------------------------ towards a person

    async def hand_off(
        self, conversation_id: str, reason: str, summary: dict[str, Any] | None, bot_paused: bool
    ) -> None:
        """Queue the conversation for an advisor, or offer a ticket outside opening hours."""
        now = self.ctx.now()
        is_open = opening.is_open(self.ctx.config.hours, now)
        target = rules.QUEUED if is_open else rules.OFFLINE
        async with self.ctx.sessions.begin() as s:
            conv = await s.get(Conversation, conversation_id)
            if conv is None:
                return
            channel = conv.channel
            if conv.state not in rules.sources_for(target):
                repeat_offline = conv.state == rules.OFFLINE == target and bot_paused
                if repeat_offline:  # asked again while the form is shown: keep the bot on
                    self.rasa.spawn(self.rasa.set_paused(conversation_id, False))
                return
            if summary is None:
                summary = rules.build_summary(await store.user_texts(s, conversation_id), conv.summary)
            paused = conv.rasa_paused or bot_paused
            changed = await store.updated(
                s,
                update(Conversation)
                .where(Conversation.id == conversation_id, Conversation.state == conv.state)
                .values(state=target, handoff_reason=reason, summary=summary, rasa_paused=paused, updated_at=now),
            )
            if not changed:
                return
            await events.record(s, conversation_id, EventKind.HANDOFF, now, channel=channel, reason=reason)
            if is_open:
                s.add(QueueEntry(conversation_id=conversation_id, status="waiting", reason=reason, enqueued_at=now))
                await s.flush()
                place = await self.status.queue_place(s, conversation_id)
                await events.record(
                    s, conversation_id, EventKind.QUEUED, now, channel=channel, reason=reason,
                    position=place["position"],
                )
                message = await store.add_message(
                    s, conversation_id, "system", texts.QUEUED, now, custom={"notice": "queued", **place}
                )
            else:
                opens = opening.next_opening(self.ctx.config.hours, now)
                await events.record(s, conversation_id, EventKind.OFFLINE, now, channel=channel, reason=reason)
                text = texts.offline(
                    opening.describe_hours_sv(self.ctx.config.hours),
                    opening.format_moment_sv(opens, now) if opens else None,
                )
                message = await store.add_message(s, conversation_id, "system", text, now, custom={"notice": "offline"})
            stored = store.message_json(message)
        await self.ctx.announce.messages(conversation_id, channel, target, [stored])
        for follow_up in self.after_handoff:
            self.rasa.spawn(follow_up(conversation_id))
        if is_open:
            await self.ctx.announce.conversation(conversation_id)
            await self.ctx.announce.queue("enqueued", conversation_id)
            if not paused:
                await self.rasa.set_paused(conversation_id, True)
        else:
            await self.ctx.announce.status(conversation_id)
            if paused:  # the bot keeps answering while the company fills in the form
                await self.rasa.set_paused(conversation_id, False)

    async def cancel_handoff(self, conversation_id: str, *, abandoned_since: dt.datetime | None = None) -> None:
        """The company leaves the queue, or declines the offline ticket form. With
        `abandoned_since` the gateway takes a queued chat out because its company is gone
        (logged as `abandoned`, only if it is still queued and unseen since then)."""
        now = self.ctx.now()
        async with self.ctx.sessions.begin() as s:
            conv = await s.get(Conversation, conversation_id)
            if conv is None:
                raise NotFound()
            previous, channel = conv.state, conv.channel
            if previous not in rules.CANCELLABLE or (abandoned_since is not None and previous != rules.QUEUED):
                return
            condition = (Conversation.id == conversation_id) & (Conversation.state == previous)
            if abandoned_since is not None:
                condition = condition & _company_gone_since(abandoned_since)
            changed = await store.updated(
                s, update(Conversation).where(condition).values(state=rules.BOT, updated_at=now)
            )
            if not changed:
                return
            if previous == rules.QUEUED:
                await _end_waiting(s, conversation_id, "abandoned" if abandoned_since else "cancelled", now)
            if abandoned_since is not None:
                seen = conv.company_seen_at.isoformat() if conv.company_seen_at else None
                await events.record(s, conversation_id, EventKind.ABANDONED, now, channel=channel, seen_at=seen)
            else:
                await events.record(s, conversation_id, EventKind.CANCELLED, now, channel=channel, from_state=previous)
            if abandoned_since is not None:
                text, notice = texts.ABANDONED_QUEUE, "abandoned_queue"
            elif previous == rules.QUEUED:
                text, notice = texts.LEFT_QUEUE, "left_queue"
            else:
                text, notice = texts.DECLINED_TICKET, "declined_ticket"
            message = await store.add_message(s, conversation_id, "system", text, now, custom={"notice": notice})
            stored = store.message_json(message)
        await self.ctx.announce.messages(conversation_id, channel, rules.BOT, [stored])
        await self.ctx.announce.status(conversation_id)
        if previous == rules.QUEUED:
            await self.ctx.announce.queue("left", conversation_id)
            await self.rasa.set_paused(conversation_id, False)

    async def reopen(self, conversation_id: str) -> None:
        """A company writes in a closed chat: the bot answers again."""
        now = self.ctx.now()
        async with self.ctx.sessions.begin() as s:
            channel = await s.scalar(select(Conversation.channel).where(Conversation.id == conversation_id))
            changed = await store.updated(
                s,
                update(Conversation)
                .where(Conversation.id == conversation_id, Conversation.state == rules.CLOSED)
                .values(state=rules.BOT, updated_at=now, handoff_reason=None),
            )
            if changed:
                await events.record(s, conversation_id, EventKind.REOPENED, now, channel=str(channel))
        if changed:
            await self.ctx.announce.status(conversation_id)

    # ------------------------------------------------------------------ the advisor side

    async def claim(self, conversation_id: str, advisor: AdvisorRef, limit: int | None = None) -> None:
        """Take a queued chat (or take over a bot chat). Exactly one concurrent claim wins.
        With a `limit`, an advisor who already holds that many chats is refused."""
        now = self.ctx.now()
        async with self.ctx.sessions.begin() as s:
            if limit is not None:
                await store.hold_advisor(s, advisor.id, now)  # serialises this advisor's claims
                if await store.advisor_load(s, advisor.id) >= limit and not await store.owns(
                    s, conversation_id, advisor.id
                ):
                    raise AtCapacity(limit)
            before = await s.scalar(select(Conversation.state).where(Conversation.id == conversation_id))
            won = await store.updated(
                s,
                update(Conversation)
                .where(Conversation.id == conversation_id, Conversation.state.in_(rules.CLAIMABLE))
                .values(state=rules.ADVISOR, advisor_id=advisor.id, claimed_at=now, updated_at=now),
            )
            if not won:
                conv = await s.get(Conversation, conversation_id)
                if conv is None:
                    raise NotFound()
                if conv.state == rules.ADVISOR and conv.advisor_id == advisor.id:
                    return  # a repeated click by the winner
                if conv.state == rules.ADVISOR:
                    names = await store.advisor_names(s, {conv.advisor_id or 0})
                    raise AlreadyClaimed(names.get(conv.advisor_id or 0))
                raise NotClaimable()
            entry = await store.current_entry(s, conversation_id, "waiting")
            if entry is not None:
                entry.status = "claimed"
                entry.claimed_by = advisor.id
                entry.claimed_at = now
            conv = await s.get(Conversation, conversation_id)
            assert conv is not None
            channel = conv.channel
            if conv.summary is None:
                conv.summary = rules.build_summary(await store.user_texts(s, conversation_id))
            was_paused = conv.rasa_paused
            s.add(Participant(conversation_id=conversation_id, kind="advisor", advisor_id=advisor.id, joined_at=now))
            await events.record(
                s, conversation_id, EventKind.CLAIMED, now, channel=channel, advisor_id=advisor.id,
                from_state=str(before),
            )
            message = await store.add_message(
                s, conversation_id, "system", texts.advisor_joined(advisor.name), now,
                custom={"notice": "advisor_joined", "advisor": advisor.name},
            )
            stored = store.message_json(message)
        await self.presence.touch(advisor.id, force=True)
        await self.ctx.announce.messages(conversation_id, channel, rules.ADVISOR, [stored])
        await self.ctx.announce.status(conversation_id)
        await self.ctx.announce.conversation(conversation_id)
        await self.ctx.announce.queue("claimed", conversation_id)
        if not was_paused:
            await self.rasa.set_paused(conversation_id, True)

    async def hand_back(self, conversation_id: str, advisor: AdvisorRef) -> None:
        """The advisor gives the chat back to the bot, which continues with the context."""
        await self._leave(conversation_id, advisor, rules.BOT, EventKind.HANDED_BACK, texts.HANDED_BACK)
        await self.rasa.sync_then_resume(conversation_id)

    async def close(self, conversation_id: str, advisor: AdvisorRef, outcome: str, note: str | None) -> None:
        if outcome not in rules.OUTCOMES:
            raise InvalidOutcome()
        await self._leave(
            conversation_id, advisor, rules.CLOSED, EventKind.CLOSED, texts.CLOSED, outcome=outcome, note=note
        )
        # Resume the bot in the background, so a later message from the company reaches it.
        self.rasa.spawn(self.rasa.sync_then_resume(conversation_id))

    async def release(self, conversation_id: str, advisor: AdvisorRef) -> None:
        """The advisor puts the chat back in the queue, first in line."""
        await self._return_to_queue(conversation_id, advisor.id, EventKind.RELEASED, texts.ADVISOR_RELEASED)

    async def sweep_stale_advisors(self) -> list[str]:
        """Return the chats of advisors silent for longer than the timeout to the queue."""
        cutoff = self.ctx.now() - dt.timedelta(seconds=self.ctx.config.advisor_timeout_seconds)
        async with self.ctx.sessions() as s:
            chats = await store.stale_advisor_chats(s, cutoff)
        returned = []
        for conversation_id, advisor_id in chats:
            if await self._return_to_queue(conversation_id, advisor_id, EventKind.ADVISOR_LOST, texts.ADVISOR_LOST):
                returned.append(conversation_id)
        return returned

    async def sweep_abandoned(self, abandon_seconds: int, skip_channels: Collection[str] = ()) -> list[str]:
        """Take queued chats whose company has been gone for `abandon_seconds` (no open
        widget socket refreshing it, no message) out of the queue, so that a real company
        does not wait behind them. Chats in `skip_channels` stay: there (Slack, Teams) the
        reply is pushed to the person, who need not be present to get it."""
        cutoff = self.ctx.now() - dt.timedelta(seconds=abandon_seconds)
        async with self.ctx.sessions() as s:
            ids = list(
                await s.scalars(
                    select(Conversation.id).where(
                        Conversation.state == rules.QUEUED,
                        Conversation.channel.not_in(list(skip_channels)),
                        _company_gone_since(cutoff),
                    )
                )
            )
        left = []
        for conversation_id in ids:
            await self.cancel_handoff(conversation_id, abandoned_since=cutoff)
            async with self.ctx.sessions() as s:
                if await s.scalar(select(Conversation.state).where(Conversation.id == conversation_id)) == rules.BOT:
                    left.append(conversation_id)
        if left:
            log.info("%d queued chat(s) without their company left the queue", len(left))
        return left

    # ------------------------------------------------------------------ shared steps

    async def _leave(
        self,
        conversation_id: str,
        advisor: AdvisorRef,
        target: str,
        kind: EventKind,
        text: str,
        outcome: str | None = None,
        note: str | None = None,
    ) -> None:
        now = self.ctx.now()
        values: dict[str, Any] = {"state": target, "advisor_id": None, "updated_at": now}
        if target == rules.CLOSED:
            values.update(outcome=outcome, outcome_note=mask_optional(note), closed_at=now, closed_by=advisor.id)
        else:
            values.update(handoff_reason=None)
        async with self.ctx.sessions.begin() as s:
            changed = await store.updated(
                s,
                update(Conversation)
                .where(
                    Conversation.id == conversation_id,
                    Conversation.state == rules.ADVISOR,
                    Conversation.advisor_id == advisor.id,
                )
                .values(**values),
            )
            if not changed:
                if await s.get(Conversation, conversation_id) is None:
                    raise NotFound()
                raise NotOwner()
            channel = str(await s.scalar(select(Conversation.channel).where(Conversation.id == conversation_id)))
            await _end_participation(s, conversation_id, advisor.id, kind.value, now)
            await _end_claimed(s, conversation_id, now)
            data = {"outcome": outcome} if outcome else {}
            await events.record(s, conversation_id, kind, now, channel=channel, advisor_id=advisor.id, **data)
            message = await store.add_message(s, conversation_id, "system", text, now, custom={"notice": kind.value})
            stored = [store.message_json(message)]
            if target == rules.CLOSED:
                question = await csat.ask(s, conversation_id, channel, advisor.id, now)
                if question is not None:
                    stored.append(store.message_json(question))
        await self.presence.touch(advisor.id)
        await self.ctx.announce.messages(conversation_id, channel, target, stored)
        await self.ctx.announce.status(conversation_id)
        await self.ctx.announce.conversation(conversation_id)
        await self.ctx.announce.queue(kind.value, conversation_id)

    async def _return_to_queue(self, conversation_id: str, advisor_id: int, kind: EventKind, text: str) -> bool:
        now = self.ctx.now()
        async with self.ctx.sessions.begin() as s:
            changed = await store.updated(
                s,
                update(Conversation)
                .where(
                    Conversation.id == conversation_id,
                    Conversation.state == rules.ADVISOR,
                    Conversation.advisor_id == advisor_id,
                )
                .values(state=rules.QUEUED, advisor_id=None, updated_at=now),
            )
            if not changed:
                if kind == EventKind.RELEASED:
                    if await s.get(Conversation, conversation_id) is None:
                        raise NotFound()
                    raise NotOwner()
                return False
            conv = await s.get(Conversation, conversation_id)
            assert conv is not None
            channel = conv.channel
            # The same queue entry waits again: it keeps its place (first come, first served).
            entry = await store.current_entry(s, conversation_id, "claimed")
            if entry is None:
                entry = QueueEntry(
                    conversation_id=conversation_id, reason=conv.handoff_reason or "request_human", enqueued_at=now
                )
                s.add(entry)
            entry.status = "waiting"
            entry.returned = True
            entry.claimed_by = None
            entry.claimed_at = None
            await _end_participation(s, conversation_id, advisor_id, kind.value, now)
            await events.record(s, conversation_id, kind, now, channel=channel, advisor_id=advisor_id)
            message = await store.add_message(s, conversation_id, "system", text, now, custom={"notice": kind.value})
            stored = store.message_json(message)
        await self.ctx.announce.messages(conversation_id, channel, rules.QUEUED, [stored])
        await self.ctx.announce.conversation(conversation_id)
        await self.ctx.announce.queue("returned", conversation_id)
        return True


def _company_gone_since(cutoff: dt.datetime) -> ColumnElement[bool]:
    """The company has not been there since `cutoff`: no open widget socket refreshed
    `company_seen_at` and it wrote nothing (read from its messages, so that storing a
    message costs no extra write)."""
    wrote = (
        select(Message.id)
        .where(Message.conversation_id == Conversation.id, Message.role == "user", Message.created_at > cutoff)
        .exists()
    )
    return (func.coalesce(Conversation.company_seen_at, Conversation.created_at) <= cutoff) & ~wrote


async def _end_waiting(s: AsyncSession, conversation_id: str, status: str, now: dt.datetime) -> None:
    await store.updated(
        s,
        update(QueueEntry)
        .where(QueueEntry.conversation_id == conversation_id, QueueEntry.status == "waiting")
        .values(status=status, ended_at=now),
    )


async def _end_claimed(s: AsyncSession, conversation_id: str, now: dt.datetime) -> None:
    await store.updated(
        s,
        update(QueueEntry)
        .where(
            QueueEntry.conversation_id == conversation_id,
            QueueEntry.status == "claimed",
            QueueEntry.ended_at.is_(None),
        )
        .values(ended_at=now, status="done"),
    )


async def _end_participation(
    s: AsyncSession, conversation_id: str, advisor_id: int, reason: str, now: dt.datetime
) -> None:
    await store.updated(
        s,
        update(Participant)
        .where(
            Participant.conversation_id == conversation_id,
            Participant.advisor_id == advisor_id,
            Participant.left_at.is_(None),
        )
        .values(left_at=now, left_reason=reason),
    )
