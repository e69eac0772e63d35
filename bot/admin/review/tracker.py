"""What the bot understood of each company message, read from Rasa's SQL tracker store
(RASA_TRACKER_URL, table `events`; the sender id is our conversation id).

A `user` event holds the text and `parse_data` (intent, confidence, ranking); the `action`
events after it, until the next `user` event, are what the bot did with it
(action_referral, action_fallback, action_handoff, utter_greet ...).

Read only, with an engine of its own: never the gateway's (SQLite there takes the write
lock at BEGIN), and a missing store or table reads as "nothing known".
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import Column, Float, Integer, MetaData, String, Table, Text, select
from sqlalchemy.engine import make_url
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from core.db import async_url

log = logging.getLogger(__name__)

# Rasa 3.6's table (rasa/core/tracker_store.py, SQLTrackerStore.SQLEvent).
metadata = MetaData()
events = Table(
    "events", metadata,
    Column("id", Integer, primary_key=True),
    Column("sender_id", String(255), nullable=False, index=True),
    Column("type_name", String(255), nullable=False),
    Column("timestamp", Float),
    Column("intent_name", String(255)),
    Column("action_name", String(255)),
    Column("data", Text),
)
IGNORED_ACTIONS = {"action_listen", "action_session_start", "action_unlikely_intent"}
CHUNK = 500


@dataclass
class Turn:
    """One company message as Rasa saw it, and what the bot did next."""

    text: str
    intent: str | None
    confidence: float | None
    ranking: list[tuple[str, float]] = field(default_factory=list)  # best first, nlu_fallback left out
    actions: list[str] = field(default_factory=list)


def make_engine(url: str) -> AsyncEngine | None:
    """An engine on the tracker store, or None when it is a SQLite file that does not exist."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite" and (not parsed.database or not Path(parsed.database).exists()):
        return None
    return create_async_engine(async_url(url), pool_pre_ping=True)


def turn_from(data: dict[str, Any]) -> Turn:
    parse = data.get("parse_data") or {}
    intent = parse.get("intent") or {}
    ranking = [(str(r.get("name")), float(r.get("confidence") or 0.0)) for r in parse.get("intent_ranking") or []
               if r.get("name") and r.get("name") != "nlu_fallback"]
    confidence = intent.get("confidence")
    return Turn(str(data.get("text") or ""), intent.get("name"),
                float(confidence) if confidence is not None else None, ranking[:5])


async def turns(engine: AsyncEngine | None, sender_ids: Iterable[str]) -> dict[str, list[Turn]]:
    """Every conversation's turns in order; {} when the store cannot be read."""
    wanted = list(dict.fromkeys(sender_ids))
    found: dict[str, list[Turn]] = {}
    if engine is None or not wanted:
        return found
    try:
        async with engine.connect() as connection:
            for start in range(0, len(wanted), CHUNK):
                query = (
                    select(events.c.sender_id, events.c.type_name, events.c.action_name, events.c.data)
                    .where(events.c.sender_id.in_(wanted[start:start + CHUNK]),
                           events.c.type_name.in_(("user", "action")))
                    .order_by(events.c.id)
                )
                for sender, kind, action, raw in await connection.execute(query):
                    conversation = found.setdefault(sender, [])
                    if kind == "user":
                        try:
                            conversation.append(turn_from(json.loads(raw or "{}")))
                        except ValueError:
                            continue
                    elif conversation and action and action not in IGNORED_ACTIONS:
                        conversation[-1].actions.append(action)
    except SQLAlchemyError as exc:
        log.warning("could not read Rasa's tracker store: %s", exc)
        return {}
    return found
