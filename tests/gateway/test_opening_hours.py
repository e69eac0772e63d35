"""Opening hours: a weekly schedule in Stockholm time, closed on Swedish holidays."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest

from bot.rules.holidays import closed_days, easter_sunday, holiday_name
from bot.rules.hours import (
    HoursError,
    describe_hours_sv,
    format_moment_sv,
    is_open,
    next_opening,
    parse_hours,
)

STOCKHOLM = ZoneInfo("Europe/Stockholm")
DEFAULT = parse_hours("mon-fri 08:00-16:30")


def at(year: int, month: int, day: int, hour: int = 10, minute: int = 0) -> dt.datetime:
    return dt.datetime(year, month, day, hour, minute, tzinfo=STOCKHOLM)


@pytest.mark.parametrize(
    ("year", "easter"),
    [(2024, dt.date(2024, 3, 31)), (2025, dt.date(2025, 4, 20)), (2026, dt.date(2026, 4, 5)),
     (2027, dt.date(2027, 3, 28)), (2038, dt.date(2038, 4, 25)), (2285, dt.date(2285, 3, 22))],
)  # fmt: skip
def test_easter_sunday(year: int, easter: dt.date) -> None:
    assert easter_sunday(year) == easter


def test_the_swedish_holidays_of_2026() -> None:
    assert closed_days(2026) == {
        dt.date(2026, 1, 1): "nyårsdagen",
        dt.date(2026, 1, 6): "trettondedag jul",
        dt.date(2026, 4, 3): "långfredagen",
        dt.date(2026, 4, 4): "påskafton",
        dt.date(2026, 4, 5): "påskdagen",
        dt.date(2026, 4, 6): "annandag påsk",
        dt.date(2026, 5, 1): "första maj",
        dt.date(2026, 5, 14): "Kristi himmelsfärdsdag",
        dt.date(2026, 5, 23): "pingstafton",
        dt.date(2026, 5, 24): "pingstdagen",
        dt.date(2026, 6, 6): "Sveriges nationaldag",
        dt.date(2026, 6, 19): "midsommarafton",
        dt.date(2026, 6, 20): "midsommardagen",
        dt.date(2026, 10, 31): "alla helgons dag",
        dt.date(2026, 12, 24): "julafton",
        dt.date(2026, 12, 25): "juldagen",
        dt.date(2026, 12, 26): "annandag jul",
        dt.date(2026, 12, 31): "nyårsafton",
    }


@pytest.mark.parametrize(
    ("day", "name"),
    [
        (dt.date(2025, 6, 20), "midsommarafton"),  # Friday between 19 and 25 June
        (dt.date(2027, 6, 25), "midsommarafton"),
        (dt.date(2025, 11, 1), "alla helgons dag"),  # Saturday between 31 Oct and 6 Nov
        (dt.date(2025, 5, 29), "Kristi himmelsfärdsdag"),
        (dt.date(2025, 4, 18), "långfredagen"),
        (dt.date(2025, 4, 21), "annandag påsk"),
        (dt.date(2025, 6, 18), None),
    ],
)
def test_moving_holidays(day: dt.date, name: str | None) -> None:
    assert holiday_name(day) == name


def test_open_on_weekdays_in_office_hours_only() -> None:
    assert is_open(DEFAULT, at(2026, 11, 24, 8, 0))  # Tuesday, opening minute
    assert is_open(DEFAULT, at(2026, 11, 24, 16, 29))
    assert not is_open(DEFAULT, at(2026, 11, 24, 16, 30))  # closing minute
    assert not is_open(DEFAULT, at(2026, 11, 24, 7, 59))
    assert not is_open(DEFAULT, at(2026, 11, 28, 10, 0))  # Saturday


@pytest.mark.parametrize(
    "day",
    [
        dt.date(2026, 4, 3),  # långfredagen
        dt.date(2026, 4, 6),  # annandag påsk
        dt.date(2026, 5, 14),  # Kristi himmelsfärdsdag
        dt.date(2026, 6, 19),  # midsommarafton
        dt.date(2025, 12, 24),  # julafton, a Wednesday
        dt.date(2025, 12, 31),  # nyårsafton, a Wednesday
        dt.date(2026, 1, 6),  # trettondedag jul, a Tuesday
    ],
)
def test_closed_on_holidays_and_the_three_eves(day: dt.date) -> None:
    assert not is_open(DEFAULT, at(day.year, day.month, day.day, 10, 0))


def test_utc_moments_are_judged_in_stockholm_time() -> None:
    # 07:30 UTC is 08:30 in winter (open) and 09:30 in summer (open); 15:45 UTC is 16:45/17:45.
    assert is_open(DEFAULT, dt.datetime(2026, 11, 24, 7, 30, tzinfo=dt.timezone.utc))
    assert not is_open(DEFAULT, dt.datetime(2026, 11, 24, 15, 45, tzinfo=dt.timezone.utc))
    assert not is_open(DEFAULT, dt.datetime(2026, 7, 7, 5, 30, tzinfo=dt.timezone.utc))


def test_next_opening_skips_evenings_weekends_and_holidays() -> None:
    assert next_opening(DEFAULT, at(2026, 11, 24, 20, 0)) == at(2026, 11, 25, 8, 0)
    assert next_opening(DEFAULT, at(2026, 11, 27, 17, 0)) == at(2026, 11, 30, 8, 0)  # Fri→Mon
    assert next_opening(DEFAULT, at(2026, 11, 24, 6, 0)) == at(2026, 11, 24, 8, 0)
    # Christmas 2026: Thu 24 julafton, Fri 25 juldagen, then the weekend.
    assert next_opening(DEFAULT, at(2026, 12, 23, 17, 0)) == at(2026, 12, 28, 8, 0)
    # Easter 2026: långfredagen to annandag påsk.
    assert next_opening(DEFAULT, at(2026, 4, 2, 17, 0)) == at(2026, 4, 7, 8, 0)


def test_an_always_open_schedule_for_demos() -> None:
    always = parse_hours("always")
    assert is_open(always, at(2026, 12, 24, 3, 0))
    assert describe_hours_sv(always) == "dygnet runt"


def test_several_ranges_and_extra_closed_days() -> None:
    hours = parse_hours(
        "mon-thu 08:00-16:30; fri 08:00-15:00; sat 10:00-12:00",
        closed_dates=("2026-11-27",),
    )
    assert is_open(hours, at(2026, 11, 28, 11, 0))
    assert not is_open(hours, at(2026, 11, 27, 10, 0))  # a klämdag
    assert not is_open(hours, at(2026, 12, 4, 15, 30))  # Fridays end at 15:00
    assert is_open(hours, at(2026, 12, 3, 15, 30))
    assert describe_hours_sv(hours) == (
        "måndag–torsdag 08:00–16:30; fredagar 08:00–15:00; lördagar 10:00–12:00"
    )
    assert describe_hours_sv(DEFAULT) == "vardagar 08:00–16:30"


@pytest.mark.parametrize(
    "spec", ["mon-fri", "mon-fri 8-16", "fri-mon 08:00-16:00", "xyz 08:00-10:00", "mon 10:00-09:00"]
)
def test_unreadable_opening_hours_are_refused(spec: str) -> None:
    with pytest.raises(HoursError):
        parse_hours(spec)


def test_unknown_time_zone_and_bad_dates_are_refused() -> None:
    with pytest.raises(HoursError):
        parse_hours("mon-fri 08:00-16:30", "Mars/Olympus")
    with pytest.raises(HoursError):
        parse_hours("mon-fri 08:00-16:30", closed_dates=("24/12",))


def test_swedish_wording_of_the_next_opening() -> None:
    now = at(2026, 11, 24, 20, 0)
    assert format_moment_sv(at(2026, 11, 24, 21, 0), now) == "i dag kl. 21:00"
    assert format_moment_sv(at(2026, 11, 25, 8, 0), now) == "i morgon kl. 08:00"
    assert format_moment_sv(at(2026, 11, 30, 8, 0), now) == "måndag 30 november kl. 08:00"
