"""The conversation event log: a typed, append-only record of every state change.

Each change of ownership writes one row in the same transaction as the change itself, so
the log and the conversation never disagree. Later readers (analytics, the audit log,
satisfaction surveys, the console's timeline) read these rows; nothing updates them.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from enum import Enum
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.conversation.models import ConversationEvent


class EventKind(str, Enum):
    """What happened to a conversation."""

    OPENED = "opened"  # a company started a conversation in a channel
    HANDOFF = "handoff"  # the bot (or the company's button) asked for a person; data: reason
    QUEUED = "queued"  # the chat waits for an advisor; data: reason, position
    OFFLINE = "offline"  # a hand-off outside opening hours: the ticket form is offered
    CANCELLED = "cancelled"  # the company left the queue or declined the ticket form
    ABANDONED = "abandoned"  # a queued chat left the queue: its company was gone; data: seen_at
    TICKET = "ticket"  # the company left a question outside opening hours; data: ticket_id
    CLAIMED = "claimed"  # an advisor took the chat; data: from_state
    HANDED_BACK = "handed_back"  # the advisor gave the chat back to the bot
    RELEASED = "released"  # the advisor put the chat back in the queue
    ADVISOR_LOST = "advisor_lost"  # the advisor went silent; the chat went back to the queue
    CLOSED = "closed"  # the advisor closed the chat; data: outcome
    REOPENED = "reopened"  # the company wrote again in a closed chat
    BOT_UNAVAILABLE = "bot_unavailable"  # Rasa did not answer a company message
    TRANSFERRED = "transferred"  # an advisor gave the chat to a colleague; data: to_advisor_id
    TRANSCRIPT_SENT = "transcript_sent"  # the transcript was e-mailed to the company; data: to
    CSAT_ASKED = "csat_asked"  # the company was asked to rate the advisor's help (once)
    CSAT_RATED = "csat_rated"  # the company rated it; data: rating (1-5), the comment is not logged


@dataclass(frozen=True)
class Event:
    """One logged change, as readers see it."""

    kind: EventKind
    at: dt.datetime
    channel: str
    advisor_id: int | None = None
    data: dict[str, Any] = field(default_factory=dict)

    def json(self) -> dict[str, Any]:
        return {
            "kind": self.kind.value,
            "at": self.at.isoformat(),
            "channel": self.channel,
            "advisor_id": self.advisor_id,
            "data": dict(self.data),
        }


async def record(
    session: AsyncSession,
    conversation_id: str,
    kind: EventKind,
    at: dt.datetime,
    *,
    channel: str,
    advisor_id: int | None = None,
    **data: Any,
) -> None:
    """Append one event in the caller's transaction."""
    session.add(
        ConversationEvent(
            conversation_id=conversation_id,
            kind=kind.value,
            at=at,
            channel=channel,
            advisor_id=advisor_id,
            data=data,
        )
    )


async def timeline(session: AsyncSession, conversation_id: str) -> list[Event]:
    """Every event of a conversation, oldest first."""
    rows = await session.scalars(
        select(ConversationEvent)
        .where(ConversationEvent.conversation_id == conversation_id)
        .order_by(ConversationEvent.at, ConversationEvent.id)
    )
    return [
        Event(EventKind(row.kind), row.at, row.channel, row.advisor_id, dict(row.data or {}))
        for row in rows
    ]
