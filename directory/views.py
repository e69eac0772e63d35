"""Plain, immutable views of directory rows: what the business rules work on.

The rules (ranking, composing replies) take these instead of ORM objects so that they are
plain functions, testable without a database.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Literal

Audience = Literal["company", "municipality", "any"]


@dataclass(frozen=True)
class ContactView:
    kind: str  # web | phone | email | address | hours
    value: str
    label: str = ""


@dataclass(frozen=True)
class OrganisationView:
    id: str
    name: str
    summary: str
    aliases: tuple[str, ...] = ()
    kind: str = "organisation"
    reached_through: str | None = None
    contacts: tuple[ContactView, ...] = ()


@dataclass(frozen=True)
class TopicTargetView:
    organisation_id: str
    rank: int
    pitch: str
    audience: Audience = "any"
    min_employees: int | None = None
    max_employees: int | None = None


@dataclass(frozen=True)
class TopicView:
    id: str
    name: str
    targets: tuple[TopicTargetView, ...] = ()


@dataclass(frozen=True)
class SchemeView:
    id: str
    name: str
    organisation_id: str
    status: str
    summary: str
    aliases: tuple[str, ...] = ()
    start_date: dt.date | None = None
    end_date: dt.date | None = None
    now_applies: str = ""
    now_targets: tuple[str, ...] = ()

    def has_ended(self, today: dt.date) -> bool:
        return self.status == "ended" or (self.end_date is not None and self.end_date < today)


@dataclass(frozen=True)
class Situation:
    """What we know about who is asking."""

    audience: Audience = "any"
    employees: int | None = None
    municipality: str | None = None


@dataclass(frozen=True)
class IntentScore:
    name: str
    confidence: float


@dataclass(frozen=True)
class RankedTarget:
    organisation_id: str
    score: float
    topic_id: str | None
    pitch: str
    reasons: tuple[str, ...] = field(default=())
