"""Closed chats: newest first, searched by words and filtered by channel, outcome,
advisor and date (docs/gateway-protocol.md, section 4, "Closed chats").

Every word of the search must occur somewhere in the chat: a message (the company's,
the bot's, an advisor's or a note), the company's name, e-mail or question, the person's
name, the outcome or its note, the advisor who closed it, or the channel's label. Pages
are fetched with a cursor (the last row's closing time and id), so a page costs the same
however far back it is.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import and_, false, or_, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlalchemy.sql.elements import ColumnElement

from bot.conversation import store
from bot.conversation.models import Advisor, Conversation, Message
from bot.rules import queue as rules

MAX_WORDS = 8
MAX_LIMIT = 200


@dataclass(frozen=True)
class ClosedQuery:
    words: tuple[str, ...] = ()
    channel: str | None = None
    outcome: str | None = None
    advisor_id: int | None = None
    closed_from: dt.date | None = None  # inclusive, in the office's time zone
    closed_to: dt.date | None = None  # inclusive
    before: tuple[dt.datetime, str] | None = None  # cursor: (closed_at, id) of the last row shown
    limit: int = 50


def _like(word: str) -> str:
    escaped = word.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def _contains(column: Any, word: str, dialect: str) -> ColumnElement[bool]:
    """`column` contains `word`, ignoring case. PostgreSQL's ILIKE folds every letter;
    SQLite's LIKE already ignores the case of a–z (and its lower() folds no more), so it is
    used as it is: wrapping each row in lower() would only make the scan slower."""
    if dialect == "sqlite":
        return column.like(_like(word), escape="\\")  # type: ignore[no-any-return]
    return column.ilike(_like(word), escape="\\")  # type: ignore[no-any-return]


def _word_matches(
    word: str, channel_labels: Mapping[str, str], advisor_ids: list[int], dialect: str
) -> ColumnElement[bool]:
    folded = word.casefold()
    outcomes = [code for code, label in rules.OUTCOMES.items() if folded in label.casefold()]
    channels = [name for name, label in channel_labels.items() if folded in label.casefold() or folded == name]
    return or_(
        _contains(Conversation.display_name, word, dialect),
        _contains(Conversation.company_name, word, dialect),
        _contains(Conversation.company_email, word, dialect),
        _contains(Conversation.question, word, dialect),
        _contains(Conversation.outcome_note, word, dialect),
        Conversation.id.startswith(word) if len(word) >= 6 else false(),
        Conversation.outcome.in_(outcomes) if outcomes else false(),
        Conversation.channel.in_(channels) if channels else false(),
        Conversation.closed_by.in_(advisor_ids) if advisor_ids else false(),
        # One pass over the messages (a semi-join), not a lookup per chat: a word found
        # nowhere costs one scan instead of ten thousand.
        Conversation.id.in_(select(Message.conversation_id).where(_contains(Message.text, word, dialect))),
    )


async def closed_chats(
    sessions: async_sessionmaker[AsyncSession],
    query: ClosedQuery,
    channel_labels: Mapping[str, str],
    timezone: str,
) -> dict[str, Any]:
    zone = ZoneInfo(timezone)
    conditions: list[ColumnElement[bool]] = [Conversation.state == rules.CLOSED]
    if query.channel:
        conditions.append(Conversation.channel == query.channel)
    if query.outcome:
        conditions.append(Conversation.outcome == query.outcome)
    if query.advisor_id is not None:
        conditions.append(Conversation.closed_by == query.advisor_id)
    if query.closed_from:
        start = dt.datetime.combine(query.closed_from, dt.time(), zone)
        conditions.append(Conversation.closed_at >= start)
    if query.closed_to:
        end = dt.datetime.combine(query.closed_to + dt.timedelta(days=1), dt.time(), zone)
        conditions.append(Conversation.closed_at < end)
    if query.before:
        at, conversation_id = query.before
        conditions.append(Conversation.closed_at <= at)  # a range the (state, closed_at) index serves
        conditions.append(
            or_(Conversation.closed_at < at, and_(Conversation.closed_at == at, Conversation.id < conversation_id))
        )
    limit = max(1, min(query.limit, MAX_LIMIT))
    async with sessions() as s:
        dialect = s.get_bind().dialect.name
        for word in query.words[:MAX_WORDS]:
            advisor_ids = list(
                await s.scalars(select(Advisor.id).where(Advisor.name.ilike(_like(word), escape="\\")))
            )
            conditions.append(_word_matches(word, channel_labels, advisor_ids, dialect))
        rows = list(
            await s.scalars(
                select(Conversation)
                .where(*conditions)
                .order_by(Conversation.closed_at.desc(), Conversation.id.desc())
                .limit(limit + 1)
            )
        )
        more = len(rows) > limit
        rows = rows[:limit]
        previews = await store.previews(s, [c.id for c in rows if not c.question])
        names = await store.advisor_names(s, {c.closed_by for c in rows if c.closed_by})
    last = rows[-1] if more and rows else None
    return {
        "conversations": [closed_json(c, names, previews, channel_labels) for c in rows],
        "next": f"{last.closed_at.isoformat()}|{last.id}" if last and last.closed_at else None,
    }


def closed_json(
    conv: Conversation, names: Mapping[int, str], previews: Mapping[str, str], channel_labels: Mapping[str, str]
) -> dict[str, Any]:
    return {
        "conversation_id": conv.id,
        "state": conv.state,
        "channel": conv.channel,
        "channel_label": channel_labels.get(conv.channel, conv.channel),
        "display_name": conv.display_name,
        "company_name": conv.company_name,
        "question": conv.question,
        "preview": (conv.question or previews.get(conv.id, ""))[:200],
        "outcome": conv.outcome,
        "outcome_label": rules.OUTCOMES.get(conv.outcome or "", conv.outcome),
        "outcome_note": conv.outcome_note,
        "closed_at": store.iso(conv.closed_at),
        "created_at": store.iso(conv.created_at),
        "closed_by": ({"id": conv.closed_by, "name": names.get(conv.closed_by)} if conv.closed_by else None),
        "last_seq": conv.last_seq,
    }
