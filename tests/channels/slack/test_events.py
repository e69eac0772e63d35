"""Slack's Events API at the gateway: verified first, acknowledged at once, each message
stored and answered exactly once, whatever Slack repeats; nothing stored for anything
forged, stale, replayed, or not meant for the bot."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable

import pytest
from aiohttp.test_utils import TestClient
from sqlalchemy import select

from bench.fake_rasa import FakeRasa
from bench.fake_slack import BOT_ID, BOT_USER, EVA, PER, FakeSlack, SlackSide
from bot.conversation.models import Conversation, Message
from core.settings import SettingsError
from tests.channels.slack.conftest import NOTHING, runtime_of, stored
from tests.gateway.conftest import core_of, eventually


async def conversations(client: TestClient) -> list[Conversation]:
    async with core_of(client).ctx.sessions() as s:
        return list(await s.scalars(select(Conversation).order_by(Conversation.created_at)))


async def company_texts(client: TestClient) -> list[tuple[str | None, str | None]]:
    async with core_of(client).ctx.sessions() as s:
        rows = await s.execute(
            select(Message.text, Message.client_id).where(Message.role == "user").order_by(Message.id)
        )
        return [(r.text, r.client_id) for r in rows]


async def settled(client: TestClient, fake: FakeSlack, posts: int) -> None:
    await eventually(lambda: len(fake.bot_posts()) >= posts)
    await asyncio.sleep(0.15)  # time for anything extra to arrive (it must not)
    await runtime_of(client).settle()
    assert len(fake.bot_posts()) == posts, fake.bot_texts()
    assert fake.problems == []


# ------------------------------------------------------------------ set-up


async def test_the_url_verification_challenge_is_answered(slack: SlackSide, gateway: TestClient) -> None:
    status, body = await slack.send_envelope(
        {"token": "x", "challenge": "3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P", "type": "url_verification"}
    )
    assert status == 200
    assert "3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P" in body
    assert await stored(gateway) == NOTHING


async def test_without_a_bot_token_the_slack_urls_do_not_exist(
    make_gateway: Callable[..., Awaitable[TestClient]],
) -> None:
    plain = await make_gateway()
    for path in ("/webhooks/slack/events", "/webhooks/slack/interactive"):
        async with plain.post(path, data=b"{}") as response:
            assert response.status == 404


async def test_a_token_without_a_signing_secret_is_refused_at_start(
    make_gateway: Callable[..., Awaitable[TestClient]], slack_env: dict[str, str]
) -> None:
    with pytest.raises(SettingsError, match="SLACK_SIGNING_SECRET"):
        await make_gateway(**{**slack_env, "SLACK_SIGNING_SECRET": ""})


# ------------------------------------------------------------------ direct messages and mentions


async def test_a_direct_message_is_answered_in_the_dm(
    slack: SlackSide, fake_slack: FakeSlack, gateway: TestClient, fake_rasa: FakeRasa
) -> None:
    started = time.monotonic()
    status, _ = await slack.dm("vi behöver ett lån")
    assert status == 200
    assert time.monotonic() - started < 3  # Slack's limit for the acknowledgement
    await settled(gateway, fake_slack, 1)

    reply = fake_slack.bot_posts()[0]
    assert reply.channel == "D0EVA0001" and reply.thread_ts is None
    assert reply.text == "Almi Mälardalen kan hjälpa er med lån."
    assert [b["text"]["text"] for b in reply.buttons()] == ["Kontaktuppgifter", "Prata med en rådgivare"]
    assert [b["value"] for b in reply.buttons()] == ["/ask_contact", "/request_human"]
    (conversation,) = await conversations(gateway)
    assert conversation.channel == "slack"
    assert conversation.external_id == "D0EVA0001"
    assert conversation.address == {"channel": "D0EVA0001", "thread_ts": None}
    assert fake_rasa.conversation(conversation.id).messages == ["vi behöver ett lån"]
    assert reply.metadata == {"event_type": "foretagsstod_message",
                              "event_payload": {"message_id": reply.metadata["event_payload"]["message_id"]}}


async def test_a_mention_in_a_channel_is_answered_in_its_thread_without_the_mention(
    slack: SlackSide, fake_slack: FakeSlack, gateway: TestClient, fake_rasa: FakeRasa
) -> None:
    mention = slack.mention_event("hej")
    await slack.event(mention)
    await settled(gateway, fake_slack, 1)

    reply = fake_slack.bot_posts()[0]
    assert (reply.channel, reply.thread_ts) == ("C0SUPPORT", mention["ts"])
    assert reply.text == "Hej! Vad kan jag hjälpa till med?"
    (conversation,) = await conversations(gateway)
    assert conversation.external_id == f"C0SUPPORT:{mention['ts']}"
    assert fake_rasa.conversation(conversation.id).messages == ["hej"]  # "<@UBOT…> " removed


async def test_replies_in_the_thread_continue_the_conversation_mentioned_or_not(
    slack: SlackSide, fake_slack: FakeSlack, gateway: TestClient, fake_rasa: FakeRasa
) -> None:
    mention = slack.mention_event("hej")
    await slack.event(mention)
    await settled(gateway, fake_slack, 1)
    await slack.event(slack.thread_event("vi behöver ett lån", thread_ts=mention["ts"]))
    await settled(gateway, fake_slack, 2)
    await slack.event(slack.mention_event("/ask_contact", thread_ts=mention["ts"]))
    await settled(gateway, fake_slack, 3)

    assert {m.thread_ts for m in fake_slack.bot_posts()} == {mention["ts"]}
    (conversation,) = await conversations(gateway)
    assert fake_rasa.conversation(conversation.id).messages == ["hej", "vi behöver ett lån", "/ask_contact"]


async def test_channel_messages_that_are_not_for_the_bot_are_not_stored(
    slack: SlackSide, fake_slack: FakeSlack, gateway: TestClient
) -> None:
    top = slack.thread_event("lunch?", thread_ts="")  # a plain channel message
    del top["thread_ts"]
    status, _ = await slack.event(top)
    assert status == 200
    status, _ = await slack.event(slack.thread_event("håller med", thread_ts=top["ts"]))  # a thread not ours
    assert status == 200
    await asyncio.sleep(0.1)
    assert await stored(gateway) == NOTHING
    assert fake_slack.bot_posts() == []


async def test_a_message_seen_as_message_im_and_as_app_mention_is_answered_once(
    slack: SlackSide, fake_slack: FakeSlack, gateway: TestClient
) -> None:
    dm = slack.dm_event(f"<@{BOT_USER}> hej")
    as_mention = {**dm, "type": "app_mention"}
    del as_mention["channel_type"]
    results = await asyncio.gather(slack.event(dm), slack.event(as_mention))  # two event ids, one ts
    assert [status for status, _ in results] == [200, 200]
    await settled(gateway, fake_slack, 1)
    assert await company_texts(gateway) == [("hej", dm["ts"])]
    assert (await stored(gateway))["receipts"] == 2


async def test_a_channel_mention_seen_twice_is_answered_once(
    slack: SlackSide, fake_slack: FakeSlack, gateway: TestClient
) -> None:
    mention = slack.mention_event("hej")
    as_message = {**mention, "type": "message", "channel_type": "channel"}
    await slack.event(as_message)
    await slack.event(mention)
    await settled(gateway, fake_slack, 1)
    assert len(await conversations(gateway)) == 1


async def test_slacks_retries_are_recognised_and_answered_once(
    slack: SlackSide, fake_slack: FakeSlack, gateway: TestClient
) -> None:
    envelope = slack.envelope(slack.dm_event("hej"))
    assert (await slack.send_envelope(envelope))[0] == 200
    await settled(gateway, fake_slack, 1)
    before = await stored(gateway)
    for retry in (1, 2, 3):
        status, _ = await slack.send_envelope(envelope, retry=retry)
        assert status == 200
    await settled(gateway, fake_slack, 1)
    assert await stored(gateway) == before


async def test_a_retry_of_an_event_that_never_got_in_is_taken_in(
    slack: SlackSide, fake_slack: FakeSlack, gateway: TestClient
) -> None:
    # The first delivery never reached us (we were down); Slack's retry must not be lost.
    status, _ = await slack.dm("hej", retry=1)
    assert status == 200
    await settled(gateway, fake_slack, 1)


async def test_the_persons_display_name_is_fetched_once_and_kept_on_the_conversation(
    slack: SlackSide, fake_slack: FakeSlack, gateway: TestClient
) -> None:
    await slack.dm("hej")
    await settled(gateway, fake_slack, 1)
    await slack.dm("vi behöver ett lån")
    await settled(gateway, fake_slack, 2)
    await slack.dm("hej", user=PER, channel="D0PER0001")
    await settled(gateway, fake_slack, 3)
    names = {c.external_id: c.display_name for c in await conversations(gateway)}
    assert names == {"D0EVA0001": "Eva Ek", "D0PER0001": "Per Persson"}  # Per has no display name set
    assert fake_slack.calls.count("users.info") == 2  # cached: once per person


async def test_a_bare_mention_gets_the_greeting(
    slack: SlackSide, fake_slack: FakeSlack, gateway: TestClient, fake_rasa: FakeRasa
) -> None:
    await slack.event(slack.mention_event(""))
    await settled(gateway, fake_slack, 1)
    assert "digitala assistent" in fake_slack.bot_posts()[0].text
    assert fake_rasa.webhook_calls == 0


async def test_a_too_long_message_is_refused_in_swedish_to_its_writer_only(
    slack: SlackSide, fake_slack: FakeSlack, gateway: TestClient
) -> None:
    status, _ = await slack.dm("x" * 2001)
    assert status == 200
    await runtime_of(gateway).settle()
    await eventually(lambda: len(fake_slack.ephemeral) == 1)
    notice = fake_slack.ephemeral[0]
    assert notice["user"] == EVA and notice["channel"] == "D0EVA0001"
    assert "högst 2000 tecken" in notice["text"]
    counts = await stored(gateway)
    assert (counts["conversations"], counts["messages"]) == (0, 0)
    assert fake_slack.bot_posts() == []


async def test_slack_markup_reaches_the_bot_as_plain_text(
    slack: SlackSide, fake_slack: FakeSlack, gateway: TestClient, fake_rasa: FakeRasa
) -> None:
    await slack.dm("Kolla <https://ek.se|vår sida> &amp; <#C0ABC|ekonomi> &lt;3")
    await settled(gateway, fake_slack, 1)
    assert fake_slack.bot_posts()[0].text == "Du skrev: Kolla vår sida (https://ek.se) &amp; #ekonomi &lt;3"


# ------------------------------------------------------------------ refused: status, and nothing stored


async def test_a_forged_signature_is_refused_and_nothing_is_stored(
    slack: SlackSide, fake_slack: FakeSlack, gateway: TestClient
) -> None:
    status, body = await slack.dm("hej", secret="not-the-signing-secret")
    assert status == 401
    assert "verifieras" in body
    await asyncio.sleep(0.1)
    assert await stored(gateway) == NOTHING
    assert fake_slack.bot_posts() == []


async def test_a_tampered_body_is_refused(slack: SlackSide, gateway: TestClient) -> None:
    body = b'{"type": "event_callback", "event": {}}'
    headers = slack.headers(body)
    async with slack.http.post(f"{slack.base}/webhooks/slack/events", data=body + b" ",
                               headers={**headers, "Content-Type": "application/json"}) as response:
        assert response.status == 401
    assert await stored(gateway) == NOTHING


@pytest.mark.parametrize("age", [301, 3600, -301])
async def test_a_stale_or_future_timestamp_is_refused(
    slack: SlackSide, fake_slack: FakeSlack, gateway: TestClient, age: int
) -> None:
    status, _ = await slack.dm("hej", timestamp=int(time.time()) - age)
    assert status == 401
    assert await stored(gateway) == NOTHING


@pytest.mark.parametrize("headers", [{}, {"X-Slack-Request-Timestamp": "soon"}, {"X-Slack-Signature": ""}])
async def test_missing_or_malformed_signature_headers_are_refused(
    slack: SlackSide, gateway: TestClient, headers: dict[str, str]
) -> None:
    body = b'{"type": "url_verification", "challenge": "c"}'
    sent = {**slack.headers(body), **headers}
    sent = {k: v for k, v in sent.items() if v}
    if not headers:
        sent = {}
    for path in ("/webhooks/slack/events", "/webhooks/slack/interactive"):
        async with slack.http.post(f"{slack.base}{path}", data=body, headers=sent) as response:
            assert response.status == 401


async def test_a_replayed_event_id_is_not_taken_in_again(
    slack: SlackSide, fake_slack: FakeSlack, gateway: TestClient
) -> None:
    await slack.dm("hej", event_id="Ev0REPLAY01")
    await settled(gateway, fake_slack, 1)
    before = await stored(gateway)
    # The same event id, even carrying another message, is the same event.
    status, _ = await slack.dm("vi behöver ett lån", event_id="Ev0REPLAY01")
    assert status == 200
    await settled(gateway, fake_slack, 1)
    assert await stored(gateway) == before


@pytest.mark.parametrize(
    "change",
    [
        {"user": BOT_USER},  # our own message
        {"bot_id": BOT_ID},
        {"bot_id": "B0OTHER01", "user": "U0OTHERBOT"},  # another bot
        {"subtype": "bot_message", "bot_id": "B0OTHER01"},
        {"subtype": "message_changed"},
        {"subtype": "message_deleted"},
        {"subtype": "channel_join"},
        {"subtype": "file_share"},
        {"type": "reaction_added"},
        {"user": None},
        {"ts": "not-a-ts"},
    ],
)
async def test_messages_not_written_by_a_person_to_the_bot_are_ignored(
    slack: SlackSide, fake_slack: FakeSlack, gateway: TestClient, change: dict[str, object]
) -> None:
    event = {**slack.dm_event("hej"), **change}
    status, _ = await slack.event(event)
    assert status == 200
    await asyncio.sleep(0.1)
    assert await stored(gateway) == NOTHING
    assert fake_slack.bot_posts() == []


async def test_a_request_that_is_not_json_is_refused_after_verification(slack: SlackSide, gateway: TestClient) -> None:
    status, _ = await slack.post("/webhooks/slack/events", b"not json", "application/json")
    assert status == 400
    status, _ = await slack.post("/webhooks/slack/interactive", b"payload=%7Bnot", "application/x-www-form-urlencoded")
    assert status == 400
    assert await stored(gateway) == NOTHING
