"""From the bot to an advisor and back: what the company and the advisor each see."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

import aiohttp
from aiohttp.test_utils import TestClient

from bench.fake_rasa import (
    COMPLAINT,
    HANDOFF_SUMMARY,
    HUMAN_PLEASE,
    NOT_UNDERSTOOD,
    FakeRasa,
)
from bot import texts
from tests.gateway.conftest import (
    CLOSED_MOMENT,
    AdvisorAccount,
    Console,
    FakeClock,
    Widget,
    core_of,
    eventually,
    origin_of,
    queued_conversation,
)


async def test_the_bots_handoff_queues_the_company_with_position_and_expected_wait(
    widget: Callable[..., Widget],
) -> None:
    company = widget()
    await company.connect()
    await company.say(HUMAN_PLEASE)

    status = await company.wait_status("queued")
    assert status == {
        "type": "status",
        "state": "queued",
        "position": 1,
        "expected_wait_minutes": 6,
        "expected_wait_text": "cirka 6 minuter",
    }
    texts_seen = [m["text"] for m in company.messages]
    assert "Jag kopplar dig till en rådgivare." in texts_seen
    assert texts_seen[-1] == texts.QUEUED


async def test_the_handoff_payload_itself_is_never_shown_to_the_company(
    widget: Callable[..., Widget],
) -> None:
    company = widget()
    await company.connect()
    await company.say(HUMAN_PLEASE)
    await company.wait_status("queued")
    assert all(m["text"] for m in company.messages)  # no empty bubble for the custom payload


async def test_a_second_company_is_second_in_line(widget: Callable[..., Widget]) -> None:
    first, second = widget(), widget()
    await queued_conversation(first)
    await queued_conversation(second)
    assert (await second.wait_status("queued"))["position"] == 2


async def test_the_bots_fallback_hand_off_queues_the_chat_with_its_reason(
    widget: Callable[..., Widget], console: Callable[..., Console], advisor: AdvisorAccount
) -> None:
    """The bot counts the not-understood turns (its two-stage fallback); the gateway only
    acts on the hand-off it sends."""
    company = widget()
    await company.connect()
    await company.say(NOT_UNDERSTOOD)
    await company.wait_message("bot", "förstod inte")
    await company.say(NOT_UNDERSTOOD)
    await company.wait_status("queued")
    anna = console()
    await anna.login(advisor)
    status, snapshot = await anna.get("/console/api/queue")
    assert status == 200
    assert [(e["conversation_id"], e["reason"]) for e in snapshot["queue"]] == [(company.conversation_id, "fallback")]


async def test_an_advisor_sees_the_new_chat_live_with_the_bots_summary(
    widget: Callable[..., Widget], console: Callable[..., Console], advisor: AdvisorAccount
) -> None:
    anna = console()
    await anna.login(advisor)
    live = await anna.open_socket()
    company = widget()
    conversation_id = await queued_conversation(company)

    event = await live.wait_type("queue", event="enqueued")
    assert event["conversation_id"] == conversation_id
    [entry] = event["queue"]
    assert entry["conversation_id"] == conversation_id
    assert entry["position"] == 1
    assert entry["reason"] == "request_human"
    assert entry["reason_text"] == "Bad om en rådgivare"
    assert entry["preview"] == HUMAN_PLEASE
    assert entry["page"] == "https://kund.example.se/kontakt"
    assert event["advisors_online"] == 1
    # The queue stays light (it is sent to every console at every change): the bot's
    # summary comes with the chat itself.
    assert "summary" not in entry
    _, detail = await anna.get(f"/console/api/conversations/{conversation_id}")
    assert detail["conversation"]["summary"] == HANDOFF_SUMMARY


async def test_claiming_shows_the_whole_transcript_and_tells_the_company_who_answers(
    widget: Callable[..., Widget],
    console: Callable[..., Console],
    advisor: AdvisorAccount,
    fake_rasa: FakeRasa,
) -> None:
    company = widget()
    await company.connect()
    await company.say("hej")
    await company.wait_message("bot")
    conversation_id = await queued_conversation(company)
    anna = console()
    await anna.login(advisor)

    status, detail = await anna.claim(conversation_id)

    assert status == 200
    assert detail["conversation"]["state"] == "advisor"
    assert detail["conversation"]["advisor"] == {"id": advisor.id, "name": "Anna Berg"}
    assert detail["conversation"]["summary"] == HANDOFF_SUMMARY
    roles = [m["role"] for m in detail["messages"]]
    assert roles == ["system", "user", "bot", "user", "bot", "system", "system"]
    assert await company.wait_status("advisor") == {
        "type": "status",
        "state": "advisor",
        "advisor": {"name": "Anna Berg"},
    }
    await company.wait_message("system", "Anna Berg har anslutit till chatten.")


async def test_while_an_advisor_owns_the_chat_the_bot_stays_silent_but_keeps_the_record(
    widget: Callable[..., Widget],
    console: Callable[..., Console],
    advisor: AdvisorAccount,
    fake_rasa: FakeRasa,
    gateway: TestClient,
) -> None:
    company = widget()
    conversation_id = await queued_conversation(company)
    anna = console()
    await anna.login(advisor)
    live = await anna.open_socket()
    await anna.claim(conversation_id)
    await company.wait_status("advisor")

    await company.say("hej")  # the fake bot would greet if it were not paused
    seen = await live.wait_for(
        lambda f: f.get("type") == "message" and f["message"]["text"] == "hej"
    )
    assert seen["conversation_id"] == conversation_id
    await company.wait_message("user", "hej")
    await core_of(gateway).rasa.wait_delivered(conversation_id)

    assert fake_rasa.conversation(conversation_id).messages[-1] == "hej"
    assert [m["role"] for m in company.messages][-2:] == ["system", "user"]


async def test_advisor_replies_arrive_live_with_the_name_and_reach_the_bots_tracker(
    widget: Callable[..., Widget],
    console: Callable[..., Console],
    advisor: AdvisorAccount,
    fake_rasa: FakeRasa,
    gateway: TestClient,
) -> None:
    company = widget()
    conversation_id = await queued_conversation(company)
    anna = console()
    await anna.login(advisor)
    await anna.claim(conversation_id)

    status, body = await anna.reply(conversation_id, "Hej! Jag heter Anna. Vad gäller det?")
    reply = await company.wait_message("advisor")

    assert status == 201
    assert reply["author"] == "Anna Berg"
    assert reply["text"] == "Hej! Jag heter Anna. Vad gäller det?"
    assert reply["seq"] == body["message"]["seq"]
    await core_of(gateway).rasa.wait_delivered(conversation_id)
    assert {
        "event": "bot",
        "text": "Hej! Jag heter Anna. Vad gäller det?",
        "metadata": {"advisor": "Anna Berg"},
    } in fake_rasa.conversation(conversation_id).events


async def test_a_resent_advisor_reply_is_stored_once(
    widget: Callable[..., Widget], console: Callable[..., Console], advisor: AdvisorAccount
) -> None:
    company = widget()
    conversation_id = await queued_conversation(company)
    anna = console()
    await anna.login(advisor)
    await anna.claim(conversation_id)
    path = f"/console/api/conversations/{conversation_id}/messages"
    body = {"client_id": "console-same-0001", "text": "Ett ögonblick."}

    first = await anna.post(path, body)
    second = await anna.post(path, body)

    assert (first[0], second[0]) == (201, 200)
    assert first[1] == second[1]


async def test_typing_indicators_go_both_ways_while_an_advisor_owns_the_chat(
    widget: Callable[..., Widget], console: Callable[..., Console], advisor: AdvisorAccount
) -> None:
    company = widget()
    conversation_id = await queued_conversation(company)
    anna = console()
    await anna.login(advisor)
    live = await anna.open_socket()
    await anna.claim(conversation_id)
    await company.wait_status("advisor")

    await live.ws.send_json({"type": "typing", "conversation_id": conversation_id, "typing": True})
    assert company.frames is not None
    seen = await company.frames.wait_type("typing", role="advisor")
    assert seen == {"type": "typing", "role": "advisor", "author": "Anna Berg", "typing": True}

    await company.send({"type": "typing", "typing": True})
    assert await live.wait_type("typing", conversation_id=conversation_id) == {
        "type": "typing",
        "conversation_id": conversation_id,
        "role": "user",
        "typing": True,
    }


async def test_handing_back_resumes_the_bot_which_answers_again(
    widget: Callable[..., Widget],
    console: Callable[..., Console],
    advisor: AdvisorAccount,
    fake_rasa: FakeRasa,
) -> None:
    company = widget()
    conversation_id = await queued_conversation(company)
    anna = console()
    await anna.login(advisor)
    await anna.claim(conversation_id)
    await anna.reply(conversation_id, "Almi är rätt väg. Lycka till!")

    status, body = await anna.post(f"/console/api/conversations/{conversation_id}/handback")

    assert status == 200 and body["conversation"]["state"] == "bot"
    await company.wait_status("bot")
    await company.wait_message("system", texts.HANDED_BACK)
    events = fake_rasa.conversation(conversation_id).events
    advisor_reply = next(
        i for i, e in enumerate(events) if e.get("metadata") == {"advisor": "Anna Berg"}
    )
    resume = events.index({"event": "resume"})
    # The advisor's reply is recorded before the bot is resumed, so the bot has the context.
    assert advisor_reply < resume
    await company.say("hej")
    await company.wait_message("bot", "Hej!")


async def test_closing_with_an_outcome_tells_the_company_and_records_the_outcome(
    widget: Callable[..., Widget], console: Callable[..., Console], advisor: AdvisorAccount
) -> None:
    company = widget()
    conversation_id = await queued_conversation(company)
    anna = console()
    await anna.login(advisor)
    await anna.claim(conversation_id)

    refused = await anna.post(
        f"/console/api/conversations/{conversation_id}/close", {"outcome": "vet ej"}
    )
    status, body = await anna.post(
        f"/console/api/conversations/{conversation_id}/close",
        {"outcome": "referred", "note": "Hänvisad till Almi."},
    )

    assert refused[0] == 400 and refused[1]["error"]["code"] == "invalid_outcome"
    assert status == 200
    assert body["conversation"]["state"] == "closed"
    assert body["conversation"]["outcome"] == "referred"
    assert body["conversation"]["outcome_note"] == "Hänvisad till Almi."
    assert (await company.wait_status("closed"))["outcome"] == "referred"
    await company.wait_message("system", "avslutat chatten")


async def test_after_closing_the_company_can_write_again_and_the_bot_answers(
    widget: Callable[..., Widget], console: Callable[..., Console], advisor: AdvisorAccount
) -> None:
    company = widget()
    conversation_id = await queued_conversation(company)
    anna = console()
    await anna.login(advisor)
    await anna.claim(conversation_id)
    await anna.post(f"/console/api/conversations/{conversation_id}/close", {"outcome": "resolved"})
    await company.wait_status("closed")

    await company.say("hej")
    await company.wait_status("bot")
    await company.wait_message("bot", "Hej!")


async def test_the_company_may_leave_the_queue(
    widget: Callable[..., Widget], fake_rasa: FakeRasa
) -> None:
    company = widget()
    conversation_id = await queued_conversation(company)
    await company.send({"type": "cancel_handoff"})
    await company.wait_status("bot")
    await company.wait_message("system", texts.LEFT_QUEUE)
    await eventually(lambda: fake_rasa.conversation(conversation_id).paused is False)


async def test_only_the_owner_may_answer_hand_back_or_close(
    widget: Callable[..., Widget],
    console: Callable[..., Console],
    advisor: AdvisorAccount,
    make_advisor: Callable[[str, str], AdvisorAccount],
) -> None:
    company = widget()
    conversation_id = await queued_conversation(company)
    anna, bo = console(), console()
    await anna.login(advisor)
    await bo.login(make_advisor("bo.ek@foretagssupport.se", "Bo Ek"))
    await anna.claim(conversation_id)

    answers = [
        await bo.reply(conversation_id, "Hej"),
        await bo.post(f"/console/api/conversations/{conversation_id}/handback"),
        await bo.post(f"/console/api/conversations/{conversation_id}/close", {"outcome": "other"}),
        await bo.post(f"/console/api/conversations/{conversation_id}/release"),
    ]
    assert [status for status, _ in answers] == [403, 403, 403, 403]
    assert {body["error"]["code"] for _, body in answers} == {"not_owner"}
    assert answers[0][1]["error"]["message"] == "Du har inte den här chatten."


async def test_an_advisor_may_take_over_a_chat_the_bot_is_handling(
    widget: Callable[..., Widget],
    console: Callable[..., Console],
    advisor: AdvisorAccount,
    fake_rasa: FakeRasa,
) -> None:
    company = widget()
    await company.connect()
    await company.say("hej")
    await company.wait_message("bot")
    anna = console()
    await anna.login(advisor)
    _, listing = await anna.get("/console/api/conversations?state=bot")
    assert [c["conversation_id"] for c in listing["conversations"]] == [company.conversation_id]

    assert company.conversation_id is not None
    status, _ = await anna.claim(company.conversation_id)

    assert status == 200
    await company.wait_status("advisor")
    assert fake_rasa.conversation(company.conversation_id).paused is True


async def test_outside_opening_hours_the_company_is_offered_the_ticket_form(
    widget: Callable[..., Widget], clock: FakeClock, fake_rasa: FakeRasa
) -> None:
    clock.set(CLOSED_MOMENT)
    company = widget()
    await company.connect()
    await company.say(HUMAN_PLEASE)

    status = await company.wait_status("offline")
    assert status["opens_at"] == "2026-11-25T08:00:00+01:00"
    assert status["opens_text"] == "i morgon kl. 08:00"
    notice = await company.wait_message("system", "inte på plats")
    assert "vardagar 08:00–16:30" in notice["text"]
    assert company.conversation_id is not None
    # The bot paused itself when it handed off; the gateway resumes it so it keeps answering.
    conversation_id = company.conversation_id
    await eventually(lambda: fake_rasa.conversation(conversation_id).paused is False)
    await company.say("hej")
    await company.wait_message("bot", "Hej!")


async def test_a_ticket_left_outside_hours_reaches_the_advisors_next_morning(
    widget: Callable[..., Widget],
    console: Callable[..., Console],
    advisor: AdvisorAccount,
    clock: FakeClock,
) -> None:
    clock.set(CLOSED_MOMENT)
    company = widget()
    await company.connect()
    await company.say(COMPLAINT)
    await company.wait_status("offline")
    await company.send(
        {
            "type": "ticket",
            "client_id": "ticket-0001-abc",
            "name": "Eva Ek",
            "company": "Ek Bygg AB",
            "email": "eva@ekbygg.se",
            "phone": "",
            "question": "Vi vill ha hjälp med en kreditansökan.",
        }
    )
    assert company.frames is not None
    created = await company.frames.wait_type("ticket_created")
    await company.wait_status("bot")
    await company.wait_message("system", "Tack! Vi har tagit emot din fråga")

    clock.set(CLOSED_MOMENT.replace(day=25, hour=7))  # 08:00 the next morning
    anna = console()
    await anna.login(advisor)
    _, body = await anna.get("/console/api/tickets?status=open")
    [ticket] = body["tickets"]
    assert ticket["id"] == created["ticket_id"]
    assert ticket["conversation_id"] == company.conversation_id
    assert (ticket["name"], ticket["company"], ticket["email"]) == (
        "Eva Ek",
        "Ek Bygg AB",
        "eva@ekbygg.se",
    )
    _, queue = await anna.get("/console/api/queue")
    assert queue["open_tickets"] == 1

    status, done = await anna.post(f"/console/api/tickets/{ticket['id']}/done", {"note": "Ringt."})
    assert status == 200
    assert done["ticket"]["status"] == "done"
    assert done["ticket"]["handled_by"] == {"id": advisor.id, "name": "Anna Berg"}
    assert (await anna.get("/console/api/tickets?status=open"))[1]["tickets"] == []


async def test_a_ticket_is_stored_once_even_if_resent(
    widget: Callable[..., Widget], console: Callable[..., Console], advisor: AdvisorAccount
) -> None:
    company = widget()
    await company.connect()
    ticket = {
        "type": "ticket",
        "client_id": "ticket-0002-abc",
        "phone": "070-123 45 67",
        "question": "Ring mig gärna.",
    }
    await company.send(ticket)
    await company.send(ticket)
    assert company.frames is not None
    await company.frames.wait_for(
        lambda f: f.get("type") == "ack" and f.get("client_id") == "ticket-0002-abc",
        start=0,
    )
    first = await company.frames.wait_type("ticket_created")
    anna = console()
    await anna.login(advisor)
    _, body = await anna.get("/console/api/tickets?status=open")
    assert [t["id"] for t in body["tickets"]] == [first["ticket_id"]]


async def test_an_incomplete_ticket_is_refused_field_by_field_in_swedish(
    widget: Callable[..., Widget],
) -> None:
    company = widget()
    await company.connect()
    await company.send(
        {
            "type": "ticket",
            "client_id": "ticket-0003-abc",
            "email": "inte-en-adress",
            "question": "",
        }
    )
    assert company.frames is not None
    error = await company.frames.wait_type("error", code="invalid_ticket")
    assert error["client_id"] == "ticket-0003-abc"
    assert error["fields"] == {
        "question": "Skriv din fråga.",
        "email": "Ange en giltig e-postadress.",
    }


async def test_messages_after_a_seq_let_the_console_fill_a_gap(
    widget: Callable[..., Widget], console: Callable[..., Console], advisor: AdvisorAccount
) -> None:
    company = widget()
    conversation_id = await queued_conversation(company)
    anna = console()
    await anna.login(advisor)
    status, body = await anna.get(
        f"/console/api/conversations/{conversation_id}/messages?after_seq=2"
    )
    assert status == 200
    assert [m["seq"] for m in body["messages"]] == [3, 4]
    missing = await anna.get("/console/api/conversations/nope/messages?after_seq=0")
    assert missing[0] == 404 and missing[1]["error"]["code"] == "not_found"


async def test_a_company_on_another_replica_gets_the_advisors_reply_through_the_database(
    make_gateway: Callable[..., Awaitable[TestClient]],
    sessions: Callable[[], aiohttp.ClientSession],
    console: Callable[..., Console],
    advisor: AdvisorAccount,
    gateway: TestClient,
) -> None:
    # Without Redis each replica only hears its own events; the company still gets every
    # message on its next nudge or reconnect because delivery reads from the database.
    other = await make_gateway()
    company = Widget(sessions(), str(other.make_url("")).rstrip("/"), origin_of(other))
    conversation_id = await queued_conversation(company)
    anna = console()
    await anna.login(advisor)
    assert (await anna.claim(conversation_id))[0] == 200
    await anna.reply(conversation_id, "Hej från en annan server.")
    await company.disconnect()
    back = Widget(sessions(), str(other.make_url("")).rstrip("/"), origin_of(other))
    await back.connect(conversation_id, last_seq=0)
    await back.wait_message("advisor", "Hej från en annan server.")
