"""The satisfaction survey after an advisor closes a chat (rules: `bot.rules.csat`).

The question is a system message with five rating buttons, so every channel shows it its
own way (widget buttons, Slack Block Kit buttons, a Teams card) and a click comes back as
the company's payload `gateway:csat:<n>`, which never reaches Rasa. The company's next
typed message after a rating is its optional comment. Each step runs in the caller's
transaction and returns the messages to announce.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy.ext.asyncio import AsyncSession

from bot import texts
from bot.conversation import events, store
from bot.conversation.events import EventKind
from bot.conversation.models import CsatRating, Message
from bot.rules import csat as rules

NOTICE = "csat"


def survey_of(row: CsatRating | None) -> rules.Survey | None:
    if row is None:
        return None
    return rules.Survey(row.asked_at, row.rated_at, row.commented_at)


async def ask(
    s: AsyncSession, conversation_id: str, channel: str, advisor_id: int, now: dt.datetime
) -> Message | None:
    """Ask the company to rate the help, unless it was asked before."""
    asked_before = await s.get(CsatRating, conversation_id) is not None
    if not rules.should_ask(closed_by_advisor=True, asked_before=asked_before):
        return None
    s.add(CsatRating(conversation_id=conversation_id, advisor_id=advisor_id, channel=channel, asked_at=now))
    await events.record(s, conversation_id, EventKind.CSAT_ASKED, now, channel=channel, advisor_id=advisor_id)
    return await store.add_message(
        s, conversation_id, "system", texts.CSAT_QUESTION, now,
        buttons=rules.buttons(texts.CSAT_BUTTON_TITLES), custom={"notice": NOTICE},
    )


async def rate(s: AsyncSession, conversation_id: str, payload: str, now: dt.datetime) -> Message | None:
    """Store a rating the company clicked; the thank-you message, or None when ignored."""
    rating = rules.rating_of(payload)
    row = await s.get(CsatRating, conversation_id)
    if rating is None or row is None or rules.judge_rating(survey_of(row), now) is not rules.Verdict.ACCEPTED:
        return None
    row.rating, row.rated_at = rating, now
    await events.record(
        s, conversation_id, EventKind.CSAT_RATED, now, channel=row.channel, advisor_id=row.advisor_id, rating=rating
    )
    return await store.add_message(s, conversation_id, "system", texts.CSAT_THANKS, now, custom={"notice": NOTICE})


async def takes_comment(s: AsyncSession, conversation_id: str, now: dt.datetime) -> bool:
    return rules.takes_comment(survey_of(await s.get(CsatRating, conversation_id)), now)


async def comment(s: AsyncSession, conversation_id: str, text: str, now: dt.datetime) -> Message:
    """Keep the company's comment (already masked) and thank it."""
    row = await s.get(CsatRating, conversation_id)
    assert row is not None
    row.comment, row.commented_at = rules.clean_comment(text), now
    return await store.add_message(
        s, conversation_id, "system", texts.CSAT_COMMENT_THANKS, now, custom={"notice": NOTICE}
    )
