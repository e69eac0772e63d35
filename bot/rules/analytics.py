"""The plain rules behind the analytics page and the lägesbild: weeks, percentiles, rates,
trends, and what the NLU's entities say about the company (municipality, size).

No database, web or Rasa code: the queries (bot/admin/analytics/) hand these functions
plain values, and the tests check them with hand-written ones.
"""

from __future__ import annotations

import datetime as dt
import math
import re
import unicodedata
from collections.abc import Iterable, Mapping, Sequence
from enum import Enum

from bot.rules.personal_numbers import mask as mask_personal_numbers

# ---------------------------------------------------------------- weeks


def week_start(day: dt.date) -> dt.date:
    """The Monday of the ISO week `day` lies in."""
    return day - dt.timedelta(days=day.weekday())


def week_label(monday: dt.date) -> str:
    """'v. 49 2026' for the ISO week starting `monday` (the ISO year, so 29 Dec 2025 is v. 1 2026)."""
    year, week, _ = monday.isocalendar()
    return f"v. {week} {year}"


def previous_week(today: dt.date) -> dt.date:
    """The Monday of the last whole week before `today` (what a Monday report covers)."""
    return week_start(today) - dt.timedelta(days=7)


def bucket_by_week(rows: Iterable[tuple[dt.date, str, int]]) -> dict[dt.date, dict[str, int]]:
    """Daily counts (day, key, count) summed per week (its Monday) and key."""
    weeks: dict[dt.date, dict[str, int]] = {}
    for day, key, count in rows:
        per_key = weeks.setdefault(week_start(day), {})
        per_key[key] = per_key.get(key, 0) + count
    return dict(sorted(weeks.items()))


def days_between(start: dt.date, end: dt.date) -> list[dt.date]:
    """Every day from `start` to `end`, both included."""
    return [start + dt.timedelta(days=n) for n in range((end - start).days + 1)]


# ---------------------------------------------------------------- percentiles and rates


def rank_index(count: int, fraction: float) -> int:
    """0-based position of the nearest-rank percentile in `count` sorted values
    (p50 of 4 values is the 2nd, p90 of 10 values the 9th)."""
    if count <= 0:
        raise ValueError("no values")
    if not 0.0 < fraction <= 1.0:
        raise ValueError("fraction must lie in (0, 1]")
    return max(0, math.ceil(fraction * count) - 1)


def percentile(sorted_values: Sequence[float], fraction: float) -> float | None:
    """The nearest-rank percentile of already sorted values; None when there are none."""
    if not sorted_values:
        return None
    return sorted_values[rank_index(len(sorted_values), fraction)]


def rate(part: int, whole: int) -> float | None:
    """part / whole, or None when there is nothing to divide by (shown as '–')."""
    return part / whole if whole else None


# ---------------------------------------------------------------- trends


class Trend(str, Enum):
    RISING = "stigande"
    FALLING = "fallande"
    NEW = "ny"
    STEADY = "oförändrad"


# A topic moves only if it changed by half its usual level and by at least this many
# questions: three questions more than an average of one is noise, not a trend.
TREND_RATIO = 1.5
TREND_MIN_CHANGE = 3


def classify_trend(current: int, previous: Sequence[int]) -> Trend:
    """A week's count against the average of the weeks before it (the lägesbild uses four)."""
    baseline = sum(previous) / len(previous) if previous else 0.0
    if baseline == 0:
        return Trend.NEW if current >= TREND_MIN_CHANGE else Trend.STEADY
    if current >= baseline * TREND_RATIO and current - baseline >= TREND_MIN_CHANGE:
        return Trend.RISING
    if current <= baseline / TREND_RATIO and baseline - current >= TREND_MIN_CHANGE:
        return Trend.FALLING
    return Trend.STEADY


# ---------------------------------------------------------------- the company, from NLU entities

# Region Västmanland's ten municipalities (and Heby, which many still count with them).
MUNICIPALITIES = (
    "Arboga", "Fagersta", "Hallstahammar", "Heby", "Kungsör", "Köping", "Norberg", "Sala",
    "Skinnskatteberg", "Surahammar", "Västerås",
)
SIZE_BUCKETS = ("0", "1–9", "10–49", "50–249", "250+")
SIZE_LABELS = {
    "0": "Ensamföretag",
    "1–9": "1–9 anställda",
    "10–49": "10–49 anställda",
    "50–249": "50–249 anställda",
    "250+": "250 eller fler",
}
_NUMBER = re.compile(r"\d+")
_ONE_PERSON = re.compile(r"ensam|enmans|solo|egenforetag|sjalv|inga anstallda|utan anstallda")


def fold(text: str) -> str:
    """Lower case without diacritics: 'Västerås' -> 'vasteras'."""
    decomposed = unicodedata.normalize("NFKD", text.lower())
    return "".join(c for c in decomposed if not unicodedata.combining(c))


_MUNICIPALITY_BY_FOLD = {fold(m): m for m in MUNICIPALITIES}


def municipality_of(value: str) -> str | None:
    """A municipality entity's value as the municipality's name ('vasteras', 'Västerås
    kommun' -> 'Västerås'); an unknown place keeps its own capitalised name."""
    folded = fold(value).strip()
    folded = re.sub(r"\s+(kommun|stad)$", "", folded)
    folded = re.sub(r"s$", "", folded) if folded not in _MUNICIPALITY_BY_FOLD else folded
    if not folded:
        return None
    known = _MUNICIPALITY_BY_FOLD.get(folded)
    if known:
        return known
    cleaned = value.strip()
    return cleaned[:1].upper() + cleaned[1:64] if cleaned else None


def size_bucket(value: str) -> str | None:
    """A company_size entity's value as a size class ('12 anställda' -> '10–49',
    'ensamföretagare' -> '0'); None when it says no number."""
    number = _NUMBER.search(value)
    if number:
        employees = int(number.group())
        if employees == 0:
            return "0"
        if employees < 10:
            return "1–9"
        if employees < 50:
            return "10–49"
        if employees < 250:
            return "50–249"
        return "250+"
    return "0" if _ONE_PERSON.search(fold(value)) else None


def company_facets(entities: Iterable[Mapping[str, str]]) -> tuple[str | None, str | None]:
    """(municipality, size class) from one message's entities: the first of each that says something."""
    municipality = size = None
    for entity in entities:
        name, value = entity.get("entity"), str(entity.get("value") or "")
        if name == "municipality" and municipality is None:
            municipality = municipality_of(value)
        elif name == "company_size" and size is None:
            size = size_bucket(value)
    return municipality, size


# ---------------------------------------------------------------- questions

# Intents about the conversation itself, not a situation a company is in: they are no
# topic of the lägesbild (the same list the actions use to decide what to refer).
NOT_TOPICS = (
    "greet", "thank", "goodbye", "affirm", "deny", "request_human", "complaint", "out_of_scope",
    "ask_contact", "ask_more", "inform_situation", "chitchat", "faq", "nlu_fallback",
)


_NOT_WORD = re.compile(r"[^\w\s]+")
_SPACES = re.compile(r"\s+")


def question_key(text: str) -> str:
    """A company question reduced for grouping: lower case, no punctuation, single spaces
    ('Hur startar jag eget?!' and 'hur startar jag  eget' are the same question)."""
    return _SPACES.sub(" ", _NOT_WORD.sub(" ", text.lower())).strip()


def group_questions(counted: Iterable[tuple[str, int]]) -> list[tuple[str, str, int]]:
    """(text, count) rows grouped by `question_key`: (key, the most frequent wording,
    total), most asked first, then alphabetically."""
    totals: dict[str, int] = {}
    wording: dict[str, tuple[int, str]] = {}
    for raw, count in counted:
        key = question_key(raw)
        if not key:
            continue
        text = " ".join(raw.split())
        totals[key] = totals.get(key, 0) + count
        best = wording.get(key)
        # the most frequent wording; between equals the first in sort order (capitals first)
        if best is None or count > best[0] or (count == best[0] and text < best[1]):
            wording[key] = (count, text)
    return sorted(((k, wording[k][1], n) for k, n in totals.items()), key=lambda row: (-row[2], row[0]))


# ---------------------------------------------------------------- quotes

_EMAIL = re.compile(r"[\w.+-]+@[\w-]+(\.[\w-]+)+")
# Swedish phone numbers as people write them: 070-123 45 67, 021-10 20 30, +46 70 123 45 67.
_PHONE = re.compile(r"(?<![\w+])(\+46|0)[\s-]?\d{1,3}[\s-]?\d{2,3}(?:[\s-]?\d{2}){1,3}(?!\d)")
EMAIL_MASK = "[e-post borttagen]"
PHONE_MASK = "[telefonnummer borttaget]"


def mask_quote(text: str) -> str:
    """A company's question fit to quote in a report: personnummer and samordningsnummer
    (the privacy rule, checksum-validated), e-mail addresses and phone numbers masked."""
    masked = mask_personal_numbers(text)
    masked = _EMAIL.sub(EMAIL_MASK, masked)
    return _PHONE.sub(PHONE_MASK, masked)


def quote_of(text: str) -> str:
    """The form a company's message takes when a report quotes it."""
    return mask_quote(" ".join(text.split()))


def without_quotes(data: Mapping[str, object], texts: Iterable[str] | None = None) -> tuple[dict[str, object], int]:
    """A stored report's data with the quotes of `texts` removed (all quotes when None,
    because their transcripts have expired); returns the new data and how many went."""
    gone = None if texts is None else {quote_of(t) for t in texts}
    kept_topics: list[dict[str, object]] = []
    removed = 0
    raw = data.get("quotes")
    for topic in raw if isinstance(raw, list) else []:
        quotes = [str(q) for q in topic.get("texts", [])]
        kept = [] if gone is None else [q for q in quotes if q not in gone]
        removed += len(quotes) - len(kept)
        if kept:
            kept_topics.append({**topic, "texts": kept})
    return {**data, "quotes": kept_topics}, removed
