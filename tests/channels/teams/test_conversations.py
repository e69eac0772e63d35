"""A company in Teams, end to end through the gateway with the fake Bot Framework and the
fake Rasa: the greeting, referrals with buttons, clicks, the hand-off to an advisor in the
console and back, the offline form, and delivery when the Connector misbehaves."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

import aiohttp
from aiohttp.test_utils import TestClient
from sqlalchemy import select

from bench.fake_botframework import BOT_ID, FakeBotFramework
from bench.fake_rasa import HUMAN_PLEASE, LOAN, FakeRasa
from bot import texts as core_texts
from bot.conversation.models import Conversation, Delivery, DeliveryReceipt, Message, Ticket
from tests.channels.teams.conftest import console_for, gateway_url, stored
from tests.gateway.conftest import CLOSED_MOMENT, AdvisorAccount, FakeClock, core_of, eventually

CONVERSATION = "a:1teams-conversation-eva"


async def say(bf: FakeBotFramework, http: aiohttp.ClientSession, teams: TestClient, text: str,
              **kw: Any) -> dict[str, Any]:
    activity = bf.message(text, **kw)
    status, body = await bf.post_activity(http, gateway_url(teams), activity)
    assert status == 200, body
    return activity


async def conversation_row(teams: TestClient) -> Conversation:
    async with core_of(teams).ctx.sessions() as s:
        conv = await s.scalar(select(Conversation).where(Conversation.channel == "teams"))
    assert conv is not None
    return conv


async def wait_posts(bf: FakeBotFramework, count: int) -> None:
    await eventually(lambda: len(bf.posts) >= count)
    await asyncio.sleep(0.1)
    assert len(bf.posts) == count, bf.texts_to(CONVERSATION)


async def test_installing_the_bot_greets_the_company_once(
    teams: TestClient, bf: FakeBotFramework, http: aiohttp.ClientSession
) -> None:
    status, _ = await bf.post_activity(http, gateway_url(teams), bf.added())
    assert status == 200
    await wait_posts(bf, 1)
    [greeting] = bf.posts
    assert greeting.text == core_texts.GREETING
    assert greeting.reply_to is None
    assert greeting.activity["recipient"]["id"] == "29:1eva-aad-user"
    assert greeting.activity["from"]["id"] == BOT_ID
    # Teams may tell us again (a reinstall): no second greeting.
    await bf.post_activity(http, gateway_url(teams), bf.added())
    await wait_posts(bf, 1)


async def test_other_conversation_updates_and_activity_types_store_nothing(
    teams: TestClient, bf: FakeBotFramework, http: aiohttp.ClientSession
) -> None:
    typing = bf.message("")
    typing["type"] = "typing"
    reaction = bf.message("")
    reaction["type"] = "messageReaction"
    for activity in (bf.added(bot=False), typing, reaction, bf.message("")):
        status, _ = await bf.post_activity(http, gateway_url(teams), activity)
        assert status == 200
    assert await stored(teams) == (0, 0)


async def test_a_question_gets_the_referral_as_a_reply_with_buttons(
    teams: TestClient, bf: FakeBotFramework, http: aiohttp.ClientSession, fake_rasa: FakeRasa
) -> None:
    question = await say(bf, http, teams, LOAN)
    await wait_posts(bf, 1)
    [reply] = bf.posts
    assert reply.conversation_id == CONVERSATION
    assert reply.reply_to == question["id"]  # …/activities/{replyToId}
    assert reply.text == "Almi Mälardalen kan hjälpa er med lån."
    assert [b["title"] for b in reply.buttons] == ["Kontaktuppgifter", "Prata med en rådgivare"]
    assert bf.refused_posts == 0 and len(bf.token_requests) == 1
    conv = await conversation_row(teams)
    assert conv.display_name == "Eva Ek"
    assert conv.address is not None and conv.address["service_url"] == bf.service_url
    assert fake_rasa.conversation(conv.id).messages == [LOAN]


async def test_a_click_is_the_same_as_typing_the_payload(
    teams: TestClient, bf: FakeBotFramework, http: aiohttp.ClientSession, fake_rasa: FakeRasa
) -> None:
    await say(bf, http, teams, LOAN)
    await wait_posts(bf, 1)
    button = bf.posts[0].buttons[0]
    # Teams sends the messageBack's text and value.
    await say(bf, http, teams, button["text"], value=button["value"])
    await wait_posts(bf, 2)
    assert bf.posts[1].text == "Almi Mälardalen: 010-123 45 00."
    conv = await conversation_row(teams)
    assert fake_rasa.conversation(conv.id).messages == [LOAN, "/ask_contact"]
    async with core_of(teams).ctx.sessions() as s:
        click = await s.scalar(select(Message).where(Message.seq == 3, Message.conversation_id == conv.id))
    assert click is not None and (click.text, click.payload) == ("Kontaktuppgifter", "/ask_contact")


async def test_an_activity_delivered_twice_is_stored_and_answered_once(
    teams: TestClient, bf: FakeBotFramework, http: aiohttp.ClientSession, fake_rasa: FakeRasa
) -> None:
    activity = bf.message("hej", activity_id="1481567603816")
    for _ in range(3):
        status, _ = await bf.post_activity(http, gateway_url(teams), activity)
        assert status == 200
    await wait_posts(bf, 1)
    assert await stored(teams) == (1, 2)
    conv = await conversation_row(teams)
    assert fake_rasa.conversation(conv.id).messages == ["hej"]


async def test_an_activity_without_a_recipient_is_refused_and_not_stored(
    teams: TestClient, bf: FakeBotFramework, http: aiohttp.ClientSession
) -> None:
    activity = bf.message("hej")
    del activity["recipient"]
    status, body = await bf.post_activity(http, gateway_url(teams), activity)
    assert status == 400 and body["error"]["code"] == "bad_request"
    assert await stored(teams) == (0, 0)


async def test_a_message_over_the_limit_is_refused_and_not_stored(
    teams: TestClient, bf: FakeBotFramework, http: aiohttp.ClientSession
) -> None:
    status, body = await bf.post_activity(http, gateway_url(teams), bf.message("x" * 2001))
    assert status == 400
    assert body["error"] == {"code": "message_too_long", "message": core_texts.message_too_long(2000)}
    assert await stored(teams) == (0, 0)


async def test_hand_off_to_an_advisor_and_back(
    teams: TestClient, bf: FakeBotFramework, http: aiohttp.ClientSession, fake_rasa: FakeRasa,
    advisor: AdvisorAccount, sessions: Callable[[], aiohttp.ClientSession],
) -> None:
    await say(bf, http, teams, HUMAN_PLEASE)
    await wait_posts(bf, 2)
    handing, queued = bf.posts
    assert handing.text == "Jag kopplar dig till en rådgivare."
    assert queued.text.startswith(core_texts.QUEUED)
    assert "Du är nummer 1 i kön. Beräknad väntetid:" in queued.text
    assert [b["title"] for b in queued.buttons] == ["Lämna kön"]
    assert queued.reply_to is None

    # The advisor sees the channel and the person's name, claims and answers.
    console = console_for(teams, sessions())
    await console.login(advisor)
    _, queue = await console.get("/console/api/queue")
    [entry] = queue["queue"]
    assert entry["channel"] == "teams"
    conversation_id = entry["conversation_id"]
    status, detail = await console.claim(conversation_id)
    assert status == 200
    assert detail["conversation"]["display_name"] == "Eva Ek"
    await wait_posts(bf, 3)
    assert bf.posts[2].text == "Anna Berg har anslutit till chatten."
    status, _ = await console.reply(conversation_id, "Hej Eva! Hur mycket behöver ni låna?")
    assert status == 201
    await wait_posts(bf, 4)
    assert bf.posts[3].text == "Anna Berg, rådgivare:\nHej Eva! Hur mycket behöver ni låna?"
    assert bf.posts[3].reply_to is None

    # The company answers: the advisor reads it, the bot stays silent.
    await say(bf, http, teams, "ungefär 300 000 kronor")
    await asyncio.sleep(0.2)
    _, transcript = await console.get(f"/console/api/conversations/{conversation_id}")
    assert transcript["messages"][-1]["text"] == "ungefär 300 000 kronor"
    assert len(bf.posts) == 4

    # Hand back: the company is told, and the bot answers the next question.
    status, _ = await console.post(f"/console/api/conversations/{conversation_id}/handback")
    assert status == 200
    await wait_posts(bf, 5)
    assert bf.posts[4].text == core_texts.HANDED_BACK
    await eventually(lambda: not fake_rasa.conversation(conversation_id).paused)
    await say(bf, http, teams, "hej")
    await wait_posts(bf, 6)
    assert bf.posts[5].text == "Hej! Vad kan jag hjälpa till med?"
    assert bf.refused_posts == 0


async def test_leaving_the_queue_with_its_button(
    teams: TestClient, bf: FakeBotFramework, http: aiohttp.ClientSession
) -> None:
    await say(bf, http, teams, HUMAN_PLEASE)
    await wait_posts(bf, 2)
    leave = bf.posts[1].buttons[0]
    await say(bf, http, teams, leave["text"], value=leave["value"])
    await wait_posts(bf, 3)
    assert bf.posts[2].text == core_texts.LEFT_QUEUE
    assert (await conversation_row(teams)).state == "bot"


async def test_outside_opening_hours_the_company_leaves_a_question_in_the_form(
    teams: TestClient, bf: FakeBotFramework, http: aiohttp.ClientSession, clock: FakeClock
) -> None:
    clock.set(CLOSED_MOMENT)
    await say(bf, http, teams, HUMAN_PLEASE)
    await wait_posts(bf, 2)
    offline = bf.posts[1]
    assert offline.text.startswith("Just nu är våra rådgivare inte på plats")
    assert any(a["contentType"] == "application/vnd.microsoft.card.adaptive" for a in offline.activity["attachments"])

    # A form that bypassed Teams' own checks is refused, and nothing is stored.
    bad = {"action": "ticket", "question": "Vi behöver hjälp med ett lån.", "contact": "ring mig"}
    status, body = await bf.post_activity(http, gateway_url(teams), bf.message("", value=bad))
    assert status == 400 and body["error"]["code"] == "invalid_ticket"

    form = {"action": "ticket", "question": "Vi behöver hjälp med ett lån.", "contact": "070-123 45 67",
            "name": "Eva Ek", "company": "Ek Bygg AB"}
    submit = bf.message("", value=form)
    for _ in range(2):  # a redelivered submit is one ticket
        status, _ = await bf.post_activity(http, gateway_url(teams), submit)
        assert status == 200
    await wait_posts(bf, 3)
    assert bf.posts[2].text == core_texts.TICKET_THANKS
    async with core_of(teams).ctx.sessions() as s:
        tickets = list(await s.scalars(select(Ticket)))
    assert [(t.question, t.phone, t.email, t.name, t.company) for t in tickets] == [
        ("Vi behöver hjälp med ett lån.", "070-123 45 67", "", "Eva Ek", "Ek Bygg AB")
    ]


async def delivery_of(teams: TestClient) -> Delivery:
    conv = await conversation_row(teams)
    async with core_of(teams).ctx.sessions() as s:
        row = await s.get(Delivery, conv.id)
    assert row is not None
    return row


async def backed_off(teams: TestClient, attempts: int = 1) -> Delivery:
    """Wait until the outbox has recorded this many failed attempts."""
    for _ in range(250):
        row = await delivery_of(teams)
        if row.attempts >= attempts:
            return row
        await asyncio.sleep(0.02)
    raise AssertionError(f"the outbox did not back off {attempts} time(s)")


async def test_a_rate_limited_connector_is_retried_after_its_retry_after(
    teams: TestClient, bf: FakeBotFramework, http: aiohttp.ClientSession, clock: FakeClock
) -> None:
    bf.queued_statuses = [(429, {"Retry-After": "30"})]
    await say(bf, http, teams, "hej")
    row = await backed_off(teams)
    assert (row.next_attempt_at - clock()).total_seconds() == 30
    await asyncio.sleep(0.2)
    assert bf.posts == []
    clock.advance(31)
    await wait_posts(bf, 1)


async def test_a_connector_error_is_retried_and_delivered_once(
    teams: TestClient, bf: FakeBotFramework, http: aiohttp.ClientSession, clock: FakeClock
) -> None:
    bf.queued_statuses = [(503, {}), (500, {})]
    await say(bf, http, teams, "hej")
    await backed_off(teams, attempts=1)
    clock.advance(10)
    await backed_off(teams, attempts=2)
    assert bf.posts == []
    clock.advance(10)
    await wait_posts(bf, 1)
    assert bf.posts[0].text == "Hej! Vad kan jag hjälpa till med?"


async def test_a_refused_token_is_replaced_and_the_message_still_arrives(
    teams: TestClient, bf: FakeBotFramework, http: aiohttp.ClientSession, clock: FakeClock
) -> None:
    await say(bf, http, teams, "hej")
    await wait_posts(bf, 1)
    bf.issued.clear()  # the Connector no longer accepts the cached token
    await say(bf, http, teams, LOAN)
    await backed_off(teams)
    assert bf.refused_posts == 1
    clock.advance(10)
    await wait_posts(bf, 2)
    assert len(bf.token_requests) == 2


async def test_a_conversation_the_bot_was_removed_from_is_given_up_and_later_messages_still_go(
    teams: TestClient, bf: FakeBotFramework, http: aiohttp.ClientSession
) -> None:
    bf.queued_statuses = [(404, {}), (404, {})]  # the reply, and the same without replyToId
    await say(bf, http, teams, "hej")
    await eventually(lambda: bf.queued_statuses == [])
    await say(bf, http, teams, LOAN)
    await wait_posts(bf, 1)
    assert bf.posts[0].text == "Almi Mälardalen kan hjälpa er med lån."
    async with core_of(teams).ctx.sessions() as s:
        statuses = sorted(r.status for r in await s.scalars(select(DeliveryReceipt)))
    assert statuses == ["failed", "sent"]


async def test_a_reply_to_an_activity_the_connector_does_not_know_goes_into_the_conversation(
    teams: TestClient, bf: FakeBotFramework, http: aiohttp.ClientSession
) -> None:
    bf.queued_statuses = [(404, {})]
    await say(bf, http, teams, "hej")
    await wait_posts(bf, 1)
    assert bf.posts[0].reply_to is None
    assert "replyToId" not in bf.posts[0].activity
    assert bf.posts[0].text == "Hej! Vad kan jag hjälpa till med?"


async def test_a_call_cut_off_after_teams_took_it_is_not_lost(
    teams: TestClient, bf: FakeBotFramework, http: aiohttp.ClientSession, clock: FakeClock
) -> None:
    """The Connector cannot be asked whether it has a message, so an interrupted call is
    sent again (at least once): the company may see that one message twice, never none."""
    bf.hang_after_taking = {0}
    await say(bf, http, teams, "hej")
    await backed_off(teams)
    assert len(bf.posts) == 1
    clock.advance(10)
    await wait_posts(bf, 2)
    assert bf.texts_to(CONVERSATION) == ["Hej! Vad kan jag hjälpa till med?"] * 2


async def test_a_stored_address_no_longer_allowed_never_gets_the_token(
    make_gateway: Callable[..., Awaitable[TestClient]], bf: FakeBotFramework, http: aiohttp.ClientSession,
) -> None:
    """The allow-list is checked again at delivery: a gateway restarted with a narrower
    TEAMS_ALLOWED_SERVICE_URLS does not send the token to an address stored earlier."""
    first = await make_gateway(**bf.env())
    await say(bf, http, first, "hej")
    await wait_posts(bf, 1)
    await first.close()
    narrowed = await make_gateway(**{**bf.env(), "TEAMS_ALLOWED_SERVICE_URLS": "https://smba.trafficmanager.net/"})
    await core_of(narrowed).intake.submit((await conversation_row(narrowed)).id, "later-1", "hej")
    async with core_of(narrowed).ctx.sessions() as s:
        conv = await s.scalar(select(Conversation))
        assert conv is not None
    for _ in range(100):
        async with core_of(narrowed).ctx.sessions() as s:
            failed = await s.scalar(select(DeliveryReceipt).where(DeliveryReceipt.status == "failed"))
        if failed is not None:
            break
        await asyncio.sleep(0.02)
    assert failed is not None and "TEAMS_ALLOWED_SERVICE_URLS" in (failed.error or "")
    assert len(bf.posts) == 1
    assert len(bf.token_requests) == 1
