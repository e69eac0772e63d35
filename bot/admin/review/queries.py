"""The review list: every company message not yet reviewed, with what the bot understood
(tracker.py), whom it referred to, and whether it fell back or handed off; filtered.

The messages come from the gateway's tables; each is paired with its turn in Rasa's
tracker by order and text (the worker sends Rasa a conversation's messages in order, the
button payload when there is one). The referral given is the first directory organisation
the bot's reply to that message names (by name or alias, whole words). A hand-off is the
bot's action_handoff, or a hand-off in the conversation's event log before the company's
next message.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from bot.admin.review import tracker
from bot.admin.review.models import ReviewedMessage
from bot.conversation.events import EventKind
from bot.conversation.models import Conversation, ConversationEvent, Message
from content.models import Response
from directory.mentions import first_named, name_patterns
from directory.queries import organisation_names

SCAN = 2000  # the most recent messages looked at for one page of the list
PER_PAGE = 30
FALLBACK_INTENT = "nlu_fallback"
FALLBACK_ACTION = "action_fallback"
HANDOFF_ACTION = "action_handoff"


@dataclass(frozen=True)
class Filters:
    low: bool = False
    fallback: bool = False
    handoff: bool = False
    threshold: float = 0.6
    channel: str = ""
    start: dt.date | None = None
    end: dt.date | None = None
    page: int = 1


@dataclass
class Item:
    message_id: int
    conversation_id: str
    seq: int
    at: dt.datetime
    channel: str
    text: str
    intent: str | None = None
    confidence: float | None = None
    ranking: list[tuple[str, float]] = field(default_factory=list)
    referral: str | None = None
    fallback: bool = False
    handoff: bool = False

    @property
    def best_guess(self) -> str | None:
        """The intent to offer first: the prediction, or the top of the ranking after a fallback."""
        if self.intent and self.intent != FALLBACK_INTENT:
            return self.intent
        return self.ranking[0][0] if self.ranking else None

    def low(self, threshold: float) -> bool:
        return self.confidence is None or self.confidence < threshold or self.intent == FALLBACK_INTENT


@dataclass(frozen=True)
class ReviewPage:
    items: list[Item]
    matching: int
    page: int
    pages: int
    channels: list[str]


# ---------------------------------------------------------------- plain rules


def pair(sent: Sequence[tuple[int, str]], turns: Sequence[tracker.Turn]) -> dict[int, tracker.Turn]:
    """Pair the messages sent to Rasa ((seq, text), in order) with the tracker's turns:
    each takes the next turn with its text; a message Rasa never recorded gets none."""
    paired: dict[int, tracker.Turn] = {}
    position = 0
    for seq, text in sent:
        for index in range(position, len(turns)):
            if turns[index].text.strip() == text.strip():
                paired[seq] = turns[index]
                position = index + 1
                break
    return paired


def matches(item: Item, filters: Filters) -> bool:
    wanted = [flag for flag in (filters.low, filters.fallback, filters.handoff) if flag]
    if not wanted:
        return True
    return ((filters.low and item.low(filters.threshold)) or (filters.fallback and item.fallback)
            or (filters.handoff and item.handoff))


# ---------------------------------------------------------------- reading


def _day_bounds(filters: Filters, zone: ZoneInfo) -> tuple[dt.datetime | None, dt.datetime | None]:
    start = dt.datetime.combine(filters.start, dt.time(), zone).astimezone(dt.timezone.utc) if filters.start else None
    end = (dt.datetime.combine(filters.end + dt.timedelta(days=1), dt.time(), zone).astimezone(dt.timezone.utc)
           if filters.end else None)
    return start, end


async def review_page(
    sessions: async_sessionmaker[AsyncSession], tracker_engine: AsyncEngine | None, filters: Filters, zone: ZoneInfo
) -> ReviewPage:
    async with sessions() as s:
        channels = list(await s.scalars(select(Conversation.channel).distinct().order_by(Conversation.channel)))
        query = (
            select(Message, Conversation.channel)
            .join(Conversation, Conversation.id == Message.conversation_id)
            .outerjoin(ReviewedMessage, ReviewedMessage.message_id == Message.id)
            .where(Message.role == "user", Message.rasa_status == "done", Message.payload.is_(None),
                   Message.text.is_not(None), ReviewedMessage.message_id.is_(None))
            .order_by(Message.created_at.desc(), Message.id.desc())
            .limit(SCAN)
        )
        if filters.channel:
            query = query.where(Conversation.channel == filters.channel)
        start, end = _day_bounds(filters, zone)
        if start is not None:
            query = query.where(Message.created_at >= start)
        if end is not None:
            query = query.where(Message.created_at < end)
        candidates = [(m, str(c)) for m, c in (await s.execute(query)).tuples()]
        conversation_ids = list({m.conversation_id for m, _ in candidates})
        history = list(await s.scalars(
            select(Message).where(Message.conversation_id.in_(conversation_ids), Message.role.in_(("user", "bot")))
            .order_by(Message.conversation_id, Message.seq)
        )) if conversation_ids else []
        handoffs = list((await s.execute(
            select(ConversationEvent.conversation_id, ConversationEvent.at)
            .where(ConversationEvent.conversation_id.in_(conversation_ids), ConversationEvent.kind == EventKind.HANDOFF)
        )).tuples()) if conversation_ids else []
        names = await s.run_sync(organisation_names)
        rephrase = await s.scalar(select(Response.variations).where(Response.name == "utter_ask_rephrase"))
    turns = await tracker.turns(tracker_engine, conversation_ids)
    items = build_items(candidates, history, handoffs, turns, name_patterns(names),
                        [str(v.get("text") or "") for v in rephrase or []])
    chosen = [i for i in items if matches(i, filters)]
    pages = max(1, -(-len(chosen) // PER_PAGE))
    number = min(max(1, filters.page), pages)
    return ReviewPage(chosen[(number - 1) * PER_PAGE: number * PER_PAGE], len(chosen), number, pages, channels)


def build_items(
    candidates: Sequence[tuple[Message, str]], history: Sequence[Message],
    handoffs: Sequence[tuple[str, dt.datetime]], turns: Mapping[str, Sequence[tracker.Turn]],
    patterns: Sequence[tuple[re.Pattern[str], str]], fallback_texts: Sequence[str],
) -> list[Item]:
    by_conversation: dict[str, list[Message]] = {}
    for message in history:
        by_conversation.setdefault(message.conversation_id, []).append(message)
    handoff_times: dict[str, list[dt.datetime]] = {}
    for conversation_id, at in handoffs:
        handoff_times.setdefault(conversation_id, []).append(at if at.tzinfo else at.replace(tzinfo=dt.timezone.utc))
    paired: dict[str, dict[int, tracker.Turn]] = {}
    for conversation_id, messages in by_conversation.items():
        sent = [(m.seq, m.payload or m.text or "") for m in messages if m.role == "user" and m.rasa_status == "done"]
        paired[conversation_id] = pair(sent, turns.get(conversation_id, []))
    items = []
    for message, channel in candidates:
        messages = by_conversation.get(message.conversation_id, [])
        replies = [m.text or "" for m in messages if m.role == "bot" and m.reply_to == message.seq]
        later_users = [m.created_at for m in messages if m.role == "user" and m.seq > message.seq]
        until = min(later_users) if later_users else None
        turn = paired.get(message.conversation_id, {}).get(message.seq)
        item = Item(message.id, message.conversation_id, message.seq, message.created_at, channel, message.text or "")
        if turn is not None:
            item.intent, item.confidence, item.ranking = turn.intent, turn.confidence, turn.ranking
        item.referral = next((t for t in (first_named(r, patterns) for r in replies) if t), None)
        said_fallback = any(r.strip() == f.strip() for r in replies for f in fallback_texts if f.strip())
        item.fallback = item.intent == FALLBACK_INTENT or said_fallback or (
            turn is not None and FALLBACK_ACTION in turn.actions)
        item.handoff = (turn is not None and HANDOFF_ACTION in turn.actions) or any(
            at >= message.created_at and (until is None or at < until)
            for at in handoff_times.get(message.conversation_id, []))
        items.append(item)
    return items
