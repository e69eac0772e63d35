"""Against the real Rasa (its own SQL tracker store): a personnummer written to the gateway
never reaches Rasa's tracker, the bot still answers the rest of the message, and erasing the
conversation's events in Rasa's real `events` table leaves Rasa with an empty tracker."""

from __future__ import annotations

import json
import sqlite3
import uuid

import aiohttp
import pytest
from sqlalchemy import text as sql

from bot.conversation import tracker_store
from bot.rules.personal_numbers import MASK
from core.db import make_async_reader, make_engine
from core.settings import Settings

pytestmark = pytest.mark.e2e

PNR = "811218-9876"  # Skatteverket's test personnummer


async def test_rasa_never_records_a_personnummer_and_erasure_empties_its_tracker(rasa_stack: Settings) -> None:
    gateway = f"http://{rasa_stack.gateway_host}:{rasa_stack.gateway_port}"
    sender = f"privacy-{uuid.uuid4().hex[:12]}"
    async with aiohttp.ClientSession() as http:
        question = f"Vi behöver ett lån, mitt personnummer är {PNR}"
        async with http.post(f"{gateway}/webhooks/rest/webhook", json={"sender": sender, "message": question}) as r:
            assert r.status == 200, await r.text()
            replies = await r.json()
        assert "Almi" in " ".join(str(m.get("text") or "") for m in replies)  # the question still understood

        engine = make_engine(rasa_stack.database_url)
        with engine.connect() as conn:
            conversation_id = conn.execute(
                sql("SELECT id FROM conversations WHERE channel = 'rest' AND external_id = :s"), {"s": sender}
            ).scalar_one()
            stored = [row[0] or "" for row in conn.execute(
                sql("SELECT text FROM messages WHERE conversation_id = :c"), {"c": conversation_id})]
        engine.dispose()
        assert not any("9876" in t for t in stored)
        assert any(MASK in t for t in stored)

        tracker_db = rasa_stack.rasa_tracker_url.removeprefix("sqlite:///")
        with sqlite3.connect(tracker_db) as db:
            rows = [json.loads(r[0]) for r in db.execute("SELECT data FROM events WHERE sender_id = ?",
                                                         (conversation_id,))]
        assert rows, "Rasa recorded the turn in its SQL tracker store"
        recorded = json.dumps(rows, ensure_ascii=False)
        assert "9876" not in recorded and MASK in recorded

        tracker = make_async_reader(rasa_stack.rasa_tracker_url)
        try:
            assert len(await tracker_store.events_of(tracker, [conversation_id])) == len(rows)
            assert await tracker_store.delete_senders(tracker, [conversation_id]) == len(rows)
        finally:
            await tracker.dispose()
        url = f"{rasa_stack.rasa_url}/conversations/{conversation_id}/tracker"
        async with http.get(url, params={"token": rasa_stack.rasa_token}) as r:
            assert r.status == 200
            events = (await r.json())["events"]
        assert all(e.get("event") not in ("user", "bot") for e in events)
