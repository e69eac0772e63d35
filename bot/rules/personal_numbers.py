"""Finding and masking Swedish personnummer and samordningsnummer in free text.

A candidate is 10 or 12 digits, optionally with `-` or `+` (or an en dash) before the
last four, not glued to other digits. It is masked only when it is a real number:

* its date exists (a samordningsnummer has 60 added to the day), and
* its last ten digits pass the Luhn checksum (python-stdnum's maintained implementation).

Anything else that looks similar (order numbers, phone numbers, amounts) is left as it
was. Pure functions: no web, database or Rasa code, so every part of the project (the
gateway before storing, the log filter, the analytics quotes) can use the same rule.
"""

from __future__ import annotations

import datetime
import re
from dataclasses import dataclass
from typing import Any

from stdnum import luhn

# What replaces a number: readable in Swedish in transcripts, quotes and Rasa's tracker.
MASK = "[personnummer borttaget]"

_CANDIDATE = re.compile(
    r"(?<![0-9])"  # not the tail of a longer digit string
    r"(?P<century>[0-9]{2})?(?P<yy>[0-9]{2})(?P<mm>[0-9]{2})(?P<dd>[0-9]{2})"
    r"(?P<sep>[-+\u2013]?)"
    r"(?P<serial>[0-9]{3})(?P<check>[0-9])"
    r"(?![0-9])"  # nor the head of one
)

_COORDINATION_OFFSET = 60


@dataclass(frozen=True)
class Masked:
    """The text with every personal number replaced, and how many were replaced."""

    text: str
    count: int


def _full_year(century: str | None, yy: str, sep: str, today: datetime.date) -> int:
    """The birth year: explicit in a 12-digit number, otherwise the latest plausible one
    (a `+` means the person is 100 or older, as in Folkbokföringslagen 18 §)."""
    if century is not None:
        return int(century + yy)
    year = today.year - today.year % 100 + int(yy)
    if year > today.year:
        year -= 100
    if sep == "+":
        year -= 100
    return year


def _date_exists(year: int, month: int, day: int) -> bool:
    try:
        datetime.date(year, month, day)
    except ValueError:
        return False
    return True


def _is_personal_number(match: re.Match[str], today: datetime.date) -> bool:
    century = match.group("century")
    if century is not None and century not in ("18", "19", "20"):
        return False
    year = _full_year(century, match.group("yy"), match.group("sep"), today)
    month, day = int(match.group("mm")), int(match.group("dd"))
    if day > _COORDINATION_OFFSET:  # samordningsnummer: the day plus 60
        day -= _COORDINATION_OFFSET
    if not _date_exists(year, month, day):
        return False
    ten = match.group("yy") + match.group("mm") + match.group("dd") + match.group("serial") + match.group("check")
    return bool(luhn.is_valid(ten))


def find_personal_numbers(text: str, today: datetime.date | None = None) -> list[tuple[int, int]]:
    """The (start, end) spans of every valid personnummer or samordningsnummer in `text`."""
    day = today or datetime.date.today()
    return [m.span() for m in _CANDIDATE.finditer(text) if _is_personal_number(m, day)]


def is_personal_number(candidate: str, today: datetime.date | None = None) -> bool:
    """Whether the whole string (spaces around it ignored) is one valid number."""
    stripped = candidate.strip()
    match = _CANDIDATE.fullmatch(stripped)
    return match is not None and _is_personal_number(match, today or datetime.date.today())


def mask_personal_numbers(text: str, today: datetime.date | None = None) -> Masked:
    """`text` with every valid personnummer and samordningsnummer replaced by `MASK`."""
    spans = find_personal_numbers(text, today)
    if not spans:
        return Masked(text, 0)
    parts: list[str] = []
    last = 0
    for start, end in spans:
        parts.append(text[last:start])
        parts.append(MASK)
        last = end
    parts.append(text[last:])
    return Masked("".join(parts), len(spans))


def mask(text: str) -> str:
    """Shorthand for quotes and log lines: the masked text only."""
    return mask_personal_numbers(text).text


def mask_optional(text: str | None) -> str | None:
    """`mask` that passes None through (optional columns such as a ticket's note)."""
    return None if text is None else mask(text)


def mask_values(value: Any) -> Any:
    """Every string inside a JSON-like value masked (a program's metadata, a card's data)."""
    if isinstance(value, str):
        return mask(value)
    if isinstance(value, dict):
        return {key: mask_values(item) for key, item in value.items()}
    if isinstance(value, list):
        return [mask_values(item) for item in value]
    return value
