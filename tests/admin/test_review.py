"""Reviewing real conversations: each company message with the intent Rasa predicted (read
from its tracker store), the confidence and the referral given; the filters; filing a
message as an example; reviewed messages leave the list."""

from __future__ import annotations

import datetime as dt
import html as html_lib
import json
import re
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from aiohttp.test_utils import TestClient
from sqlalchemy import create_engine, select

from bot.admin.review import tracker
from bot.admin.review.models import ReviewedMessage
from bot.admin.review.queries import Item, first_named, name_patterns, pair
from bot.conversation.models import Conversation, ConversationEvent, Message
from content.models import Example, Intent
from core.audit import AuditEntry
from core.db import make_engine, make_sessionmaker, transaction
from tests.admin.conftest import AdminBrowser
from tests.gateway.conftest import AdvisorAccount

UTC = dt.timezone.utc
DAY = dt.datetime(2026, 12, 7, 9, 0, tzinfo=UTC)  # Monday 7 December, 10:00 in Stockholm

# (conversation, channel, [(company message, (intent, confidence, ranking), actions, bot reply)])
CONVERSATIONS: list[tuple[str, str, list[tuple[str, tuple[str, float, list[tuple[str, float]]], list[str], str]]]] = [
    ("conv-loan", "widget", [
        ("vi behöver låna pengar till en ny maskin",
         ("financing", 0.93, [("financing", 0.93), ("export_finance", 0.04)]), ["action_referral"],
         "Almi Företagspartner Mälardalen lånar ut pengar till små företag."),
        ("hur når jag dem", ("ask_contact", 0.88, [("ask_contact", 0.88)]), ["action_contact_details"],
         "Almi nås via https://www.almi.se."),
    ]),
    ("conv-unsure", "rest", [
        ("vi har problem med kassaflödet efter en stor kundförlust", ("nlu_fallback", 0.4,
         [("economy_advice", 0.31), ("crisis_general", 0.28), ("financing", 0.2)]), ["action_fallback"],
         "Jag är inte säker på att jag förstod. Kan du beskriva din fråga med andra ord?"),
        ("jag vill prata med en människa", ("request_human", 0.97, [("request_human", 0.97)]), ["action_handoff"],
         "Jag kopplar dig till en rådgivare."),
    ]),
    ("conv-low", "widget", [
        ("momsen för sålda tjänster till norge", ("customs", 0.45, [("customs", 0.45), ("tax_general", 0.41)]),
         ["action_referral"], "Tullverket svarar på frågor om tull vid export."),
    ]),
]


def write_tracker(path: Path) -> str:
    """A tracker store as Rasa 3.6 writes it, holding the conversations' user and action events."""
    url = f"sqlite:///{path}"
    engine = create_engine(url)
    tracker.metadata.create_all(engine)
    with engine.begin() as connection:
        for conversation_id, _channel, turns in CONVERSATIONS:
            connection.execute(tracker.events.insert(), [{
                "sender_id": conversation_id, "type_name": "action", "action_name": "action_session_start",
                "data": json.dumps({"event": "action", "name": "action_session_start"})}])
            for text, (intent, confidence, ranking), actions, _reply in turns:
                parse = {"intent": {"name": intent, "confidence": confidence},
                         "intent_ranking": [{"name": n, "confidence": c} for n, c in ranking], "entities": []}
                rows = [{"sender_id": conversation_id, "type_name": "user", "intent_name": intent,
                         "data": json.dumps({"event": "user", "text": text, "parse_data": parse})}]
                rows += [{"sender_id": conversation_id, "type_name": "action", "action_name": a,
                          "data": json.dumps({"event": "action", "name": a})} for a in [*actions, "action_listen"]]
                for row in rows:
                    connection.execute(tracker.events.insert(), row)
    engine.dispose()
    return url


def write_conversations(db_url: str) -> dict[str, int]:
    """The same conversations in the gateway's tables; returns message id by text."""
    ids: dict[str, int] = {}
    engine = make_engine(db_url)
    with transaction(make_sessionmaker(engine)) as session:
        for n, (conversation_id, channel, turns) in enumerate(CONVERSATIONS):
            start = DAY + dt.timedelta(days=-n)  # one conversation a day, the first on the newest day
            session.add(Conversation(id=conversation_id, channel=channel, state="bot", created_at=start,
                                     updated_at=start))
            seq = 0
            for index, (text, _nlu, actions, reply) in enumerate(turns):
                at = start + dt.timedelta(minutes=index)
                seq += 1
                message = Message(conversation_id=conversation_id, seq=seq, role="user", text=text,
                                  rasa_status="done", created_at=at, buttons=[])
                session.add(message)
                session.flush()
                ids[text] = message.id
                seq += 1
                session.add(Message(conversation_id=conversation_id, seq=seq, role="bot", text=reply,
                                    reply_to=seq - 1, created_at=at, buttons=[]))
                if "action_handoff" in actions:
                    session.add(ConversationEvent(conversation_id=conversation_id, kind="handoff", channel=channel,
                                                  at=at + dt.timedelta(seconds=1), data={"reason": "request_human"}))
    engine.dispose()
    return ids


@pytest.fixture
def message_ids(db_url: str) -> dict[str, int]:
    return write_conversations(db_url)


@pytest.fixture
async def reviewer(
    make_gateway: Callable[..., Awaitable[TestClient]], sessions: Callable[[], aiohttp.ClientSession],
    admin: AdvisorAccount, tmp_path: Path, message_ids: dict[str, int],
) -> AdminBrowser:
    client = await make_gateway(RASA_TRACKER_URL=write_tracker(tmp_path / "tracker.db"))
    page = AdminBrowser(sessions(), client)
    assert await page.login(admin) == 303
    return page


def items(html: str) -> dict[str, str]:
    """Each listed message's text → its article's text content (tags removed)."""
    found = {}
    for article in re.findall(r'<article class="card review-item.*?</article>', html, re.S):
        text = re.search(r"<blockquote[^>]*>(.*?)</blockquote>", article, re.S)
        assert text is not None
        found[html_lib.unescape(text.group(1))] = " ".join(html_lib.unescape(re.sub(r"<[^>]+>", " ", article)).split())
    return found


async def test_every_company_message_is_listed_with_intent_confidence_and_referral(reviewer: AdminBrowser) -> None:
    status, html = await reviewer.get("/admin/review")
    listed = items(html)
    assert status == 200 and len(listed) == 5
    loan = listed["vi behöver låna pengar till en ny maskin"]
    assert "Tolkades som financing" in loan and "Säkerhet 93 %" in loan
    assert "Hänvisade till Almi Företagspartner Mälardalen" in loan
    assert "Rätt: financing" in loan and "export_finance (4 %)" in loan
    unsure = listed["vi har problem med kassaflödet efter en stor kundförlust"]
    assert "Tolkades som nlu_fallback" in unsure and "Förstod inte ja" in unsure
    assert "Rätt: economy_advice" in unsure  # the best guess behind the fallback
    assert "Till rådgivare ja" in listed["jag vill prata med en människa"]
    assert "Hänvisade till Tullverket" in listed["momsen för sålda tjänster till norge"]
    assert next(iter(listed)) == "hur når jag dem"  # the newest first


@pytest.mark.parametrize("query, expected", [
    ("lag=1", {"vi har problem med kassaflödet efter en stor kundförlust", "momsen för sålda tjänster till norge"}),
    ("lag=1&grans=0.95", {"vi behöver låna pengar till en ny maskin", "hur når jag dem",
                          "vi har problem med kassaflödet efter en stor kundförlust",
                          "momsen för sålda tjänster till norge"}),
    ("fallback=1", {"vi har problem med kassaflödet efter en stor kundförlust"}),
    ("overlamning=1", {"jag vill prata med en människa"}),
    ("kanal=rest", {"vi har problem med kassaflödet efter en stor kundförlust", "jag vill prata med en människa"}),
    ("fran=2026-12-06&till=2026-12-06", {"vi har problem med kassaflödet efter en stor kundförlust",
                                         "jag vill prata med en människa"}),
    ("fallback=1&overlamning=1&kanal=rest", {"vi har problem med kassaflödet efter en stor kundförlust",
                                             "jag vill prata med en människa"}),
])
async def test_the_filters(reviewer: AdminBrowser, query: str, expected: set[str]) -> None:
    _, html = await reviewer.get(f"/admin/review?{query}")
    assert set(items(html)) == expected


async def test_one_click_files_the_message_as_an_example_and_it_leaves_the_list(
    reviewer: AdminBrowser, db_url: str, message_ids: dict[str, int]
) -> None:
    text = "vi har problem med kassaflödet efter en stor kundförlust"
    message_id = message_ids[text]
    status, html, path = await reviewer.post(f"/admin/review/{message_id}", {
        "intent": "economy_advice", "back": "fallback=1", "next": str(message_ids["hur når jag dem"])})
    assert status == 200 and path.startswith("/admin/review?fallback=1&klart=inlagd")
    assert "Meddelandet är inlagt som exempel." in html
    assert text not in items(html)
    engine = make_engine(db_url)
    with make_sessionmaker(engine)() as session:
        example = session.scalar(select(Example).where(Example.text == text))
        assert example is not None and example.source == "review"
        assert session.scalar(select(Intent.name).where(Intent.id == example.intent_id)) == "economy_advice"
        reviewed = session.get(ReviewedMessage, message_id)
        assert reviewed is not None and (reviewed.outcome, reviewed.intent) == ("filed", "economy_advice")
        entry = session.scalar(select(AuditEntry).order_by(AuditEntry.id.desc()).limit(1))
        assert entry is not None and entry.after == {"intent": "economy_advice", "texts": [text]}
    engine.dispose()


async def test_a_message_can_be_filed_under_any_intent_or_dismissed(
    reviewer: AdminBrowser, message_ids: dict[str, int]
) -> None:
    _, html, _ = await reviewer.post(f"/admin/review/{message_ids['momsen för sålda tjänster till norge']}",
                                     {"do": "other", "other_intent": "tax_general", "intent": "customs"})
    assert "momsen för sålda tjänster till norge" not in items(html)
    _, html, _ = await reviewer.post(f"/admin/review/{message_ids['hur når jag dem']}", {"do": "dismiss"})
    assert "Meddelandet är granskat och borttaget från listan." in html
    assert set(items(html)) == {"vi behöver låna pengar till en ny maskin", "jag vill prata med en människa",
                                "vi har problem med kassaflödet efter en stor kundförlust"}


async def test_a_message_another_admin_already_filed_is_not_filed_twice(
    reviewer: AdminBrowser, message_ids: dict[str, int]
) -> None:
    text = "vi behöver låna pengar till en ny maskin"
    await reviewer.post(f"/admin/review/{message_ids[text]}", {"intent": "financing"})
    status, html, _ = await reviewer.post(f"/admin/review/{message_ids[text]}", {"intent": "financing"})
    assert status == 400 and "Någon annan har redan granskat det här meddelandet." in html_lib.unescape(html)


async def test_a_message_that_cannot_be_an_example_stays_in_the_list_with_the_reason(
    reviewer: AdminBrowser, message_ids: dict[str, int]
) -> None:
    text = "jag vill prata med en människa"
    await reviewer.post("/admin/intents/request_human", {"do": "add", "examples": text})
    status, html, _ = await reviewer.post(f"/admin/review/{message_ids[text]}", {"intent": "complaint"})
    assert status == 400
    assert f"”{text}” är redan ett exempel på request_human." in html_lib.unescape(html)
    assert text in items(html)


async def test_without_rasas_tracker_store_the_messages_are_still_listed(
    admin_browser: AdminBrowser, message_ids: dict[str, int]
) -> None:
    _, html = await admin_browser.get("/admin/review")
    listed = items(html)
    assert len(listed) == 5
    assert "Tolkades som okänt" in listed["hur når jag dem"] and "Säkerhet okänd" in listed["hur når jag dem"]
    assert "Hänvisade till Almi" in listed["hur når jag dem"]
    assert "Rasas samtalslogg finns inte ännu" in html


# ---------------------------------------------------------------- the plain rules


def turn(text: str) -> tracker.Turn:
    return tracker.Turn(text, "greet", 0.9)


def test_messages_pair_with_the_trackers_turns_in_order_and_by_text() -> None:
    turns = [turn("hej"), turn("/request_human"), turn("hej"), turn("tack")]
    paired = pair([(1, "hej"), (3, "hej"), (5, "tack"), (7, "aldrig skickat")], turns)
    positions = {id(t): i for i, t in enumerate(turns)}
    assert {seq: positions[id(t)] for seq, t in paired.items()} == {1: 0, 3: 2, 5: 3}


def test_the_referral_is_the_first_organisation_the_reply_names() -> None:
    patterns = name_patterns({"almi": ["Almi Företagspartner Mälardalen", "Almi"], "skv": ["Skatteverket"]})
    assert first_named("Skatteverket och Almi kan hjälpa.", patterns) == "skv"
    assert first_named("Vänd dig till Almi Företagspartner Mälardalen.", patterns) == "almi"
    assert first_named("Almis lån", patterns) is None  # whole words only
    assert first_named("Ingen alls.", patterns) is None


def test_an_item_is_low_when_unknown_below_the_threshold_or_a_fallback() -> None:
    at = dt.datetime(2026, 1, 1, tzinfo=UTC)
    item: Any = Item(1, "c", 1, at, "widget", "x", "greet", 0.5)
    assert item.low(0.6) and not item.low(0.4)
    assert Item(1, "c", 1, at, "widget", "x").low(0.1)
    assert Item(1, "c", 1, at, "widget", "x", "nlu_fallback", 0.9).low(0.6)
