"""Reviewing real conversations: each company message with the intent Rasa predicted (read
from its tracker store), the confidence and the referral given; the filters; filing a
message as an example; reviewed messages leave the list."""

from __future__ import annotations

import datetime as dt
import html as html_lib
import re
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from aiohttp.test_utils import TestClient
from sqlalchemy import select

from bot.admin.review import tracker
from bot.admin.review.models import ReviewedMessage
from bot.admin.review.queries import Item, first_named, name_patterns, pair
from content.models import Example, Intent
from core.audit import AuditEntry
from core.db import make_engine, make_sessionmaker
from tests.admin.conftest import AdminBrowser
from tests.admin.review_data import write_conversations, write_tracker
from tests.gateway.conftest import AdvisorAccount


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
    message_ids: dict[str, int], admin_browser: AdminBrowser  # written before the gateway starts
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
    at = dt.datetime(2026, 1, 1, tzinfo=dt.timezone.utc)
    item: Any = Item(1, "c", 1, at, "widget", "x", "greet", 0.5)
    assert item.low(0.6) and not item.low(0.4)
    assert Item(1, "c", 1, at, "widget", "x").low(0.1)
    assert Item(1, "c", 1, at, "widget", "x", "nlu_fallback", 0.9).low(0.6)
