"""Retention: what is older than its period is deleted everywhere, once a day, and the
purge is logged with counts only."""

from __future__ import annotations

import datetime as dt
import json
import logging
import sqlite3
from collections.abc import Callable

import pytest
from aiohttp.test_utils import TestClient
from sqlalchemy import func, select

from bot.conversation.models import Conversation, Message, Ticket
from bot.rules import retention
from bot.web.keys import retention_key
from core.settings import SettingsError, load_settings
from tests.gateway.conftest import FakeClock, Widget, core_of
from tests.gateway.test_nlu_log import RASA_EVENTS, tracker_file

NOW = dt.datetime(2026, 11, 24, 9, 0, tzinfo=dt.timezone.utc)


def test_the_cutoffs_are_the_periods_before_now() -> None:
    cut = retention.cutoffs(retention.Periods(transcript_days=90, ticket_days=30, tracker_days=60,
                                              audit_content_days=365), NOW)
    assert cut.transcripts == NOW - dt.timedelta(days=90)
    assert cut.tickets == NOW - dt.timedelta(days=30)
    assert cut.tracker == NOW - dt.timedelta(days=60)
    assert cut.audit_content == NOW - dt.timedelta(days=365)


def test_a_period_is_at_least_one_day() -> None:
    with pytest.raises(ValueError):
        retention.Periods(transcript_days=0)


def test_the_purge_runs_at_start_up_and_then_once_a_day() -> None:
    assert retention.purge_due(None, NOW)
    assert not retention.purge_due(NOW - dt.timedelta(hours=23, minutes=59), NOW)
    assert retention.purge_due(NOW - dt.timedelta(hours=24), NOW)


def test_the_periods_are_settings_with_90_days_for_chats_by_default() -> None:
    defaults = load_settings({"VAR_DIR": "/tmp/x", "RASA_TOKEN": "t", "SESSION_SECRET": "s"})
    assert (defaults.retention_transcript_days, defaults.retention_ticket_days,
            defaults.retention_tracker_days, defaults.retention_audit_content_days) == (90, 90, 90, 365)
    custom = load_settings({"VAR_DIR": "/tmp/x", "RASA_TOKEN": "t", "SESSION_SECRET": "s",
                            "RETENTION_TRANSCRIPT_DAYS": "30"})
    assert custom.retention_transcript_days == 30
    with pytest.raises(SettingsError):
        load_settings({"VAR_DIR": "/tmp/x", "RASA_TOKEN": "t", "SESSION_SECRET": "s",
                       "RETENTION_TICKET_DAYS": "0"})


async def test_expired_chats_tickets_and_tracker_events_go_and_recent_ones_stay(
    gateway: TestClient, widget: Callable[..., Widget], clock: FakeClock, caplog: pytest.LogCaptureFixture
) -> None:
    old = widget()
    await old.connect()
    await old.say("En gammal fråga om lån")
    await old.send({"type": "ticket", "client_id": "ticket-0001-abcdef", "name": "Eva", "email": "eva@exempel.se",
                    "question": "Gammal fråga"})
    assert old.frames is not None
    await old.frames.wait_type("ticket_created")
    clock.advance(91 * 86400)
    recent = widget()
    await recent.connect()
    await recent.say("En ny fråga")
    assert old.conversation_id and recent.conversation_id
    tracker = tracker_file(gateway)
    tracker.parent.mkdir(parents=True, exist_ok=True)
    with sqlite3.connect(tracker) as db:
        db.execute(RASA_EVENTS)
        for sender, at in ((old.conversation_id, clock() - dt.timedelta(days=91)), (recent.conversation_id, clock())):
            db.execute("INSERT INTO events (sender_id, type_name, timestamp, data) VALUES (?, 'user', ?, ?)",
                       (sender, at.timestamp(), json.dumps({"text": "..."})))

    purge = gateway.app[retention_key]
    with caplog.at_level(logging.INFO, logger="bot.conversation.retention"):
        counts = await purge.run_if_due()
    assert counts is not None
    assert counts["conversations"] == 1 and counts["tickets"] == 1 and counts["tracker_events"] == 1
    assert counts["messages"] >= 2
    async with core_of(gateway).ctx.sessions() as s:
        left = list(await s.scalars(select(Conversation.id)))
        tickets = await s.scalar(select(func.count()).select_from(Ticket))
        messages = list(await s.scalars(select(Message.text).where(Message.role == "user")))
    assert left == [recent.conversation_id]
    assert tickets == 0
    assert messages == ["En ny fråga"]
    with sqlite3.connect(tracker) as db:
        assert db.execute("SELECT sender_id FROM events").fetchall() == [(recent.conversation_id,)]
    # Logged: how many, never what.
    line = " ".join(r.getMessage() for r in caplog.records)
    assert "conversations 1" in line and "tickets 1" in line and "tracker_events 1" in line
    assert "lån" not in line and "Gammal" not in line
    # Once a day: a second round the same day does nothing.
    assert await purge.run_if_due() is None
    clock.advance(86400)
    assert await purge.run_if_due() == {
        "messages": 0, "tickets": 0, "conversations": 0, "inbound_receipts": 0, "audit_entries": 0,
        "lagesbild_quotes": 0, "tracker_events": 0,
    }


async def test_a_chat_waiting_for_or_with_an_advisor_is_never_purged(
    gateway: TestClient, widget: Callable[..., Widget], clock: FakeClock
) -> None:
    from tests.gateway.conftest import queued_conversation

    company = widget()
    conversation_id = await queued_conversation(company)
    clock.advance(200 * 86400)
    counts = await gateway.app[retention_key].purge()
    assert counts["conversations"] == 0
    async with core_of(gateway).ctx.sessions() as s:
        assert await s.get(Conversation, conversation_id) is not None
