"""Swedish public holidays, and the eves that are treated as closed days."""

from __future__ import annotations

import datetime as dt
from functools import lru_cache


def easter_sunday(year: int) -> dt.date:
    """Easter Sunday in the Gregorian calendar (the anonymous Gregorian algorithm)."""
    a = year % 19
    b, c = divmod(year, 100)
    d, e = divmod(b, 4)
    f = (b + 8) // 25
    g = (b - f + 1) // 3
    h = (19 * a + b - d - g + 15) % 30
    i, k = divmod(c, 4)
    el = (32 + 2 * e + 2 * i - h - k) % 7
    m = (a + 11 * h + 22 * el) // 451
    month, day = divmod(h + el - 7 * m + 114, 31)
    return dt.date(year, month, day + 1)


def _weekday_between(year: int, month: int, first_day: int, weekday: int) -> dt.date:
    """The first date on or after (year, month, first_day) falling on `weekday` (Mon=0)."""
    start = dt.date(year, month, first_day)
    return start + dt.timedelta(days=(weekday - start.weekday()) % 7)


@lru_cache(maxsize=64)
def closed_days(year: int) -> dict[dt.date, str]:
    """Every day of `year` on which the office is closed by law or custom, with its name.

    The public holidays (allmänna helgdagar) plus midsommarafton, julafton and
    nyårsafton, which are de facto days off. Påskafton and pingstafton always fall on a
    Saturday and are included for completeness.
    """
    easter = easter_sunday(year)
    days = {
        dt.date(year, 1, 1): "nyårsdagen",
        dt.date(year, 1, 6): "trettondedag jul",
        easter - dt.timedelta(days=2): "långfredagen",
        easter - dt.timedelta(days=1): "påskafton",
        easter: "påskdagen",
        easter + dt.timedelta(days=1): "annandag påsk",
        dt.date(year, 5, 1): "första maj",
        easter + dt.timedelta(days=39): "Kristi himmelsfärdsdag",
        easter + dt.timedelta(days=48): "pingstafton",
        easter + dt.timedelta(days=49): "pingstdagen",
        dt.date(year, 6, 6): "Sveriges nationaldag",
        _weekday_between(year, 6, 19, 4): "midsommarafton",
        _weekday_between(year, 6, 20, 5): "midsommardagen",
        _weekday_between(year, 10, 31, 5): "alla helgons dag",
        dt.date(year, 12, 24): "julafton",
        dt.date(year, 12, 25): "juldagen",
        dt.date(year, 12, 26): "annandag jul",
        dt.date(year, 12, 31): "nyårsafton",
    }
    return days


def holiday_name(day: dt.date) -> str | None:
    """The name of the holiday on `day`, or None on an ordinary day."""
    return closed_days(day.year).get(day)
