"""A Redis outage while chats run (a private redis-server, killed and started again): live
events keep flowing within each gateway, nothing raises, and once Redis is back the
replicas hear each other again, the subscriptions made during the outage included."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path

import pytest

from bot.conversation.pubsub import RedisHub
from tests.private_servers import PrivateRedis, private_redis


@pytest.fixture
def redis_server(tmp_path: Path) -> Iterator[PrivateRedis]:
    with private_redis(tmp_path / "redis") as server:
        yield server


async def next_event(subscription: object, timeout: float = 3) -> dict[str, object]:
    return await asyncio.wait_for(subscription.get(), timeout)  # type: ignore[attr-defined]


async def test_during_a_redis_outage_events_stay_local_and_after_it_they_reach_every_replica(
    redis_server: PrivateRedis,
) -> None:
    a, b = RedisHub(redis_server.url), RedisHub(redis_server.url)
    await a.start()
    await b.start()
    try:
        async with a.subscribe("conv:1") as on_a, b.subscribe("conv:1") as on_b:
            await asyncio.sleep(0.1)
            await a.publish("conv:1", {"n": 1})
            assert await next_event(on_a) == await next_event(on_b) == {"n": 1}

            redis_server.kill()
            await a.publish("conv:1", {"n": 2})  # no exception: the turn goes on
            assert await next_event(on_a) == {"n": 2}  # this gateway's own sockets still hear it
            async with a.subscribe("conv:2") as late:  # subscribed while Redis is down
                redis_server.start()
                await asyncio.sleep(2.5)  # the listeners reconnect (they retry every second)
                # The screens of each gateway are told to fetch what they missed meanwhile.
                assert await next_event(on_a, 5) == {"type": "messages"}
                await b.publish("conv:1", {"n": 3})
                while (event := await next_event(on_a, 5)) != {"n": 3}:
                    assert event["type"] in ("messages", "status")
                await b.publish("conv:2", {"n": 4})
                while (event := await next_event(late, 5)) != {"n": 4}:
                    assert event["type"] in ("messages", "status")
    finally:
        await a.stop()
        await b.stop()
