"""Erasure (art. 17) and access (art. 15): a unique marker written through every channel and
path is gone from every text column of every table of both databases after erasing.

The marker goes in through the widget (messages, the ticket form, the rating comment),
the REST channel, Slack and Teams (against the local fakes), and the advisor's console
(replies, an internal note, the company's name and e-mail, the close note, the transcript
e-mail); Rasa's tracker store holds the turns as Rasa records them. Each person is then
found the way an admin would (conversation id, e-mail, phone, Slack user, Teams user) and
erased from the admin page, or by the company itself ("radera min chatt").
"""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import sqlite3
from collections.abc import Awaitable, Callable, Iterator
from pathlib import Path

import aiohttp
import pytest
from aiohttp.test_utils import TestClient, TestServer
from sqlalchemy import String, Text, create_engine, inspect, select, text
from sqlalchemy.types import JSON

from bench.fake_botframework import FakeBotFramework
from bench.fake_rasa import FakeRasa
from bench.fake_slack import SIGNING_SECRET, FakeSlack, SlackSide
from bench.fake_slack import TOKEN as SLACK_TOKEN
from bot.conversation.models import Conversation, Message, TranscriptEmail
from bot.web.keys import settings_key
from core.audit import AuditEntry
from core.db import sync_url
from tests.gateway.conftest import (
    AdvisorAccount,
    Console,
    Widget,
    core_of,
    eventually,
    eventually_async,
    queued_conversation,
)
from tests.gateway.test_nlu_log import RASA_EVENTS
from tests.smtp_support import SmtpServer, smtp_server

MARKER = "Zq7Marker"  # nothing else in either database contains it
EMAIL = f"{MARKER.lower()}@exempel.se"
PHONE = "070-555 12 34"


@pytest.fixture
def db_url(any_db_url: str) -> str:
    """SQLite always; PostgreSQL too when TEST_DATABASE_URL is set (skipped with why otherwise)."""
    return any_db_url


@pytest.fixture
def smtp() -> Iterator[SmtpServer]:
    with smtp_server() as server:
        yield server


@pytest.fixture
async def everything(
    make_gateway: Callable[..., Awaitable[TestClient]],
    aiohttp_server: Callable[..., Awaitable[TestServer]],
    smtp: SmtpServer,
) -> tuple[TestClient, FakeSlack, FakeBotFramework]:
    """One gateway with every channel on: Slack and Teams against their fakes, and mail."""
    slack = FakeSlack()
    slack_api = await aiohttp_server(slack.app())
    bf = FakeBotFramework()
    bf_server = await aiohttp_server(bf.app())
    bf.base_url = str(bf_server.make_url("")).rstrip("/")
    env = {
        "SLACK_BOT_TOKEN": SLACK_TOKEN,
        "SLACK_SIGNING_SECRET": SIGNING_SECRET,
        "SLACK_API_URL": str(slack_api.make_url("/api/")),
        **bf.env(),
        **smtp.env(),
    }
    return await make_gateway(**env), slack, bf


def text_hits(url: str, marker: str) -> list[str]:
    """Every table.column of the database whose text holds the marker (strings and JSON)."""
    engine = create_engine(sync_url(url))
    hits = []
    try:
        inspector = inspect(engine)
        with engine.connect() as conn:
            for table in inspector.get_table_names():
                for column in inspector.get_columns(table):
                    kind = column["type"]
                    if not isinstance(kind, (String, Text, JSON)) and "JSON" not in str(kind).upper():
                        continue
                    name = column["name"]
                    cast = f'CAST("{name}" AS TEXT)'
                    found = conn.execute(
                        text(f'SELECT COUNT(*) FROM "{table}" WHERE LOWER({cast}) LIKE :m'),
                        {"m": f"%{marker.lower()}%"},
                    ).scalar()
                    if found:
                        hits.append(f"{table}.{name}")
    finally:
        engine.dispose()
    return hits


def tracker_path(gateway: TestClient) -> Path:
    return Path(gateway.app[settings_key].rasa_tracker_url.removeprefix("sqlite:///"))


def record_in_tracker(path: Path, fake_rasa: FakeRasa) -> None:
    """What Rasa's SQL tracker store holds for every turn the fake Rasa saw, plus one
    conversation of someone else (which must survive)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with sqlite3.connect(path) as db:
        db.execute(RASA_EVENTS)
        for sender, conv in fake_rasa.conversations.items():
            for event in conv.events:
                db.execute(
                    "INSERT INTO events (sender_id, type_name, timestamp, data) VALUES (?, ?, ?, ?)",
                    (sender, str(event.get("event")), 1.0e9, json.dumps(event, ensure_ascii=False)),
                )
        db.execute(
            "INSERT INTO events (sender_id, type_name, timestamp, data) VALUES (?, ?, ?, ?)",
            ("someone-else", "user", 1.0e9, json.dumps({"event": "user", "text": "hej"})),
        )


def file_first_question(db_url: str, conversation_id: str) -> None:
    """What the review list does when an admin files a message as an example."""
    from bot.admin.review.filing import file_as_example
    from content.models import Intent
    from core.db import make_engine, make_sessionmaker, transaction
    from core.editing import Actor

    engine = make_engine(db_url)
    try:
        with transaction(make_sessionmaker(engine)) as session:
            session.add(Intent(name="financing", kind="referral", nlu_file="financing"))
            session.flush()
            message_id = session.scalar(
                select(Message.id).where(Message.conversation_id == conversation_id, Message.role == "user")
                .order_by(Message.seq).limit(1)
            )
            assert message_id is not None
            file_as_example(session, Actor(None, "Ada Admin"), dt.datetime.now(dt.timezone.utc), message_id,
                            "financing")
    finally:
        engine.dispose()


async def admin_erase(admin: Console, kind: str, value: str) -> dict[str, str]:
    found = await admin.session.get(f"{admin.base}/admin/privacy", params={"vad": kind, "varde": value})
    assert found.status == 200
    assert "Inget sparat hittades" not in await found.text(), (kind, value)
    async with admin.session.post(
        f"{admin.base}/admin/privacy/erase",
        data={"csrf_token": admin.csrf, "vad": kind, "varde": value, "bekrafta": "ja"},
        headers={"Origin": admin.origin},
        allow_redirects=False,
    ) as response:
        assert response.status == 303, await response.text()
        location = response.headers["Location"]
    return dict(part.split("=", 1) for part in location.split("?", 1)[1].split("&"))


async def admin_login(admin: Console, account: AdvisorAccount) -> None:
    """Log in on the admin pages (the console's session cookie is the same) and keep the
    form's CSRF token."""
    await admin.login(account)
    async with admin.session.get(f"{admin.base}/admin/privacy") as response:
        body = await response.text()
    token = body.split('name="csrf_token" value="', 1)
    if len(token) == 2:
        admin.csrf = token[1].split('"', 1)[0]


async def test_a_marker_written_everywhere_is_gone_from_both_databases_after_erasure(
    everything: tuple[TestClient, FakeSlack, FakeBotFramework],
    widget: Callable[..., Widget],
    console: Callable[..., Console],
    make_advisor: Callable[[str, str], AdvisorAccount],
    fake_rasa: FakeRasa,
    smtp: SmtpServer,
    db_url: str,
    sessions: Callable[[], aiohttp.ClientSession],
) -> None:
    gateway, slack_fake, bf = everything
    anna = make_advisor("anna.berg@foretagssupport.se", "Anna Berg")
    admin_account = make_advisor("admin@foretagssupport.se", "Ada Admin")
    from bot.accounts.manage import create_advisor
    from core.db import make_engine, make_sessionmaker

    engine = make_engine(db_url)
    create_advisor(make_sessionmaker(engine), admin_account.email, admin_account.name, admin_account.password,
                   update=True, role="admin")
    engine.dispose()

    # 1. The widget: a question, a hand-off, advisor replies, a note, company details, a
    #    close note with the transcript mailed, the rating comment.
    company = widget(gateway)
    await company.connect()
    await company.say(f"Vi heter {MARKER} AB och behöver ett lån")
    widget_id = await queued_conversation(company)
    advisor = console(gateway)
    await advisor.login(anna)
    await advisor.claim(widget_id)
    await advisor.reply(widget_id, f"Hej {MARKER}, jag hjälper er.")
    await company.wait_message("advisor", MARKER)
    await company.say(f"Tack! Vår kod är {MARKER}-42")
    status, _ = await advisor.post(
        f"/console/api/conversations/{widget_id}/notes", {"client_id": "note-0001-abcdef", "text": f"Notera {MARKER}"}
    )
    assert status in (200, 201)
    status, _ = await advisor.post(
        f"/console/api/conversations/{widget_id}/company", {"company_name": f"{MARKER} AB"}
    )
    assert status == 200
    status, _ = await advisor.post(
        f"/console/api/conversations/{widget_id}/close",
        {"outcome": "resolved", "note": f"Löst för {MARKER}", "email": EMAIL},
    )
    assert status == 200
    await company.wait_message("system", "Hur nöjd")
    await company.say("5", payload="gateway:csat:5")
    await company.wait_message("system", "Tack för ditt betyg")
    await company.say(f"Bra hjälp till {MARKER}")
    await company.wait_message("system", "Tack för din kommentar")
    await eventually(lambda: len(smtp.inbox.messages) == 1)

    # An admin filed the company's question as a training example (review list). From a
    # thread: a blocking write on this loop's thread would wait for a lock that only the
    # in-process gateway, on this same loop, can release.
    await asyncio.to_thread(file_first_question, db_url, widget_id)

    # 2. A ticket left from another widget chat, with e-mail and phone.
    ticketing = widget(gateway)
    await ticketing.connect()
    await ticketing.send({
        "type": "ticket", "client_id": "ticket-0001-abcdef", "name": f"Eva {MARKER}",
        "company": f"{MARKER} Bygg", "email": EMAIL, "phone": PHONE, "question": f"Ring mig om {MARKER}",
    })
    assert ticketing.frames is not None
    await ticketing.frames.wait_type("ticket_created")

    # 3. The REST channel.
    response = await gateway.post("/webhooks/rest/webhook", json={"sender": "program-1", "message": f"REST {MARKER}"})
    assert response.status == 200
    async with core_of(gateway).ctx.sessions() as s:
        rest_id = await s.scalar(select(Conversation.id).where(Conversation.channel == "rest"))
    assert rest_id is not None

    # 4. Slack (a DM) and Teams (a personal chat), against the local fakes.
    async with aiohttp.ClientSession() as http:
        slack = SlackSide(http, str(gateway.make_url("")), slack_fake)
        status_code, body = await slack.event(slack.dm_event(f"Slack {MARKER}", channel="D0EVA0001"))
        assert status_code == 200, body
        status_code, body = await bf.post_activity(http, str(gateway.make_url("")).rstrip("/"),
                                                   bf.message(f"Teams {MARKER}", user="29:1eva-aad-user"))
        assert status_code == 200, body

    async def all_turns_recorded() -> bool:
        return sum(MARKER in m for c in fake_rasa.conversations.values() for m in c.messages) >= 5

    await eventually_async(all_turns_recorded)
    record_in_tracker(tracker_path(gateway), fake_rasa)
    async with core_of(gateway).ctx.sessions() as s:
        assert await s.scalar(select(TranscriptEmail.id)) is not None
    before = text_hits(db_url, MARKER)
    assert {
        "messages.text", "tickets.question", "csat_ratings.comment", "conversations.outcome_note",
        "conversations.company_name", "transcript_emails.recipient", "conversation_events.data",
        "examples.text", "audit_log.after",
    } <= set(before)
    assert text_hits(f"sqlite:///{tracker_path(gateway)}", MARKER)

    # 5. Erase: the company its own chat; the admin everyone else, by each kind of lookup.
    await company.send({"type": "erase"})
    assert company.frames is not None
    erased = await company.frames.wait_type("erased")
    assert "raderad" in erased["message"]
    admin = console(gateway)
    await admin_login(admin, admin_account)
    by_phone = await admin.session.get(f"{admin.base}/admin/privacy", params={"vad": "phone", "varde": "+46705551234"})
    assert "nr " in await by_phone.text()  # the ticket, found by its phone number written differently
    counts = await admin_erase(admin, "email", EMAIL.upper())
    assert counts["n_tickets"] == "1"
    await admin_erase(admin, "conversation", rest_id)
    await admin_erase(admin, "slack", "D0EVA0001")
    await admin_erase(admin, "teams", "29:1eva-aad-user")

    assert text_hits(db_url, MARKER) == []
    assert text_hits(f"sqlite:///{tracker_path(gateway)}", MARKER) == []
    with sqlite3.connect(tracker_path(gateway)) as db:
        assert db.execute("SELECT sender_id FROM events").fetchall() == [("someone-else",)]
    async with core_of(gateway).ctx.sessions() as s:
        erasures = list(await s.scalars(select(AuditEntry).where(AuditEntry.action == "erased")))
    assert len(erasures) == 5
    by_company = [e for e in erasures if e.actor_id is None]
    assert len(by_company) == 1 and by_company[0].after is not None
    assert by_company[0].after["conversations"] == 1 and by_company[0].after["tracker_events"] > 0
    assert all(e.before is None and e.actor for e in erasures)
    assert {e.actor_id for e in erasures} == {None, admin_account.id}
