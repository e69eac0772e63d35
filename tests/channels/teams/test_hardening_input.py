"""Hostile input from Microsoft Teams: text stored inert, bodies bounded before parsing
(after the token check), and the limit per tenant and user (every Teams request comes from
the Bot Connector's addresses)."""

from __future__ import annotations

import io
from collections.abc import Awaitable, Callable
from typing import Any

import aiohttp
import pytest
from aiohttp.test_utils import TestClient
from sqlalchemy import select

from bench.fake_botframework import FakeBotFramework
from bot import texts
from bot.conversation.models import Message
from bot.rules.validation import neutralize
from tests.channels.teams.conftest import gateway_url, stored
from tests.gateway.conftest import core_of, eventually
from tests.hostile import DEEP_JSON, ONE_MB, TEXTS, visible


async def company_texts(client: TestClient) -> list[str]:
    async with core_of(client).ctx.sessions() as s:
        return [t for t in await s.scalars(select(Message.text).where(Message.role == "user")) if t]


@pytest.mark.parametrize(("name", "text"), TEXTS, ids=[n for n, _ in TEXTS])
async def test_hostile_text_from_teams_is_stored_inert(
    bf: FakeBotFramework, http: aiohttp.ClientSession, teams: TestClient, name: str, text: str
) -> None:
    status, _ = await bf.post_activity(http, gateway_url(teams), bf.message(text))
    assert status == 200
    assert await company_texts(teams) == [neutralize(text).strip()]
    await eventually(lambda: len(bf.posts) >= 1)
    assert all(visible(shown) for shown in bf.texts_to("a:1teams-conversation-eva"))


@pytest.mark.parametrize(("body", "status"), [(DEEP_JSON, 400), (ONE_MB, 413)], ids=["deep", "1mb"])
async def test_bad_bodies_with_a_valid_token_are_refused_in_the_json_shape(
    bf: FakeBotFramework, http: aiohttp.ClientSession, teams: TestClient, body: str, status: int
) -> None:
    headers = {"Authorization": f"Bearer {bf.sign()}", "Content-Type": "application/json"}
    async with http.post(f"{gateway_url(teams)}/webhooks/teams/messages", data=io.BytesIO(body.encode()),
                         headers=headers) as response:
        assert response.status == status
        answer: dict[str, Any] = await response.json()
    assert set(answer["error"]) == {"code", "message"}
    assert await stored(teams) == (0, 0)


async def test_a_deep_body_without_a_token_is_refused_before_it_is_read(
    http: aiohttp.ClientSession, teams: TestClient
) -> None:
    async with http.post(f"{gateway_url(teams)}/webhooks/teams/messages", data=DEEP_JSON,
                         headers={"Content-Type": "application/json"}) as response:
        assert response.status == 401


async def test_one_teams_user_flooding_is_limited_and_others_are_not(
    make_gateway: Callable[..., Awaitable[TestClient]], bf: FakeBotFramework, http: aiohttp.ClientSession
) -> None:
    teams = await make_gateway(**bf.env(), RATE_LIMIT_MESSAGES="3", RATE_LIMIT_WINDOW_SECONDS="60")
    statuses = [(await bf.post_activity(http, gateway_url(teams), bf.message(f"meddelande {n}")))[0]
                for n in range(5)]
    assert statuses == [200, 200, 200, 429, 429]
    other = bf.message("hej från Per", conversation="a:1teams-conversation-per", user="29:1per-aad-user")
    status, body = await bf.post_activity(http, gateway_url(teams), other)
    assert status == 200, body
    assert await company_texts(teams) == ["meddelande 0", "meddelande 1", "meddelande 2", "hej från Per"]
    _, refused = await bf.post_activity(http, gateway_url(teams), bf.message("en till"))
    assert refused["error"]["message"] == texts.RATE_LIMITED


async def test_a_display_name_loses_its_hidden_characters(
    bf: FakeBotFramework, http: aiohttp.ClientSession, teams: TestClient
) -> None:
    from bot.conversation.models import Conversation

    status, _ = await bf.post_activity(http, gateway_url(teams), bf.message("hej", name="Eva \u202ekE\u200b\u0000"))
    assert status == 200
    async with core_of(teams).ctx.sessions() as s:
        [name] = list(await s.scalars(select(Conversation.display_name)))
    assert name == "Eva kE"
