"""A company's whole conversation in Slack: the bot's buttons, the hand-off to an advisor
in the console (queue notice, the advisor's name and replies, the hand-back, closing),
and the question form outside opening hours — all as Slack messages in the same DM or
thread."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

import pytest
from aiohttp.test_utils import TestClient
from sqlalchemy import select

from bench.fake_rasa import HUMAN_PLEASE, FakeRasa
from bench.fake_slack import FakeSlack, SlackMessage, SlackSide
from bot.conversation.models import Conversation, Message, Ticket
from tests.channels.slack.conftest import runtime_of, stored
from tests.gateway.conftest import CLOSED_MOMENT, AdvisorAccount, Console, FakeClock, core_of, eventually


async def posts(fake: FakeSlack, count: int) -> list[SlackMessage]:
    await eventually(lambda: len(fake.bot_posts()) >= count)
    await asyncio.sleep(0.1)
    assert fake.problems == []
    return fake.bot_posts()


async def only_conversation(client: TestClient) -> Conversation:
    async with core_of(client).ctx.sessions() as s:
        (conversation,) = list(await s.scalars(select(Conversation)))
    return conversation


async def test_a_click_is_the_company_typing_the_payload(
    slack: SlackSide, fake_slack: FakeSlack, gateway: TestClient, fake_rasa: FakeRasa
) -> None:
    await slack.dm("vi behöver ett lån")
    (answer,) = await posts(fake_slack, 1)
    status, _ = await slack.click(answer, "Kontaktuppgifter")
    assert status == 200
    replies = await posts(fake_slack, 2)
    assert replies[1].text == "Almi Mälardalen: 010-123 45 00."
    conversation = await only_conversation(gateway)
    assert fake_rasa.conversation(conversation.id).messages == ["vi behöver ett lån", "/ask_contact"]
    async with core_of(gateway).ctx.sessions() as s:
        clicked = (await s.scalars(select(Message).where(Message.role == "user").order_by(Message.seq))).all()[-1]
    assert (clicked.text, clicked.payload) == ("Kontaktuppgifter", "/ask_contact")  # what the advisor would read


async def test_the_same_click_delivered_twice_counts_once(
    slack: SlackSide, fake_slack: FakeSlack, gateway: TestClient
) -> None:
    await slack.dm("vi behöver ett lån")
    (answer,) = await posts(fake_slack, 1)
    payload = slack.click_payload(answer, "Kontaktuppgifter")
    await slack.interact(payload)
    await slack.interact(payload)
    await posts(fake_slack, 2)
    await asyncio.sleep(0.2)
    assert len(fake_slack.bot_posts()) == 2


async def test_a_forged_click_is_refused_and_nothing_is_stored(
    slack: SlackSide, fake_slack: FakeSlack, gateway: TestClient
) -> None:
    await slack.dm("vi behöver ett lån")
    (answer,) = await posts(fake_slack, 1)
    before = await stored(gateway)
    status, _ = await slack.click(answer, "Kontaktuppgifter", secret="forged")
    assert status == 401
    await asyncio.sleep(0.1)
    assert await stored(gateway) == before
    assert len(fake_slack.bot_posts()) == 1


async def test_hand_off_to_an_advisor_and_back_in_a_thread(
    slack: SlackSide,
    fake_slack: FakeSlack,
    gateway: TestClient,
    fake_rasa: FakeRasa,
    advisor: AdvisorAccount,
    console_for: Callable[[TestClient], Console],
) -> None:
    mention = slack.mention_event("vi behöver ett lån")
    thread = mention["ts"]
    await slack.event(mention)
    await posts(fake_slack, 1)

    # The company asks for a person: the queue notice says where they are and how long it takes.
    await slack.event(slack.thread_event(HUMAN_PLEASE, thread))
    replies = await posts(fake_slack, 3)
    assert replies[1].text == "Jag kopplar dig till en rådgivare."
    queued = replies[2].shown_text()
    assert "Du är nu i kö för att chatta med en rådgivare." in queued
    assert "Du är nummer 1 i kön." in queued
    assert "Beräknad väntetid:" in queued

    # The console shows the chat as Slack's, with the person's name.
    console: Console = console_for(gateway)
    await console.login(advisor)
    status, queue = await console.get("/console/api/queue")
    assert status == 200
    (entry,) = queue["queue"]
    assert entry["channel"] == "slack"
    conversation = await only_conversation(gateway)
    assert conversation.display_name == "Eva Ek"

    # The advisor takes it: the company reads the advisor's name, then the reply.
    status, _ = await console.claim(conversation.id)
    assert status == 200
    joined = (await posts(fake_slack, 4))[3].shown_text()
    assert "*Anna Berg* har anslutit till chatten." in joined
    status, _ = await console.reply(conversation.id, "Hej Eva! Hur mycket behöver ni låna?")
    assert status == 201
    said = (await posts(fake_slack, 5))[4]
    assert "Anna Berg, rådgivare" in said.shown_text()
    assert "Hej Eva! Hur mycket behöver ni låna?" in said.shown_text()
    assert said.text == "Anna Berg: Hej Eva! Hur mycket behöver ni låna?"

    # The company answers in the thread; the advisor reads it in the console.
    await slack.event(slack.thread_event("Ungefär 300 000 kronor.", thread))
    async def advisor_sees_it() -> bool:
        _, body = await console.get(f"/console/api/conversations/{conversation.id}")
        return any(m["text"] == "Ungefär 300 000 kronor." for m in body["messages"])
    for _ in range(100):
        if await advisor_sees_it():
            break
        await asyncio.sleep(0.02)
    assert await advisor_sees_it()
    assert len(fake_slack.bot_posts()) == 5  # the bot stays silent while the advisor has the chat

    # Hand-back: the company is told, and the bot answers the next question.
    status, _ = await console.post(f"/console/api/conversations/{conversation.id}/handback")
    assert status == 200
    back = (await posts(fake_slack, 6))[5].shown_text()
    assert "Du chattar nu med den digitala assistenten igen." in back
    await slack.event(slack.thread_event("/ask_contact", thread))
    assert (await posts(fake_slack, 7))[6].text == "Almi Mälardalen: 010-123 45 00."
    assert {m.thread_ts for m in fake_slack.bot_posts()} == {thread}
    assert fake_rasa.conversation(conversation.id).messages[-1] == "/ask_contact"


async def test_closing_the_chat_is_told_in_slack(
    slack: SlackSide,
    fake_slack: FakeSlack,
    gateway: TestClient,
    advisor: AdvisorAccount,
    console_for: Callable[[TestClient], Console],
) -> None:
    await slack.dm(HUMAN_PLEASE)
    await posts(fake_slack, 2)
    conversation = await only_conversation(gateway)
    console: Console = console_for(gateway)
    await console.login(advisor)
    await console.claim(conversation.id)
    await posts(fake_slack, 3)
    status, _ = await console.post(f"/console/api/conversations/{conversation.id}/close", {"outcome": "resolved"})
    assert status == 200
    assert "Rådgivaren har avslutat chatten." in (await posts(fake_slack, 4))[3].shown_text()


async def test_an_advisor_cannot_mention_the_channel_or_hide_a_link(
    slack: SlackSide,
    fake_slack: FakeSlack,
    gateway: TestClient,
    advisor: AdvisorAccount,
    console_for: Callable[[TestClient], Console],
) -> None:
    await slack.dm(HUMAN_PLEASE)
    await posts(fake_slack, 2)
    conversation = await only_conversation(gateway)
    console: Console = console_for(gateway)
    await console.login(advisor)
    await console.claim(conversation.id)
    await console.reply(conversation.id, "<!channel> titta <@U0BOSS> & <https://evil.example|almi.se>")
    said = (await posts(fake_slack, 4))[3]
    assert "&lt;!channel&gt; titta &lt;@U0BOSS&gt; &amp; &lt;https://evil.example|almi.se&gt;" in said.shown_text()
    assert "<!channel>" not in said.text and "<@" not in said.text


async def test_when_the_bot_is_down_its_button_asks_for_an_advisor(
    slack: SlackSide, fake_slack: FakeSlack, gateway: TestClient, fake_rasa: FakeRasa
) -> None:
    fake_rasa.down = True
    await slack.dm("hej")
    (unavailable,) = await posts(fake_slack, 1)
    assert "svarar inte just nu" in unavailable.shown_text()
    assert [b["value"] for b in unavailable.buttons()] == ["gateway:request_advisor"]
    await slack.click(unavailable, "Prata med en rådgivare")
    queued = (await posts(fake_slack, 2))[1].shown_text()
    assert "Du är nummer 1 i kön." in queued
    conversation = await only_conversation(gateway)
    assert (conversation.state, conversation.handoff_reason) == ("queued", "bot_unavailable")


@pytest.fixture
def closed(clock: FakeClock) -> FakeClock:
    clock.set(CLOSED_MOMENT)
    return clock


async def test_outside_opening_hours_the_company_leaves_a_question_in_a_slack_form(
    closed: FakeClock, slack: SlackSide, fake_slack: FakeSlack, gateway: TestClient
) -> None:
    await slack.dm(HUMAN_PLEASE)
    offline = (await posts(fake_slack, 2))[1]
    assert "inte på plats" in offline.shown_text()
    assert [b["text"]["text"] for b in offline.buttons()] == ["Lämna en fråga"]

    await slack.click(offline, "Lämna en fråga")
    await eventually(lambda: len(fake_slack.views) == 1)
    view = fake_slack.views[0]
    assert [b.get("block_id") for b in view["blocks"] if b["type"] == "input"] == [
        "question", "name", "company", "email", "phone"
    ]
    await runtime_of(gateway).settle()

    # No way to reach the company: the form says so next to the field, nothing is filed.
    status, body = await slack.interact(slack.submission(view, {"question": "Kan vi få hyresstöd?"}))
    assert status == 200
    assert '"response_action": "errors"' in body and "e-postadress eller telefonnummer" in body
    assert (await stored(gateway))["messages"] == 3

    answers = {"question": "Kan vi få hyresstöd?", "name": "Eva Ek", "company": "Ek Bygg AB",
               "email": "eva@ekbygg.se", "phone": ""}
    status, body = await slack.interact(slack.submission(view, answers))
    assert (status, body) == (200, "")
    await slack.interact(slack.submission(view, answers))  # a double submit files one ticket
    thanks = (await posts(fake_slack, 3))[2].shown_text()
    assert "Tack! Vi har tagit emot din fråga" in thanks
    async with core_of(gateway).ctx.sessions() as s:
        (ticket,) = list(await s.scalars(select(Ticket)))
    assert (ticket.question, ticket.email, ticket.company) == ("Kan vi få hyresstöd?", "eva@ekbygg.se", "Ek Bygg AB")
    assert ticket.conversation_id == (await only_conversation(gateway)).id
