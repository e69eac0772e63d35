"""Opening hours of the advisors: a weekly schedule, Swedish holidays and extra closed days.

The schedule is written like `mon-fri 08:00-16:30` or `mon-thu 08:00-16:30; fri 08:00-15:00`;
`always` means open around the clock (demos and benchmarks).
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from bot.rules.holidays import holiday_name

DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
DAY_NAMES_SV = ("måndag", "tisdag", "onsdag", "torsdag", "fredag", "lördag", "söndag")
MONTH_NAMES_SV = (
    "januari", "februari", "mars", "april", "maj", "juni",
    "juli", "augusti", "september", "oktober", "november", "december",
)  # fmt: skip

_RANGE = re.compile(
    r"^(?P<d1>[a-z]{3})(?:-(?P<d2>[a-z]{3}))?\s+"
    r"(?P<h1>\d{1,2}):(?P<m1>\d{2})\s*-\s*(?P<h2>\d{1,2}):(?P<m2>\d{2})$"
)

# A span of a day in minutes since midnight: [start, end).
Span = tuple[int, int]


class HoursError(ValueError):
    """The opening hours setting cannot be understood."""


@dataclass(frozen=True)
class OpeningHours:
    weekly: tuple[tuple[Span, ...], ...]  # index 0 = Monday
    tz: ZoneInfo
    closed_dates: frozenset[dt.date] = field(default_factory=frozenset)
    always: bool = False


def parse_hours(spec: str, timezone: str = "Europe/Stockholm", closed_dates: tuple[str, ...] = ()) -> OpeningHours:
    try:
        tz = ZoneInfo(timezone)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise HoursError(f"unknown time zone {timezone!r}") from exc
    try:
        extra = frozenset(dt.date.fromisoformat(d) for d in closed_dates)
    except ValueError as exc:
        raise HoursError(f"closed dates must be YYYY-MM-DD: {closed_dates!r}") from exc
    text = spec.strip().lower()
    if text == "always":
        return OpeningHours(weekly=((),) * 7, tz=tz, closed_dates=extra, always=True)
    weekly: list[list[Span]] = [[] for _ in DAYS]
    for part in filter(None, (p.strip() for p in text.split(";"))):
        match = _RANGE.match(part)
        if not match:
            raise HoursError(f"cannot read opening hours {part!r} (e.g. 'mon-fri 08:00-16:30')")
        d1, d2 = match["d1"], match["d2"] or match["d1"]
        if d1 not in DAYS or d2 not in DAYS:
            raise HoursError(f"unknown day in {part!r}; use {', '.join(DAYS)}")
        start = int(match["h1"]) * 60 + int(match["m1"])
        end = int(match["h2"]) * 60 + int(match["m2"])
        if not 0 <= start < end <= 24 * 60 or int(match["m1"]) > 59 or int(match["m2"]) > 59:
            raise HoursError(f"bad time range in {part!r}")
        first, last = DAYS.index(d1), DAYS.index(d2)
        if last < first:
            raise HoursError(f"day range goes backwards in {part!r}")
        for day in range(first, last + 1):
            weekly[day].append((start, end))
    return OpeningHours(weekly=tuple(tuple(sorted(spans)) for spans in weekly), tz=tz, closed_dates=extra)


def closed_reason(hours: OpeningHours, day: dt.date) -> str | None:
    """Why the whole `day` is closed (a holiday's name, or 'stängt'), or None."""
    if hours.always:
        return None
    if day in hours.closed_dates:
        return "stängt"
    return holiday_name(day)


def _spans(hours: OpeningHours, day: dt.date) -> tuple[Span, ...]:
    if hours.always:
        return ((0, 24 * 60),)
    if closed_reason(hours, day):
        return ()
    return hours.weekly[day.weekday()]


def is_open(hours: OpeningHours, now: dt.datetime) -> bool:
    """Whether advisors answer at the aware moment `now`."""
    local = now.astimezone(hours.tz)
    minute = local.hour * 60 + local.minute
    return any(start <= minute < end for start, end in _spans(hours, local.date()))


def next_opening(hours: OpeningHours, now: dt.datetime) -> dt.datetime | None:
    """The next moment (aware, in the office's zone) the office opens after `now`.

    Returns `now` itself when open, None when no opening exists within a year.
    """
    if is_open(hours, now):
        return now.astimezone(hours.tz)
    local = now.astimezone(hours.tz)
    minute = local.hour * 60 + local.minute
    for offset in range(0, 370):
        day = local.date() + dt.timedelta(days=offset)
        for start, _end in _spans(hours, day):
            if offset == 0 and start <= minute:
                continue
            naive = dt.datetime.combine(day, dt.time(start // 60, start % 60))
            return naive.replace(tzinfo=hours.tz)
    return None


def format_moment_sv(moment: dt.datetime, now: dt.datetime) -> str:
    """'i dag kl. 08:00', 'i morgon kl. 08:00' or 'tisdag 24 november kl. 08:00'."""
    local = moment.astimezone(moment.tzinfo)
    today = now.astimezone(moment.tzinfo).date()
    clock = f"kl. {local:%H:%M}"
    if local.date() == today:
        return f"i dag {clock}"
    if local.date() == today + dt.timedelta(days=1):
        return f"i morgon {clock}"
    return f"{DAY_NAMES_SV[local.weekday()]} {local.day} {MONTH_NAMES_SV[local.month - 1]} {clock}"


def describe_hours_sv(hours: OpeningHours) -> str:
    """A short Swedish description, e.g. 'vardagar 08:00–16:30'."""
    if hours.always:
        return "dygnet runt"
    groups: list[tuple[int, int, tuple[Span, ...]]] = []
    for index, spans in enumerate(hours.weekly):
        if not spans:
            continue
        if groups and groups[-1][1] == index - 1 and groups[-1][2] == spans:
            groups[-1] = (groups[-1][0], index, spans)
        else:
            groups.append((index, index, spans))
    parts = []
    for first, last, spans in groups:
        if (first, last) == (0, 4):
            days = "vardagar"
        elif first == last:
            days = f"{DAY_NAMES_SV[first]}ar"
        else:
            days = f"{DAY_NAMES_SV[first]}–{DAY_NAMES_SV[last]}"
        times = ", ".join(f"{_hhmm(s)}–{_hhmm(e)}" for s, e in spans)
        parts.append(f"{days} {times}")
    return "; ".join(parts) if parts else "stängt"


def _hhmm(minutes: int) -> str:
    return f"{minutes // 60:02d}:{minutes % 60:02d}"
