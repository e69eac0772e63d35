"""Turns of one conversation through two gateways sharing the database (SQLite, and
PostgreSQL when TEST_DATABASE_URL is set): never two at once at Rasa, never out of order,
each once, and both companies' screens see every answer (a shared hub stands for Redis)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

import aiohttp
import pytest
from aiohttp.test_utils import TestClient

from bench.fake_rasa import FakeRasa
from bot.conversation.pubsub import MemoryHub
from tests.gateway.conftest import Widget, eventually, eventually_async, origin_of
from tests.gateway.test_faults import rasa_statuses


@pytest.fixture
def db_url(any_db_url: str) -> str:
    return any_db_url


async def test_two_gateways_never_send_turns_of_one_conversation_at_once_or_out_of_order(
    make_gateway: Callable[..., Awaitable[TestClient]],
    sessions: Callable[[], aiohttp.ClientSession],
    fake_rasa: FakeRasa,
) -> None:
    hub = MemoryHub()  # stands for Redis between the replicas (tested in test_pubsub)
    first, second = await make_gateway(hub=hub), await make_gateway(hub=hub)
    on_a = Widget(sessions(), str(first.make_url("")).rstrip("/"), origin_of(first))
    await on_a.connect()
    on_b = Widget(sessions(), str(second.make_url("")).rstrip("/"), origin_of(second))
    await on_b.connect(on_a.conversation_id)
    assert on_a.conversation_id is not None
    fake_rasa.delay = 0.15
    texts_sent = [f"meddelande {i}" for i in range(8)]
    # The same conversation writes through both replicas, interleaved, without waiting.
    for i, text in enumerate(texts_sent):
        await (on_a if i % 2 == 0 else on_b).say(text, client_id=f"replica-test-{i:04d}")

    async def all_answered() -> bool:
        statuses = await rasa_statuses(first, str(on_a.conversation_id))
        return sum(1 for s in statuses if s[0] == "bot") == len(texts_sent)

    await eventually_async(all_answered, timeout=15)
    assert fake_rasa.most_parallel == 1
    assert fake_rasa.conversation(on_a.conversation_id).messages == texts_sent
    bot = [t for r, t, _ in await rasa_statuses(first, on_a.conversation_id) if r == "bot"]
    assert bot == [f"Du skrev: {t}" for t in texts_sent]
    await eventually(lambda: len([m for m in on_b.messages if m["role"] == "bot"]) == len(texts_sent))
