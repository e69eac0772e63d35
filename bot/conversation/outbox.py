"""The durable outbox: every message for a conversation is stored first, then delivered by
its channel.

Each conversation has one delivery cursor (`Delivery.delivered_seq`) in its channel. Push
channels (Slack, Teams) register a `Deliverer`; a relay task per channel delivers the
messages after each cursor in order, retries with backoff (or the platform's Retry-After),
and never posts a message twice: a receipt is written before the platform call and
completed after it, so a message whose call was cut off (a crash, a timeout) is first
looked up on the platform (`Deliverer.find_delivered`) before it is sent again. A channel
that is down backs off alone; the others keep delivering. A lease on the cursor keeps
two relays (replicas) off the same conversation.

Pull channels (the REST endpoint) read their unread messages through the same cursor
(`take_unread`); the widget's cursor is the sequence number its client acknowledges.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import logging
import random
from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from typing import Any, Protocol, cast

from sqlalchemy import BindParameter, Table, and_, bindparam, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from bot.conversation import store
from bot.conversation.context import CoreContext
from bot.conversation.errors import NotFound
from bot.conversation.models import Conversation, Delivery, DeliveryReceipt, Message
from bot.conversation.pubsub import Hub, outbox_channel
from core.transactions import Prepared, Tx

log = logging.getLogger(__name__)

MAX_BACKOFF_SECONDS = 300.0


@dataclass(frozen=True)
class Recipient:
    """Where a conversation's messages go, as its channel recorded it."""

    conversation_id: str
    external_id: str | None
    address: dict[str, Any]
    display_name: str | None


@dataclass(frozen=True)
class Outgoing:
    """A stored message as a channel delivers it."""

    id: int
    seq: int
    role: str  # bot | advisor | system
    text: str | None
    buttons: list[dict[str, str]]
    image: str | None
    author: str | None
    # For system messages: what kind of notice it is ("queued", "advisor_joined" ...) and
    # its facts (queue position, expected wait, the advisor's name).
    notice: dict[str, Any] | None
    # For a bot reply: the platform id of the company message it answers.
    reply_to_client_id: str | None
    created_at: dt.datetime


class RetryLater(Exception):
    """The platform did not take the message (down, rate-limited): try again later.

    `after` is the platform's own wait (Retry-After), in seconds."""

    def __init__(self, reason: str, after: float | None = None) -> None:
        super().__init__(reason)
        self.after = after


class Undeliverable(Exception):
    """The platform refused the message for good (e.g. the conversation no longer exists)."""


class Deliverer(Protocol):
    """A push channel's delivery side."""

    @property
    def channel(self) -> str: ...

    async def deliver(self, recipient: Recipient, message: Outgoing) -> str | None:
        """Post the message; return the platform's id for it. Raise `RetryLater` when the
        platform certainly did not take it, `Undeliverable` when it never will."""
        ...

    async def find_delivered(self, recipient: Recipient, message: Outgoing) -> str | None:
        """After an interrupted call: the platform's id if it did take the message, else None."""
        ...


_DELIVERIES = cast(Table, Delivery.__table__)
_CONVERSATION: BindParameter[str] = bindparam("b_id", type_=_DELIVERIES.c.conversation_id.type)
_CURSOR = select(_DELIVERIES.c.delivered_seq).where(_DELIVERIES.c.conversation_id == _CONVERSATION).scalar_subquery()
# A pull channel's unread messages, each with the cursor as it was read (the last column).
_UNREAD = Prepared(
    select(*store.MESSAGES.columns, _CURSOR.label("cursor"))
    .where(store.MESSAGES.c.conversation_id == _CONVERSATION, store.MESSAGES.c.seq > _CURSOR)
    .order_by(store.MESSAGES.c.seq)
    .limit(1000)
)
_SEQ = store.MESSAGE_FIELDS.index("seq")
_HAS_CURSOR = Prepared(
    select(_DELIVERIES.c.conversation_id).where(_DELIVERIES.c.conversation_id == _CONVERSATION)
)
_ADVANCE = Prepared(
    update(_DELIVERIES)
    .where(_DELIVERIES.c.conversation_id == bindparam("b_id"), _DELIVERIES.c.delivered_seq == bindparam("b_from"))
    .values(delivered_seq=bindparam("b_to", type_=_DELIVERIES.c.delivered_seq.type))
)


def take_unread_rows(tx: Tx, conversation_id: str) -> list[tuple[Any, ...]] | None:
    """In the caller's transaction, the rows after a pull channel's cursor (the company's
    own included: see `unread_messages`), moving it past them; None when it moved
    meanwhile (then nothing changed).

    The cursor comes with the messages after it (one round trip); it moves only from where
    it was read, so two calls at once (a program's requests in parallel, on PostgreSQL)
    never both take the same messages."""
    rows = tx.execute(_UNREAD, {"b_id": conversation_id}).rows
    if not rows:
        return rows
    cursor, newest = rows[0][-1], rows[-1][_SEQ]
    advanced = tx.execute(_ADVANCE, {"b_id": conversation_id, "b_from": cursor, "b_to": newest})
    return rows if advanced.rowcount else None


def unread_messages(rows: list[tuple[Any, ...]]) -> list[store.StoredMessage]:
    """What of `take_unread_rows` the channel delivers."""
    messages = [store.StoredMessage._make(row[:-1]) for row in rows]
    return [m for m in messages if deliverable(m)]


def deliverable(message: Message | store.StoredMessage) -> bool:
    """What a channel delivers: everything but the company's own messages and internal notes."""
    return message.role != "user" and not (message.custom or {}).get("internal")


def outgoing(message: Message, reply_to_client_id: str | None) -> Outgoing:
    custom = message.custom or {}
    notice = {k: v for k, v in custom.items() if k != "metadata"} if message.role == "system" and custom else None
    return Outgoing(
        id=message.id,
        seq=message.seq,
        role=message.role,
        text=message.text,
        buttons=list(message.buttons or []),
        image=message.image,
        author=message.author,
        notice=notice,
        reply_to_client_id=reply_to_client_id,
        created_at=message.created_at,
    )


def backoff_seconds(attempts: int, rng: random.Random | None = None) -> float:
    """1, 2, 4 ... seconds (±20 %), at most five minutes."""
    base = min(MAX_BACKOFF_SECONDS, float(2 ** max(0, attempts - 1)))
    return base * (0.8 + 0.4 * (rng or random).random())


class Outbox:
    def __init__(
        self,
        ctx: CoreContext,
        hub: Hub,
        *,
        poll_interval: float = 2.0,
        lease_seconds: float = 60.0,
        parallel: int = 8,
    ) -> None:
        self.ctx = ctx
        self.hub = hub
        self.poll_interval = poll_interval
        self.lease = dt.timedelta(seconds=lease_seconds)
        self.parallel = parallel
        self._deliverers: dict[str, Deliverer] = {}
        self._relays: list[asyncio.Task[None]] = []
        self._stopping = asyncio.Event()
        # Conversations being delivered now, by conversation id.
        self._running: dict[str, asyncio.Task[None]] = {}

    # ------------------------------------------------------------------ lifecycle

    def pushes_to(self, channel: str) -> bool:
        """Whether replies in `channel` are pushed (Slack, Teams) rather than pulled."""
        return channel in self._deliverers

    def register(self, deliverer: Deliverer) -> None:
        """A push channel delivers through the outbox from now on (call before `start`)."""
        self._deliverers[deliverer.channel] = deliverer

    async def start(self) -> None:
        for deliverer in self._deliverers.values():
            self._relays.append(asyncio.create_task(self._relay(deliverer), name=f"outbox-{deliverer.channel}"))

    async def stop(self, grace: float = 5.0) -> None:
        """Stop looking for work, let the deliveries under way finish (a platform call
        cut off would leave its receipt uncertain), then cancel what is left."""
        self._stopping.set()
        if self._relays:
            await asyncio.wait(self._relays)
        self._relays.clear()
        running = list(self._running.values())
        if running:
            _done, late = await asyncio.wait(running, timeout=grace)
            for task in late:
                task.cancel()
            for task in late:
                with contextlib.suppress(asyncio.CancelledError):
                    await task

    # ------------------------------------------------------------------ pull channels

    async def take_unread(self, conversation_id: str) -> list[store.StoredMessage]:
        """Messages a pull channel has not received yet (not the company's own), moving
        the cursor past them."""

        def take(tx: Tx) -> list[tuple[Any, ...]] | None:
            rows = take_unread_rows(tx, conversation_id)
            # Nothing after the cursor, or no cursor at all (no such conversation)?
            if rows == [] and not tx.execute(_HAS_CURSOR, {"b_id": conversation_id}).rows:
                raise NotFound()
            return rows

        while True:
            rows = await self.ctx.transaction(take)
            if rows is not None:
                return unread_messages(rows)
            # The cursor moved under us (another call at the same moment): read again.

    # ------------------------------------------------------------------ the relay

    async def _relay(self, deliverer: Deliverer) -> None:
        """Deliver this channel's pending conversations; wake on a nudge or every poll."""
        limit = asyncio.Semaphore(self.parallel)
        running = self._running
        async with self.hub.subscribe(outbox_channel(deliverer.channel)) as nudges:
            while not self._stopping.is_set():
                try:
                    due = await self._due(deliverer.channel)
                except asyncio.CancelledError:
                    raise
                except Exception:
                    log.exception("outbox %s: could not read pending deliveries", deliverer.channel)
                    due = []
                for conversation_id in due:
                    if conversation_id in running:
                        continue
                    task = asyncio.create_task(self._guarded(deliverer, conversation_id, limit))
                    running[conversation_id] = task
                    task.add_done_callback(_forget_in(running, conversation_id))
                await self._wait_for_work(nudges.get())

    async def _wait_for_work(self, nudged: Coroutine[Any, Any, object]) -> None:
        """Until a nudge, the next poll, or the stop; nothing else is under way here."""
        waiters = {asyncio.ensure_future(nudged), asyncio.ensure_future(self._stopping.wait())}
        _done, pending = await asyncio.wait(waiters, timeout=self.poll_interval, return_when=asyncio.FIRST_COMPLETED)
        for waiter in pending:
            waiter.cancel()
        for waiter in pending:
            with contextlib.suppress(asyncio.CancelledError):
                await waiter

    async def _guarded(self, deliverer: Deliverer, conversation_id: str, limit: asyncio.Semaphore) -> None:
        async with limit:
            try:
                await self.deliver_conversation(deliverer, conversation_id)
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("outbox %s: delivery of %s failed", deliverer.channel, conversation_id)

    async def _due(self, channel: str) -> list[str]:
        now = self.ctx.now()
        async with self.ctx.sessions() as s:
            rows = await s.scalars(
                select(Delivery.conversation_id)
                .join(Conversation, Conversation.id == Delivery.conversation_id)
                .where(
                    Delivery.channel == channel,
                    Conversation.last_seq > Delivery.delivered_seq,
                    Delivery.next_attempt_at <= now,
                    or_(Delivery.lease_until.is_(None), Delivery.lease_until < now),
                )
                .order_by(Delivery.next_attempt_at)
                .limit(100)
            )
            return list(rows)

    async def deliver_conversation(self, deliverer: Deliverer, conversation_id: str) -> None:
        """Deliver what is pending for one conversation, in order, under a lease."""
        if not await self._take_lease(conversation_id):
            return
        try:
            while await self._deliver_batch(deliverer, conversation_id):
                pass
        finally:
            async with self.ctx.sessions.begin() as s:
                await store.updated(
                    s, update(Delivery).where(Delivery.conversation_id == conversation_id).values(lease_until=None)
                )

    async def _take_lease(self, conversation_id: str) -> bool:
        now = self.ctx.now()
        async with self.ctx.sessions.begin() as s:
            return bool(
                await store.updated(
                    s,
                    update(Delivery)
                    .where(
                        Delivery.conversation_id == conversation_id,
                        Delivery.next_attempt_at <= now,
                        or_(Delivery.lease_until.is_(None), Delivery.lease_until < now),
                    )
                    .values(lease_until=now + self.lease),
                )
            )

    async def _deliver_batch(self, deliverer: Deliverer, conversation_id: str) -> bool:
        """Deliver up to 50 pending messages; True if more may be pending."""
        async with self.ctx.sessions() as s:
            conv = await s.get(Conversation, conversation_id)
            delivery = await s.get(Delivery, conversation_id)
            if conv is None or delivery is None:
                return False
            recipient = Recipient(conv.id, conv.external_id, dict(conv.address or {}), conv.display_name)
            messages = await store.messages_after(s, conversation_id, delivery.delivered_seq, limit=50)
            client_ids = await _client_ids(s, conversation_id, {m.reply_to for m in messages if m.reply_to})
            receipts = {
                r.message_id: r
                for r in await s.scalars(
                    select(DeliveryReceipt).where(DeliveryReceipt.message_id.in_([m.id for m in messages]))
                )
            }
        if not messages:
            return False
        for message in messages:
            if not deliverable(message):
                await self._advance(conversation_id, message.seq)
                continue
            receipt = receipts.get(message.id)
            item = outgoing(message, client_ids.get(message.reply_to or 0))
            if receipt is not None and receipt.status in ("sent", "failed"):
                await self._advance(conversation_id, message.seq)
                continue
            if receipt is not None:  # "sending": the last call was cut off
                try:
                    found = await deliverer.find_delivered(recipient, item)
                except asyncio.CancelledError:
                    raise
                except Exception as exc:  # the platform cannot be asked now: not a reason to post twice
                    after = exc.after if isinstance(exc, RetryLater) else None
                    await self._back_off(conversation_id, f"lookup: {type(exc).__name__}: {exc}", after)
                    return False
                if found is not None:
                    await self._sent(conversation_id, message, found)
                    continue
            else:
                await self._sending(message)
            if not await self._post(deliverer, recipient, item, conversation_id, message):
                return False
        return len(messages) == 50

    async def _post(
        self, deliverer: Deliverer, recipient: Recipient, item: Outgoing, conversation_id: str, message: Message
    ) -> bool:
        """One platform call. True if the cursor moved past the message."""
        try:
            external_id = await deliverer.deliver(recipient, item)
        except RetryLater as exc:
            # Certainly not taken: the next attempt is a clean send.
            await self._not_sent(message)
            await self._back_off(conversation_id, str(exc), exc.after)
            return False
        except Undeliverable as exc:
            log.warning("outbox %s: message %s refused for good: %s", deliverer.channel, message.id, exc)
            await self._failed(conversation_id, message, str(exc))
            return True
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            # The call may or may not have reached the platform: the receipt stays
            # "sending", so the retry asks the platform first.
            log.warning("outbox %s: delivery of message %s interrupted: %r", deliverer.channel, message.id, exc)
            await self._back_off(conversation_id, f"{type(exc).__name__}: {exc}", None)
            return False
        await self._sent(conversation_id, message, external_id)
        return True

    # ------------------------------------------------------------------ bookkeeping

    async def _advance(self, conversation_id: str, seq: int) -> None:
        async with self.ctx.sessions.begin() as s:
            await store.updated(
                s,
                update(Delivery)
                .where(Delivery.conversation_id == conversation_id, Delivery.delivered_seq < seq)
                .values(delivered_seq=seq, attempts=0, last_error=None, lease_until=self.ctx.now() + self.lease),
            )

    async def _sending(self, message: Message) -> None:
        async with self.ctx.sessions.begin() as s:
            s.add(DeliveryReceipt(message_id=message.id, status="sending", started_at=self.ctx.now()))

    async def _not_sent(self, message: Message) -> None:
        async with self.ctx.sessions.begin() as s:
            receipt = await s.get(DeliveryReceipt, message.id)
            if receipt is not None and receipt.status == "sending":
                await s.delete(receipt)

    async def _sent(self, conversation_id: str, message: Message, external_id: str | None) -> None:
        now = self.ctx.now()
        async with self.ctx.sessions.begin() as s:
            receipt = await s.get(DeliveryReceipt, message.id)
            if receipt is None:
                receipt = DeliveryReceipt(message_id=message.id, started_at=now)
                s.add(receipt)
            receipt.status = "sent"
            receipt.external_id = external_id
            receipt.finished_at = now
            await store.updated(
                s,
                update(Delivery)
                .where(Delivery.conversation_id == conversation_id, Delivery.delivered_seq < message.seq)
                .values(delivered_seq=message.seq, attempts=0, last_error=None, lease_until=now + self.lease),
            )

    async def _failed(self, conversation_id: str, message: Message, error: str) -> None:
        now = self.ctx.now()
        async with self.ctx.sessions.begin() as s:
            receipt = await s.get(DeliveryReceipt, message.id)
            if receipt is None:
                receipt = DeliveryReceipt(message_id=message.id, started_at=now)
                s.add(receipt)
            receipt.status = "failed"
            receipt.error = error[:2000]
            receipt.finished_at = now
            await store.updated(
                s,
                update(Delivery)
                .where(Delivery.conversation_id == conversation_id, Delivery.delivered_seq < message.seq)
                .values(delivered_seq=message.seq),
            )

    async def _back_off(self, conversation_id: str, error: str, after: float | None) -> None:
        now = self.ctx.now()
        async with self.ctx.sessions.begin() as s:
            delivery = await s.get(Delivery, conversation_id)
            if delivery is None:
                return
            delivery.attempts += 1
            wait = after if after is not None else backoff_seconds(delivery.attempts)
            delivery.next_attempt_at = now + dt.timedelta(seconds=max(0.0, wait))
            delivery.last_error = error[:2000]


def _forget_in(running: dict[str, asyncio.Task[None]], conversation_id: str) -> Callable[[asyncio.Task[None]], None]:
    def forget(_task: asyncio.Task[None]) -> None:
        running.pop(conversation_id, None)

    return forget


async def _client_ids(s: AsyncSession, conversation_id: str, seqs: set[int]) -> dict[int, str]:
    """The platform ids of the company messages with these sequence numbers."""
    if not seqs:
        return {}
    rows = await s.execute(
        select(Message.seq, Message.client_id).where(
            and_(Message.conversation_id == conversation_id, Message.seq.in_(seqs))
        )
    )
    return {int(r.seq): str(r.client_id) for r in rows if r.client_id}
