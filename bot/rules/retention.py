"""How long what companies write is kept: the periods and the moments before which
things are deleted. Plain functions; the gateway's purge duty applies them."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

PURGE_EVERY = dt.timedelta(hours=24)
# Audit entries that may quote company words (training examples filed from chats).
AUDIT_CONTENT_ENTITIES = ("example",)


@dataclass(frozen=True)
class Periods:
    """Retention periods in days (settings RETENTION_*_DAYS)."""

    transcript_days: int = 90
    ticket_days: int = 90
    tracker_days: int = 90
    audit_content_days: int = 365

    def __post_init__(self) -> None:
        for name in ("transcript_days", "ticket_days", "tracker_days", "audit_content_days"):
            if getattr(self, name) < 1:
                raise ValueError(f"{name} must be at least 1 day")


@dataclass(frozen=True)
class Cutoffs:
    """Anything last touched before these moments is deleted."""

    transcripts: dt.datetime
    tickets: dt.datetime
    tracker: dt.datetime
    audit_content: dt.datetime


def cutoffs(periods: Periods, now: dt.datetime) -> Cutoffs:
    return Cutoffs(
        transcripts=now - dt.timedelta(days=periods.transcript_days),
        tickets=now - dt.timedelta(days=periods.ticket_days),
        tracker=now - dt.timedelta(days=periods.tracker_days),
        audit_content=now - dt.timedelta(days=periods.audit_content_days),
    )


def purge_due(last_purge: dt.datetime | None, now: dt.datetime) -> bool:
    """Purge once a day: on the first round after start-up, then 24 hours after the last."""
    return last_purge is None or now - last_purge >= PURGE_EVERY
