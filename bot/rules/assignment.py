"""Who gets a chat: capacity and automatic assignment (plain functions)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass

PRESENCES = ("available", "away")
MAX_CHATS_LIMIT = 20  # the highest per-advisor limit the console accepts


@dataclass(frozen=True)
class Candidate:
    """An advisor at the console who takes chats, as assignment sees them."""

    advisor_id: int
    load: int  # chats held now
    limit: int  # most chats at once
    last_assigned_at: dt.datetime | None


def limit_of(own_limit: int | None, default: int) -> int:
    """The advisor's own limit, else the installation's default."""
    return own_limit if own_limit is not None and own_limit > 0 else default


def has_room(load: int, limit: int) -> bool:
    return load < limit


def least_busy(candidates: Iterable[Candidate]) -> Candidate | None:
    """The advisor who should get the next waiting chat: the fewest chats first; among
    equals, the one who has waited longest since their last chat (never assigned = first),
    then the lowest id, so the choice is stable."""
    with_room = [c for c in candidates if has_room(c.load, c.limit)]
    if not with_room:
        return None
    oldest = dt.datetime.min.replace(tzinfo=dt.timezone.utc)
    return min(with_room, key=lambda c: (c.load, c.last_assigned_at or oldest, c.advisor_id))
