"""Who owns a conversation, when the bot hands off, and how the advisor queue behaves."""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

# Ownership states of a conversation.
BOT = "bot"  # the bot answers
QUEUED = "queued"  # waiting for an advisor
ADVISOR = "advisor"  # an advisor owns it; the bot is paused
OFFLINE = "offline"  # hand-off asked for outside opening hours: the ticket form is offered
CLOSED = "closed"  # an advisor closed it with an outcome

STATES = (BOT, QUEUED, ADVISOR, OFFLINE, CLOSED)

TRANSITIONS: Mapping[str, frozenset[str]] = {
    BOT: frozenset({QUEUED, OFFLINE, ADVISOR}),
    OFFLINE: frozenset({BOT, QUEUED, ADVISOR}),
    QUEUED: frozenset({ADVISOR, BOT}),
    ADVISOR: frozenset({BOT, QUEUED, CLOSED}),
    CLOSED: frozenset({BOT}),
}

# States from which an advisor may claim a chat (a bot chat = taking over).
CLAIMABLE = (QUEUED, BOT, OFFLINE)
# States in which the company is asking for an advisor and may withdraw.
CANCELLABLE = (QUEUED, OFFLINE)
# States in which the bot must not answer (Rasa should be paused).
HUMAN_STATES = (QUEUED, ADVISOR)

HANDOFF_REASONS: Mapping[str, str] = {
    "request_human": "Bad om en rådgivare",
    "complaint": "Klagomål",
    "fallback": "Boten förstod inte",
    "bot_unavailable": "Boten svarade inte",
}

OUTCOMES: Mapping[str, str] = {
    "resolved": "Löst",
    "referred": "Hänvisad vidare",
    "callback": "Återkoppling bokad",
    "no_response": "Inget svar från företaget",
    "other": "Annat",
}


def can_transition(current: str, target: str) -> bool:
    return target in TRANSITIONS.get(current, frozenset())


def sources_for(target: str) -> tuple[str, ...]:
    """Every state from which `target` can be reached (for conditional UPDATEs)."""
    return tuple(state for state in STATES if can_transition(state, target))


@dataclass(frozen=True)
class TurnVerdict:
    """What one bot turn means for ownership."""

    handoff_reason: str | None
    summary: dict[str, Any] | None

    @property
    def hands_off(self) -> bool:
        return self.handoff_reason is not None


def judge_turn(replies: list[dict[str, Any]]) -> TurnVerdict:
    """Decide whether the bot's replies to one company message hand the chat to a person.

    The bot alone decides (asked for a human, a complaint, or not understood twice in a
    row: its fallback action counts): it sends `custom.handoff` and pauses the Rasa
    conversation itself. The gateway only reads that signal.
    """
    for reply in replies:
        custom = reply.get("custom")
        if isinstance(custom, dict) and isinstance(custom.get("handoff"), dict):
            handoff = custom["handoff"]
            reason = handoff.get("reason")
            if reason not in HANDOFF_REASONS:
                reason = "request_human"
            return TurnVerdict(reason, normalize_summary(handoff.get("summary")))
    return TurnVerdict(None, None)


def _strings(value: object, limit: int = 20) -> list[str]:
    if not isinstance(value, list):
        return []
    return [str(item)[:500] for item in value if isinstance(item, (str, int, float))][:limit]


def normalize_summary(raw: object) -> dict[str, Any] | None:
    """The bot's hand-off summary in a safe, fixed shape (or None if it sent none)."""
    if not isinstance(raw, dict):
        return None
    text = raw.get("text")
    return {
        "asked": _strings(raw.get("asked")),
        "understood": _strings(raw.get("understood")),
        "targets_given": _strings(raw.get("targets_given")),
        "text": str(text)[:2000] if isinstance(text, str) else "",
    }


def build_summary(user_texts: list[str], previous: dict[str, Any] | None = None) -> dict[str, Any]:
    """A summary made by the gateway when the bot did not give one (at most the last 5
    typed messages). What the bot understood and referred to in an earlier hand-off of the
    same chat is kept: the gateway cannot know it, and it is still true."""
    asked = [text[:500] for text in user_texts[-5:]]
    if asked:
        text = "Företaget skrev: " + " / ".join(f"”{a}”" for a in asked)
    else:
        text = "Företaget har inte skrivit något ännu."
    earlier = normalize_summary(previous) or {}
    return {
        "asked": asked,
        "understood": list(earlier.get("understood") or []),
        "targets_given": list(earlier.get("targets_given") or []),
        "text": text,
    }


def public_reply(reply: dict[str, Any]) -> dict[str, Any]:
    """A bot reply without the gateway-internal `handoff` key in `custom`."""
    custom = reply.get("custom")
    if not isinstance(custom, dict) or "handoff" not in custom:
        return reply
    cleaned = {k: v for k, v in custom.items() if k != "handoff"}
    result = {k: v for k, v in reply.items() if k != "custom"}
    if cleaned:
        result["custom"] = cleaned
    return result


@dataclass(frozen=True)
class Waiting:
    """A waiting queue entry, as far as ordering needs to know."""

    conversation_id: str
    enqueued_at: dt.datetime
    entry_id: int


def queue_order(entries: Iterable[Waiting]) -> list[Waiting]:
    """First come, first served. A chat returned to the queue keeps its first time,
    so it is served before everyone who came after it."""
    return sorted(entries, key=lambda e: (e.enqueued_at, e.entry_id))


def positions(entries: Iterable[Waiting]) -> dict[str, int]:
    """1-based position of each waiting conversation."""
    return {e.conversation_id: i for i, e in enumerate(queue_order(entries), start=1)}


def expected_wait_minutes(position: int, advisors_online: int, free_advisors: int, minutes_per_chat: int) -> int:
    """A rough, honest estimate of the wait for the chat at `position`.

    With a free advisor online for this position: about a minute. Otherwise each online
    advisor (at least one is assumed, since it is opening hours) finishes a chat every
    `minutes_per_chat` minutes.
    """
    if position <= 0:
        return 0
    if position <= free_advisors:
        return 1
    ahead = position - max(0, free_advisors)
    rounds = math.ceil(ahead / max(1, advisors_online))
    return max(1, rounds * max(1, minutes_per_chat))


def wait_text_sv(minutes: int) -> str:
    if minutes <= 1:
        return "ungefär en minut"
    if minutes > 60:
        return "mer än en timme"
    return f"cirka {minutes} minuter"


def is_advisor_stale(last_seen: dt.datetime | None, now: dt.datetime, timeout_seconds: int) -> bool:
    """An advisor silent for longer than the timeout no longer holds their chats."""
    if last_seen is None:
        return True
    return (now - last_seen).total_seconds() > timeout_seconds
