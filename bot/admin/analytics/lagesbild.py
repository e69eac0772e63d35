"""The weekly lägesbild: what companies asked about (by topic and municipality), which
topics rose or fell against the four weeks before, the situations behind hand-offs, and
typical questions quoted with personal data masked.

A report covers one ISO week (Monday–Sunday, UTC days) and is stored as generated
(`LagesbildReport.data`, plain JSON): on demand by an admin, and by the gateway's weekly
duty as soon as a week has ended (`ensure_scheduled`, at most one per week even with
several gateways: a unique index on `scheduled_week`).
"""

from __future__ import annotations

import datetime as dt
import logging
from typing import Any

from sqlalchemy import and_, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from bot.admin.analytics.charts import Chart, bars
from bot.admin.analytics.models import LagesbildReport
from bot.admin.analytics.queries import as_date, utc_day
from bot.conversation.events import EventKind
from bot.conversation.models import Conversation, ConversationEvent, Message, MessageNlu
from bot.rules import analytics as rules
from bot.rules.queue import HANDOFF_REASONS
from directory.models import Topic

log = logging.getLogger(__name__)

TREND_WEEKS = 4
TOPICS_SHOWN = 12
QUOTED_TOPICS = 5
QUOTES_PER_TOPIC = 3
QUOTE_SCAN = 40
QUOTE_LENGTH = (15, 280)
UNKNOWN_PLACE = "Kommun ej nämnd"
NO_SITUATION = "Ingen tydlig situation (boten förstod inte)"


def _bounds(monday: dt.date, weeks_before: int = 0) -> tuple[dt.datetime, dt.datetime]:
    start = dt.datetime.combine(monday - dt.timedelta(weeks=weeks_before), dt.time(), dt.timezone.utc)
    return start, dt.datetime.combine(monday + dt.timedelta(days=7), dt.time(), dt.timezone.utc)


def _is_topic() -> Any:
    return and_(MessageNlu.intent.is_not(None), MessageNlu.intent.not_in(rules.NOT_TOPICS))


def compute(session: Session, monday: dt.date) -> dict[str, Any]:
    """The report's content for the week starting `monday` (JSON-ready)."""
    start, end = _bounds(monday)
    names = {str(i): str(n) for i, n in session.execute(select(Topic.id, Topic.name))}

    def name(intent: str) -> str:
        return names.get(intent, intent)

    # topics this week and the four before, counted per day by the database
    history_start, _ = _bounds(monday, TREND_WEEKS)
    day = utc_day(session, MessageNlu.at)
    daily = session.execute(
        select(day, MessageNlu.intent, func.count())
        .where(MessageNlu.at >= history_start, MessageNlu.at < end, _is_topic())
        .group_by(day, MessageNlu.intent)
    ).all()
    weekly = rules.bucket_by_week((as_date(d), str(i), int(n)) for d, i, n in daily)
    earlier = [monday - dt.timedelta(weeks=w) for w in range(TREND_WEEKS, 0, -1)]
    this_week = weekly.get(monday, {})
    every_topic = set(this_week) | {t for w in earlier for t in weekly.get(w, {})}
    topics: list[dict[str, Any]] = []
    for intent in every_topic:
        previous = [weekly.get(w, {}).get(intent, 0) for w in earlier]
        count = this_week.get(intent, 0)
        topics.append({"id": intent, "name": name(intent), "count": count, "previous": previous,
                       "average": round(sum(previous) / TREND_WEEKS, 2),
                       "trend": rules.classify_trend(count, previous).value})
    topics.sort(key=lambda t: (-int(t["count"]), str(t["name"])))

    conversations = int(session.scalar(
        select(func.count()).select_from(Conversation)
        .where(Conversation.created_at >= start, Conversation.created_at < end)) or 0)

    # each question's municipality: the one its conversation named this week (the first in
    # sort order). Two grouped reads joined here: a correlated lookup per question made
    # PostgreSQL walk the municipality index for each one (30 s at 100,000 conversations).
    named = dict(session.execute(
        select(MessageNlu.conversation_id, func.min(MessageNlu.municipality))
        .where(MessageNlu.at >= start, MessageNlu.at < end, MessageNlu.municipality.is_not(None))
        .group_by(MessageNlu.conversation_id)
    ).tuples().all())
    asked = session.execute(
        select(MessageNlu.conversation_id, MessageNlu.intent, func.count())
        .where(MessageNlu.at >= start, MessageNlu.at < end, _is_topic())
        .group_by(MessageNlu.conversation_id, MessageNlu.intent)
    ).all()
    places: dict[str, int] = {}
    matrix: dict[str, dict[str, int]] = {}
    for conversation_id, intent, n in asked:
        where = str(named.get(conversation_id) or UNKNOWN_PLACE)
        places[where] = places.get(where, 0) + int(n)
        row = matrix.setdefault(str(intent), {})
        row[where] = row.get(where, 0) + int(n)

    # hand-offs of the week: their reasons, and the situations the conversations were about
    handed = (
        select(ConversationEvent.conversation_id)
        .where(ConversationEvent.kind == EventKind.HANDOFF.value, ConversationEvent.at >= start,
               ConversationEvent.at < end)
    )
    reason = func.coalesce(ConversationEvent.data["reason"].as_string(), "request_human")
    reasons = session.execute(
        select(reason, func.count())
        .where(ConversationEvent.kind == EventKind.HANDOFF.value, ConversationEvent.at >= start,
               ConversationEvent.at < end)
        .group_by(reason)
    ).all()
    handed_count = int(session.scalar(select(func.count(func.distinct(handed.subquery().c.conversation_id)))) or 0)
    situations = session.execute(
        select(MessageNlu.intent, func.count(func.distinct(MessageNlu.conversation_id)))
        .where(MessageNlu.conversation_id.in_(handed), _is_topic())
        .group_by(MessageNlu.intent)
    ).all()
    with_topic = int(session.scalar(
        select(func.count(func.distinct(MessageNlu.conversation_id)))
        .where(MessageNlu.conversation_id.in_(handed), _is_topic())) or 0)
    situation_rows = sorted(((name(str(i)), int(n)) for i, n in situations), key=lambda r: (-r[1], r[0]))
    if handed_count > with_topic:
        situation_rows.append((NO_SITUATION, handed_count - with_topic))

    quotes = []
    for topic in [t for t in topics if int(t["count"]) > 0][:QUOTED_TOPICS]:
        texts = session.scalars(
            select(Message.text)
            .join(MessageNlu, and_(MessageNlu.conversation_id == Message.conversation_id,
                                   MessageNlu.seq == Message.seq))
            .where(MessageNlu.intent == topic["id"], MessageNlu.at >= start, MessageNlu.at < end,
                   Message.text.is_not(None))
            .order_by(MessageNlu.confidence.desc(), Message.id)
            .limit(QUOTE_SCAN)
        ).all()
        quotes.append({"topic": topic["name"], "texts": typical_quotes([str(t) for t in texts])})

    return {
        "week_start": monday.isoformat(),
        "week_end": (monday + dt.timedelta(days=6)).isoformat(),
        "label": rules.week_label(monday),
        "conversations": conversations,
        "questions": sum(this_week.values()),
        "topics": topics[:TOPICS_SHOWN],
        "rising": [t["name"] for t in topics if t["trend"] in (rules.Trend.RISING.value, rules.Trend.NEW.value)],
        "falling": [t["name"] for t in topics if t["trend"] == rules.Trend.FALLING.value],
        "municipalities": sorted(([p, n] for p, n in places.items()), key=lambda r: (-int(r[1]), str(r[0]))),
        "topic_by_municipality": {name(i): row for i, row in matrix.items()},
        "handoffs": handed_count,
        "handoff_reasons": sorted(([HANDOFF_REASONS.get(str(r), str(r)), int(n)] for r, n in reasons),
                                  key=lambda r: (-int(r[1]), str(r[0]))),
        "situations": [[label, n] for label, n in situation_rows],
        "quotes": [q for q in quotes if q["texts"]],
    }


def typical_quotes(texts: list[str]) -> list[str]:
    """Up to three different questions of a fitting length, each with personal data masked."""
    chosen: list[str] = []
    seen: set[str] = set()
    low, high = QUOTE_LENGTH
    for text in texts:
        masked = rules.quote_of(text)
        key = rules.question_key(masked)
        if not low <= len(masked) <= high or key in seen:
            continue
        seen.add(key)
        chosen.append(masked)
        if len(chosen) == QUOTES_PER_TOPIC:
            break
    return chosen


def generate(session: Session, monday: dt.date, now: dt.datetime, by: int | None) -> LagesbildReport:
    """Compute and store a report made on demand."""
    report = LagesbildReport(week_start=monday, generated_at=now, generated_by=by, kind="on_demand",
                             data=compute(session, monday))
    session.add(report)
    session.flush()
    return report


def ensure_scheduled(session: Session, now: dt.datetime) -> LagesbildReport | None:
    """The weekly run: store the report of the week that ended last, unless it exists."""
    monday = rules.previous_week(now.astimezone(dt.timezone.utc).date())
    if session.scalar(select(LagesbildReport.id).where(LagesbildReport.scheduled_week == monday)) is not None:
        return None
    report = LagesbildReport(week_start=monday, scheduled_week=monday, generated_at=now, generated_by=None,
                             kind="scheduled", data=compute(session, monday))
    try:
        with session.begin_nested():
            session.add(report)
    except IntegrityError:  # another gateway stored it meanwhile
        log.info("lägesbild for %s already stored by another gateway", monday)
        return None
    log.info("lägesbild for %s stored", monday)
    return report


def charts(data: dict[str, Any]) -> list[Chart]:
    """The report's charts (and their tables and CSVs)."""
    topics = data["topics"]
    trend_rows = [[t["name"], str(t["count"]), str(t["average"]).replace(".", ","), t["trend"]] for t in topics]
    result = [
        bars("amnen", "Vad företagen frågade om",
             "Frågor per ämne denna vecka, med snittet för de fyra veckorna före och trenden.",
             ["Ämne", "Antal denna vecka", "Snitt fyra veckor före", "Trend"], trend_rows,
             [(t["name"], float(t["count"]), f"{t['count']} ({t['trend']})") for t in topics]),
        bars("kommuner", "Frågor per kommun",
             "Frågor om ett ämne, efter den kommun samtalet nämnde.", ["Kommun", "Antal frågor"],
             [[str(p), str(n)] for p, n in data["municipalities"]],
             [(str(p), float(n), str(n)) for p, n in data["municipalities"]]),
        bars("overlamningsorsaker", "Överlämningar efter orsak",
             f"{data['handoffs']} samtal lämnades över till en rådgivare.", ["Orsak", "Antal"],
             [[str(r), str(n)] for r, n in data["handoff_reasons"]],
             [(str(r), float(n), str(n)) for r, n in data["handoff_reasons"]]),
        bars("situationer", "Situationerna bakom överlämningarna",
             "Vad de överlämnade samtalen handlade om (antal samtal per ämne).", ["Situation", "Antal samtal"],
             [[str(s), str(n)] for s, n in data["situations"]],
             [(str(s), float(n), str(n)) for s, n in data["situations"]]),
    ]
    return result
