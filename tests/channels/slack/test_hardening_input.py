"""Hostile input from Slack: text stored inert and shown escaped, bodies bounded before
parsing, and the limit per workspace and user (Slack's requests all come from Slack)."""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from collections.abc import Awaitable, Callable

import aiohttp
import pytest
from aiohttp.test_utils import TestClient
from sqlalchemy import select

from bench.fake_slack import EVA, PER, SIGNING_SECRET, FakeSlack, SlackSide
from bot import texts
from bot.conversation.models import Message
from bot.rules.validation import neutralize
from tests.channels.slack.conftest import NOTHING, stored
from tests.gateway.conftest import core_of, eventually
from tests.hostile import DEEP_JSON, ONE_MB, TEXTS, visible


@pytest.fixture
def slack_side_for(http: aiohttp.ClientSession, fake_slack: FakeSlack) -> Callable[[TestClient], SlackSide]:
    return lambda client: SlackSide(http, str(client.make_url("")), fake_slack)


async def company_texts(client: TestClient) -> list[str]:
    async with core_of(client).ctx.sessions() as s:
        return [t for t in await s.scalars(select(Message.text).where(Message.role == "user")) if t]


@pytest.mark.parametrize(("name", "text"), TEXTS, ids=[n for n, _ in TEXTS])
async def test_hostile_text_from_slack_is_stored_inert_and_shown_escaped(
    slack: SlackSide, gateway: TestClient, fake_slack: FakeSlack, name: str, text: str
) -> None:
    # Slack sends what a person typed with &, < and > escaped (its markup uses < >).
    status, _ = await slack.dm(text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;"))
    assert status == 200
    await eventually(lambda: len(fake_slack.bot_posts()) >= 1)
    assert await company_texts(gateway) == [neutralize(text).strip()]
    for post in fake_slack.bot_posts():
        assert visible(post.text)
        assert "<script" not in post.text and "<img" not in post.text  # Slack markup: &lt; &gt;


@pytest.mark.parametrize(
    ("body", "status"),
    [(DEEP_JSON.encode(), 400), (ONE_MB.encode(), 413)],
    ids=["deep", "1mb"],
)
async def test_signed_bad_bodies_are_refused_in_the_json_shape(
    slack: SlackSide, gateway: TestClient, body: bytes, status: int
) -> None:
    got, answer = await slack.post("/webhooks/slack/events", body, "application/json")
    assert got == status
    assert set(json.loads(answer)["error"]) == {"code", "message"}
    assert await stored(gateway) == NOTHING


async def test_a_deep_interaction_payload_is_refused(slack: SlackSide, gateway: TestClient) -> None:
    from urllib.parse import urlencode

    body = urlencode({"payload": DEEP_JSON}).encode()
    got, answer = await slack.post("/webhooks/slack/interactive", body, "application/x-www-form-urlencoded")
    assert got == 400
    assert json.loads(answer)["error"]["message"] == texts.TOO_DEEP


async def test_one_slack_user_flooding_is_limited_and_told_others_are_not(
    start_slack_gateway: Callable[..., Awaitable[TestClient]], slack_side_for: Callable[[TestClient], SlackSide],
    fake_slack: FakeSlack,
) -> None:
    gateway = await start_slack_gateway(RATE_LIMIT_MESSAGES="3", RATE_LIMIT_WINDOW_SECONDS="60")
    side = slack_side_for(gateway)
    for n in range(5):
        assert (await side.dm(f"meddelande {n}"))[0] == 200
    assert (await side.dm("hej från Per", user=PER, channel="D0PER0001"))[0] == 200
    await eventually(lambda: any(e.get("text") == texts.RATE_LIMITED for e in fake_slack.ephemeral))
    stored_texts = await company_texts(gateway)
    assert stored_texts == ["meddelande 0", "meddelande 1", "meddelande 2", "hej från Per"]
    assert EVA != PER


async def test_invalid_utf8_cannot_be_verified_and_is_refused(slack: SlackSide, gateway: TestClient) -> None:
    body = b'{"type": "event_callback", "x": "\xff"}'
    stamp = str(int(time.time()))
    digest = hmac.new(SIGNING_SECRET.encode(), b"v0:" + stamp.encode() + b":" + body, hashlib.sha256).hexdigest()
    headers = {"X-Slack-Request-Timestamp": stamp, "X-Slack-Signature": f"v0={digest}",
               "Content-Type": "application/json"}
    async with slack.http.post(f"{slack.base}/webhooks/slack/events", data=body, headers=headers) as response:
        assert response.status == 401
    assert await stored(gateway) == NOTHING
