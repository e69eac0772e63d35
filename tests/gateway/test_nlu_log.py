"""What the bot understood of each company message is copied beside our messages."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Callable
from pathlib import Path

from aiohttp.test_utils import TestClient
from sqlalchemy import select

from bench.fake_rasa import LOAN
from bot.conversation.models import MessageNlu
from bot.conversation.nlu_log import parse_user_event
from bot.web.keys import nlu_log_key, settings_key
from scripts.db import seed
from tests.gateway.conftest import FakeClock, Widget, core_of

RASA_EVENTS = """CREATE TABLE events (id INTEGER PRIMARY KEY, sender_id VARCHAR(255) NOT NULL,
type_name VARCHAR(255) NOT NULL, timestamp FLOAT, intent_name VARCHAR(255), action_name VARCHAR(255), data TEXT)"""


def tracker_file(gateway: TestClient) -> Path:
    url = gateway.app[settings_key].rasa_tracker_url
    return Path(url.removeprefix("sqlite:///"))


def rasa_records(path: Path, rows: list[tuple[str, str, float, dict[str, object]]]) -> None:
    """What Rasa's SQL tracker store holds after the turns (its real table shape)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with sqlite3.connect(path) as db:
        db.execute(RASA_EVENTS)
        for sender, kind, timestamp, data in rows:
            db.execute("INSERT INTO events (sender_id, type_name, timestamp, data) VALUES (?, ?, ?, ?)",
                       (sender, kind, timestamp, json.dumps(data)))


def user_event(seq: int, intent: str, confidence: float) -> dict[str, object]:
    return {"event": "user", "text": "...", "metadata": {"channel": "widget", "message_seq": seq},
            "parse_data": {"intent": {"name": intent, "confidence": confidence},
                           "entities": [{"entity": "municipality", "value": "Köping"}]}}


def test_a_user_event_gives_our_seq_the_intent_and_the_entities() -> None:
    assert parse_user_event(user_event(3, "financing", 0.91)) == (
        3, "financing", 0.91, [{"entity": "municipality", "value": "Köping"}]
    )
    assert parse_user_event({"metadata": {"message_seq": True}}) == (None, None, None, [])
    assert parse_user_event({}) == (None, None, None, [])


async def test_settled_turns_are_copied_once_with_the_referral_they_got(
    gateway: TestClient, widget: Callable[..., Widget], clock: FakeClock, db_url: str
) -> None:
    seed(db_url)
    company = widget()
    await company.connect()
    ack = await company.say(LOAN)
    await company.wait_message("bot", "Almi")
    assert company.conversation_id is not None
    now = clock().timestamp()
    rasa_records(tracker_file(gateway), [
        (company.conversation_id, "user", now - 60, user_event(ack["seq"], "financing", 0.93)),
        (company.conversation_id, "bot", now - 59, {"event": "bot", "text": "..."}),
        (company.conversation_id, "user", now - 1, user_event(ack["seq"] + 5, "greet", 0.99)),  # still settling
    ])

    nlu_log = gateway.app[nlu_log_key]
    assert await nlu_log.sync() == 1
    assert await nlu_log.sync() == 0  # copied once; the young turn waits
    async with core_of(gateway).ctx.sessions() as s:
        rows = list(await s.scalars(select(MessageNlu)))
    assert [(r.seq, r.intent, r.confidence, r.referral_target) for r in rows] == [
        (ack["seq"], "financing", 0.93, "almi")
    ]
    assert rows[0].entities == [{"entity": "municipality", "value": "Köping"}]
    # the company as the message describes it: the analytics filters (bot.rules.analytics.company_facets)
    assert (rows[0].municipality, rows[0].company_size) == ("Köping", None)


async def test_without_a_tracker_store_nothing_is_copied_and_nothing_fails(gateway: TestClient) -> None:
    assert await gateway.app[nlu_log_key].sync() == 0
