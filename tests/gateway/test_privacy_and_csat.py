"""Personnummer never reach the database or Rasa; the satisfaction survey after a human chat."""

from __future__ import annotations

from collections.abc import Callable

from aiohttp.test_utils import TestClient
from sqlalchemy import select

from bench.fake_rasa import FakeRasa
from bot import texts
from bot.conversation.events import EventKind
from bot.conversation.models import ConversationEvent, CsatRating, Message
from bot.rules.personal_numbers import MASK
from tests.gateway.conftest import (
    AdvisorAccount,
    Console,
    FakeClock,
    Widget,
    core_of,
    eventually,
    queued_conversation,
)

PNR = "19811218-9876"  # Skatteverket's test personnummer


async def test_a_personnummer_is_masked_before_it_is_stored_or_sent_to_rasa_and_told_once(
    widget: Callable[..., Widget], fake_rasa: FakeRasa, gateway: TestClient
) -> None:
    company = widget()
    await company.connect()
    await company.say(f"Hej, mitt personnummer är {PNR}")
    notice = await company.wait_message("system", "personnummer")
    await company.say("Och samordningsnumret 701063-2391, order 1234567890")
    assert company.conversation_id is not None
    sent = fake_rasa.conversation(company.conversation_id).messages
    await eventually(lambda: len(sent) == 2)

    assert notice["text"] == texts.PERSONAL_NUMBER_REMOVED
    assert sent == [f"Hej, mitt personnummer är {MASK}", f"Och samordningsnumret {MASK}, order 1234567890"]
    async with core_of(gateway).ctx.sessions() as s:
        rows = list(await s.scalars(select(Message).order_by(Message.seq)))
    stored = [m.text or "" for m in rows]
    assert not any("9876" in t or "2391" in t for t in stored)
    assert stored.count(texts.PERSONAL_NUMBER_REMOVED) == 1  # told once, not per message
    assert next(m["text"] for m in company.messages if m["role"] == "user") == f"Hej, mitt personnummer är {MASK}"


async def closed_by(anna: Console, advisor: AdvisorAccount, company: Widget) -> str:
    conversation_id = await queued_conversation(company)
    await anna.login(advisor)
    await anna.claim(conversation_id)
    await anna.post(f"/console/api/conversations/{conversation_id}/close", {"outcome": "resolved"})
    await company.wait_status("closed")
    return conversation_id


async def test_after_an_advisor_closes_the_company_rates_once_and_may_comment(
    widget: Callable[..., Widget],
    console: Callable[..., Console],
    advisor: AdvisorAccount,
    gateway: TestClient,
    fake_rasa: FakeRasa,
) -> None:
    company = widget()
    conversation_id = await closed_by(console(), advisor, company)
    question = await company.wait_message("system", "Hur nöjd")
    assert [b["payload"] for b in question["buttons"]] == [f"gateway:csat:{n}" for n in range(1, 6)]
    rasa_before = list(fake_rasa.conversation(conversation_id).messages)

    await company.say("4", payload="gateway:csat:4")
    await company.wait_message("system", "Tack för ditt betyg")
    await company.say("Snabb och bra hjälp, tack! 811218-9876")
    await company.wait_message("system", "Tack för din kommentar")
    await company.say("5", payload="gateway:csat:5")  # a second click: the first answer stands

    async with core_of(gateway).ctx.sessions() as s:
        row = await s.get(CsatRating, conversation_id)
        kinds = list(await s.scalars(
            select(ConversationEvent.kind).where(ConversationEvent.conversation_id == conversation_id)
        ))
        rated = await s.scalar(select(ConversationEvent).where(ConversationEvent.kind == EventKind.CSAT_RATED.value))
    assert row is not None
    assert (row.rating, row.advisor_id, row.channel) == (4, advisor.id, "widget")
    assert row.comment == f"Snabb och bra hjälp, tack! {MASK}"
    assert kinds.count("csat_asked") == 1 and kinds.count("csat_rated") == 1
    assert rated is not None and rated.data == {"rating": 4} and rated.advisor_id == advisor.id
    # Neither the rating nor the comment went to Rasa, and the chat stayed closed.
    assert fake_rasa.conversation(conversation_id).messages == rasa_before


async def test_a_chat_closed_again_is_not_asked_twice_and_a_late_answer_is_ignored(
    widget: Callable[..., Widget],
    console: Callable[..., Console],
    advisor: AdvisorAccount,
    gateway: TestClient,
    clock: FakeClock,
) -> None:
    company = widget()
    anna = console()
    conversation_id = await closed_by(anna, advisor, company)
    await company.wait_message("system", "Hur nöjd")
    clock.advance(25 * 3600)
    await company.say("5", payload="gateway:csat:5")
    # Closed a second time: no second question.
    from bench.fake_rasa import HUMAN_PLEASE

    await company.say(HUMAN_PLEASE)
    await company.wait_status("queued")
    await anna.claim(conversation_id)
    await anna.post(f"/console/api/conversations/{conversation_id}/close", {"outcome": "resolved"})
    await company.wait_status("closed")

    async with core_of(gateway).ctx.sessions() as s:
        row = await s.get(CsatRating, conversation_id)
        questions = list(await s.scalars(
            select(Message.id).where(Message.conversation_id == conversation_id, Message.text == texts.CSAT_QUESTION)
        ))
    assert row is not None and row.rating is None and row.rated_at is None
    assert len(questions) == 1
