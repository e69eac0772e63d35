"""Every figure of the analytics page, in SQL that runs on SQLite and PostgreSQL.

The period is UTC days, both ends included. Figures about conversations (per day, the
share handed to a person) count the conversations *opened* in it; figures about things
with their own time count those that happened in it: company messages (fallbacks,
unanswered questions, referrals), hand-offs (reasons) and waits for an advisor (queue
wait, first reply). The other filters choose conversations: channel, municipality and
company size (a conversation matches when one of its messages named them,
`message_nlu.municipality/company_size`), and for an advisor's own page the conversations
the advisor claimed. Counting is done by the database and reads covering indexes
(migration 0016_analytics); the rows fetched are one per group (day × channel, reason,
question wording, day × target) and, for percentiles, the sorted durations.

Two expressions differ between the databases and are built per dialect: a timestamp's UTC
day, and the seconds between two timestamps.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any, cast

from sqlalchemy import ColumnElement, Select, and_, case, func, literal, select
from sqlalchemy.orm import Session, aliased

from bot.admin.analytics.csat import CsatFigures, csat_figures
from bot.conversation.events import EventKind
from bot.conversation.models import Conversation, ConversationEvent, Message, MessageNlu, QueueEntry
from bot.rules import analytics as rules

FALLBACK_INTENT = "nlu_fallback"
# Turns the bot could not answer: it did not understand, or the question is outside its remit.
UNANSWERED_INTENTS = (FALLBACK_INTENT, "out_of_scope")
# The most distinct wordings read when grouping unanswered questions (most frequent first).
QUESTION_SCAN = 5000


@dataclass(frozen=True)
class Filters:
    start: dt.date
    end: dt.date  # included
    channel: str = ""
    municipality: str = ""
    size: str = ""
    advisor_id: int | None = None  # an advisor's own figures

    @property
    def start_at(self) -> dt.datetime:
        return dt.datetime.combine(self.start, dt.time(), dt.timezone.utc)

    @property
    def end_at(self) -> dt.datetime:
        return dt.datetime.combine(self.end + dt.timedelta(days=1), dt.time(), dt.timezone.utc)


@dataclass(frozen=True)
class Durations:
    count: int
    p50: float | None
    p90: float | None


@dataclass
class Figures:
    filters: Filters
    per_day: dict[dt.date, dict[str, int]]
    channels: list[str]
    total: int
    handed_off: int
    handoff_reasons: list[tuple[str, int]]
    turns: int
    fallbacks: int
    unanswered: list[tuple[str, str, int]]  # (key, wording, count)
    referrals: dict[dt.date, dict[str, int]]  # week -> target -> count
    queue_wait: Durations
    first_reply: Durations
    csat: CsatFigures
    municipalities: list[str] = field(default_factory=list)

    @property
    def contained(self) -> int:
        return self.total - self.handed_off

    @property
    def containment(self) -> float | None:
        return rules.rate(self.contained, self.total)

    @property
    def handoff_rate(self) -> float | None:
        return rules.rate(self.handed_off, self.total)

    @property
    def fallback_rate(self) -> float | None:
        return rules.rate(self.fallbacks, self.turns)


# ---------------------------------------------------------------- dialect expressions


def utc_day(session: Session, column: Any) -> ColumnElement[Any]:
    """The UTC calendar day of a timestamp column."""
    if session.get_bind().dialect.name == "postgresql":
        return func.date(func.timezone("UTC", column))
    return func.date(column)  # SQLite stores UTC text: 'YYYY-MM-DD HH:MM:SS...'


def seconds_between(session: Session, start: Any, end: Any) -> ColumnElement[Any]:
    """(end - start) in seconds, as a float."""
    if session.get_bind().dialect.name == "postgresql":
        return cast(ColumnElement[Any], func.extract("epoch", end - start))
    return (func.julianday(end) - func.julianday(start)) * 86400.0


def as_date(value: object) -> dt.date:
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    return dt.date.fromisoformat(str(value)[:10])


# ---------------------------------------------------------------- the conversations in scope


def conversation_filters(filters: Filters) -> list[ColumnElement[bool]]:
    """The conditions on `Conversation` of the filters other than the period."""
    conditions: list[ColumnElement[bool]] = []
    if filters.channel:
        conditions.append(Conversation.channel == filters.channel)
    # Uncorrelated IN (subquery): both databases compute the set once (an EXISTS per
    # conversation made SQLite walk an index on the wrong column for each one). Aliases
    # keep the subqueries apart from a figure's own message_nlu or event rows.
    if filters.municipality:
        said = aliased(MessageNlu)
        conditions.append(Conversation.id.in_(
            select(said.conversation_id).where(said.municipality == filters.municipality)))
    if filters.size:
        said = aliased(MessageNlu)
        conditions.append(Conversation.id.in_(select(said.conversation_id).where(said.company_size == filters.size)))
    if filters.advisor_id is not None:
        claim = aliased(ConversationEvent)
        conditions.append(Conversation.id.in_(
            select(claim.conversation_id).where(claim.kind == EventKind.CLAIMED.value,
                                                claim.advisor_id == filters.advisor_id)))
    return conditions


def scope_conditions(filters: Filters) -> list[ColumnElement[bool]]:
    """The conditions on `Conversation` that choose the conversations opened in the period."""
    return [Conversation.created_at >= filters.start_at, Conversation.created_at < filters.end_at,
            *conversation_filters(filters)]


def of_chosen_conversations(column: Any, filters: Filters) -> list[ColumnElement[bool]]:
    """For rows with their own time (messages, waits): `column` (a conversation id) belongs
    to a conversation the filters choose; nothing to check without filters."""
    chosen = conversation_filters(filters)
    return [column.in_(select(Conversation.id).where(*chosen))] if chosen else []


def _human_involved() -> ColumnElement[bool]:
    """The conversation was handed off (asked for, or an advisor took it over)."""
    event = aliased(ConversationEvent)
    return Conversation.id.in_(
        select(event.conversation_id).where(event.kind.in_((EventKind.HANDOFF.value, EventKind.CLAIMED.value)))
    )


# ---------------------------------------------------------------- the figures


def conversations_per_day(session: Session, filters: Filters) -> dict[dt.date, dict[str, int]]:
    day = utc_day(session, Conversation.created_at)
    rows = session.execute(
        select(day, Conversation.channel, func.count()).where(*scope_conditions(filters))
        .group_by(day, Conversation.channel)
    ).all()
    out: dict[dt.date, dict[str, int]] = {}
    for raw_day, channel, count in rows:
        out.setdefault(as_date(raw_day), {})[str(channel)] = int(count)
    return dict(sorted(out.items()))


def containment(session: Session, filters: Filters) -> tuple[int, int]:
    """(conversations, conversations handed to a person)."""
    row = session.execute(
        select(func.count(), func.coalesce(func.sum(case((_human_involved(), 1), else_=0)), 0))
        .select_from(Conversation).where(*scope_conditions(filters))
    ).one()
    return int(row[0]), int(row[1])


def handoff_reasons(session: Session, filters: Filters) -> list[tuple[str, int]]:
    """Hand-offs (events) of the period by their reason, most frequent first."""
    reason = func.coalesce(ConversationEvent.data["reason"].as_string(), literal("request_human"))
    rows = session.execute(
        select(reason, func.count())
        .where(ConversationEvent.kind == EventKind.HANDOFF.value, ConversationEvent.at >= filters.start_at,
               ConversationEvent.at < filters.end_at,
               *of_chosen_conversations(ConversationEvent.conversation_id, filters))
        .group_by(reason)
    ).all()
    return sorted(((str(r), int(n)) for r, n in rows), key=lambda row: (-row[1], row[0]))


def _messages_in(filters: Filters) -> list[ColumnElement[bool]]:
    """Company messages of the period (their own time) in the chosen conversations."""
    return [MessageNlu.at >= filters.start_at, MessageNlu.at < filters.end_at,
            *of_chosen_conversations(MessageNlu.conversation_id, filters)]


def fallback_counts(session: Session, filters: Filters) -> tuple[int, int]:
    """(company messages the NLU read, of them not understood)."""
    row = session.execute(
        select(func.count(), func.coalesce(func.sum(case((MessageNlu.intent == FALLBACK_INTENT, 1), else_=0)), 0))
        .select_from(MessageNlu)
        .where(*_messages_in(filters))
    ).one()
    return int(row[0]), int(row[1])


def unanswered_questions(session: Session, filters: Filters, limit: int = 10) -> list[tuple[str, str, int]]:
    """The questions the bot could not answer, grouped by their normalised wording."""
    rows = session.execute(
        select(Message.text, func.count().label("n"))
        .select_from(MessageNlu)
        .join(Message, and_(Message.conversation_id == MessageNlu.conversation_id, Message.seq == MessageNlu.seq))
        .where(MessageNlu.intent.in_(UNANSWERED_INTENTS), Message.text.is_not(None), *_messages_in(filters))
        .group_by(Message.text)
        .order_by(func.count().desc())
        .limit(QUESTION_SCAN)
    ).all()
    return rules.group_questions((str(text), int(n)) for text, n in rows)[:limit]


def referrals_per_week(session: Session, filters: Filters) -> dict[dt.date, dict[str, int]]:
    day = utc_day(session, MessageNlu.at)
    rows = session.execute(
        select(day, MessageNlu.referral_target, func.count())
        .where(MessageNlu.referral_target.is_not(None), *_messages_in(filters))
        .group_by(day, MessageNlu.referral_target)
    ).all()
    return rules.bucket_by_week((as_date(d), str(target), int(n)) for d, target, n in rows)


def _percentiles(session: Session, durations: Select[Any]) -> Durations:
    """Count, p50 and p90 of a one-column query of durations (seconds): the database
    computes and sorts them, one pass; the nearest ranks are picked here."""
    sub = durations.subquery()
    value = sub.c[0]
    ordered = [max(0.0, float(v)) for v in session.scalars(select(value).where(value.is_not(None)).order_by(value))]
    return Durations(len(ordered), rules.percentile(ordered, 0.5), rules.percentile(ordered, 0.9))


def _claims(filters: Filters) -> list[ColumnElement[bool]]:
    """The waits of the period (by when they began) that an advisor claimed."""
    conditions = [QueueEntry.enqueued_at >= filters.start_at, QueueEntry.enqueued_at < filters.end_at,
                  QueueEntry.claimed_at.is_not(None), *of_chosen_conversations(QueueEntry.conversation_id, filters)]
    if filters.advisor_id is not None:
        conditions.append(QueueEntry.claimed_by == filters.advisor_id)
    return conditions


def queue_wait(session: Session, filters: Filters) -> Durations:
    """Seconds from joining the queue to an advisor's claim, for every claimed wait."""
    wait = seconds_between(session, QueueEntry.enqueued_at, QueueEntry.claimed_at)
    return _percentiles(session, select(wait.label("seconds")).where(*_claims(filters)))


def first_reply(session: Session, filters: Filters) -> Durations:
    """Seconds from an advisor's claim to the first advisor message after it."""
    reply = seconds_between(session, QueueEntry.claimed_at, func.min(Message.created_at))
    return _percentiles(session, (
        select(reply.label("seconds"))
        .join(Message, and_(Message.conversation_id == QueueEntry.conversation_id, Message.role == "advisor",
                            Message.created_at >= QueueEntry.claimed_at))
        .where(*_claims(filters))
        .group_by(QueueEntry.id, QueueEntry.claimed_at)
    ))


def channels_and_municipalities(session: Session) -> tuple[list[str], list[str]]:
    """The choices of the filters: every channel and municipality seen."""
    channels = [str(c) for c in session.scalars(select(Conversation.channel).distinct().order_by(Conversation.channel))]
    places = [str(m) for m in session.scalars(
        select(MessageNlu.municipality).where(MessageNlu.municipality.is_not(None)).distinct()
        .order_by(MessageNlu.municipality))]
    return channels, sorted(set(places) | set(rules.MUNICIPALITIES))


def _csat(session: Session, filters: Filters) -> CsatFigures:
    chosen = conversation_filters(filters)
    return csat_figures(session, filters.start_at, filters.end_at, filters.advisor_id,
                        select(Conversation.id).where(*chosen) if chosen else None)


# What each chart needs (a CSV export computes only its chart's figures).
NEEDS = {
    "samtal-per-dag": "per_day", "utfall": "containment", "overlamningsorsaker": "reasons",
    "fallback": "fallback", "obesvarade": "unanswered", "hanvisningar": "referrals",
    "vantetider": "waits", "csat": "csat",
}


def figures(session: Session, filters: Filters, only: str | None = None) -> Figures:
    """Every figure of the page, or with `only` (a chart id) just that chart's; an
    advisor's own page leaves the bot-only figures empty."""
    own = filters.advisor_id is not None

    def wanted(part: str, bot_only: bool = False) -> bool:
        return (only is None or NEEDS.get(only) == part) and not (bot_only and own)

    total, handed = containment(session, filters) if wanted("containment") else (0, 0)
    turns, fallbacks = fallback_counts(session, filters) if wanted("fallback", bot_only=True) else (0, 0)
    channels, municipalities = channels_and_municipalities(session) if only is None else ([], [])
    waits = wanted("waits")
    return Figures(
        filters=filters,
        per_day=conversations_per_day(session, filters) if wanted("per_day") else {},
        channels=channels,
        total=total,
        handed_off=handed,
        handoff_reasons=handoff_reasons(session, filters) if wanted("reasons") else [],
        turns=turns,
        fallbacks=fallbacks,
        unanswered=unanswered_questions(session, filters) if wanted("unanswered", bot_only=True) else [],
        referrals=referrals_per_week(session, filters) if wanted("referrals", bot_only=True) else {},
        queue_wait=queue_wait(session, filters) if waits else Durations(0, None, None),
        first_reply=first_reply(session, filters) if waits else Durations(0, None, None),
        csat=_csat(session, filters) if wanted("csat") else CsatFigures(),
        municipalities=municipalities,
    )
