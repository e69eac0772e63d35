"""The satisfaction question in Slack: Block Kit buttons after the advisor closes; a click
stores the rating, the next message is the comment; neither reaches Rasa."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

from aiohttp.test_utils import TestClient
from sqlalchemy import select

from bench.fake_rasa import HUMAN_PLEASE, FakeRasa
from bench.fake_slack import FakeSlack, SlackMessage, SlackSide
from bot.conversation.models import Conversation, CsatRating
from tests.channels.slack.conftest import Console
from tests.gateway.conftest import AdvisorAccount, core_of, eventually


async def posts(fake: FakeSlack, count: int) -> list[SlackMessage]:
    await eventually(lambda: len(fake.bot_posts()) >= count)
    await asyncio.sleep(0.1)
    assert fake.problems == []
    return fake.bot_posts()


async def test_a_slack_company_rates_the_advisor_with_buttons_and_comments(
    slack: SlackSide,
    fake_slack: FakeSlack,
    gateway: TestClient,
    advisor: AdvisorAccount,
    console_for: Callable[[TestClient], Console],
    fake_rasa: FakeRasa,
) -> None:
    await slack.dm(HUMAN_PLEASE)
    await posts(fake_slack, 2)
    async with core_of(gateway).ctx.sessions() as s:
        (conversation,) = list(await s.scalars(select(Conversation)))
    console = console_for(gateway)
    await console.login(advisor)
    await console.claim(conversation.id)
    await posts(fake_slack, 3)
    await console.post(f"/console/api/conversations/{conversation.id}/close", {"outcome": "resolved"})

    question = (await posts(fake_slack, 5))[4]
    assert "Hur nöjd är du med hjälpen" in question.shown_text()
    assert [b["value"] for b in question.buttons()] == [f"gateway:csat:{n}" for n in range(1, 6)]
    rasa_before = list(fake_rasa.conversation(conversation.id).messages)

    status, _ = await slack.click(question, "4")
    assert status == 200
    assert "Tack för ditt betyg" in (await posts(fake_slack, 6))[5].shown_text()
    await slack.dm("Bra och snabbt")
    assert "Tack för din kommentar" in (await posts(fake_slack, 7))[6].shown_text()

    async with core_of(gateway).ctx.sessions() as s:
        row = await s.get(CsatRating, conversation.id)
    assert row is not None and (row.rating, row.comment, row.advisor_id, row.channel) == (
        4, "Bra och snabbt", advisor.id, "slack"
    )
    assert fake_rasa.conversation(conversation.id).messages == rasa_before
