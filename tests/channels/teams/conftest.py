"""Fixtures for the Teams channel: the fake Bot Framework (bench/fake_botframework.py,
shared with `bench.teams`) on a local port, and gateways configured to talk to it, built from
the gateway's own fixtures (tests/gateway/conftest.py)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import aiohttp
import pytest
from aiohttp.test_utils import TestClient, TestServer
from sqlalchemy import func, select

from bench.fake_botframework import FakeBotFramework
from bot.conversation.models import Conversation, Message
from tests.gateway.conftest import (
    Console,
    advisor,
    clock,
    core_of,
    db_url,
    fake_rasa,
    make_advisor,
    make_gateway,
    make_settings,
    migrated_template,
    origin_of,
    rasa_server,
    sessions,
    ui_dirs,
)

__all__ = [
    "advisor",
    "clock",
    "db_url",
    "fake_rasa",
    "make_advisor",
    "make_gateway",
    "make_settings",
    "migrated_template",
    "rasa_server",
    "sessions",
    "ui_dirs",
]


@pytest.fixture
async def bf(aiohttp_server: Callable[..., Awaitable[TestServer]]) -> FakeBotFramework:
    """The fake Bot Framework, listening."""
    fake = FakeBotFramework()
    server = await aiohttp_server(fake.app())
    fake.base_url = str(server.make_url("")).rstrip("/")
    return fake


@pytest.fixture
async def teams(make_gateway: Callable[..., Awaitable[TestClient]], bf: FakeBotFramework) -> TestClient:
    """A gateway with the Teams channel pointed at the fake Bot Framework."""
    return await make_gateway(**bf.env())


@pytest.fixture
async def http() -> Any:
    async with aiohttp.ClientSession() as session:
        yield session


def gateway_url(client: TestClient) -> str:
    return str(client.make_url("")).rstrip("/")


async def stored(client: TestClient) -> tuple[int, int]:
    """(conversations, messages) in the gateway's database."""
    async with core_of(client).ctx.sessions() as s:
        conversations = await s.scalar(select(func.count()).select_from(Conversation))
        messages = await s.scalar(select(func.count()).select_from(Message))
    return int(conversations or 0), int(messages or 0)


def console_for(client: TestClient, session: aiohttp.ClientSession) -> Console:
    return Console(session, gateway_url(client), origin_of(client))
