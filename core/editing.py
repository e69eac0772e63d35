"""What every admin edit shares, whatever it edits (content, directory, accounts): who
makes it, the problems that refuse it (Swedish, per form field), the optimistic-locking
conflict, and the audit entry written in the same transaction.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from sqlalchemy.orm import Session

from core import audit
from core.problems import Invalid, Problem, check

__all__ = ["Actor", "Conflict", "Invalid", "NotFound", "Problem", "check", "expect_version", "log"]

STALE = (
    "Någon annan har ändrat det här medan du redigerade. Din ändring är inte sparad; "
    "här är den senaste versionen."
)


@dataclass(frozen=True)
class Actor:
    """Who makes a change: an account (id) and how the log names them."""

    id: int | None
    label: str


class Conflict(Exception):
    """The item changed since the admin's form was rendered: nothing was saved."""

    def __init__(self, message: str = STALE) -> None:
        super().__init__(message)
        self.message = message


class NotFound(LookupError):
    """The item does not exist (any more)."""

    def __init__(self, message: str = "Det du försökte ändra finns inte längre.") -> None:
        super().__init__(message)
        self.message = message


def expect_version(current: int, seen: int | None) -> None:
    """Refuse the save when the form was rendered from another version of the row.
    (The row's version_id_col guards the UPDATE itself against a save in between.)"""
    if seen is None or current != seen:
        raise Conflict()


def log(session: Session, actor: Actor, now: dt.datetime, entity: str, entity_id: str, action: str,
        before: dict[str, Any] | None, after: dict[str, Any] | None, reverts: int | None = None) -> None:
    """The audit entry of a change, in the change's own transaction."""
    audit.record(session, audit.Change(entity, entity_id, action, before, after, reverts), actor.id, actor.label, now)
