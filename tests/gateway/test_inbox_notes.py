"""Internal notes: in the transcript for advisors, never delivered to the company by any
channel (the widget, the REST endpoint, a push channel such as Slack or Teams, Rasa, the
transcript e-mail)."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

from aiohttp.test_utils import TestClient

from bench.fake_rasa import HUMAN_PLEASE, FakeRasa
from bot.conversation.context import AdvisorRef
from tests.gateway.conftest import AdvisorAccount, Console, Widget, core_of, eventually, queued_conversation
from tests.gateway.test_outbox import Probe, open_and_say, start

NOTE = "Internt: företaget har fått avslag hos banken förut, kolla Almi först."


async def add_note(anna: Console, conversation_id: str, text: str = NOTE, client_id: str = "note-0001-abc") -> dict:  # type: ignore[type-arg]
    status, body = await anna.post(
        f"/console/api/conversations/{conversation_id}/notes", {"client_id": client_id, "text": text}
    )
    assert status in (200, 201), body
    return dict(body["message"])


async def test_a_note_is_in_the_console_transcript_and_live_for_every_advisor(
    widget: Callable[..., Widget], console: Callable[..., Console], advisor: AdvisorAccount,
    make_advisor: Callable[[str, str], AdvisorAccount],
) -> None:
    conversation_id = await queued_conversation(widget())
    anna, bo = console(), console()
    await anna.login(advisor)
    await bo.login(make_advisor("bo.ek@foretagssupport.se", "Bo Ek"))
    bo_socket = await bo.open_socket()

    note = await add_note(anna, conversation_id)

    assert note["role"] == "note" and note["author"] == "Anna Berg" and note["text"] == NOTE
    live = await bo_socket.wait_type("message", conversation_id=conversation_id)
    assert live["message"]["seq"] == note["seq"]
    _, detail = await anna.get(f"/console/api/conversations/{conversation_id}")
    assert [m["text"] for m in detail["messages"] if m["role"] == "note"] == [NOTE]
    # A resend with the same client id stores nothing new.
    again = await add_note(anna, conversation_id)
    assert again["seq"] == note["seq"]


async def test_the_widget_never_receives_a_note_live_or_in_a_replay(
    widget: Callable[..., Widget], console: Callable[..., Console], advisor: AdvisorAccount
) -> None:
    company = widget()
    conversation_id = await queued_conversation(company)
    anna = console()
    await anna.login(advisor)
    await anna.claim(conversation_id)
    await add_note(anna, conversation_id)
    await anna.reply(conversation_id, "Hej! Jag heter Anna.")
    await company.wait_message("advisor", "Jag heter Anna")
    assert all(m["role"] != "note" and m["text"] != NOTE for m in company.messages)

    # A reconnect replays the whole history: still no note.
    await company.disconnect()
    replay = widget()
    await replay.connect(conversation_id=conversation_id, last_seq=0)
    await replay.wait_message("advisor", "Jag heter Anna")
    assert [m for m in replay.messages if m["role"] == "note" or m["text"] == NOTE] == []


async def test_the_rest_endpoint_never_returns_a_note(
    gateway: TestClient, console: Callable[..., Console], advisor: AdvisorAccount
) -> None:
    async def say(text: str) -> list[dict]:  # type: ignore[type-arg]
        response = await gateway.post("/webhooks/rest/webhook", json={"sender": "crm-1", "message": text})
        return list(await response.json())

    await say(HUMAN_PLEASE)
    anna = console()
    await anna.login(advisor)
    _, queue = await anna.get("/console/api/queue")
    conversation_id = queue["queue"][0]["conversation_id"]
    await anna.claim(conversation_id)
    await add_note(anna, conversation_id)
    await anna.reply(conversation_id, "Hej från Anna.")

    received = await say("tack")
    assert [m.get("text") for m in received] == ["Anna Berg har anslutit till chatten.", "Hej från Anna."]


async def test_a_push_channel_never_delivers_a_note(
    make_gateway: Callable[..., Awaitable[TestClient]], console: Callable[..., Console], advisor: AdvisorAccount
) -> None:
    probe = Probe()
    gateway = await start(make_gateway, probe)
    conversation_id = await open_and_say(gateway, HUMAN_PLEASE)
    core = core_of(gateway)
    anna = AdvisorRef(advisor.id, advisor.name, advisor.email)
    await core.ownership.claim(conversation_id, anna)
    await core.notes.add(conversation_id, anna, "note-0001-abc", NOTE)
    await core.replies.send(conversation_id, anna, "reply-0001-abc", "Hej från Anna.")
    await eventually(lambda: "Hej från Anna." in probe.texts(conversation_id))
    await asyncio.sleep(0.2)  # the relay has passed the note by now
    assert NOTE not in probe.texts(conversation_id)
    assert all(text != NOTE for _, _, text in probe.posted)


async def test_a_note_never_reaches_rasa(
    widget: Callable[..., Widget], console: Callable[..., Console], advisor: AdvisorAccount,
    fake_rasa: FakeRasa,
) -> None:
    conversation_id = await queued_conversation(widget())
    anna = console()
    await anna.login(advisor)
    await anna.claim(conversation_id)
    await add_note(anna, conversation_id)
    await anna.reply(conversation_id, "Hej från Anna.")
    recorded = fake_rasa.conversation(conversation_id)
    await eventually(lambda: any(e.get("text") == "Hej från Anna." for e in recorded.events))
    assert all(e.get("text") != NOTE for e in recorded.events)
    assert NOTE not in recorded.messages


async def test_notes_need_a_login_and_a_known_chat(
    gateway: TestClient, console: Callable[..., Console], advisor: AdvisorAccount
) -> None:
    anna = console()
    await anna.fetch_csrf()
    status, body = await anna.post("/console/api/conversations/x/notes", {"client_id": "note-0001-abc", "text": "a"})
    assert status == 401
    await anna.login(advisor)
    status, body = await anna.post(
        "/console/api/conversations/finns-inte/notes", {"client_id": "note-0001-abc", "text": "a"}
    )
    assert (status, body["error"]["code"]) == (404, "not_found")
