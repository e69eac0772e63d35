"""The durable outbox: stored first, delivered by the channel in order, once, with retries.

A fake push channel ("probe") records what it is asked to deliver; the real conversation
core (fake Rasa) produces the messages.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

from aiohttp import web
from aiohttp.test_utils import TestClient
from sqlalchemy import select

from bench.fake_rasa import HUMAN_PLEASE, FakeRasa
from bot.channels.base import Channel
from bot.conversation.models import Delivery, DeliveryReceipt
from bot.conversation.outbox import Outgoing, Recipient, RetryLater, Undeliverable, backoff_seconds
from bot.web.keys import core_key
from tests.gateway.conftest import FakeClock, core_of, eventually, eventually_async


@dataclass
class Probe:
    """A push channel's delivery side that records posts, and can be made to fail."""

    channel: str = "probe"
    posted: list[tuple[str, int, str | None]] = field(default_factory=list)  # (conversation, seq, text)
    down: bool = False
    retry_after: float | None = None
    refuse: set[int] = field(default_factory=set)  # seqs the platform refuses for good
    hang_on: set[int] = field(default_factory=set)  # seqs whose call is cut off after posting
    lookups: list[int] = field(default_factory=list)
    lookup_down: bool = False

    async def deliver(self, recipient: Recipient, message: Outgoing) -> str | None:
        if self.down:
            raise RetryLater("probe is down", self.retry_after)
        if message.seq in self.refuse:
            raise Undeliverable("no such conversation")
        self.posted.append((recipient.conversation_id, message.seq, message.text))
        if message.seq in self.hang_on:
            self.hang_on.discard(message.seq)
            raise ConnectionResetError("connection lost after the platform took the message")
        return f"probe-{message.seq}"

    async def find_delivered(self, recipient: Recipient, message: Outgoing) -> str | None:
        self.lookups.append(message.seq)
        if self.lookup_down:
            raise RetryLater("lookup is down", 20)
        taken = (recipient.conversation_id, message.seq, message.text) in self.posted
        return f"probe-{message.seq}" if taken else None

    def texts(self, conversation_id: str) -> list[str | None]:
        return [text for cid, _, text in self.posted if cid == conversation_id]


def probe_channel(probe: Probe) -> Channel:
    def setup(app: web.Application) -> None:
        async def register(app: web.Application):  # type: ignore[no-untyped-def]
            app[core_key].outbox.register(probe)
            yield

        app.cleanup_ctx.append(register)

    return Channel(name="probe", label="Prov", setup=setup)


async def start(make_gateway: Callable[..., Awaitable[TestClient]], probe: Probe) -> TestClient:
    return await make_gateway(extra_channels=(probe_channel(probe),))


async def open_and_say(client: TestClient, text: str, external_id: str = "thread-1", client_id: str = "ts-1") -> str:
    core = core_of(client)
    conversation_id = (await core.intake.open("probe", external_id=external_id, display_name="Eva")).id
    await core.intake.submit(conversation_id, client_id, text)
    return conversation_id


async def test_every_reply_is_delivered_once_in_order_but_not_the_companys_own_words(
    make_gateway: Callable[..., Awaitable[TestClient]],
) -> None:
    probe = Probe()
    gateway = await start(make_gateway, probe)
    conversation_id = await open_and_say(gateway, "hej")
    await core_of(gateway).intake.submit(conversation_id, "ts-2", "vi behöver ett lån")
    await eventually(lambda: len(probe.posted) == 2)
    assert probe.texts(conversation_id) == [
        "Hej! Vad kan jag hjälpa till med?",
        "Almi Mälardalen kan hjälpa er med lån.",
    ]
    await asyncio.sleep(0.2)  # more polls deliver nothing more
    assert len(probe.posted) == 2


async def test_the_hand_off_notices_reach_the_channel_with_the_queue_position(
    make_gateway: Callable[..., Awaitable[TestClient]],
) -> None:
    probe = Probe()
    gateway = await start(make_gateway, probe)
    conversation_id = await open_and_say(gateway, HUMAN_PLEASE)
    await eventually(lambda: any("kö" in (t or "") for t in probe.texts(conversation_id)))
    async with core_of(gateway).ctx.sessions() as s:
        from bot.conversation.models import Message

        notice = await s.scalar(select(Message.custom).where(Message.conversation_id == conversation_id,
                                                            Message.role == "system"))
    assert notice is not None
    assert notice["notice"] == "queued"
    assert notice["position"] == 1
    assert notice["expected_wait_text"]


async def test_a_channel_that_is_down_backs_off_and_then_delivers_without_duplicates(
    make_gateway: Callable[..., Awaitable[TestClient]], clock: FakeClock
) -> None:
    probe = Probe(down=True)
    gateway = await start(make_gateway, probe)
    conversation_id = await open_and_say(gateway, "hej")
    core = core_of(gateway)

    async def delivery() -> Delivery:
        async with core.ctx.sessions() as s:
            row = await s.get(Delivery, conversation_id)
            assert row is not None
            return row

    async def attempted() -> bool:
        return (await delivery()).attempts >= 1

    await eventually_async(attempted)
    row = await delivery()
    assert row.attempts == 1
    assert row.last_error == "probe is down"
    assert row.next_attempt_at > clock()  # backing off: not retried before its time
    await asyncio.sleep(0.2)
    assert (await delivery()).attempts == 1

    probe.down = False
    clock.advance(10)
    await eventually(lambda: len(probe.posted) == 1)
    assert probe.texts(conversation_id) == ["Hej! Vad kan jag hjälpa till med?"]
    async def attempts_reset() -> bool:  # the post is recorded right after the platform took it
        return (await delivery()).attempts == 0

    await eventually_async(attempts_reset)


async def test_the_platforms_retry_after_is_honoured(
    make_gateway: Callable[..., Awaitable[TestClient]], clock: FakeClock
) -> None:
    probe = Probe(down=True, retry_after=30)
    gateway = await start(make_gateway, probe)
    conversation_id = await open_and_say(gateway, "hej")
    core = core_of(gateway)
    for _ in range(100):
        async with core.ctx.sessions() as s:
            row = await s.get(Delivery, conversation_id)
        if row is not None and row.attempts:
            break
        await asyncio.sleep(0.02)
    assert row is not None
    assert (row.next_attempt_at - clock()).total_seconds() == 30


async def test_a_refused_message_is_recorded_and_the_next_one_still_goes(
    make_gateway: Callable[..., Awaitable[TestClient]],
) -> None:
    probe = Probe(refuse={4})
    gateway = await start(make_gateway, probe)
    conversation_id = await open_and_say(gateway, "hej")  # seq 1 company, seq 2 bot
    await eventually(lambda: len(probe.posted) == 1)
    core = core_of(gateway)
    await core.intake.submit(conversation_id, "ts-2", "hej")  # seq 3, reply seq 4 refused
    await core.rasa.wait_delivered(conversation_id)
    await core.intake.submit(conversation_id, "ts-3", "vi behöver ett lån")  # 5, reply 6
    await eventually(lambda: len(probe.posted) == 2)
    assert [seq for _, seq, _ in probe.posted] == [2, 6]

    async def statuses() -> dict[int, str]:
        async with core_of(gateway).ctx.sessions() as s:
            return {r.message_id: r.status for r in await s.scalars(select(DeliveryReceipt))}

    async def settled() -> bool:  # the last post is recorded right after the platform took it
        return "sending" not in (await statuses()).values()

    await eventually_async(settled)
    assert sorted((await statuses()).values()) == ["failed", "sent", "sent"]


async def test_an_interrupted_call_is_looked_up_before_it_is_sent_again(
    make_gateway: Callable[..., Awaitable[TestClient]], clock: FakeClock
) -> None:
    probe = Probe(hang_on={2})
    gateway = await start(make_gateway, probe)
    conversation_id = await open_and_say(gateway, "hej")
    await eventually(lambda: len(probe.posted) == 1)
    clock.advance(10)  # past the backoff
    await eventually(lambda: probe.lookups == [2])
    await core_of(gateway).intake.submit(conversation_id, "ts-2", "vi behöver ett lån")
    await eventually(lambda: len(probe.posted) == 2)
    assert [seq for _, seq, _ in probe.posted] == [2, 4]  # seq 2 was found, not posted twice


async def test_a_lookup_that_fails_backs_off_and_never_posts_twice(
    make_gateway: Callable[..., Awaitable[TestClient]], clock: FakeClock
) -> None:
    probe = Probe(hang_on={2}, lookup_down=True)
    gateway = await start(make_gateway, probe)
    conversation_id = await open_and_say(gateway, "hej")
    await eventually(lambda: len(probe.posted) == 1)
    clock.advance(10)  # past the first backoff: the relay asks the platform, which fails
    await eventually(lambda: probe.lookups == [2])

    async def backed_off() -> bool:
        async with core_of(gateway).ctx.sessions() as s:
            row = await s.get(Delivery, conversation_id)
        return row is not None and (row.next_attempt_at - clock()).total_seconds() == 20

    await eventually_async(backed_off)
    await asyncio.sleep(0.2)
    assert probe.lookups == [2], "not asked again before the platform's wait is over"
    probe.lookup_down = False
    clock.advance(30)
    await eventually(lambda: probe.lookups == [2, 2])
    await asyncio.sleep(0.2)
    assert [seq for _, seq, _ in probe.posted] == [2]


async def test_after_a_restart_delivery_continues_from_the_cursor(
    make_gateway: Callable[..., Awaitable[TestClient]], fake_rasa: FakeRasa
) -> None:
    probe = Probe()
    first = await start(make_gateway, probe)
    conversation_id = await open_and_say(first, "hej")
    await eventually(lambda: len(probe.posted) == 1)
    await first.close()

    second = await start(make_gateway, probe)
    await core_of(second).intake.submit(conversation_id, "ts-2", "vi behöver ett lån")
    await eventually(lambda: len(probe.posted) == 2)
    await asyncio.sleep(0.2)
    assert [seq for _, seq, _ in probe.posted] == [2, 4]


async def test_two_replicas_never_post_the_same_message_twice(
    make_gateway: Callable[..., Awaitable[TestClient]],
) -> None:
    probe = Probe()
    one = await start(make_gateway, probe)
    two = await start(make_gateway, probe)
    ids = []
    for n in range(5):
        ids.append(await open_and_say(one if n % 2 else two, "hej", external_id=f"thread-{n}", client_id=f"ts-{n}"))
    await eventually(lambda: len(probe.posted) >= 5)
    await asyncio.sleep(0.3)
    assert sorted(cid for cid, _, _ in probe.posted) == sorted(ids)


def test_backoff_doubles_up_to_five_minutes_with_jitter() -> None:
    import random

    rng = random.Random(1)
    assert 0.8 <= backoff_seconds(1, rng) <= 1.2
    assert 3.2 <= backoff_seconds(3, rng) <= 4.8
    assert backoff_seconds(30, rng) <= 300 * 1.2
