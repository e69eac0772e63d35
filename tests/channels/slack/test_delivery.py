"""Replies reach Slack through the outbox: in order, once, with Slack's own rules for
retrying (429 Retry-After, outages), never posted twice when a call was cut off, and
nothing lost or repeated across a gateway restart."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

import aiohttp
from aiohttp.test_utils import TestClient
from sqlalchemy import select

from bench.fake_slack import PER, FakeSlack, SlackSide
from bot.conversation.models import Delivery, DeliveryReceipt, Message
from scripts.stack import free_port
from tests.channels.slack.conftest import stored
from tests.gateway.conftest import FakeClock, core_of, eventually

StartGateway = Callable[..., Awaitable[TestClient]]


async def delivery(client: TestClient) -> Delivery:
    async with core_of(client).ctx.sessions() as s:
        rows = list(await s.scalars(select(Delivery)))
    assert rows, "no conversation yet"
    return rows[0]


async def receipts(client: TestClient) -> list[tuple[str, str | None]]:
    async with core_of(client).ctx.sessions() as s:
        rows = await s.scalars(select(DeliveryReceipt).order_by(DeliveryReceipt.message_id))
        return [(r.status, r.external_id) for r in rows]


async def until(check: Callable[[], Awaitable[bool]], timeout: float = 5.0) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not await check():
        if loop.time() > deadline:
            raise AssertionError("condition not met in time")
        await asyncio.sleep(0.02)


async def attempted(client: TestClient, times: int = 1) -> Delivery:
    async def enough() -> bool:
        async with core_of(client).ctx.sessions() as s:
            rows = list(await s.scalars(select(Delivery)))
        return bool(rows) and rows[0].attempts >= times

    await until(enough)
    return await delivery(client)


async def quiet() -> None:
    await asyncio.sleep(0.25)  # several outbox polls (every 0.05 s in tests)


async def test_slacks_retry_after_is_honoured_and_the_reply_posted_once(
    slack: SlackSide, fake_slack: FakeSlack, gateway: TestClient, clock: FakeClock
) -> None:
    fake_slack.rate_limit_posts, fake_slack.retry_after = 1, 30
    await slack.dm("hej")
    row = await attempted(gateway)
    assert (row.next_attempt_at - clock()).total_seconds() == 30
    assert row.last_error == "Slack: rate limited"
    await quiet()
    assert fake_slack.post_attempts == 1  # not before Slack's time
    assert await receipts(gateway) == []  # certainly not posted: the retry is a clean send

    clock.advance(30)
    await eventually(lambda: len(fake_slack.bot_posts()) == 1)
    await until(lambda: _sent(gateway))
    await quiet()
    assert fake_slack.post_attempts == 2
    assert fake_slack.bot_texts() == ["Hej! Vad kan jag hjälpa till med?"]
    assert await receipts(gateway) == [("sent", fake_slack.bot_posts()[0].ts)]


async def test_after_an_outage_everything_queued_is_delivered_once_in_order(
    slack: SlackSide, fake_slack: FakeSlack, gateway: TestClient, clock: FakeClock
) -> None:
    fake_slack.outage = True
    await slack.dm("hej")
    await slack.dm("vi behöver ett lån")
    await slack.dm("hej", channel="D0PER0001", user=PER)
    await eventually(lambda: fake_slack.calls.count("chat.postMessage") >= 2)
    await quiet()
    assert fake_slack.bot_posts() == []
    assert "HTTP 503" in ((await delivery(gateway)).last_error or "")

    fake_slack.outage = False
    clock.advance(600)
    await eventually(lambda: len(fake_slack.bot_posts()) == 3)
    await quiet()
    assert fake_slack.bot_texts("D0EVA0001") == [
        "Hej! Vad kan jag hjälpa till med?",
        "Almi Mälardalen kan hjälpa er med lån.",
    ]
    assert fake_slack.bot_texts("D0PER0001") == ["Hej! Vad kan jag hjälpa till med?"]
    assert fake_slack.problems == []


async def test_a_post_cut_off_after_slack_took_it_is_looked_up_not_posted_again(
    slack: SlackSide, fake_slack: FakeSlack, gateway: TestClient, clock: FakeClock
) -> None:
    fake_slack.cut_posts = 1
    await slack.dm("hej")
    await attempted(gateway)
    assert [status for status, _ in await receipts(gateway)] == ["sending"]  # uncertain
    assert len(fake_slack.bot_posts()) == 1  # Slack has it

    clock.advance(10)
    await until(lambda: _sent(gateway))
    await quiet()
    assert fake_slack.calls.count("conversations.history") == 1  # asked Slack first
    assert fake_slack.post_attempts == 1
    assert await receipts(gateway) == [("sent", fake_slack.bot_posts()[0].ts)]


async def test_a_look_up_that_fails_is_asked_again_never_answered_by_posting(
    slack: SlackSide, fake_slack: FakeSlack, gateway: TestClient, clock: FakeClock
) -> None:
    fake_slack.cut_posts = 1
    await slack.dm("hej")
    await attempted(gateway)
    fake_slack.outage = True  # Slack cannot say whether it has the message
    clock.advance(10)
    await eventually(lambda: "conversations.history" in fake_slack.calls)
    await quiet()
    assert fake_slack.post_attempts == 1
    fake_slack.outage = False
    clock.advance(600)
    await until(lambda: _sent(gateway))
    await quiet()
    assert fake_slack.post_attempts == 1 and len(fake_slack.bot_posts()) == 1


async def test_a_cut_off_post_in_a_thread_is_looked_up_among_the_threads_replies(
    slack: SlackSide, fake_slack: FakeSlack, gateway: TestClient, clock: FakeClock
) -> None:
    mention = slack.mention_event("hej")
    await slack.event(mention)
    await eventually(lambda: len(fake_slack.bot_posts()) == 1)
    fake_slack.cut_posts = 1
    await slack.event(slack.thread_event("vi behöver ett lån", mention["ts"]))
    await attempted(gateway)
    clock.advance(10)
    await until(lambda: _sent(gateway, 2))
    await quiet()
    assert "conversations.replies" in fake_slack.calls
    assert fake_slack.bot_texts(thread_ts=mention["ts"]) == [
        "Hej! Vad kan jag hjälpa till med?",
        "Almi Mälardalen kan hjälpa er med lån.",
    ]


async def test_a_post_cut_off_before_slack_took_it_is_posted_after_the_look_up(
    slack: SlackSide, fake_slack: FakeSlack, gateway: TestClient, clock: FakeClock
) -> None:
    fake_slack.drop_posts = 1
    await slack.dm("hej")
    await attempted(gateway)
    assert fake_slack.bot_posts() == []
    clock.advance(10)
    await eventually(lambda: len(fake_slack.bot_posts()) == 1)
    await quiet()
    assert "conversations.history" in fake_slack.calls
    assert len(fake_slack.bot_posts()) == 1


async def test_a_channel_slack_no_longer_has_is_given_up_for_that_message(
    slack: SlackSide, fake_slack: FakeSlack, gateway: TestClient, clock: FakeClock
) -> None:
    fake_slack.gone_channels = {"D0EVA0001"}
    await slack.dm("hej")
    await until(lambda: _receipt_status(gateway, "failed"))
    await quiet()
    assert fake_slack.post_attempts == 1  # not retried: Slack will never take it
    row = await delivery(gateway)
    assert row.last_error is None and row.attempts == 0


async def test_blocks_slack_refuses_fall_back_to_the_text(
    slack: SlackSide, fake_slack: FakeSlack, gateway: TestClient
) -> None:
    fake_slack.refuse_blocks = True
    await slack.dm("vi behöver ett lån")
    await eventually(lambda: len(fake_slack.bot_posts()) == 1)
    (reply,) = fake_slack.bot_posts()
    assert reply.blocks == [] and reply.text == "Almi Mälardalen kan hjälpa er med lån."


async def test_a_bad_token_keeps_the_reply_until_an_admin_fixes_it(
    start_slack_gateway: StartGateway, http: aiohttp.ClientSession, fake_slack: FakeSlack, clock: FakeClock
) -> None:
    gateway = await start_slack_gateway(SLACK_BOT_TOKEN="xoxb-revoked")
    slack = SlackSide(http, str(gateway.make_url("")), fake_slack)
    await slack.dm("hej")
    row = await attempted(gateway)
    assert "SLACK_BOT_TOKEN" in (row.last_error or "")
    assert (row.next_attempt_at - clock()).total_seconds() == 60
    assert await receipts(gateway) == []
    fake_slack.problems.clear()  # the fake saw the wrong token, as it should

    await gateway.close()  # the admin sets the right token and restarts
    fixed = await start_slack_gateway()
    clock.advance(60)
    await eventually(lambda: len(fake_slack.bot_posts()) == 1)
    await until(lambda: _sent(fixed))  # the receipt is stored just after the post
    assert await receipts(fixed) == [("sent", fake_slack.bot_posts()[0].ts)]


async def test_slack_unreachable_is_retried_later_as_certainly_not_posted(
    start_slack_gateway: StartGateway, http: aiohttp.ClientSession, fake_slack: FakeSlack, clock: FakeClock
) -> None:
    gateway = await start_slack_gateway(SLACK_API_URL=f"http://127.0.0.1:{free_port()}/api/")
    slack = SlackSide(http, str(gateway.make_url("")), fake_slack)
    await slack.dm("hej")
    row = await attempted(gateway)
    assert "unreachable" in (row.last_error or "")
    assert await receipts(gateway) == []  # connection refused: no look-up needed

    await gateway.close()
    again = await start_slack_gateway()
    clock.advance(60)
    await eventually(lambda: len(fake_slack.bot_posts()) == 1)
    await quiet()
    assert "conversations.history" not in fake_slack.calls
    assert len(fake_slack.bot_posts()) == 1
    assert (await stored(again))["messages"] == 2


# ------------------------------------------------------------------ restarts


async def test_a_restart_between_two_events_loses_and_duplicates_nothing(
    start_slack_gateway: StartGateway, http: aiohttp.ClientSession, fake_slack: FakeSlack
) -> None:
    first = await start_slack_gateway()
    slack = SlackSide(http, str(first.make_url("")), fake_slack)
    envelope = slack.envelope(slack.dm_event("hej"))
    await slack.send_envelope(envelope)
    await eventually(lambda: len(fake_slack.bot_posts()) == 1)
    await first.close()

    second = await start_slack_gateway()
    slack = SlackSide(http, str(second.make_url("")), fake_slack)
    status, _ = await slack.send_envelope(envelope, retry=1)  # Slack retries the first event
    assert status == 200
    await slack.dm("vi behöver ett lån")
    await eventually(lambda: len(fake_slack.bot_posts()) == 2)
    await quiet()
    assert fake_slack.bot_texts() == ["Hej! Vad kan jag hjälpa till med?", "Almi Mälardalen kan hjälpa er med lån."]
    async with core_of(second).ctx.sessions() as s:
        company = list(await s.scalars(select(Message.text).where(Message.role == "user").order_by(Message.seq)))
    assert company == ["hej", "vi behöver ett lån"]


async def test_replies_stored_before_a_restart_are_delivered_after_it_once(
    start_slack_gateway: StartGateway, http: aiohttp.ClientSession, fake_slack: FakeSlack, clock: FakeClock
) -> None:
    first = await start_slack_gateway()
    slack = SlackSide(http, str(first.make_url("")), fake_slack)
    fake_slack.outage = True
    await slack.dm("hej")
    await attempted(first)
    await first.close()

    fake_slack.outage = False
    await start_slack_gateway()
    clock.advance(60)
    await eventually(lambda: len(fake_slack.bot_posts()) == 1)
    await quiet()
    assert len(fake_slack.bot_posts()) == 1


async def test_a_post_cut_off_just_before_a_restart_is_not_posted_again(
    start_slack_gateway: StartGateway, http: aiohttp.ClientSession, fake_slack: FakeSlack, clock: FakeClock
) -> None:
    first = await start_slack_gateway()
    slack = SlackSide(http, str(first.make_url("")), fake_slack)
    fake_slack.cut_posts = 1
    await slack.dm("hej")
    await attempted(first)
    await first.close()

    second = await start_slack_gateway()
    clock.advance(60)
    await until(lambda: _sent(second))
    await quiet()
    assert fake_slack.post_attempts == 1
    assert len(fake_slack.bot_posts()) == 1


async def _sent(client: TestClient, count: int = 1) -> bool:
    return [s for s, _ in await receipts(client)].count("sent") >= count


async def _receipt_status(client: TestClient, status: str) -> bool:
    return status in [s for s, _ in await receipts(client)]
