"""The suggested referral for a chat: the company's latest question, as the bot would
answer it, for the advisor to insert with one click."""

from __future__ import annotations

import datetime as dt
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from bot.conversation.core import ConversationCore
from bot.conversation.errors import NotFound
from bot.conversation.models import Conversation
from bot.rules.suggestion import suggest
from directory import queries
from directory.views import OrganisationView, SchemeView, TopicView

DirectoryViews = tuple[dict[str, TopicView], dict[str, OrganisationView], dict[str, SchemeView]]


def _directory(session: Session, topic_ids: list[str]) -> DirectoryViews:
    return queries.topics(session, topic_ids), queries.organisations(session), queries.schemes(session)


async def suggestion(core: ConversationCore, conversation_id: str, now: dt.datetime, timezone: str) -> dict[str, Any]:
    """{"suggestion": {...} | None, "message": why not}. Raises RasaUnavailable."""
    async with core.ctx.sessions() as s:
        if await s.get(Conversation, conversation_id) is None:
            raise NotFound()
    found = await core.questions.find(conversation_id)
    if found is None:
        return {"suggestion": None, "reason": "no_question"}
    topic_ids = [str(i.get("name")) for i in found.parse.get("intent_ranking") or [] if isinstance(i, dict)]
    top = (found.parse.get("intent") or {}).get("name")
    async with core.ctx.sessions() as s:
        topics, organisations, schemes = await s.run_sync(_directory, [str(top), *topic_ids])
    today = now.astimezone(ZoneInfo(timezone)).date()
    result = suggest(found.parse, topics, organisations, schemes, today)
    if result is None:
        return {"suggestion": None, "reason": "no_referral", "for": {"seq": found.seq, "text": found.text}}
    return {
        "suggestion": {
            "text": result.text,
            "organisation": {"id": result.organisation_id, "name": result.organisation_name},
            "topic": result.topic_id,
            "for": {"seq": found.seq, "text": found.text},
        }
    }
