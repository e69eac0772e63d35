"""Satisfaction after a human chat (CSAT): when to ask, what a rating is, when it is too late.

When an advisor closes a chat the company is asked once, in its own channel, to rate the
help from 1 to 5 (buttons whose payload is `gateway:csat:<n>`); it may then write one
optional comment. A conversation is never asked twice, and an answer more than 24 hours
after the question is ignored. Plain functions: the conversation core stores the result.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from enum import Enum

PAYLOAD_PREFIX = "gateway:csat:"
RATINGS = range(1, 6)
ANSWER_WINDOW = dt.timedelta(hours=24)
MAX_COMMENT_CHARS = 1000

_PAYLOAD = re.compile(r"^gateway:csat:([1-5])$")


class Verdict(str, Enum):
    ACCEPTED = "accepted"  # store it
    EXPIRED = "expired"  # asked more than 24 h ago: ignored
    ALREADY = "already"  # answered before: the first answer stands
    NOT_ASKED = "not_asked"  # this conversation was never asked


@dataclass(frozen=True)
class Survey:
    """What is known of one conversation's question (None fields: not yet)."""

    asked_at: dt.datetime
    rated_at: dt.datetime | None = None
    commented_at: dt.datetime | None = None


def should_ask(closed_by_advisor: bool, asked_before: bool) -> bool:
    """Ask after an advisor closed the chat, and only the first time it is closed."""
    return closed_by_advisor and not asked_before


def rating_of(payload: str | None) -> int | None:
    """The rating a button sent (1-5), or None when the payload is not a rating."""
    if payload is None:
        return None
    match = _PAYLOAD.match(payload.strip())
    return int(match.group(1)) if match else None


def is_rating_payload(payload: str | None) -> bool:
    return payload is not None and payload.startswith(PAYLOAD_PREFIX)


def judge_rating(survey: Survey | None, now: dt.datetime) -> Verdict:
    if survey is None:
        return Verdict.NOT_ASKED
    if survey.rated_at is not None:
        return Verdict.ALREADY
    if now - survey.asked_at > ANSWER_WINDOW:
        return Verdict.EXPIRED
    return Verdict.ACCEPTED


def takes_comment(survey: Survey | None, now: dt.datetime) -> bool:
    """The company's next typed message is its comment: rated, no comment yet, in time."""
    return (
        survey is not None
        and survey.rated_at is not None
        and survey.commented_at is None
        and now - survey.asked_at <= ANSWER_WINDOW
    )


def clean_comment(text: str) -> str:
    """A comment as stored: trimmed and at most MAX_COMMENT_CHARS characters."""
    return text.strip()[:MAX_COMMENT_CHARS]


def buttons(titles: dict[int, str]) -> list[dict[str, str]]:
    """The five rating buttons, lowest first, with the given Swedish titles."""
    return [{"title": titles[n], "payload": f"{PAYLOAD_PREFIX}{n}"} for n in RATINGS]
