"""A copy of what the bot understood of each company message, kept beside the messages.

Rasa records every user turn in its SQL tracker store (table `events`: the intent, its
confidence and the entities in `data.parse_data`). The gateway sends each company message
with its sequence number in the metadata, so a background duty can copy those results into
`message_nlu`, keyed like our messages, together with the referral the turn got (the first
directory organisation the bot's replies name). Analytics and the admin's review list read
this table: no extra call to Rasa on the hot path, and no JSON parsing at query time.

Only turns older than `settle` seconds are copied, so that the bot's replies to them are
stored; a turn is copied once (the cursor is Rasa's event id).
"""

from __future__ import annotations

import datetime as dt
import itertools
import json
import logging
import re
from typing import Any

from sqlalchemy import select, text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from bot.conversation.context import CoreContext
from bot.conversation.models import Message, MessageNlu, SyncCursor
from bot.rules.analytics import company_facets
from directory.mentions import first_named, name_patterns
from directory.models import Organisation

log = logging.getLogger(__name__)

CURSOR = "rasa_user_events"
BATCH = 500


def parse_user_event(data: dict[str, Any]) -> tuple[int | None, str | None, float | None, list[dict[str, str]]]:
    """(our message seq, intent, confidence, entities) from a Rasa user event's data."""
    metadata = _dict(data.get("metadata"))
    raw_seq = metadata.get("message_seq")
    seq = raw_seq if isinstance(raw_seq, int) and not isinstance(raw_seq, bool) else None
    parse = _dict(data.get("parse_data"))
    intent = _dict(parse.get("intent"))
    name = intent.get("name") if isinstance(intent.get("name"), str) else None
    confidence = intent.get("confidence")
    entities = [
        {"entity": str(e.get("entity")), "value": str(e.get("value"))[:200]}
        for e in parse.get("entities") or []
        if isinstance(e, dict) and e.get("entity")
    ][:20]
    return seq, name, float(confidence) if isinstance(confidence, (int, float)) else None, entities


def _dict(value: object) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


class NluLog:
    def __init__(self, ctx: CoreContext, tracker: AsyncEngine, settle: float = 20.0) -> None:
        self.ctx = ctx
        self.tracker = tracker
        self.settle = settle

    async def sync(self) -> int:
        """Copy the settled user turns not copied yet; returns how many."""
        sessions = self.ctx.sessions
        async with sessions() as s:
            cursor = await s.get(SyncCursor, CURSOR)
            position = cursor.position if cursor else 0
        rows = await self._user_events(position)
        if not rows:
            return 0
        cutoff = self.ctx.now().timestamp() - self.settle
        # Events come in id order: copy up to the first one still settling.
        settled = list(itertools.takewhile(lambda row: (row[2] or 0) <= cutoff, rows))
        if not settled:
            return 0
        copied = 0
        async with sessions.begin() as s:
            patterns = name_patterns(await _organisation_names(s))
            for event_id, sender_id, timestamp, raw in settled:
                copied += await self._copy(s, sender_id, timestamp, raw, patterns)
                position = event_id
            cursor = await s.get(SyncCursor, CURSOR)
            if cursor is None:
                s.add(SyncCursor(name=CURSOR, position=position))
            else:
                cursor.position = position
        return copied

    async def _user_events(self, after: int) -> list[tuple[int, str, float | None, str]]:
        try:
            async with self.tracker.connect() as conn:
                result = await conn.execute(
                    text(
                        "SELECT id, sender_id, timestamp, data FROM events "
                        "WHERE id > :after AND type_name = 'user' ORDER BY id LIMIT :limit"
                    ),
                    {"after": after, "limit": BATCH},
                )
                return [(int(r[0]), str(r[1]), r[2], str(r[3] or "{}")) for r in result]
        except DBAPIError as exc:  # no tracker store yet (a fresh install, a fake Rasa)
            log.debug("tracker store not readable: %s", exc)
            return []

    async def _copy(
        self,
        s: AsyncSession,
        sender_id: str,
        timestamp: float | None,
        raw: str,
        patterns: list[tuple[re.Pattern[str], str]],
    ) -> int:
        try:
            data = json.loads(raw)
        except ValueError:
            return 0
        if not isinstance(data, dict):
            return 0
        seq, intent, confidence, entities = parse_user_event(data)
        if seq is None:
            return 0
        message = await s.scalar(
            select(Message.id).where(Message.conversation_id == sender_id, Message.seq == seq, Message.role == "user")
        )
        if message is None:  # erased meanwhile, or not ours
            return 0
        replies = await s.scalars(
            select(Message.text)
            .where(Message.conversation_id == sender_id, Message.reply_to == seq, Message.role == "bot")
            .order_by(Message.seq)
        )
        referral = first_named(" ".join(t for t in replies if t), patterns)
        at = dt.datetime.fromtimestamp(timestamp or self.ctx.now().timestamp(), dt.timezone.utc)
        municipality, size = company_facets(entities)
        existing = await s.get(MessageNlu, (sender_id, seq))
        if existing is None:
            s.add(MessageNlu(conversation_id=sender_id, seq=seq, at=at, intent=intent, confidence=confidence,
                             entities=entities, referral_target=referral, municipality=municipality,
                             company_size=size))
        else:
            existing.intent, existing.confidence = intent, confidence
            existing.entities, existing.referral_target = entities, referral
            existing.municipality, existing.company_size = municipality, size
        return 1


async def _organisation_names(s: AsyncSession) -> dict[str, list[str]]:
    rows = await s.execute(select(Organisation.id, Organisation.name, Organisation.aliases))
    return {str(r.id): [str(r.name), *[str(a) for a in (r.aliases or [])]] for r in rows}
