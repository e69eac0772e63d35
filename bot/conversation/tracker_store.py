"""Rasa's SQL tracker store (its `events` table, one row per event, keyed by sender_id:
our conversation id), as far as privacy needs it: a person's events for an export, and
deleting them (erasure, retention). A store that does not exist yet is simply empty."""

from __future__ import annotations

import datetime as dt
import json
import logging
from typing import Any

from sqlalchemy import bindparam, text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncEngine

log = logging.getLogger(__name__)


async def events_of(tracker: AsyncEngine, sender_ids: list[str]) -> list[dict[str, Any]]:
    """Every stored event of these conversations, as Rasa recorded it."""
    if not sender_ids:
        return []
    query = text("SELECT sender_id, type_name, timestamp, data FROM events WHERE sender_id IN :ids ORDER BY id")
    try:
        async with tracker.connect() as conn:
            rows = await conn.execute(query.bindparams(bindparam("ids", expanding=True)), {"ids": sender_ids})
            return [
                {"conversation_id": r[0], "type": r[1], "timestamp": r[2], "data": _json(r[3])} for r in rows
            ]
    except DBAPIError as exc:
        log.debug("tracker store not readable: %s", exc)
        return []


async def delete_senders(tracker: AsyncEngine, sender_ids: list[str]) -> int:
    """Delete every event of these conversations; how many rows went."""
    if not sender_ids:
        return 0
    query = text("DELETE FROM events WHERE sender_id IN :ids").bindparams(bindparam("ids", expanding=True))
    return await _delete(tracker, query, {"ids": sender_ids})


async def delete_before(tracker: AsyncEngine, cutoff: dt.datetime) -> int:
    """Delete every event recorded before `cutoff`; how many rows went."""
    return await _delete(tracker, text("DELETE FROM events WHERE timestamp < :cutoff"), {"cutoff": cutoff.timestamp()})


async def _delete(tracker: AsyncEngine, query: Any, params: dict[str, Any]) -> int:
    try:
        async with tracker.begin() as conn:
            result = await conn.execute(query, params)
            return int(result.rowcount or 0)
    except DBAPIError as exc:  # no tracker store (a fresh install, tests with a fake Rasa)
        if "events" in str(exc) and ("no such table" in str(exc) or "does not exist" in str(exc)):
            return 0
        raise


def _json(raw: object) -> Any:
    try:
        return json.loads(str(raw)) if raw is not None else None
    except ValueError:
        return None
