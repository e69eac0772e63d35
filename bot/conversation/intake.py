"""Opening conversations and taking in what companies send, from any channel.

A channel gives the core its name and its own key for the conversation (the REST sender,
a Slack channel and thread, a Teams conversation); the core never knows more about a
channel than that. A company message is stored first (once per client id: a resent or
retried message is recognised) and then handed to the Rasa worker.
"""

from __future__ import annotations

import datetime as dt
import logging
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol

from sqlalchemy import bindparam, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from bot import texts
from bot.conversation import csat, events, store
from bot.conversation.context import CoreContext
from bot.conversation.errors import NotFound
from bot.conversation.events import EventKind
from bot.conversation.models import Conversation, Delivery, InboundReceipt, Message, Participant, Ticket
from bot.rules import csat as csat_rules
from bot.rules import queue as rules
from bot.rules.personal_numbers import Masked, mask, mask_personal_numbers, mask_values
from bot.rules.validation import TicketForm, clean_line
from core.transactions import Prepared, Tx

log = logging.getLogger(__name__)

_CONVERSATIONS = store.CONVERSATIONS.c
# A company message's number, the conversation's `updated_at` and what the turn needs of
# the conversation, in one statement (which also finds it, by id or by the channel's key).
_NUMBER = (
    update(store.CONVERSATIONS)
    .values(last_seq=_CONVERSATIONS.last_seq + 1, updated_at=bindparam("b_now", type_=_CONVERSATIONS.updated_at.type))
    .returning(
        _CONVERSATIONS.id, _CONVERSATIONS.last_seq, _CONVERSATIONS.state, _CONVERSATIONS.channel,
        _CONVERSATIONS.rasa_paused, _CONVERSATIONS.page,
    )
)
# (A bound parameter of an UPDATE may not be named after a column.)
_NUMBER_BY_ID = Prepared(_NUMBER.where(_CONVERSATIONS.id == bindparam("b_id")))
_NUMBER_BY_KEY = Prepared(
    _NUMBER.where(
        _CONVERSATIONS.channel == bindparam("b_channel"), _CONVERSATIONS.external_id == bindparam("b_external_id")
    )
)


@dataclass(frozen=True)
class _Incoming:
    """A company message as `_submit` took it in: masked, with the statement that numbers
    it and what that statement finds its conversation by."""

    number: Prepared
    which: dict[str, str]
    conversation_id: str | None  # known when submitted by id
    client_id: str | None
    masked: Masked
    payload: str | None
    custom: dict[str, Any] | None
    survey_answer: bool
    now: dt.datetime


class _NeedsFullPath(Exception):
    """The message needs more than the common path's statements (see `_submit_common`)."""


@dataclass(frozen=True)
class _Stored:
    """A company message as its transaction stored it, with what the turn needs of its
    conversation."""

    message: store.StoredMessage
    state: str
    channel: str
    paused: bool
    page: str | None
    taken: bool
    # The messages the gateway added after it (a notice, the survey's), as JSON.
    extra: tuple[dict[str, Any], ...] = ()


@dataclass(frozen=True)
class Opened:
    id: str
    created: bool


@dataclass(frozen=True)
class Submitted:
    seq: int
    duplicate: bool
    conversation_id: str


class Taker(Protocol):
    """The Rasa worker's side of a message stored already claimed (rasa_worker.py)."""

    def can_take(self, conversation_id: str) -> bool:
        """(Called inside the transaction that stores the message: on SQLite from the
        database's thread, so it may only read.)"""
        ...

    def take(self, message: store.StoredMessage, conversation: tuple[str, bool, str, str | None]) -> None: ...


class Intake:
    def __init__(self, ctx: CoreContext, kick: Callable[[str], object], taker: Taker | None = None) -> None:
        self.ctx = ctx
        self.kick = kick  # hands a conversation's pending messages to the Rasa worker
        self.taker = taker

    # ------------------------------------------------------------------ opening

    async def open(
        self,
        channel: str,
        *,
        external_id: str | None = None,
        page: str | None = None,
        display_name: str | None = None,
        address: dict[str, Any] | None = None,
        greeting: bool = False,
    ) -> Opened:
        """The conversation of `external_id` in `channel` (created on first use), or a new
        one when the channel has no key (a new widget chat). A known conversation takes the
        newest address and display name the channel gives."""
        # A Slack or Teams display name is shown to advisors: no hidden (bidi, zero-width,
        # control) characters in it either.
        display_name = clean_line(display_name, 200) or None
        if external_id is not None:
            found = await self._update_known(channel, external_id, display_name, address)
            if found is not None:
                return Opened(found, created=False)
        return await self._create(channel, external_id, page, display_name, address, greeting)

    async def _create(
        self,
        channel: str,
        external_id: str | None,
        page: str | None = None,
        display_name: str | None = None,
        address: dict[str, Any] | None = None,
        greeting: bool = False,
    ) -> Opened:
        """A new conversation; if one with the same key was created at the same moment
        (another request, another replica), that one."""
        now = self.ctx.now()
        try:
            async with self.ctx.sessions.begin() as s:
                conv = await _add_conversation(s, channel, external_id, now, address, display_name, page)
                if greeting:
                    message = await store.add_message(s, conv.id, "system", texts.GREETING, now)
                    stored = [store.message_json(message)]
                else:
                    stored = []
        except IntegrityError:
            if external_id is None:
                raise
            # Created at the same moment by another request (or replica): use theirs.
            found = await self._update_known(channel, external_id, display_name, address)
            if found is None:
                raise
            return Opened(found, created=False)
        await self.ctx.announce.messages(conv.id, channel, rules.BOT, stored)
        return Opened(conv.id, created=True)

    async def _update_known(
        self, channel: str, external_id: str, display_name: str | None, address: dict[str, Any] | None
    ) -> str | None:
        # Read first: a known conversation whose details did not change (every turn of a
        # program, most of Slack's and Teams') costs no write transaction.
        async with self.ctx.sessions() as s:
            conv = await s.scalar(
                select(Conversation).where(Conversation.channel == channel, Conversation.external_id == external_id)
            )
            if conv is None:
                return None
            changed = (address is not None and conv.address != address) or (
                bool(display_name) and conv.display_name != display_name
            )
            conversation_id = conv.id
        if not changed:
            return conversation_id
        async with self.ctx.sessions.begin() as s:
            conv = await s.get(Conversation, conversation_id)
            if conv is None:
                return None
            if address is not None and conv.address != address:
                conv.address = address
            if display_name and conv.display_name != display_name:
                conv.display_name = display_name
            return conv.id

    async def resume(self, conversation_id: str, channel: str, page: str | None) -> bool:
        """Whether `conversation_id` is a conversation of `channel` (a widget reconnecting)."""
        async with self.ctx.sessions.begin() as s:
            conv = await s.get(Conversation, conversation_id)
            if conv is None or conv.channel != channel:
                return False
            if page and conv.page != page:
                conv.page = page
            return True

    async def seen(self, conversation_id: str) -> None:
        """The company is still there (its widget socket is open): it keeps its queue place."""
        async with self.ctx.sessions.begin() as s:
            await store.updated(
                s,
                update(Conversation)
                .where(Conversation.id == conversation_id)
                .values(company_seen_at=self.ctx.now()),
            )

    async def first_time(self, source: str, key: str) -> bool:
        """Record a platform event id; False if it was taken in before (a retry)."""
        try:
            async with self.ctx.sessions.begin() as s:
                s.add(InboundReceipt(source=source, key=key[:255], received_at=self.ctx.now()))
        except IntegrityError:
            return False
        return True

    # ------------------------------------------------------------------ company messages

    async def submit(
        self,
        conversation_id: str,
        client_id: str | None,
        text: str,
        payload: str | None = None,
        metadata: dict[str, Any] | None = None,
    ) -> Submitted:
        """Store a company message (once per client_id) and hand it to the Rasa worker.

        Personnummer are masked before anything is stored or sent on (the company is told
        once); a satisfaction rating, and the comment after it, stay with the gateway."""
        which = {"b_id": conversation_id}
        return await self._submit(_NUMBER_BY_ID, which, conversation_id, client_id, text, payload, metadata)

    async def submit_by_key(
        self,
        channel: str,
        external_id: str,
        text: str,
        payload: str | None = None,
        metadata: dict[str, Any] | None = None,
    ) -> Submitted:
        """`open` and `submit` in one, for a channel that names its conversations and
        sends no client id (REST): a known conversation is found by the statement that
        stores the message, so a turn takes one transaction, not a read and then a write.
        The conversation is opened on first use."""
        which = {"b_channel": channel, "b_external_id": external_id}
        try:
            return await self._submit(
                _NUMBER_BY_KEY, which, None, None, text, payload, metadata, create=(channel, external_id)
            )
        except IntegrityError:
            # Created at the same moment by another request (or replica): the message
            # goes to theirs.
            return await self._submit(_NUMBER_BY_KEY, which, None, None, text, payload, metadata)

    async def _submit(
        self,
        number: Prepared,
        which: dict[str, str],
        conversation_id: str | None,
        client_id: str | None,
        text: str,
        payload: str | None,
        metadata: dict[str, Any] | None,
        create: tuple[str, str] | None = None,
    ) -> Submitted:
        """`create`: the channel and key of a conversation to open, in the same
        transaction, when `which` finds none (its first message is numbered 1)."""
        masked = mask_personal_numbers(text)
        incoming = _Incoming(
            number, which, conversation_id, client_id, masked, payload,
            custom={"metadata": mask_values(metadata)} if metadata else None,
            survey_answer=csat_rules.is_rating_payload(payload), now=self.ctx.now(),
        )
        try:
            done: Submitted | _Stored | None = None
            if not masked.count and not incoming.survey_answer:
                try:
                    done = await self.ctx.transaction(lambda tx: self._submit_common(tx, incoming))
                except _NeedsFullPath:
                    done = None
            if done is None:
                done = await self._submit_full(incoming, create)
        except IntegrityError:
            if client_id is None or conversation_id is None:
                raise
            async with self.ctx.sessions() as s:
                existing = await store.by_client_id(s, conversation_id, client_id)
            if existing is None:
                raise
            return Submitted(existing.seq, duplicate=True, conversation_id=conversation_id)
        if isinstance(done, Submitted):
            return done
        message = done.message
        conversation_id = message.conversation_id
        if masked.count:
            log.info("masked %d personal number(s) in a message of conversation %s", masked.count, conversation_id)
        stored = [store.message_json(message), *done.extra]
        if done.taken and self.taker is not None:
            self.taker.take(message, (done.state, done.paused, done.channel, done.page))
        await self.ctx.announce.messages(conversation_id, done.channel, done.state, stored)
        if message.rasa_status == "pending":
            self.kick(conversation_id)
        return Submitted(message.seq, duplicate=False, conversation_id=conversation_id)

    def _submit_common(self, tx: Tx, m: _Incoming) -> Submitted | _Stored | None:
        """The common case, in one hot-path transaction (on SQLite in the database's
        thread): a message for the bot in a conversation that exists and is not closed.
        None when the conversation is not found (nothing was written): the full path opens
        it or says it does not exist. A closed conversation raises `_NeedsFullPath` (its
        satisfaction survey may take the message as a comment)."""
        if m.client_id is not None and m.conversation_id is not None:
            found = tx.execute(
                store.SEQ_BY_CLIENT_ID, {"b_conversation": m.conversation_id, "b_client": m.client_id}
            )
            if found.rows:
                return Submitted(int(found.rows[0][0]), duplicate=True, conversation_id=m.conversation_id)
        # The message's number, the conversation's `updated_at` and what the turn needs of
        # the conversation, in one statement (which also finds it).
        numbered = tx.execute(m.number, {**m.which, "b_now": m.now}).rows
        if not numbered:
            return None
        found_id, seq, state, channel, paused, page = numbered[0]
        if state == rules.CLOSED and m.payload is None:
            raise _NeedsFullPath()
        row = store.new_message_row(
            found_id, "user", m.masked.text, m.now, payload=m.payload, client_id=m.client_id,
            rasa_status="pending", custom=m.custom, seq=seq,
        )
        # Nothing of the conversation on its way to Rasa: stored already claimed by this
        # process's worker (see `_submit_full`). (`can_take` only reads the worker's
        # state, here from the database's thread.)
        if self.taker is not None and self.taker.can_take(found_id):
            row["id"], row["rasa_status"] = tx.execute(store.INSERT_CLAIMABLE, row).rows[0]
        else:
            row["id"] = tx.execute(store.INSERT_MESSAGE, row).rows[0][0]
        taken = row["rasa_status"] == "processing"
        if taken:
            row["rasa_started_at"] = m.now
        return _Stored(store.StoredMessage(**row), str(state), str(channel), bool(paused), page, taken)

    async def _submit_full(self, m: _Incoming, create: tuple[str, str] | None) -> Submitted | _Stored:
        """Every case, through the ORM: a new conversation, a personnummer removed (the
        company is told once), a satisfaction rating, or the comment after it (those stay
        with the gateway)."""
        now, masked, payload = m.now, m.masked, m.payload
        async with self.ctx.sessions.begin() as s:
            if m.client_id is not None and m.conversation_id is not None:
                existing = await store.by_client_id(s, m.conversation_id, m.client_id)
                if existing is not None:
                    return Submitted(existing.seq, duplicate=True, conversation_id=m.conversation_id)
            row: Any = (await s.execute(m.number.statement, {**m.which, "b_now": now})).one_or_none()
            if row is None and create is not None:
                opened = await _add_conversation(s, *create, now, last_seq=1)
                row = (opened.id, 1, opened.state, opened.channel, False, None)
            if row is None:
                raise NotFound()
            conversation_id, seq, state, channel = str(row[0]), int(row[1]), str(row[2]), str(row[3])
            paused, page = bool(row[4]), row[5]
            survey_comment = (
                not m.survey_answer
                and payload is None
                and state == rules.CLOSED
                and await csat.takes_comment(s, conversation_id, now)
            )
            to_rasa = not (m.survey_answer or survey_comment)
            message = store.new_message(
                conversation_id, "user", masked.text, now, payload=payload, client_id=m.client_id,
                rasa_status="pending" if to_rasa else None, custom=m.custom, seq=seq,
            )
            # Nothing of the conversation on its way to Rasa: the message is stored
            # already claimed by this process's worker, which then needs no claim
            # transaction. The INSERT itself checks (the conversation's row, updated
            # above, serializes the check with every other writer of the
            # conversation; on PostgreSQL the INSERT is a fresh statement, so it
            # sees what a writer it waited for committed).
            if to_rasa and self.taker is not None and self.taker.can_take(conversation_id):
                taken = await store.insert_claimable(s, message)
            else:
                taken = False
                await store.insert_messages(s, [message])
            extra: list[dict[str, Any]] = []
            if masked.count and not await _told_about_personal_numbers(s, conversation_id):
                notice = await store.add_message(
                    s, conversation_id, "system", texts.PERSONAL_NUMBER_REMOVED, now,
                    custom={"notice": "personal_number_removed"},
                )
                extra.append(store.message_json(notice))
            follow_up = None
            if m.survey_answer and payload is not None:
                follow_up = await csat.rate(s, conversation_id, payload, now)
            elif survey_comment:
                follow_up = await csat.comment(s, conversation_id, masked.text, now)
            if follow_up is not None:
                extra.append(store.message_json(follow_up))
            columns = store.StoredMessage(*(getattr(message, name) for name in store.MESSAGE_FIELDS))
        return _Stored(columns, state, channel, paused, page, taken, tuple(extra))

    async def typing(self, conversation_id: str, typing: bool) -> None:
        """The company is typing: shown to the advisor who owns the chat."""
        async with self.ctx.sessions() as s:
            state = await s.scalar(select(Conversation.state).where(Conversation.id == conversation_id))
        if state == rules.ADVISOR:
            await self.ctx.announce.company_typing(conversation_id, typing)

    # ------------------------------------------------------------------ tickets

    async def create_ticket(
        self, conversation_id: str | None, client_id: str | None, form: TicketForm
    ) -> tuple[int, int | None, bool]:
        """Store an offline ticket. Returns (ticket id, seq of the thank-you message, created)."""
        now = self.ctx.now()
        async with self.ctx.sessions.begin() as s:
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
                question=mask(form.question),
                created_at=now,
            )
            s.add(ticket)
            await s.flush()
            ticket_data = store.ticket_json(ticket, None)
            stored: dict[str, Any] | None = None
            channel = ""
            if conversation_id is not None:
                conv = await s.get(Conversation, conversation_id)
                if conv is None:
                    raise NotFound()
                channel = conv.channel
                await store.updated(
                    s,
                    update(Conversation)
                    .where(Conversation.id == conversation_id, Conversation.state == rules.OFFLINE)
                    .values(state=rules.BOT, updated_at=now),
                )
                await events.record(s, conversation_id, EventKind.TICKET, now, channel=channel, ticket_id=ticket.id)
                message = await store.add_message(
                    s, conversation_id, "system", texts.TICKET_THANKS, now, custom={"notice": "ticket_thanks"}
                )
                stored = store.message_json(message)
            open_count = await store.open_ticket_count(s)
        if conversation_id is not None and stored is not None:
            await self.ctx.announce.messages(conversation_id, channel, rules.BOT, [stored])
            await self.ctx.announce.status(conversation_id)
        await self.ctx.announce.tickets("created", ticket_data, open_count)
        return ticket_data["id"], stored["seq"] if stored else None, True


async def _add_conversation(
    s: AsyncSession,
    channel: str,
    external_id: str | None,
    now: dt.datetime,
    address: dict[str, Any] | None = None,
    display_name: str | None = None,
    page: str | None = None,
    last_seq: int = 0,
) -> Conversation:
    """A new conversation owned by the bot, with its company, its delivery cursor and its
    `opened` event, in the caller's transaction."""
    conv = Conversation(
        id=secrets.token_urlsafe(24),
        channel=channel,
        external_id=external_id,
        address=address,
        display_name=display_name,
        state=rules.BOT,
        page=page,
        last_seq=last_seq,
        created_at=now,
        updated_at=now,
    )
    s.add(conv)
    s.add(Participant(conversation_id=conv.id, kind="company", joined_at=now))
    s.add(Delivery(conversation_id=conv.id, channel=channel, next_attempt_at=now))
    await s.flush()
    await events.record(s, conv.id, EventKind.OPENED, now, channel=channel)
    return conv


async def _told_about_personal_numbers(s: AsyncSession, conversation_id: str) -> bool:
    """Whether the company was already told that a personnummer was not saved."""
    found = await s.scalar(
        select(Message.id)
        .where(
            Message.conversation_id == conversation_id,
            Message.role == "system",
            Message.text == texts.PERSONAL_NUMBER_REMOVED,
        )
        .limit(1)
    )
    return found is not None
