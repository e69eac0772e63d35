"""Live events between the parts of the gateway, in one process or across replicas."""

from __future__ import annotations

import asyncio
import os
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable

import aiohttp
import pytest
from aiohttp.test_utils import TestClient

from bot.conversation.pubsub import Hub, MemoryHub, RedisHub
from tests.gateway.conftest import (
    AdvisorAccount,
    Console,
    Widget,
    origin_of,
    queued_conversation,
)

REDIS_URL = os.environ.get("TEST_REDIS_URL")


def redis_hub() -> RedisHub:
    assert REDIS_URL
    return RedisHub(REDIS_URL, prefix=f"test-{uuid.uuid4().hex[:8]}:")


@pytest.fixture(params=["memory", pytest.param("redis", marks=pytest.mark.redis)])
async def hub(request: pytest.FixtureRequest) -> AsyncIterator[Hub]:
    if request.param == "redis" and not REDIS_URL:
        pytest.skip("TEST_REDIS_URL is not set: Redis pub/sub tests skipped")
    instance: Hub = MemoryHub() if request.param == "memory" else redis_hub()
    await instance.start()
    yield instance
    await instance.stop()


async def next_event(subscription: object) -> dict[str, object]:
    return await asyncio.wait_for(subscription.get(), 2)  # type: ignore[attr-defined]


async def test_subscribers_get_the_events_of_their_channel_only(hub: Hub) -> None:
    async with hub.subscribe("conv:a") as a, hub.subscribe("conv:b") as b:
        await asyncio.sleep(0.05)  # Redis confirms subscriptions asynchronously
        await hub.publish("conv:a", {"type": "messages"})
        assert await next_event(a) == {"type": "messages"}
        await hub.publish("conv:b", {"type": "status"})
        assert await next_event(b) == {"type": "status"}
        assert a._queue.empty()  # type: ignore[attr-defined]


async def test_every_subscriber_of_a_channel_gets_each_event(hub: Hub) -> None:
    async with hub.subscribe("console") as one, hub.subscribe("console") as two:
        await asyncio.sleep(0.05)
        await hub.publish("console", {"type": "queue", "n": 1})
        assert await next_event(one) == await next_event(two) == {"type": "queue", "n": 1}


async def test_a_slow_subscriber_loses_the_oldest_events_not_the_newest() -> None:
    hub = MemoryHub()
    async with hub.subscribe("c") as sub:
        for n in range(300):
            await hub.publish("c", {"n": n})
        assert (await next_event(sub))["n"] == 300 - 256
    await hub.publish("c", {"n": "nobody listens"})  # no error without subscribers


@pytest.mark.redis
async def test_two_replicas_share_live_events_through_redis(
    make_gateway: Callable[..., Awaitable[TestClient]],
    sessions: Callable[[], aiohttp.ClientSession],
    console: Callable[..., Console],
    advisor: AdvisorAccount,
) -> None:
    if not REDIS_URL:
        pytest.skip("TEST_REDIS_URL is not set: Redis pub/sub tests skipped")
    prefix = f"test-{uuid.uuid4().hex[:8]}:"
    replica_a = await make_gateway(hub=RedisHub(REDIS_URL, prefix=prefix))
    replica_b = await make_gateway(hub=RedisHub(REDIS_URL, prefix=prefix))
    company = Widget(sessions(), str(replica_b.make_url("")).rstrip("/"), origin_of(replica_b))
    anna = console(replica_a)
    await anna.login(advisor)
    live = await anna.open_socket()

    conversation_id = await queued_conversation(company)  # on replica B
    await live.wait_type("queue", event="enqueued")  # seen on replica A
    assert (await anna.claim(conversation_id))[0] == 200
    await anna.reply(conversation_id, "Hej från replik A.")
    await company.wait_status("advisor")
    await company.wait_message("advisor", "Hej från replik A.")
