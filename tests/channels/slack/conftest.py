"""Fixtures for the Slack channel: the gateway's building blocks (tests/gateway/conftest.py),
a fake Slack Web API on a loopback port, a gateway with Slack configured against it, and
`slack`: Slack itself sending signed requests to that gateway."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import aiohttp
import pytest
from aiohttp.test_utils import TestClient, TestServer
from sqlalchemy import func, select

from bench.fake_slack import SIGNING_SECRET, TOKEN, FakeSlack, SlackSide
from bot.channels.slack.runtime import SlackRuntime, slack_key
from bot.conversation.models import Conversation, InboundReceipt, Message
from tests.gateway import conftest as gateway_fixtures
from tests.gateway.conftest import Console, core_of, origin_of

# The gateway's fixtures, reused as they are (a conftest's module-level fixtures apply to
# the tests below it).
advisor = gateway_fixtures.advisor
clock = gateway_fixtures.clock
db_url = gateway_fixtures.db_url
fake_rasa = gateway_fixtures.fake_rasa
make_advisor = gateway_fixtures.make_advisor
make_gateway = gateway_fixtures.make_gateway
make_settings = gateway_fixtures.make_settings
migrated_template = gateway_fixtures.migrated_template
rasa_server = gateway_fixtures.rasa_server
sessions = gateway_fixtures.sessions
ui_dirs = gateway_fixtures.ui_dirs


@pytest.fixture
def fake_slack() -> FakeSlack:
    return FakeSlack()


@pytest.fixture
async def slack_api(
    fake_slack: FakeSlack, aiohttp_server: Callable[..., Awaitable[TestServer]]
) -> TestServer:
    return await aiohttp_server(fake_slack.app())


@pytest.fixture
def slack_env(slack_api: TestServer) -> dict[str, str]:
    return {
        "SLACK_BOT_TOKEN": TOKEN,
        "SLACK_SIGNING_SECRET": SIGNING_SECRET,
        "SLACK_API_URL": str(slack_api.make_url("/api/")),
    }


@pytest.fixture
def start_slack_gateway(
    make_gateway: Callable[..., Awaitable[TestClient]], slack_env: dict[str, str]
) -> Callable[..., Awaitable[TestClient]]:
    """A gateway with Slack configured (call again on the same database for a restart)."""

    async def start(**env: str) -> TestClient:
        return await make_gateway(**{**slack_env, **env})

    return start


@pytest.fixture
async def gateway(start_slack_gateway: Callable[..., Awaitable[TestClient]]) -> TestClient:
    return await start_slack_gateway()


@pytest.fixture
async def http() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as session:
        yield session


@pytest.fixture
def slack(gateway: TestClient, http: aiohttp.ClientSession, fake_slack: FakeSlack) -> SlackSide:
    return SlackSide(http, str(gateway.make_url("")), fake_slack)


def runtime_of(client: TestClient) -> SlackRuntime:
    return client.app[slack_key]


@pytest.fixture
def console_for(sessions: Callable[[], aiohttp.ClientSession]) -> Callable[[TestClient], Console]:
    def build(client: TestClient) -> Console:
        return Console(sessions(), str(client.make_url("")).rstrip("/"), origin_of(client))

    return build


async def stored(client: TestClient) -> dict[str, int]:
    """How many conversations, messages and inbound receipts the gateway has stored."""
    async with core_of(client).ctx.sessions() as s:
        counts: dict[str, Any] = {
            "conversations": await s.scalar(select(func.count()).select_from(Conversation)),
            "messages": await s.scalar(select(func.count()).select_from(Message)),
            "receipts": await s.scalar(select(func.count()).select_from(InboundReceipt)),
        }
    return {k: int(v or 0) for k, v in counts.items()}


NOTHING = {"conversations": 0, "messages": 0, "receipts": 0}
