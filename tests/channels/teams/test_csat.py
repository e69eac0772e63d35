"""The satisfaction question in Teams: a card with five buttons after the advisor closes;
a click (messageBack) stores the rating, the next message is the comment."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

import aiohttp
from aiohttp.test_utils import TestClient

from bench.fake_botframework import FakeBotFramework
from bench.fake_rasa import HUMAN_PLEASE, FakeRasa
from bot.conversation.models import CsatRating
from tests.channels.teams.conftest import console_for, gateway_url
from tests.gateway.conftest import AdvisorAccount, core_of, eventually


async def say(bf: FakeBotFramework, http: aiohttp.ClientSession, teams: TestClient, text: str, **kw: Any) -> None:
    status, body = await bf.post_activity(http, gateway_url(teams), bf.message(text, **kw))
    assert status == 200, body


async def wait_posts(bf: FakeBotFramework, count: int) -> None:
    await eventually(lambda: len(bf.posts) >= count)
    await asyncio.sleep(0.1)


async def test_a_teams_company_rates_the_advisor_on_a_card_and_comments(
    teams: TestClient,
    bf: FakeBotFramework,
    http: aiohttp.ClientSession,
    advisor: AdvisorAccount,
    sessions: Callable[[], aiohttp.ClientSession],
    fake_rasa: FakeRasa,
) -> None:
    await say(bf, http, teams, HUMAN_PLEASE)
    await wait_posts(bf, 2)
    console = console_for(teams, sessions())
    await console.login(advisor)
    _, queue = await console.get("/console/api/queue")
    conversation_id = queue["queue"][0]["conversation_id"]
    await console.claim(conversation_id)
    await wait_posts(bf, 3)
    await console.post(f"/console/api/conversations/{conversation_id}/close", {"outcome": "resolved"})
    await wait_posts(bf, 5)

    question = bf.posts[4]
    assert "Hur nöjd är du med hjälpen" in question.text
    assert [b["title"] for b in question.buttons] == ["1 – Inte alls nöjd", "2", "3", "4", "5 – Mycket nöjd"]
    rasa_before = list(fake_rasa.conversation(conversation_id).messages)

    five = question.buttons[4]
    await say(bf, http, teams, five["text"], value=five["value"])
    await wait_posts(bf, 6)
    assert "Tack för ditt betyg" in bf.posts[5].text
    await say(bf, http, teams, "Mycket bra hjälp")
    await wait_posts(bf, 7)
    assert "Tack för din kommentar" in bf.posts[6].text

    async with core_of(teams).ctx.sessions() as s:
        row = await s.get(CsatRating, conversation_id)
    assert row is not None and (row.rating, row.comment, row.advisor_id, row.channel) == (
        5, "Mycket bra hjälp", advisor.id, "teams"
    )
    assert fake_rasa.conversation(conversation_id).messages == rasa_before
