"""Small queries over the gateway's tables. Each takes the caller's session: the
transaction boundary belongs to the service."""

from __future__ import annotations

import datetime as dt
from typing import Any, NamedTuple, cast

from sqlalchemy import (
    CursorResult,
    Table,
    and_,
    bindparam,
    case,
    exists,
    func,
    insert,
    literal_column,
    null,
    or_,
    select,
    update,
)
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession
from sqlalchemy.sql.expression import ColumnClause

from bot.conversation.models import Advisor, Conversation, Message, QueueEntry, Ticket
from bot.rules import queue as rules
from bot.rules.personal_numbers import mask_optional
from core.transactions import Prepared

# A message on its way to Rasa (`Message.rasa_status`): waiting, waiting for the bot to be
# back, or in the middle of its turn.
RASA_UNFINISHED = ("pending", "retry", "processing")


# The hot path's statements are Core statements on the tables, built once: no ORM flush,
# no identity map, and SQLAlchemy's cache key for each is computed only once.
MESSAGES = cast(Table, Message.__table__)
CONVERSATIONS = cast(Table, Conversation.__table__)
# Every column of a message, as a Message takes them (`Message(**dict(zip(...)))`).
MESSAGE_FIELDS = tuple(c.name for c in MESSAGES.columns)
# Every column of a message but its id, as a new message is inserted.
MESSAGE_COLUMNS = tuple(c.name for c in MESSAGES.columns if c.name != "id")


class StoredMessage(NamedTuple):
    """A stored message as the hot path reads it (the Rasa worker, the REST endpoint): its
    columns in the table's order, built from a row at a tenth of an ORM Message's cost.
    Read-only; it belongs to no session."""

    id: int
    conversation_id: str
    seq: int
    role: str
    text: str | None
    buttons: list[dict[str, str]]
    image: str | None
    custom: dict[str, Any] | None
    payload: str | None
    author: str | None
    advisor_id: int | None
    client_id: str | None
    reply_to: int | None
    rasa_status: str | None
    rasa_started_at: dt.datetime | None
    created_at: dt.datetime


assert StoredMessage._fields == MESSAGE_FIELDS, "StoredMessage follows the messages table"


def literals(values: tuple[str, ...]) -> list[ColumnClause[str]]:
    """Fixed strings as SQL literals, for an `IN` in a statement built once: an IN of bound
    values would be rendered again at each call. Only for our own constants."""
    return [literal_column(f"'{value}'") for value in values]


def _message_insert() -> Any:
    return insert(MESSAGES).returning(MESSAGES.c.id, sort_by_parameter_order=True)


def _claimable_insert() -> Any:
    """A company message stored already claimed (`processing`, started at its
    `created_at`) when no message of its conversation is on its way to Rasa, else
    `pending`: the check is part of the INSERT, so on PostgreSQL it reads a snapshot taken
    after the statements before it in the transaction (the conversation's row lock)."""
    c = MESSAGES.c
    params = {name: bindparam(name, type_=c[name].type) for name in MESSAGE_COLUMNS}
    unfinished = c.rasa_status.in_(literals(RASA_UNFINISHED))
    waiting = exists().where(c.conversation_id == params["conversation_id"], unfinished)
    values = [
        case((waiting, "pending"), else_="processing") if name == "rasa_status"
        else case((waiting, null()), else_=params["created_at"]) if name == "rasa_started_at"
        else params[name]
        for name in MESSAGE_COLUMNS
    ]
    return (
        insert(MESSAGES)
        .from_select(list(MESSAGE_COLUMNS), select(*values))
        .returning(MESSAGES.c.id, MESSAGES.c.rasa_status)
    )


def iso(value: dt.datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


async def updated(session: AsyncSession, stmt: Any) -> int:
    """Run a conditional UPDATE and return how many rows it changed."""
    result = await session.execute(stmt.execution_options(synchronize_session=False))
    return int(cast(CursorResult[Any], result).rowcount)


async def next_seq(session: AsyncSession, conversation_id: str, touched_at: dt.datetime | None = None) -> int:
    """Allocate the next message number in one round trip (UPDATE ... RETURNING; the row
    lock serializes writers); with `touched_at`, the conversation's `updated_at` too."""
    values: dict[str, Any] = {"last_seq": Conversation.last_seq + 1}
    if touched_at is not None:
        values["updated_at"] = touched_at
    seq = await session.scalar(
        update(Conversation)
        .where(Conversation.id == conversation_id)
        .values(**values)
        .returning(Conversation.last_seq)
        .execution_options(synchronize_session=False)
    )
    assert seq is not None
    return int(seq)


async def add_message(
    session: AsyncSession,
    conversation_id: str,
    role: str,
    text: str | None,
    now: dt.datetime,
    *,
    buttons: list[dict[str, str]] | None = None,
    image: str | None = None,
    custom: dict[str, Any] | None = None,
    payload: str | None = None,
    author: str | None = None,
    advisor_id: int | None = None,
    client_id: str | None = None,
    rasa_status: str | None = None,
    rasa_started_at: dt.datetime | None = None,
    reply_to: int | None = None,
    touch: bool = False,
    seq: int | None = None,
) -> Message:
    """Store a message with the conversation's next number (`touch`: the conversation's
    `updated_at` becomes `now` in the same statement), or with `seq` when the caller
    allocated it already."""
    message = new_message(
        conversation_id,
        role,
        text,
        now,
        seq=seq if seq is not None else await next_seq(session, conversation_id, now if touch else None),
        buttons=buttons,
        image=image,
        custom=custom,
        payload=payload,
        author=author,
        advisor_id=advisor_id,
        client_id=client_id,
        rasa_status=rasa_status,
        rasa_started_at=rasa_started_at,
        reply_to=reply_to,
    )
    session.add(message)
    await session.flush()
    return message


def new_message(conversation_id: str, role: str, text: str | None, now: dt.datetime, **fields: Any) -> Message:
    """A message (`new_message_row`, numbered `seq` by the caller), not yet added to a
    session."""
    return Message(**new_message_row(conversation_id, role, text, now, **fields))


def new_message_row(
    conversation_id: str,
    role: str,
    text: str | None,
    now: dt.datetime,
    *,
    seq: int,
    buttons: list[dict[str, str]] | None = None,
    image: str | None = None,
    custom: dict[str, Any] | None = None,
    payload: str | None = None,
    author: str | None = None,
    advisor_id: int | None = None,
    client_id: str | None = None,
    rasa_status: str | None = None,
    rasa_started_at: dt.datetime | None = None,
    reply_to: int | None = None,
) -> dict[str, Any]:
    """A new message's columns (all but its id), as `INSERT_MESSAGE` stores them."""
    # No personnummer is ever stored in a transcript, whoever wrote it (the company, an
    # advisor, a note): the text the channels, Rasa and the console later read is masked.
    return dict(
        conversation_id=conversation_id,
        seq=seq,
        role=role,
        text=mask_optional(text),
        buttons=buttons or [],
        image=image,
        custom=custom,
        payload=mask_optional(payload),
        author=author,
        advisor_id=advisor_id,
        client_id=client_id,
        rasa_status=rasa_status,
        rasa_started_at=rasa_started_at,
        reply_to=reply_to,
        created_at=now,
    )


def _row(message: Message) -> dict[str, Any]:
    return {name: getattr(message, name) for name in MESSAGE_COLUMNS}


_INSERT_MESSAGES = _message_insert()
# A new company message, stored already claimed when it may be (`_claimable_insert`).
INSERT_CLAIMABLE = Prepared(_claimable_insert())
# One new message (`new_message_row`), in a hot-path transaction; returns its id.
INSERT_MESSAGE = Prepared(
    insert(MESSAGES)
    .values({name: bindparam(name, type_=MESSAGES.c[name].type) for name in MESSAGE_COLUMNS})
    .returning(MESSAGES.c.id)
)


async def insert_messages(session: AsyncSession | AsyncConnection, messages: list[Message]) -> None:
    """Store new messages (from `new_message`, numbered by the caller) in one statement,
    without the ORM's unit of work; each gets its id. The objects stay out of the session."""
    if not messages:
        return
    result = await session.execute(_INSERT_MESSAGES, [_row(m) for m in messages])
    for message, message_id in zip(messages, result.scalars(), strict=True):
        message.id = message_id


async def insert_claimable(session: AsyncSession, message: Message) -> bool:
    """Store a new company message (from `new_message`) already claimed by the caller when
    nothing of its conversation is on its way to Rasa (see `_claimable_insert`); True if
    it was. Its `id`, `rasa_status` and `rasa_started_at` are set to what was stored."""
    row = (await session.execute(INSERT_CLAIMABLE.statement, _row(message))).one()
    message.id, message.rasa_status = int(row[0]), str(row[1])
    taken = message.rasa_status == "processing"
    message.rasa_started_at = message.created_at if taken else None
    return taken


# The number of a conversation's message with this client id, if one was stored.
SEQ_BY_CLIENT_ID = Prepared(
    select(MESSAGES.c.seq).where(
        MESSAGES.c.conversation_id == bindparam("b_conversation"), MESSAGES.c.client_id == bindparam("b_client")
    )
)


async def by_client_id(session: AsyncSession, conversation_id: str, client_id: str) -> Message | None:
    found: Message | None = await session.scalar(
        select(Message).where(Message.conversation_id == conversation_id, Message.client_id == client_id)
    )
    return found


async def messages_after(session: AsyncSession, conversation_id: str, seq: int, limit: int = 1000) -> list[Message]:
    rows = await session.scalars(
        select(Message)
        .where(Message.conversation_id == conversation_id, Message.seq > seq)
        .order_by(Message.seq)
        .limit(limit)
    )
    return list(rows)


async def last_message(session: AsyncSession, conversation_id: str) -> Message | None:
    found: Message | None = await session.scalar(
        select(Message).where(Message.conversation_id == conversation_id).order_by(Message.seq.desc()).limit(1)
    )
    return found


def is_internal(message: Message) -> bool:
    """An advisor's internal note: shown in the console, never to the company."""
    return message.role == "note" or bool((message.custom or {}).get("internal"))


def typed_by_company() -> Any:
    """A company message it typed itself: not a button click, not a command payload
    ("/ask_contact", "gateway:request_advisor" sent as text by a program)."""
    return and_(
        Message.role == "user",
        Message.payload.is_(None),
        Message.text.is_not(None),
        ~Message.text.startswith("/"),
        ~Message.text.startswith("gateway:"),
    )


async def user_texts(session: AsyncSession, conversation_id: str, limit: int = 5) -> list[str]:
    """The company's last typed messages, oldest first (clicked buttons are not questions)."""
    rows = await session.scalars(
        select(Message.text)
        .where(Message.conversation_id == conversation_id, typed_by_company())
        .order_by(Message.seq.desc())
        .limit(limit)
    )
    return [text for text in reversed(list(rows)) if text]


async def last_user_rasa_failed(session: AsyncSession, conversation_id: str, before_seq: int) -> bool:
    status = await session.scalar(
        select(Message.rasa_status)
        .where(
            Message.conversation_id == conversation_id,
            Message.role == "user",
            Message.seq < before_seq,
        )
        .order_by(Message.seq.desc())
        .limit(1)
    )
    return status in ("failed", "retry")


async def waiting_entries(session: AsyncSession) -> list[QueueEntry]:
    rows = await session.scalars(
        select(QueueEntry)
        .join(Conversation, Conversation.id == QueueEntry.conversation_id)
        .where(QueueEntry.status == "waiting", Conversation.state == rules.QUEUED)
    )
    entries = list(rows)
    order = rules.queue_order(rules.Waiting(e.conversation_id, e.enqueued_at, e.id) for e in entries)
    by_id = {e.id: e for e in entries}
    return [by_id[w.entry_id] for w in order]


async def current_entry(session: AsyncSession, conversation_id: str, status: str) -> QueueEntry | None:
    found: QueueEntry | None = await session.scalar(
        select(QueueEntry)
        .where(QueueEntry.conversation_id == conversation_id, QueueEntry.status == status)
        .order_by(QueueEntry.id.desc())
        .limit(1)
    )
    return found


async def advisors_online(session: AsyncSession, since: dt.datetime, available_only: bool = False) -> list[int]:
    """Advisors at the console; `available_only`: of them, those who take chats (not "away")."""
    query = select(Advisor.id).where(Advisor.active.is_(True), Advisor.last_seen_at >= since)
    if available_only:
        query = query.where(Advisor.presence == "available")
    return list(await session.scalars(query))


async def advisor_load(session: AsyncSession, advisor_id: int) -> int:
    """How many chats the advisor holds now."""
    count = await session.scalar(
        select(func.count(Conversation.id)).where(
            Conversation.state == rules.ADVISOR, Conversation.advisor_id == advisor_id
        )
    )
    return int(count or 0)


async def busy_advisors(session: AsyncSession) -> set[int]:
    rows = await session.scalars(
        select(Conversation.advisor_id)
        .where(Conversation.state == rules.ADVISOR, Conversation.advisor_id.is_not(None))
        .distinct()
    )
    return {int(r) for r in rows if r is not None}


async def hold_advisor(session: AsyncSession, advisor_id: int, now: dt.datetime) -> None:
    """Note that the advisor is being given a chat. The UPDATE also locks the advisor's
    row (the database's write lock on SQLite) until the transaction ends, so two claims
    for the same advisor cannot both pass the capacity check."""
    await updated(session, update(Advisor).where(Advisor.id == advisor_id).values(last_assigned_at=now))


async def advisor_loads(session: AsyncSession, advisor_ids: list[int]) -> dict[int, int]:
    """How many chats each of these advisors holds now."""
    if not advisor_ids:
        return {}
    rows = await session.execute(
        select(Conversation.advisor_id, func.count(Conversation.id))
        .where(Conversation.state == rules.ADVISOR, Conversation.advisor_id.in_(advisor_ids))
        .group_by(Conversation.advisor_id)
    )
    return {int(advisor_id or 0): int(count) for advisor_id, count in rows.tuples()}


async def owns(session: AsyncSession, conversation_id: str, advisor_id: int) -> bool:
    found = await session.scalar(
        select(Conversation.id).where(
            Conversation.id == conversation_id,
            Conversation.state == rules.ADVISOR,
            Conversation.advisor_id == advisor_id,
        )
    )
    return found is not None


async def advisor_names(session: AsyncSession, ids: set[int]) -> dict[int, str]:
    if not ids:
        return {}
    rows = await session.execute(select(Advisor.id, Advisor.name).where(Advisor.id.in_(ids)))
    return {int(row.id): str(row.name) for row in rows}


async def stale_advisor_chats(session: AsyncSession, cutoff: dt.datetime) -> list[tuple[str, int]]:
    rows = await session.execute(
        select(Conversation.id, Conversation.advisor_id)
        .join(Advisor, Advisor.id == Conversation.advisor_id)
        .where(
            Conversation.state == rules.ADVISOR,
            or_(Advisor.last_seen_at.is_(None), Advisor.last_seen_at < cutoff),
        )
    )
    return [(str(r.id), int(r.advisor_id)) for r in rows]


async def conversations_with_pending(
    session: AsyncSession, created_before: dt.datetime, stale_before: dt.datetime
) -> list[str]:
    rows = await session.scalars(
        select(Message.conversation_id)
        .where(
            or_(
                and_(Message.rasa_status == "pending", Message.created_at < created_before),
                and_(Message.rasa_status == "processing", Message.rasa_started_at < stale_before),
            )
        )
        .distinct()
        .limit(200)
    )
    return list(rows)


async def previews(session: AsyncSession, conversation_ids: list[str]) -> dict[str, str]:
    """The last text each company typed (not a clicked button or a payload), shortened."""
    if not conversation_ids:
        return {}
    latest = (
        select(Message.conversation_id, func.max(Message.seq).label("seq"))
        .where(Message.conversation_id.in_(conversation_ids), typed_by_company())
        .group_by(Message.conversation_id)
        .subquery()
    )
    rows = await session.execute(
        select(Message.conversation_id, Message.text).join(
            latest,
            and_(Message.conversation_id == latest.c.conversation_id, Message.seq == latest.c.seq),
        )
    )
    return {str(r.conversation_id): (r.text or "")[:200] for r in rows}


async def open_ticket_count(session: AsyncSession) -> int:
    return int(await session.scalar(select(func.count(Ticket.id)).where(Ticket.status == "open")) or 0)


def message_json(message: Message | StoredMessage) -> dict[str, Any]:
    return {
        "seq": message.seq,
        "id": message.id,
        "role": message.role,
        "text": message.text,
        "buttons": list(message.buttons or []),
        "image": message.image,
        "author": message.author,
        "client_id": message.client_id,
        "created_at": iso(message.created_at),
    }


def conversation_json(conv: Conversation, advisor_name: str | None) -> dict[str, Any]:
    return {
        "id": conv.id,
        "state": conv.state,
        "channel": conv.channel,
        "display_name": conv.display_name,
        "advisor": ({"id": conv.advisor_id, "name": advisor_name} if conv.advisor_id is not None else None),
        "created_at": iso(conv.created_at),
        "claimed_at": iso(conv.claimed_at),
        "page": conv.page,
        "handoff_reason": conv.handoff_reason,
        "summary": conv.summary,
        "outcome": conv.outcome,
        "outcome_note": conv.outcome_note,
        "last_seq": conv.last_seq,
        "question": conv.question,
        "company_name": conv.company_name,
        "company_email": conv.company_email,
        "closed_at": iso(conv.closed_at),
        "closed_by": conv.closed_by,
    }


def ticket_json(ticket: Ticket, handler_name: str | None) -> dict[str, Any]:
    return {
        "id": ticket.id,
        "status": ticket.status,
        "created_at": iso(ticket.created_at),
        "name": ticket.name,
        "company": ticket.company,
        "email": ticket.email,
        "phone": ticket.phone,
        "question": ticket.question,
        "conversation_id": ticket.conversation_id,
        "handled_by": ({"id": ticket.handled_by, "name": handler_name} if ticket.handled_by is not None else None),
        "handled_at": iso(ticket.handled_at),
        "note": ticket.note,
    }
