"""The conversation service: one place that decides who owns a conversation.

Every channel (widget, REST, console) goes through it. Ownership follows the state
machine in `bot.rules.queue` (bot → queued → advisor → bot/closed, offline outside
opening hours); every change is a conditional UPDATE on the current state, so that
concurrent requests and replicas agree (two advisors claiming: exactly one wins).

Company and advisor messages are stored first (the source of truth, numbered by a
per-conversation `seq`), then delivered to Rasa in order by a per-conversation worker
(`rasa_status` is the outbox), so nothing is lost when Rasa or the gateway restarts.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import logging
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot import store, texts
from bot.errors import AlreadyClaimed, InvalidOutcome, NotClaimable, NotFound, NotOwner
from bot.models import Advisor, Conversation, Message, Participant, QueueEntry, Ticket, utcnow
from bot.pubsub import CONSOLE, Hub, conversation_channel
from bot.rasa import RasaClient, RasaUnavailable
from bot.rules import hours as opening
from bot.rules import queue as rules
from bot.rules.validation import TicketForm

log = logging.getLogger(__name__)

GATEWAY_PAYLOAD = "gateway:"
REQUEST_ADVISOR = "gateway:request_advisor"
# An advisor seen this recently counts as online (the console beats every 15 s).
ONLINE_WINDOW = dt.timedelta(seconds=45)
# Conversations the bot handled this recently are offered for taking over.
RECENT_WINDOW = dt.timedelta(minutes=30)


@dataclass(frozen=True)
class AdvisorRef:
    id: int
    name: str
    email: str


@dataclass(frozen=True)
class Submitted:
    seq: int
    duplicate: bool


@dataclass(frozen=True)
class ServiceConfig:
    hours: opening.OpeningHours
    advisor_timeout_seconds: int
    queue_minutes_per_chat: int
    fallback_handoff_after: int
    rasa_timeout_seconds: int


class ConversationService:
    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        rasa: RasaClient,
        hub: Hub,
        config: ServiceConfig,
        clock: Callable[[], dt.datetime] = utcnow,
    ) -> None:
        self.sessions = sessions
        self.rasa = rasa
        self.hub = hub
        self.config = config
        self.now = clock
        self._workers: dict[str, asyncio.Task[None]] = {}
        self._dirty: set[str] = set()
        self._inflight: dict[str, int] = {}
        self._background: set[asyncio.Task[Any]] = set()

    # ------------------------------------------------------------------ opening

    async def open_widget(self, conversation_id: str | None, page: str | None) -> tuple[str, bool]:
        """The conversation for a widget `hello`: the known one, or a new one with a greeting."""
        if conversation_id:
            async with self.sessions.begin() as s:
                conv = await s.get(Conversation, conversation_id)
                if conv is not None and conv.channel == "widget":
                    if page and conv.page != page:
                        conv.page = page
                    return conv.id, True
        now = self.now()
        async with self.sessions.begin() as s:
            conv = Conversation(
                id=secrets.token_urlsafe(24),
                channel="widget",
                state=rules.BOT,
                page=page,
                created_at=now,
                updated_at=now,
            )
            s.add(conv)
            s.add(Participant(conversation_id=conv.id, kind="company", joined_at=now))
            await s.flush()
            await store.add_message(s, conv.id, "system", texts.GREETING, now)
        return conv.id, False

    async def open_rest(self, sender: str) -> str:
        """The conversation of a REST sender, created on first use."""
        async with self.sessions.begin() as s:
            conv_id = await s.scalar(
                select(Conversation.id).where(Conversation.channel == "rest", Conversation.external_id == sender)
            )
        if conv_id is not None:
            return str(conv_id)
        now = self.now()
        try:
            async with self.sessions.begin() as s:
                conv = Conversation(
                    id=secrets.token_urlsafe(24),
                    channel="rest",
                    external_id=sender,
                    state=rules.BOT,
                    created_at=now,
                    updated_at=now,
                )
                s.add(conv)
                s.add(Participant(conversation_id=conv.id, kind="company", joined_at=now))
            return conv.id
        except IntegrityError:  # created concurrently by another request
            return await self.open_rest(sender)

    # ------------------------------------------------------------------ reading

    async def messages_after(self, conversation_id: str, seq: int) -> list[dict[str, Any]]:
        async with self.sessions() as s:
            return [store.message_json(m) for m in await store.messages_after(s, conversation_id, seq)]

    async def status(self, conversation_id: str) -> dict[str, Any]:
        """The ownership status as the company sees it (protocol section 2)."""
        now = self.now()
        async with self.sessions() as s:
            conv = await s.get(Conversation, conversation_id)
            if conv is None:
                raise NotFound()
            if conv.state == rules.QUEUED:
                waiting = await store.waiting_entries(s)
                ids = [e.conversation_id for e in waiting]
                position = ids.index(conv.id) + 1 if conv.id in ids else len(ids) + 1
                online = set(await store.advisors_online(s, now - ONLINE_WINDOW))
                free = len(online - await store.busy_advisors(s))
                minutes = rules.expected_wait_minutes(position, len(online), free, self.config.queue_minutes_per_chat)
                return {
                    "state": rules.QUEUED,
                    "position": position,
                    "expected_wait_minutes": minutes,
                    "expected_wait_text": rules.wait_text_sv(minutes),
                }
            if conv.state == rules.ADVISOR:
                names = await store.advisor_names(s, {conv.advisor_id} if conv.advisor_id else set())
                name = names.get(conv.advisor_id or 0, "Rådgivare")
                return {"state": rules.ADVISOR, "advisor": {"name": name}}
            if conv.state == rules.OFFLINE:
                opens = opening.next_opening(self.config.hours, now)
                return {
                    "state": rules.OFFLINE,
                    "opens_at": opens.isoformat() if opens else None,
                    "opens_text": opening.format_moment_sv(opens, now) if opens else None,
                }
            if conv.state == rules.CLOSED:
                return {"state": rules.CLOSED, "outcome": conv.outcome}
            return {"state": rules.BOT}

    # ------------------------------------------------------------------ company side

    async def submit_company_message(
        self,
        conversation_id: str,
        client_id: str | None,
        text: str,
        payload: str | None = None,
        metadata: dict[str, Any] | None = None,
    ) -> Submitted:
        """Store a company message (once per client_id) and hand it to the worker."""
        now = self.now()
        try:
            async with self.sessions.begin() as s:
                conv = await s.get(Conversation, conversation_id)
                if conv is None:
                    raise NotFound()
                if client_id is not None:
                    existing = await store.by_client_id(s, conversation_id, client_id)
                    if existing is not None:
                        return Submitted(existing.seq, duplicate=True)
                message = await store.add_message(
                    s,
                    conversation_id,
                    "user",
                    text,
                    now,
                    payload=payload,
                    client_id=client_id,
                    rasa_status="pending",
                    custom={"metadata": metadata} if metadata else None,
                )
                conv.updated_at = now
                state = conv.state
                stored = store.message_json(message)
        except IntegrityError:
            if client_id is None:
                raise
            async with self.sessions() as s:
                existing = await store.by_client_id(s, conversation_id, client_id)
            if existing is None:
                raise
            return Submitted(existing.seq, duplicate=True)
        await self._announce_messages(conversation_id, state, [stored])
        self.kick(conversation_id)
        return Submitted(stored["seq"], duplicate=False)

    async def company_typing(self, conversation_id: str, typing: bool) -> None:
        async with self.sessions() as s:
            state = await s.scalar(select(Conversation.state).where(Conversation.id == conversation_id))
        if state == rules.ADVISOR:
            await self.hub.publish(
                CONSOLE,
                {
                    "type": "typing",
                    "conversation_id": conversation_id,
                    "role": "user",
                    "typing": typing,
                },
            )

    async def cancel_handoff(self, conversation_id: str) -> None:
        """The company leaves the queue, or declines the offline ticket form."""
        now = self.now()
        async with self.sessions.begin() as s:
            conv = await s.get(Conversation, conversation_id)
            if conv is None:
                raise NotFound()
            previous = conv.state
            if previous not in rules.CANCELLABLE:
                return
            changed = await store.updated(
                s,
                update(Conversation)
                .where(Conversation.id == conversation_id, Conversation.state == previous)
                .values(state=rules.BOT, updated_at=now),
            )
            if not changed:
                return
            if previous == rules.QUEUED:
                await self._end_waiting(s, conversation_id, "cancelled", now)
            text = texts.LEFT_QUEUE if previous == rules.QUEUED else texts.DECLINED_TICKET
            message = await store.add_message(s, conversation_id, "system", text, now)
            stored = store.message_json(message)
        await self._announce_messages(conversation_id, rules.BOT, [stored])
        await self._announce_status(conversation_id)
        if previous == rules.QUEUED:
            await self._announce_queue("left", conversation_id)
            await self._set_rasa_paused(conversation_id, False)

    async def create_ticket(
        self, conversation_id: str | None, client_id: str | None, form: TicketForm
    ) -> tuple[int, int | None, bool]:
        """Store an offline ticket. Returns (ticket id, seq of the thank-you message, created)."""
        now = self.now()
        async with self.sessions.begin() as s:
            if conversation_id is not None and client_id is not None:
                existing = await s.scalar(
                    select(Ticket).where(Ticket.conversation_id == conversation_id, Ticket.client_id == client_id)
                )
                if existing is not None:
                    conv = await s.get(Conversation, conversation_id)
                    return existing.id, conv.last_seq if conv else None, False
            ticket = Ticket(
                conversation_id=conversation_id,
                client_id=client_id,
                name=form.name,
                company=form.company,
                email=form.email,
                phone=form.phone,
                question=form.question,
                created_at=now,
            )
            s.add(ticket)
            await s.flush()
            ticket_data = store.ticket_json(ticket, None)
            stored: dict[str, Any] | None = None
            if conversation_id is not None:
                await store.updated(
                    s,
                    update(Conversation)
                    .where(Conversation.id == conversation_id, Conversation.state == rules.OFFLINE)
                    .values(state=rules.BOT, updated_at=now),
                )
                message = await store.add_message(s, conversation_id, "system", texts.TICKET_THANKS, now)
                stored = store.message_json(message)
            open_count = await store.open_ticket_count(s)
        if conversation_id is not None and stored is not None:
            await self._announce_messages(conversation_id, rules.BOT, [stored])
            await self._announce_status(conversation_id)
        await self.hub.publish(
            CONSOLE,
            {
                "type": "tickets",
                "event": "created",
                "ticket": ticket_data,
                "open_tickets": open_count,
            },
        )
        return ticket_data["id"], stored["seq"] if stored else None, True

    async def take_rest_undelivered(self, conversation_id: str) -> list[Message]:
        """Messages a REST program has not received yet (not its own), marking them received."""
        async with self.sessions.begin() as s:
            conv = await s.get(Conversation, conversation_id)
            if conv is None:
                raise NotFound()
            messages = await store.messages_after(s, conversation_id, conv.rest_delivered_seq)
            conv.rest_delivered_seq = max([conv.rest_delivered_seq, *(m.seq for m in messages)])
        return [m for m in messages if m.role != "user"]

    # ------------------------------------------------------------------ advisor side

    async def claim(self, conversation_id: str, advisor: AdvisorRef) -> None:
        """Take a queued chat (or take over a bot chat). Exactly one concurrent claim wins."""
        now = self.now()
        async with self.sessions.begin() as s:
            won = await store.updated(
                s,
                update(Conversation)
                .where(
                    Conversation.id == conversation_id,
                    Conversation.state.in_(rules.CLAIMABLE),
                )
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
            if conv.summary is None:
                conv.summary = rules.build_summary(await store.user_texts(s, conversation_id))
            was_paused = conv.rasa_paused
            s.add(
                Participant(
                    conversation_id=conversation_id,
                    kind="advisor",
                    advisor_id=advisor.id,
                    joined_at=now,
                )
            )
            message = await store.add_message(s, conversation_id, "system", texts.advisor_joined(advisor.name), now)
            stored = store.message_json(message)
        await self.touch_advisor(advisor.id, force=True)
        await self._announce_messages(conversation_id, rules.ADVISOR, [stored])
        await self._announce_status(conversation_id)
        await self._announce_conversation(conversation_id)
        await self._announce_queue("claimed", conversation_id)
        if not was_paused:
            await self._set_rasa_paused(conversation_id, True)

    async def advisor_message(
        self, conversation_id: str, advisor: AdvisorRef, client_id: str, text: str
    ) -> tuple[dict[str, Any], bool]:
        """Store an advisor's reply (once per client_id); the worker records it in Rasa."""
        now = self.now()
        try:
            async with self.sessions.begin() as s:
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
                stored = store.message_json(message)
        except IntegrityError:
            async with self.sessions() as s:
                existing = await store.by_client_id(s, conversation_id, client_id)
            if existing is None:
                raise
            return store.message_json(existing), False
        await self.hub.publish(
            conversation_channel(conversation_id),
            {"type": "typing", "role": "advisor", "author": advisor.name, "typing": False},
        )
        await self._announce_messages(conversation_id, rules.ADVISOR, [stored])
        self.kick(conversation_id)
        return stored, True

    async def advisor_typing(self, conversation_id: str, advisor: AdvisorRef, typing: bool) -> None:
        async with self.sessions() as s:
            conv = await s.get(Conversation, conversation_id)
        if conv is None or conv.state != rules.ADVISOR or conv.advisor_id != advisor.id:
            return
        await self.hub.publish(
            conversation_channel(conversation_id),
            {"type": "typing", "role": "advisor", "author": advisor.name, "typing": typing},
        )

    async def hand_back(self, conversation_id: str, advisor: AdvisorRef) -> None:
        """The advisor gives the chat back to the bot, which continues with the context."""
        await self._leave(conversation_id, advisor, rules.BOT, "handed_back", texts.HANDED_BACK)
        await self._sync_then_resume(conversation_id)

    async def close(self, conversation_id: str, advisor: AdvisorRef, outcome: str, note: str | None) -> None:
        if outcome not in rules.OUTCOMES:
            raise InvalidOutcome()
        await self._leave(
            conversation_id,
            advisor,
            rules.CLOSED,
            "closed",
            texts.CLOSED,
            outcome=outcome,
            note=note,
        )
        # Resume the bot in the background, so a later message from the company reaches it.
        self._spawn(self._sync_then_resume(conversation_id))

    async def release(self, conversation_id: str, advisor: AdvisorRef) -> None:
        """The advisor puts the chat back in the queue, first in line."""
        await self._return_to_queue(conversation_id, advisor.id, "released", texts.ADVISOR_RELEASED)

    async def sweep_stale_advisors(self) -> list[str]:
        """Return the chats of advisors silent for longer than the timeout to the queue."""
        now = self.now()
        cutoff = now - dt.timedelta(seconds=self.config.advisor_timeout_seconds)
        async with self.sessions() as s:
            chats = await store.stale_advisor_chats(s, cutoff)
        returned = []
        for conversation_id, advisor_id in chats:
            if await self._return_to_queue(conversation_id, advisor_id, "advisor_lost", texts.ADVISOR_LOST):
                returned.append(conversation_id)
        return returned

    async def kick_forgotten(self) -> None:
        """Restart delivery to Rasa for messages left behind (a crash, a lost worker)."""
        now = self.now()
        stale = now - dt.timedelta(seconds=self.config.rasa_timeout_seconds + 30)
        async with self.sessions() as s:
            ids = await store.conversations_with_pending(s, now - dt.timedelta(seconds=5), stale)
        for conversation_id in ids:
            self.kick(conversation_id)

    async def touch_advisor(self, advisor_id: int, force: bool = False) -> None:
        """Record that an advisor is present (console socket beat or API call)."""
        now = self.now()
        async with self.sessions.begin() as s:
            stmt = update(Advisor).where(Advisor.id == advisor_id).values(last_seen_at=now)
            if not force:
                stmt = stmt.where(
                    (Advisor.last_seen_at.is_(None)) | (Advisor.last_seen_at < now - dt.timedelta(seconds=5))
                )
            await store.updated(s, stmt)

    # ------------------------------------------------------------------ ownership changes

    async def _leave(
        self,
        conversation_id: str,
        advisor: AdvisorRef,
        target: str,
        event: str,
        text: str,
        outcome: str | None = None,
        note: str | None = None,
    ) -> None:
        now = self.now()
        values: dict[str, Any] = {"state": target, "advisor_id": None, "updated_at": now}
        if target == rules.CLOSED:
            values.update(outcome=outcome, outcome_note=note, closed_at=now)
        else:
            values.update(handoff_reason=None, not_understood=0)
        async with self.sessions.begin() as s:
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
            await self._end_participation(s, conversation_id, advisor.id, event, now)
            await self._end_claimed(s, conversation_id, now)
            message = await store.add_message(s, conversation_id, "system", text, now)
            stored = store.message_json(message)
        await self.touch_advisor(advisor.id)
        await self._announce_messages(conversation_id, target, [stored])
        await self._announce_status(conversation_id)
        await self._announce_conversation(conversation_id)
        await self._announce_queue(event, conversation_id)

    async def _return_to_queue(self, conversation_id: str, advisor_id: int, event: str, text: str) -> bool:
        now = self.now()
        async with self.sessions.begin() as s:
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
                if event == "released":
                    if await s.get(Conversation, conversation_id) is None:
                        raise NotFound()
                    raise NotOwner()
                return False
            # The same queue entry waits again: it keeps its place (first come, first served).
            entry = await store.current_entry(s, conversation_id, "claimed")
            if entry is None:
                conv = await s.get(Conversation, conversation_id)
                assert conv is not None
                entry = QueueEntry(
                    conversation_id=conversation_id,
                    reason=conv.handoff_reason or "request_human",
                    enqueued_at=now,
                )
                s.add(entry)
            entry.status = "waiting"
            entry.returned = True
            entry.claimed_by = None
            entry.claimed_at = None
            await self._end_participation(s, conversation_id, advisor_id, event, now)
            message = await store.add_message(s, conversation_id, "system", text, now)
            stored = store.message_json(message)
        await self._announce_messages(conversation_id, rules.QUEUED, [stored])
        await self._announce_conversation(conversation_id)
        await self._announce_queue("returned", conversation_id)
        return True

    async def _hand_off(
        self, conversation_id: str, reason: str, summary: dict[str, Any] | None, bot_paused: bool
    ) -> None:
        """Queue the conversation for an advisor, or offer a ticket outside opening hours."""
        now = self.now()
        is_open = opening.is_open(self.config.hours, now)
        target = rules.QUEUED if is_open else rules.OFFLINE
        async with self.sessions.begin() as s:
            conv = await s.get(Conversation, conversation_id)
            if conv is None:
                return
            if conv.state not in rules.sources_for(target):
                repeat_offline = conv.state == rules.OFFLINE == target and bot_paused
                if repeat_offline:  # asked again while the form is shown: keep the bot on
                    self._spawn(self._set_rasa_paused(conversation_id, False))
                return
            if summary is None:
                summary = rules.build_summary(await store.user_texts(s, conversation_id))
            paused = conv.rasa_paused or bot_paused
            changed = await store.updated(
                s,
                update(Conversation)
                .where(Conversation.id == conversation_id, Conversation.state == conv.state)
                .values(
                    state=target,
                    handoff_reason=reason,
                    summary=summary,
                    not_understood=0,
                    rasa_paused=paused,
                    updated_at=now,
                ),
            )
            if not changed:
                return
            if is_open:
                s.add(
                    QueueEntry(
                        conversation_id=conversation_id,
                        status="waiting",
                        reason=reason,
                        enqueued_at=now,
                    )
                )
                text = texts.QUEUED
            else:
                opens = opening.next_opening(self.config.hours, now)
                text = texts.offline(
                    opening.describe_hours_sv(self.config.hours),
                    opening.format_moment_sv(opens, now) if opens else None,
                )
            message = await store.add_message(s, conversation_id, "system", text, now)
            stored = store.message_json(message)
        await self._announce_messages(conversation_id, target, [stored])
        if is_open:
            await self._announce_conversation(conversation_id)
            await self._announce_queue("enqueued", conversation_id)
            if not paused:
                await self._set_rasa_paused(conversation_id, True)
        else:
            await self._announce_status(conversation_id)
            if paused:  # the bot keeps answering while the company fills in the form
                await self._set_rasa_paused(conversation_id, False)

    async def _end_waiting(self, s: AsyncSession, conversation_id: str, status: str, now: dt.datetime) -> None:
        await store.updated(
            s,
            update(QueueEntry)
            .where(QueueEntry.conversation_id == conversation_id, QueueEntry.status == "waiting")
            .values(status=status, ended_at=now),
        )

    async def _end_claimed(self, s: AsyncSession, conversation_id: str, now: dt.datetime) -> None:
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
        self, s: AsyncSession, conversation_id: str, advisor_id: int, reason: str, now: dt.datetime
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

    # ------------------------------------------------------------------ delivery to Rasa

    def kick(self, conversation_id: str) -> asyncio.Task[None]:
        """Make sure a worker delivers this conversation's pending messages, in order."""
        task = self._workers.get(conversation_id)
        if task is not None and not task.done():
            self._dirty.add(conversation_id)
            return task
        task = asyncio.create_task(self._drain(conversation_id), name=f"drain-{conversation_id}")
        self._workers[conversation_id] = task

        def forget(done: asyncio.Task[None]) -> None:
            if self._workers.get(conversation_id) is done:
                del self._workers[conversation_id]

        task.add_done_callback(forget)
        return task

    async def wait_delivered(self, conversation_id: str) -> None:
        """Wait until this process has nothing left to deliver for the conversation."""
        while True:
            task = self._workers.get(conversation_id)
            if task is None or task.done():
                return
            await asyncio.shield(task)

    async def stop(self) -> None:
        """Cancel the workers; what they were doing goes back to `pending`."""
        tasks = [*self._workers.values(), *self._background]
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        if self._inflight:
            async with self.sessions.begin() as s:
                await store.updated(
                    s,
                    update(Message)
                    .where(
                        Message.id.in_(list(self._inflight.values())),
                        Message.rasa_status == "processing",
                    )
                    .values(rasa_status="pending", rasa_started_at=None),
                )
            self._inflight.clear()

    def _spawn(self, coro: Any) -> None:
        task = asyncio.create_task(coro)
        self._background.add(task)
        task.add_done_callback(self._background.discard)

    async def _drain(self, conversation_id: str) -> None:
        while True:
            self._dirty.discard(conversation_id)
            message = await self._claim_next(conversation_id)
            if message is None:
                if conversation_id in self._dirty:
                    continue
                return
            self._inflight[conversation_id] = message.id
            try:
                if message.role == "advisor":
                    await self._deliver_advisor(message)
                else:
                    await self._deliver_user(message)
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("delivering message %s failed", message.id)
                await self._finish(message.id, "failed")
                self._inflight.pop(conversation_id, None)
            else:
                self._inflight.pop(conversation_id, None)

    async def _claim_next(self, conversation_id: str) -> Message | None:
        now = self.now()
        stale = now - dt.timedelta(seconds=self.config.rasa_timeout_seconds + 30)
        async with self.sessions.begin() as s:
            candidate = await s.scalar(
                select(Message)
                .where(
                    Message.conversation_id == conversation_id,
                    (Message.rasa_status == "pending")
                    | ((Message.rasa_status == "processing") & (Message.rasa_started_at < stale)),
                )
                .order_by(Message.seq)
                .limit(1)
            )
            if candidate is None:
                return None
            condition = Message.rasa_status == candidate.rasa_status
            if candidate.rasa_started_at is not None:
                condition = condition & (Message.rasa_started_at == candidate.rasa_started_at)
            won = await store.updated(
                s,
                update(Message)
                .where(Message.id == candidate.id, condition)
                .values(rasa_status="processing", rasa_started_at=now),
            )
            return candidate if won else None

    async def _finish(self, message_id: int, status: str) -> None:
        async with self.sessions.begin() as s:
            await store.updated(s, update(Message).where(Message.id == message_id).values(rasa_status=status))

    async def _deliver_advisor(self, message: Message) -> None:
        try:
            await self.rasa.record_advisor(message.conversation_id, message.text or "", message.author or "")
        except RasaUnavailable as exc:
            log.warning("could not record advisor message %s in Rasa: %s", message.id, exc)
            await self._finish(message.id, "failed")
            return
        await self._finish(message.id, "done")

    async def _deliver_user(self, message: Message) -> None:
        conversation_id = message.conversation_id
        async with self.sessions() as s:
            conv = await s.get(Conversation, conversation_id)
            assert conv is not None
            state, paused, count = conv.state, conv.rasa_paused, conv.not_understood
            channel, page = conv.channel, conv.page
            failed_before = await store.last_user_rasa_failed(s, conversation_id, message.seq)

        if message.payload and message.payload.startswith(GATEWAY_PAYLOAD):
            await self._finish(message.id, "skipped")
            if message.payload == REQUEST_ADVISOR and state not in rules.HUMAN_STATES:
                if state == rules.CLOSED:
                    await self._reopen(conversation_id)
                reason = "bot_unavailable" if failed_before else "request_human"
                await self._hand_off(conversation_id, reason, None, bot_paused=False)
            return

        if state == rules.CLOSED:
            await self._reopen(conversation_id)
            state = rules.BOT

        metadata: dict[str, Any] = {"channel": channel}
        if page:
            metadata["page"] = page
        extra = (message.custom or {}).get("metadata")
        if isinstance(extra, dict):
            metadata.update(extra)
        rasa_text = message.payload or message.text or ""

        if state in rules.HUMAN_STATES:
            # An advisor owns the chat: Rasa only records the message (it is paused).
            if not paused:
                await self._set_rasa_paused(conversation_id, True)
            try:
                replies = await self.rasa.send(conversation_id, rasa_text, metadata)
            except RasaUnavailable as exc:
                log.warning("could not record message %s in Rasa: %s", message.id, exc)
                await self._finish(message.id, "failed")
                return
            if replies:
                log.warning("Rasa answered a paused conversation %s; dropped", conversation_id)
            await self._finish(message.id, "done")
            return

        if paused:
            await self._set_rasa_paused(conversation_id, False)
        channel_name = conversation_channel(conversation_id)
        await self.hub.publish(channel_name, {"type": "typing", "role": "bot", "author": None, "typing": True})
        try:
            replies = await self.rasa.send(conversation_id, rasa_text, metadata)
        except RasaUnavailable as exc:
            log.warning("Rasa unavailable for message %s: %s", message.id, exc)
            await self._finish(message.id, "failed")
            await self.hub.publish(channel_name, {"type": "typing", "role": "bot", "author": None, "typing": False})
            await self._tell_bot_unavailable(conversation_id)
            return
        verdict = rules.judge_turn(replies, count, self.config.fallback_handoff_after)
        stored: list[dict[str, Any]] = []
        now = self.now()
        async with self.sessions.begin() as s:
            conv = await s.get(Conversation, conversation_id)
            assert conv is not None
            state = conv.state
            if state in (rules.BOT, rules.OFFLINE):
                for reply in replies:
                    fields = _reply_fields(rules.public_reply(reply))
                    if fields is not None:
                        stored.append(
                            store.message_json(await store.add_message(s, conversation_id, "bot", now=now, **fields))
                        )
                conv.not_understood = verdict.not_understood
                if verdict.bot_paused:
                    conv.rasa_paused = True
            elif verdict.bot_paused:
                conv.rasa_paused = True
            await store.updated(s, update(Message).where(Message.id == message.id).values(rasa_status="done"))
        await self.hub.publish(channel_name, {"type": "typing", "role": "bot", "author": None, "typing": False})
        await self._announce_messages(conversation_id, state, stored)
        if verdict.handoff_reason is not None and state in (rules.BOT, rules.OFFLINE):
            await self._hand_off(conversation_id, verdict.handoff_reason, verdict.summary, verdict.bot_paused)

    async def _reopen(self, conversation_id: str) -> None:
        """A company writes in a closed chat: the bot answers again."""
        now = self.now()
        async with self.sessions.begin() as s:
            changed = await store.updated(
                s,
                update(Conversation)
                .where(Conversation.id == conversation_id, Conversation.state == rules.CLOSED)
                .values(state=rules.BOT, updated_at=now, handoff_reason=None, not_understood=0),
            )
        if changed:
            await self._announce_status(conversation_id)

    async def _tell_bot_unavailable(self, conversation_id: str) -> None:
        now = self.now()
        async with self.sessions.begin() as s:
            last = await store.last_message(s, conversation_id)
            if last is not None and last.role == "system" and last.text == texts.BOT_UNAVAILABLE:
                return
            message = await store.add_message(
                s,
                conversation_id,
                "system",
                texts.BOT_UNAVAILABLE,
                now,
                buttons=[dict(texts.REQUEST_ADVISOR_BUTTON)],
            )
            stored = store.message_json(message)
        await self._announce_messages(conversation_id, rules.BOT, [stored])

    async def _set_rasa_paused(self, conversation_id: str, paused: bool) -> None:
        """Pause or resume the Rasa conversation; remember it only when Rasa confirmed."""
        try:
            if paused:
                await self.rasa.pause(conversation_id)
            else:
                await self.rasa.resume(conversation_id)
        except RasaUnavailable as exc:
            log.warning(
                "could not %s Rasa for %s: %s",
                "pause" if paused else "resume",
                conversation_id,
                exc,
            )
            return
        async with self.sessions.begin() as s:
            await store.updated(
                s,
                update(Conversation).where(Conversation.id == conversation_id).values(rasa_paused=paused),
            )

    async def _sync_then_resume(self, conversation_id: str) -> None:
        """Record the advisor's replies in Rasa (retrying failed ones), then resume the bot."""
        async with self.sessions.begin() as s:
            await store.updated(
                s,
                update(Message)
                .where(
                    Message.conversation_id == conversation_id,
                    Message.role == "advisor",
                    Message.rasa_status == "failed",
                )
                .values(rasa_status="pending"),
            )
        self.kick(conversation_id)
        await self.wait_delivered(conversation_id)
        async with self.sessions() as s:
            state = await s.scalar(select(Conversation.state).where(Conversation.id == conversation_id))
        if state in (rules.BOT, rules.CLOSED, rules.OFFLINE):
            await self._set_rasa_paused(conversation_id, False)

    # ------------------------------------------------------------------ announcements

    async def _announce_messages(self, conversation_id: str, state: str, messages: list[dict[str, Any]]) -> None:
        if not messages:
            return
        await self.hub.publish(conversation_channel(conversation_id), {"type": "messages"})
        if state in (rules.QUEUED, rules.ADVISOR, rules.CLOSED) or any(m["role"] == "system" for m in messages):
            for message in messages:
                await self.hub.publish(
                    CONSOLE,
                    {"type": "message", "conversation_id": conversation_id, "message": message},
                )

    async def _announce_status(self, conversation_id: str) -> None:
        await self.hub.publish(conversation_channel(conversation_id), {"type": "status"})

    async def _announce_conversation(self, conversation_id: str) -> None:
        await self.hub.publish(CONSOLE, {"type": "conversation", "conversation_id": conversation_id})

    async def _announce_queue(self, event: str, conversation_id: str | None) -> None:
        """Tell the consoles, and every waiting company (their position may have moved)."""
        await self.hub.publish(CONSOLE, {"type": "queue", "event": event, "conversation_id": conversation_id})
        async with self.sessions() as s:
            waiting = [e.conversation_id for e in await store.waiting_entries(s)]
        for waiting_id in {*waiting, *([conversation_id] if conversation_id else [])}:
            await self._announce_status(waiting_id)


def _reply_fields(reply: dict[str, Any]) -> dict[str, Any] | None:
    """A Rasa bot message as stored fields, or None if it holds nothing to show or keep."""
    text = reply.get("text") if isinstance(reply.get("text"), str) else None
    buttons = [
        {"title": str(b.get("title", ""))[:200], "payload": str(b.get("payload", ""))[:500]}
        for b in reply.get("buttons") or []
        if isinstance(b, dict) and b.get("title")
    ]
    image = reply.get("image")
    if not (isinstance(image, str) and image.startswith(("https://", "http://"))):
        image = None
    custom = reply.get("custom") if isinstance(reply.get("custom"), dict) else None
    if text is None and not buttons and image is None and not custom:
        return None
    return {"text": text, "buttons": buttons, "image": image, "custom": custom}
