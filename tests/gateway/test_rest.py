"""The Rasa-REST-compatible endpoint: programs talk to the same conversations (section 6)."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable
from typing import Any

from aiohttp.test_utils import TestClient
from sqlalchemy import select

from bench.fake_rasa import HUMAN_PLEASE, LOAN, FakeRasa
from bot import texts
from bot.conversation.models import Message
from tests.gateway.conftest import AdvisorAccount, Console, FakeClock, core_of, eventually

WEBHOOK = "/webhooks/rest/webhook"


async def say(client: TestClient, sender: str, message: str, **extra: Any) -> tuple[int, Any]:
    response = await client.post(WEBHOOK, json={"sender": sender, "message": message, **extra})
    return response.status, await response.json()


async def test_the_answer_has_rasas_shape(gateway: TestClient) -> None:
    status, body = await say(gateway, "crm-4711", LOAN)
    assert status == 200
    assert body == [
        {
            "recipient_id": "crm-4711",
            "text": "Almi Mälardalen kan hjälpa er med lån.",
            "buttons": [
                {"title": "Kontaktuppgifter", "payload": "/ask_contact"},
                {"title": "Prata med en rådgivare", "payload": "/request_human"},
            ],
        }
    ]


async def test_a_button_payload_is_sent_as_the_message(gateway: TestClient) -> None:
    await say(gateway, "crm-4711", LOAN)
    status, body = await say(gateway, "crm-4711", "/ask_contact")
    assert status == 200
    assert body == [{"recipient_id": "crm-4711", "text": "Almi Mälardalen: 010-123 45 00."}]


async def test_metadata_reaches_the_bot(gateway: TestClient, fake_rasa: FakeRasa) -> None:
    await say(gateway, "crm-1", "hej", metadata={"kundnummer": "17", "channel": "falsk", "message_seq": 99})
    [conversation] = fake_rasa.conversations.values()
    # The program's own keys reach the bot; the gateway's cannot be overridden.
    assert conversation.events[0]["metadata"] == {"channel": "rest", "kundnummer": "17", "message_seq": 1}


async def test_each_sender_is_its_own_conversation(
    gateway: TestClient, fake_rasa: FakeRasa
) -> None:
    await say(gateway, "a", "hej")
    await say(gateway, "b", "hej")
    await say(gateway, "a", "igen")
    assert sorted(c.messages for c in fake_rasa.conversations.values()) == [
        ["hej"],
        ["hej", "igen"],
    ]


async def test_the_same_handoff_rules_apply_and_advisor_replies_arrive_on_the_next_call(
    gateway: TestClient, console: Callable[..., Console], advisor: AdvisorAccount
) -> None:
    status, body = await say(gateway, "crm-9", HUMAN_PLEASE)
    assert status == 200
    assert body == [
        {"recipient_id": "crm-9", "text": "Jag kopplar dig till en rådgivare."},
        {"recipient_id": "crm-9", "text": texts.QUEUED, "custom": {"role": "system"}},
    ]

    anna = console()
    await anna.login(advisor)
    _, queue = await anna.get("/console/api/queue")
    [entry] = queue["queue"]
    assert entry["channel"] == "rest"
    conversation_id = entry["conversation_id"]
    await anna.claim(conversation_id)
    await anna.reply(conversation_id, "Hej! Anna här.")

    status, body = await say(gateway, "crm-9", "Hej Anna")
    assert status == 200
    assert body == [
        {
            "recipient_id": "crm-9",
            "text": "Anna Berg har anslutit till chatten.",
            "custom": {"role": "system"},
        },
        {
            "recipient_id": "crm-9",
            "text": "Hej! Anna här.",
            "custom": {"role": "advisor", "author": "Anna Berg"},
        },
    ]
    assert (await say(gateway, "crm-9", "Tack"))[1] == []  # the bot stays silent


async def test_rasa_down_is_a_swedish_answer_not_a_server_error(
    gateway: TestClient, fake_rasa: FakeRasa
) -> None:
    fake_rasa.down = True
    status, body = await say(gateway, "crm-1", "hej")
    assert status == 200
    assert body == [
        {
            "recipient_id": "crm-1",
            "text": texts.BOT_UNAVAILABLE,
            "buttons": [{"title": "Prata med en rådgivare", "payload": "gateway:request_advisor"}],
            "custom": {"role": "system"},
        }
    ]
    status, body = await say(gateway, "crm-1", "gateway:request_advisor")
    assert status == 200 and body[-1]["text"] == texts.QUEUED


async def test_outside_hours_a_program_is_told_when_advisors_are_back(
    gateway: TestClient, clock: FakeClock
) -> None:
    from tests.gateway.conftest import CLOSED_MOMENT

    clock.set(CLOSED_MOMENT)
    _, body = await say(gateway, "crm-2", HUMAN_PLEASE)
    assert "i morgon kl. 08:00" in body[-1]["text"]


async def test_bad_requests_are_refused_with_a_json_error(gateway: TestClient) -> None:
    cases = [
        ({"message": "hej"}, "bad_request"),
        ({"sender": "", "message": "hej"}, "bad_request"),
        ({"sender": "x" * 129, "message": "hej"}, "bad_request"),
        ({"sender": "a", "message": ""}, "empty_message"),
        ({"sender": "a", "message": "å" * 2001}, "message_too_long"),
        ({"sender": "a", "message": 5}, "bad_request"),
    ]
    for payload, code in cases:
        response = await gateway.post(WEBHOOK, json=payload)
        assert response.status == 400, payload
        assert (await response.json())["error"]["code"] == code
    response = await gateway.post(
        WEBHOOK, data=b"not json", headers={"Content-Type": "application/json"}
    )
    assert response.status == 400


async def test_a_program_sending_too_fast_gets_429(
    make_gateway: Callable[..., Awaitable[TestClient]],
) -> None:
    gateway = await make_gateway(RATE_LIMIT_MESSAGES="2", RATE_LIMIT_WINDOW_SECONDS="60")
    statuses = [(await say(gateway, "spam", "hej"))[0] for _ in range(3)]
    assert statuses == [200, 200, 429]
    response = await gateway.post(WEBHOOK, json={"sender": "spam", "message": "hej"})
    assert int(response.headers["Retry-After"]) >= 1
    assert (await response.json())["error"]["message"] == texts.RATE_LIMITED
    assert (await say(gateway, "another", "hej"))[0] == 200


async def test_an_oversized_body_is_refused(gateway: TestClient) -> None:
    response = await gateway.post(WEBHOOK, json={"sender": "a", "message": "x" * 100_000})
    assert response.status == 413


async def test_many_programs_at_once_all_get_answers_on_sqlite(gateway: TestClient) -> None:
    # Every gateway transaction takes SQLite's write lock; concurrent turns must queue for
    # it, never fail with "database is locked" (which surfaced as a 500 under load).
    async def conversation(n: int) -> list[int]:
        statuses = []
        for text in (LOAN, "/ask_contact", "hej"):
            status, _ = await say(gateway, f"program-{n}", text)
            statuses.append(status)
        return statuses

    results = await asyncio.gather(*(conversation(n) for n in range(40)))
    assert all(status == 200 for statuses in results for status in statuses)


async def test_a_turn_stored_already_claimed_goes_back_to_pending_when_the_gateway_stops(
    gateway: TestClient, fake_rasa: FakeRasa
) -> None:
    # Nothing of the conversation is on its way to Rasa: the message is stored claimed by
    # this process (no claim transaction). A stop in the middle of the turn puts it back.
    await say(gateway, "crm-9", "hej")
    fake_rasa.delay = 5.0
    turn = asyncio.create_task(say(gateway, "crm-9", "igen"))
    core = core_of(gateway)
    await eventually(lambda: bool(core.rasa._inflight))
    async with core.ctx.sessions() as s:
        statuses = list(await s.scalars(select(Message.rasa_status).where(Message.role == "user").order_by(Message.id)))
    assert statuses == ["done", "processing"]
    await core.rasa.stop(grace=0.05)
    async with core.ctx.sessions() as s:
        latest = await s.scalar(select(Message).order_by(Message.id.desc()).limit(1))
    assert latest is not None and (latest.text, latest.rasa_status, latest.rasa_started_at) == ("igen", "pending", None)
    turn.cancel()
    with contextlib.suppress(asyncio.CancelledError, Exception):
        await turn
