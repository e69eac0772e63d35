"""The statements of a REST turn's hot path, on SQLite and PostgreSQL: a company message is
stored already claimed only when nothing of its conversation is on its way to Rasa, the
bot's replies keep their order, and a pull channel's unread messages go out once even to
calls made at the same moment."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from aiohttp.test_utils import TestClient
from sqlalchemy import select, update

from bench.fake_rasa import HUMAN_PLEASE, LOAN, FakeRasa
from bot.conversation import store
from bot.conversation.errors import NotFound
from bot.conversation.intake import Intake
from bot.conversation.models import Conversation, Message
from tests.gateway.conftest import core_of
from tests.gateway.test_rest import say


@pytest.fixture
def db_url(any_db_url: str) -> str:
    return any_db_url


class Taker:
    """Stands for the Rasa worker: may take every message, records what it was given."""

    def __init__(self) -> None:
        self.taken: list[store.StoredMessage] = []

    def can_take(self, conversation_id: str) -> bool:
        return True

    def take(self, message: store.StoredMessage, conversation: tuple[str, bool, str, str | None]) -> None:
        self.taken.append(message)


async def conversation_of(gateway: TestClient, external_id: str) -> Conversation:
    async with core_of(gateway).ctx.sessions() as s:
        conv = await s.scalar(select(Conversation).where(Conversation.external_id == external_id))
    assert conv is not None
    return conv


async def statuses(gateway: TestClient, conversation_id: str) -> list[tuple[str | None, bool]]:
    """Each company message's Rasa status and whether its start was recorded, in order."""
    async with core_of(gateway).ctx.sessions() as s:
        rows = await s.execute(
            select(Message.rasa_status, Message.rasa_started_at)
            .where(Message.conversation_id == conversation_id, Message.role == "user")
            .order_by(Message.seq)
        )
        return [(status, started is not None) for status, started in rows.tuples()]


async def test_a_message_is_stored_claimed_only_when_nothing_of_its_conversation_is_unfinished(
    gateway: TestClient,
) -> None:
    core = core_of(gateway)
    await say(gateway, "crm-1", "hej")
    async with core.ctx.sessions() as s:
        conversation_id = str(await s.scalar(select(Conversation.id).where(Conversation.external_id == "crm-1")))
    kicked: list[str] = []
    taker = Taker()
    intake = Intake(core.ctx, kicked.append, taker)

    for unfinished in ("pending", "retry", "processing"):
        async with core.ctx.sessions.begin() as s:
            await s.execute(update(Message).where(Message.role == "user").values(rasa_status="done"))
            first = await s.scalar(select(Message.id).where(Message.role == "user").order_by(Message.seq).limit(1))
            await s.execute(update(Message).where(Message.id == first).values(rasa_status=unfinished))
        await intake.submit_by_key("rest", "crm-1", f"medan {unfinished}")
        # Behind an unfinished message: stored pending, for the worker to claim in order.
        assert (await statuses(gateway, conversation_id))[-1] == ("pending", False)
        assert taker.taken == [] and kicked[-1] == conversation_id

    async with core.ctx.sessions.begin() as s:
        await s.execute(update(Message).where(Message.role == "user").values(rasa_status="done"))
    kicked.clear()
    submitted = await intake.submit_by_key("rest", "crm-1", "nu")
    assert (await statuses(gateway, conversation_id))[-1] == ("processing", True)
    [taken] = taker.taken
    assert (taken.seq, taken.text, taken.rasa_status) == (submitted.seq, "nu", "processing")
    assert taken.rasa_started_at == taken.created_at and kicked == []
    async with core.ctx.sessions() as s:
        assert taken.id == await s.scalar(select(Message.id).where(Message.seq == submitted.seq))


async def test_replies_stored_in_one_statement_keep_their_order(gateway: TestClient) -> None:
    core = core_of(gateway)
    await say(gateway, "crm-2", "hej")
    conv = await conversation_of(gateway, "crm-2")
    now = core.ctx.now()
    added = [
        store.new_message(conv.id, "bot", f"svar {i}", now, seq=conv.last_seq + 1 + i, buttons=[{"title": "t"}])
        for i in range(5)
    ]
    async with core.ctx.sessions.begin() as s:
        await s.execute(update(Conversation).where(Conversation.id == conv.id).values(last_seq=conv.last_seq + 5))
        await store.insert_messages(s, added)
    async with core.ctx.sessions() as s:
        stored = {m.id: m for m in await store.messages_after(s, conv.id, conv.last_seq)}
    assert [(stored[m.id].seq, stored[m.id].text, stored[m.id].buttons) for m in added] == [
        (conv.last_seq + 1 + i, f"svar {i}", [{"title": "t"}]) for i in range(5)
    ]


async def test_unread_messages_go_out_once_to_calls_at_the_same_moment(gateway: TestClient) -> None:
    core = core_of(gateway)
    await say(gateway, "crm-3", "hej")
    conv = await conversation_of(gateway, "crm-3")
    taken: list[Any] = []
    for round_ in range(3):
        now = core.ctx.now()
        async with core.ctx.sessions.begin() as s:
            for i in range(4):
                await store.add_message(s, conv.id, "bot", f"runda {round_} svar {i}", now)
        results = await asyncio.gather(*(core.outbox.take_unread(conv.id) for _ in range(6)))
        taken.extend(m.text for result in results for m in result)
    assert sorted(taken) == sorted(f"runda {r} svar {i}" for r in range(3) for i in range(4))


async def test_first_messages_of_a_new_sender_at_the_same_moment_open_one_conversation(gateway: TestClient) -> None:
    # The conversation is created in the transaction that stores the first message; the
    # requests that lose the race to create it store theirs in the winner's.
    results = await asyncio.gather(*(say(gateway, "crm-new", f"hej {i}") for i in range(5)))
    assert [status for status, _ in results] == [200] * 5
    async with core_of(gateway).ctx.sessions() as s:
        [conv] = list(await s.scalars(select(Conversation).where(Conversation.external_id == "crm-new")))
        user = list(await s.scalars(select(Message.text).where(Message.role == "user").order_by(Message.seq)))
    assert sorted(user) == [f"hej {i}" for i in range(5)]
    assert conv.last_seq == 10  # five questions, five answers


async def test_a_worker_that_finds_a_turn_under_way_elsewhere_keeps_nothing_of_it(gateway: TestClient) -> None:
    # Another replica is in the middle of the conversation's turn: its message is
    # `processing`, started just now. This worker waits, and remembers nothing per message
    # (a long-running gateway would otherwise grow with every such wait).
    core = core_of(gateway)
    await say(gateway, "crm-5", "hej")
    conv = await conversation_of(gateway, "crm-5")
    async with core.ctx.sessions.begin() as s:
        message = await store.add_message(s, conv.id, "user", "på väg i en annan process", core.ctx.now())
        await s.execute(
            update(Message).where(Message.id == message.id).values(rasa_status="processing",
                                                                   rasa_started_at=core.ctx.now())
        )
    worker = core.rasa
    assert await worker._claim_next(conv.id) is True  # BUSY
    assert worker._conversation == {}

    # Once the other replica is done, the next claim finds nothing and still keeps nothing.
    async with core.ctx.sessions.begin() as s:
        await s.execute(update(Message).where(Message.id == message.id).values(rasa_status="done"))
    assert await worker._claim_next(conv.id) is None
    assert worker._conversation == {}


async def test_a_rest_turn_gets_its_answer_from_the_transaction_that_stores_the_replies(
    gateway: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Nothing follows the turn: the caller's unread messages are taken, and the cursor
    # moved, with the bot's replies (no transaction of its own). A hand-off follows its
    # turn with more messages: the caller then takes them itself, after the hand-off.
    core = core_of(gateway)
    took_itself: list[str] = []
    take_unread = core.outbox.take_unread

    async def counted(conversation_id: str) -> list[Message]:
        took_itself.append(conversation_id)
        return await take_unread(conversation_id)

    monkeypatch.setattr(core.outbox, "take_unread", counted)
    assert await say(gateway, "crm-6", "hej") == (
        200, [{"recipient_id": "crm-6", "text": "Hej! Vad kan jag hjälpa till med?"}]
    )
    assert await say(gateway, "crm-6", "/ask_contact") == (
        200, [{"recipient_id": "crm-6", "text": "Almi Mälardalen: 010-123 45 00."}]
    )
    assert took_itself == []
    assert await core.outbox.take_unread((await conversation_of(gateway, "crm-6")).id) == []  # nothing left behind

    took_itself.clear()
    status, body = await say(gateway, "crm-6", HUMAN_PLEASE)
    assert status == 200 and took_itself == [(await conversation_of(gateway, "crm-6")).id]
    texts_ = [m.get("text") for m in body]
    assert "Jag kopplar dig till en rådgivare." in texts_ and len(texts_) > 1  # the hand-off's own notice too


async def test_rest_calls_of_one_sender_at_the_same_moment_get_each_reply_once(
    gateway: TestClient, fake_rasa: FakeRasa
) -> None:
    await say(gateway, "crm-7", "hej")
    fake_rasa.delay = 0.05
    results = await asyncio.gather(*(say(gateway, "crm-7", text) for text in (LOAN, "/ask_contact", "hej", "hallå")))
    assert all(status == 200 for status, _ in results)
    replies = sorted(m["text"] for _, body in results for m in body)
    assert replies == sorted([
        "Almi Mälardalen kan hjälpa er med lån.", "Almi Mälardalen: 010-123 45 00.",
        "Hej! Vad kan jag hjälpa till med?", "Du skrev: hallå",
    ])
    assert await say(gateway, "crm-7", "/ask_contact") == (
        200, [{"recipient_id": "crm-7", "text": "Almi Mälardalen: 010-123 45 00."}]
    )


async def test_a_message_in_a_closed_chat_takes_the_full_path_and_is_numbered_once(gateway: TestClient) -> None:
    """The common path numbers the message before it sees the chat is closed (the survey
    may take the message as a comment): its number is rolled back, and the full path's is
    the only one."""
    core = core_of(gateway)
    await say(gateway, "crm-7", "hej")
    conv = await conversation_of(gateway, "crm-7")
    async with core.ctx.sessions.begin() as s:
        await s.execute(update(Conversation).where(Conversation.id == conv.id).values(state="closed"))
    intake = Intake(core.ctx, lambda _: None, Taker())

    submitted = await intake.submit_by_key("rest", "crm-7", "en fråga till")
    assert submitted.seq == conv.last_seq + 1
    async with core.ctx.sessions() as s:
        assert await s.scalar(select(Conversation.last_seq).where(Conversation.id == conv.id)) == submitted.seq
        seqs = list(
            await s.scalars(select(Message.seq).where(Message.conversation_id == conv.id).order_by(Message.seq))
        )
    assert seqs == list(range(1, submitted.seq + 1))


async def test_a_message_for_an_unknown_conversation_stores_nothing(gateway: TestClient) -> None:
    core = core_of(gateway)
    intake = Intake(core.ctx, lambda _: None, Taker())
    with pytest.raises(NotFound):
        await intake.submit("finns-inte", "klient-1", "hej")
    async with core.ctx.sessions() as s:
        assert list(await s.scalars(select(Message.id))) == []
