"""Floods from one address, hand-off floods, chats left behind in the queue, and login
throttling (issue 11, "Floods from one address" and "Login lockout per IP")."""

from __future__ import annotations

import asyncio
import os
import time
from collections.abc import Awaitable, Callable
from typing import Any

import aiohttp
import pytest
from aiohttp.test_utils import TestClient
from sqlalchemy import select

from bot import texts
from bot.conversation.models import Conversation, ConversationEvent
from bot.conversation.rasa_worker import REQUEST_ADVISOR
from bot.rules.ratelimit import Limit
from bot.web.keys import core_key
from bot.web.limits import Limits, MemoryBuckets, RedisBuckets
from tests.gateway.conftest import (
    AdvisorAccount,
    FakeClock,
    Widget,
    origin_of,
    queued_conversation,
)

WEBHOOK = "/webhooks/rest/webhook"
# The gateway behind a TLS proxy on loopback: X-Forwarded-For names the company.
BEHIND_PROXY = {
    "TRUSTED_PROXIES": "127.0.0.1/32,::1/128",
    "RATE_LIMIT_ADDRESS_MESSAGES": "20",
    "RATE_LIMIT_WINDOW_SECONDS": "60",
}
MakeGateway = Callable[..., Awaitable[TestClient]]


def from_address(address: str) -> dict[str, str]:
    return {"X-Forwarded-For": address}


async def rest(client: TestClient, sender: str, text: str, address: str | None = None) -> tuple[int, Any, float]:
    started = time.perf_counter()
    response = await client.post(
        WEBHOOK, json={"sender": sender, "message": text}, headers=from_address(address) if address else None
    )
    return response.status, await response.json(), time.perf_counter() - started


async def test_invented_rest_senders_from_one_address_share_its_limit(make_gateway: MakeGateway) -> None:
    gateway = await make_gateway(**BEHIND_PROXY)
    results = await asyncio.gather(*(rest(gateway, f"invented-{n}", "hej", "203.0.113.7") for n in range(40)))
    statuses = [status for status, _, _ in results]
    assert statuses.count(200) == 20
    refused = [body for status, body, _ in results if status == 429]
    assert len(refused) == 20
    assert refused[0]["error"]["message"] == texts.RATE_LIMITED
    assert refused[0]["error"]["retry_after"] >= 1
    # Another company is not slowed by the flood (a generous bound: not a benchmark).
    status, _, seconds = await rest(gateway, "real-company", "hej", "198.51.100.20")
    print(f"\nafter 40 invented senders from one address, another company's turn: {seconds * 1000:.0f} ms")
    assert status == 200
    assert seconds < 2.0


async def test_the_forwarded_header_counts_only_from_a_trusted_proxy(make_gateway: MakeGateway) -> None:
    gateway = await make_gateway(RATE_LIMIT_ADDRESS_MESSAGES="3", RATE_LIMIT_WINDOW_SECONDS="60")
    # No trusted proxy configured: a client cannot pick a fresh address per request.
    statuses = [(await rest(gateway, f"s{n}", "hej", f"192.0.2.{n}"))[0] for n in range(5)]
    assert statuses == [200, 200, 200, 429, 429]


async def test_many_widget_sockets_from_one_address_share_its_limit(
    make_gateway: MakeGateway, widget: Callable[..., Widget], sessions: Callable[[], aiohttp.ClientSession]
) -> None:
    gateway = await make_gateway(**BEHIND_PROXY)
    base = str(gateway.make_url("")).rstrip("/")
    sockets = []
    for _ in range(10):
        ws = await sessions().ws_connect(
            f"{base}/widget/ws", headers={"Origin": origin_of(gateway), **from_address("203.0.113.9")}
        )
        await ws.send_json({"type": "hello", "protocol": 1})
        assert (await ws.receive_json(timeout=5))["type"] == "welcome"
        sockets.append(ws)

    async def flood(ws: aiohttp.ClientWebSocketResponse, n: int) -> list[str]:
        for k in range(5):
            await ws.send_json({"type": "message", "client_id": f"flood-{n}-{k}-xxxx", "text": "hej"})
        outcomes = []
        while len(outcomes) < 5:
            frame = await ws.receive_json(timeout=10)
            if frame["type"] in ("ack", "error"):
                outcomes.append(frame.get("code", "ack"))
        return outcomes

    outcomes = [o for result in await asyncio.gather(*(flood(ws, n) for n, ws in enumerate(sockets))) for o in result]
    assert outcomes.count("ack") == 20  # the address's 20, over all ten sockets
    assert outcomes.count("rate_limited") == 30
    company = widget()  # 127.0.0.1 itself: another address
    await company.connect()
    started = time.perf_counter()
    await company.say("hej")
    await company.wait_message("bot")
    elapsed = time.perf_counter() - started
    print(f"\nafter 10 sockets x 5 messages from one address, another company's turn: {elapsed * 1000:.0f} ms")
    assert elapsed < 2.0
    for ws in sockets:
        await ws.close()


async def test_too_many_sockets_from_one_address_are_refused_before_the_upgrade(
    make_gateway: MakeGateway, sessions: Callable[[], aiohttp.ClientSession]
) -> None:
    gateway = await make_gateway(MAX_SOCKETS_PER_ADDRESS="3")
    base = str(gateway.make_url("")).rstrip("/")
    session = sessions()
    open_sockets = [
        await session.ws_connect(f"{base}/widget/ws", headers={"Origin": origin_of(gateway)}) for _ in range(3)
    ]
    async with session.get(f"{base}/widget/ws", headers={"Origin": origin_of(gateway)}) as refused:
        assert refused.status == 429
        assert (await refused.json())["error"]["message"] == texts.TOO_MANY_CONNECTIONS
    await open_sockets[0].close()
    await asyncio.sleep(0.1)
    again = await session.ws_connect(f"{base}/widget/ws", headers={"Origin": origin_of(gateway)})
    for ws in [*open_sockets, again]:
        await ws.close()


async def test_requests_for_an_advisor_have_their_own_limit(make_gateway: MakeGateway) -> None:
    gateway = await make_gateway(RATE_LIMIT_HANDOFFS="2", **BEHIND_PROXY)
    answers = [await rest(gateway, f"asker-{n}", REQUEST_ADVISOR, "203.0.113.5") for n in range(3)]
    assert [status for status, _, _ in answers] == [200, 200, 429]
    assert answers[2][1]["error"]["code"] == "handoff_limited"
    assert answers[2][1]["error"]["message"] == texts.TOO_MANY_HANDOFFS
    # Ordinary messages from the same address still go through.
    assert (await rest(gateway, "asker-0", "hej", "203.0.113.5"))[0] == 200


async def test_a_queued_chat_whose_company_left_leaves_the_queue(
    make_gateway: MakeGateway, widget: Callable[..., Widget], clock: FakeClock
) -> None:
    gateway = await make_gateway(QUEUE_ABANDON_SECONDS="300")
    core = gateway.app[core_key]
    gone, present = widget(gateway), widget(gateway)
    gone_id = await queued_conversation(gone)
    present_id = await queued_conversation(present)
    await gone.disconnect()
    clock.advance(200)
    await core.intake.seen(present_id)  # what the open socket does every 100 s
    clock.advance(200)
    assert await core.ownership.sweep_abandoned(300) == [gone_id]
    async with core.ctx.sessions() as s:
        assert (await s.get(Conversation, gone_id)).state == "bot"
        assert (await s.get(Conversation, present_id)).state == "queued"
        kinds = list(
            await s.scalars(select(ConversationEvent.kind).where(ConversationEvent.conversation_id == gone_id))
        )
    assert kinds[-1] == "abandoned"
    # The company that stayed moved up: it is now first in the queue.
    assert present.frames is not None
    await present.frames.wait_for(lambda f: f.get("type") == "status" and f.get("position") == 1)


async def test_failed_logins_throttle_the_account_from_that_address_not_the_advisor_elsewhere(
    make_gateway: MakeGateway, advisor: AdvisorAccount, sessions: Callable[[], aiohttp.ClientSession]
) -> None:
    gateway = await make_gateway(TRUSTED_PROXIES="127.0.0.1/32,::1/128")
    base = str(gateway.make_url("")).rstrip("/")

    async def login(address: str, email: str, password: str) -> aiohttp.ClientResponse:
        session = sessions()
        async with session.get(f"{base}/console/api/session", headers=from_address(address)) as r:
            csrf = (await r.json())["csrf_token"]
        headers = {"X-CSRF-Token": csrf, "Origin": origin_of(gateway), **from_address(address)}
        response = await session.post(f"{base}/console/api/login", json={"email": email, "password": password},
                                      headers=headers)
        await response.read()
        return response

    guesses = [(await login("203.0.113.66", advisor.email, f"gissning{n}")).status for n in range(6)]
    assert guesses == [401] * 5 + [429]
    throttled = await login("203.0.113.66", advisor.email, "gissning6")
    assert throttled.status == 429
    assert int(throttled.headers["Retry-After"]) >= 1
    body = await throttled.json()
    assert body["error"]["message"] == texts.login_throttled(int(throttled.headers["Retry-After"]))
    # The real advisor, at the office, logs in at once.
    assert (await login("198.51.100.10", advisor.email, advisor.password)).status == 200
    # A colleague behind the guesser's address is not locked out either.
    assert (await login("203.0.113.66", "kollega@foretagssupport.se", "fel")).status == 401


@pytest.mark.parametrize("backend", ["memory", "redis"])
async def test_buckets_are_shared_by_gateways_through_redis(backend: str) -> None:
    url = os.environ.get("TEST_REDIS_URL")
    if backend == "redis" and not url:
        pytest.skip("TEST_REDIS_URL is not set: the Redis-backed limits are not tested")
    limit = Limit(3, 60)
    if backend == "redis":
        assert url is not None
        prefix = f"test-{time.time_ns()}:"
        one, two = RedisBuckets(url, prefix), RedisBuckets(url, prefix)
        waits = [await bucket.take("msg-addr", "203.0.113.1", limit) for bucket in (one, two, one, two)]
        assert waits[:3] == [0.0, 0.0, 0.0]
        assert waits[3] > 0  # the second gateway saw the first one's messages
        await one.forget("msg-addr", "203.0.113.1")
        assert await two.take("msg-addr", "203.0.113.1", limit) == 0.0
        await one.close()
        await two.close()
    else:
        memory = MemoryBuckets()
        waits = [await memory.take("msg-addr", "203.0.113.1", limit) for _ in range(4)]
        assert waits[:3] == [0.0, 0.0, 0.0] and waits[3] == pytest.approx(20.0, rel=0.05)


async def test_without_redis_the_limits_fall_back_to_memory() -> None:
    unreachable = RedisBuckets("redis://127.0.0.1:1/0")
    limit = Limit(1, 60)
    assert await unreachable.take("msg-addr", "x", limit) == 0.0
    assert await unreachable.take("msg-addr", "x", limit) > 0
    await unreachable.close()


def test_the_limits_read_their_settings(make_settings: Callable[..., Any]) -> None:
    limits = Limits(make_settings(RATE_LIMIT_HANDOFFS="4", RATE_LIMIT_HANDOFF_WINDOW_SECONDS="900"), MemoryBuckets())
    assert limits.handoffs == Limit(4, 900.0)


async def test_a_queued_company_that_writes_keeps_its_place_without_a_socket(
    make_gateway: MakeGateway, widget: Callable[..., Widget], clock: FakeClock
) -> None:
    gateway = await make_gateway()
    core = gateway.app[core_key]
    company = widget(gateway)
    conversation_id = await queued_conversation(company)
    await company.disconnect()
    clock.advance(250)
    await core.intake.submit(conversation_id, "still-here-0001", "Jag väntar fortfarande.")
    clock.advance(250)
    assert await core.ownership.sweep_abandoned(300) == []
    clock.advance(100)
    assert await core.ownership.sweep_abandoned(300) == [conversation_id]


async def test_a_queued_chat_in_a_pushed_channel_stays_when_its_person_is_quiet(
    make_gateway: MakeGateway, widget: Callable[..., Widget], clock: FakeClock
) -> None:
    # Slack and Teams push the advisor's reply: their people need not be present to get it.
    gateway = await make_gateway()
    core = gateway.app[core_key]
    company = widget(gateway)
    conversation_id = await queued_conversation(company)
    await company.disconnect()
    clock.advance(3600)
    assert await core.ownership.sweep_abandoned(300, skip_channels=["widget"]) == []
    async with core.ctx.sessions() as s:
        assert (await s.get(Conversation, conversation_id)).state == "queued"  # type: ignore[union-attr]
    assert not core.outbox.pushes_to("widget")


async def test_the_global_limit_holds_over_every_address(make_gateway: MakeGateway) -> None:
    gateway = await make_gateway(**{**BEHIND_PROXY, "RATE_LIMIT_GLOBAL_MESSAGES": "5"})
    statuses = [(await rest(gateway, f"s{n}", "hej", f"198.51.100.{n + 1}"))[0] for n in range(6)]
    assert statuses == [200] * 5 + [429]


async def test_new_sockets_per_address_are_limited_per_minute(
    make_gateway: MakeGateway, sessions: Callable[[], aiohttp.ClientSession]
) -> None:
    gateway = await make_gateway(RATE_LIMIT_CONNECTIONS="2")
    base = str(gateway.make_url("")).rstrip("/")
    session = sessions()
    opened = [await session.ws_connect(f"{base}/widget/ws", headers={"Origin": origin_of(gateway)}) for _ in range(2)]
    async with session.get(f"{base}/widget/ws", headers={"Origin": origin_of(gateway)}) as refused:
        assert refused.status == 429
        assert int(refused.headers["Retry-After"]) >= 1
        assert (await refused.json())["error"]["code"] == "too_many_connections"
    for ws in opened:
        await ws.close()
