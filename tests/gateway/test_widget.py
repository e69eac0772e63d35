"""The website widget's WebSocket: chatting with the bot, reliably (protocol section 3)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

import aiohttp
import pytest
from aiohttp.test_utils import TestClient

from bench.fake_rasa import LOAN, FakeRasa
from bot import texts
from tests.gateway.conftest import (
    CUSTOMER_SITE,
    FOREIGN_ORIGIN,
    Widget,
    core_of,
    eventually,
    origin_of,
)


async def test_a_new_company_is_greeted_in_a_new_conversation(
    widget: Callable[..., Widget],
) -> None:
    company = widget()
    welcome = await company.connect()

    assert welcome["resumed"] is False
    assert welcome["protocol"] == 1
    assert welcome["limits"] == {"max_message_chars": 2000}
    assert welcome["status"] == {"state": "bot"}
    greeting = await company.wait_message("system")
    assert greeting["seq"] == 1
    assert greeting["text"] == texts.GREETING


async def test_the_bot_answers_live_and_the_message_is_acknowledged_with_its_seq(
    widget: Callable[..., Widget],
) -> None:
    company = widget()
    await company.connect()

    ack = await company.say("hej")
    reply = await company.wait_message("bot")

    assert ack["type"] == "ack" and ack["seq"] == 2
    assert reply == {
        **reply,
        "role": "bot",
        "text": "Hej! Vad kan jag hjälpa till med?",
        "buttons": [],
        "author": None,
    }
    assert [m["seq"] for m in company.messages] == [1, 2, 3]
    own = company.messages[1]
    assert own["role"] == "user" and own["text"] == "hej" and own["client_id"] == ack["client_id"]


async def test_the_bot_shows_a_typing_indicator_while_it_thinks(
    widget: Callable[..., Widget],
) -> None:
    company = widget()
    await company.connect()
    await company.say("hej")
    assert company.frames is not None
    await company.frames.wait_type("typing", typing=False)
    typing = [f for f in company.all if f["type"] == "typing"]
    assert typing == [
        {"type": "typing", "role": "bot", "author": None, "typing": True},
        {"type": "typing", "role": "bot", "author": None, "typing": False},
    ]


async def test_buttons_arrive_and_a_click_sends_the_payload_to_the_bot(
    widget: Callable[..., Widget], fake_rasa: FakeRasa
) -> None:
    company = widget()
    await company.connect()
    await company.say(LOAN)
    offer = await company.wait_message("bot", "Almi")
    assert offer["buttons"][0] == {"title": "Kontaktuppgifter", "payload": "/ask_contact"}

    await company.say("Kontaktuppgifter", payload="/ask_contact")
    await company.wait_message("bot", "010-123 45 00")

    assert company.conversation_id is not None
    assert fake_rasa.conversation(company.conversation_id).messages == [LOAN, "/ask_contact"]
    shown = [m["text"] for m in company.messages if m["role"] == "user"]
    assert shown == [LOAN, "Kontaktuppgifter"]


async def test_a_resent_message_is_stored_and_answered_once(
    widget: Callable[..., Widget], fake_rasa: FakeRasa
) -> None:
    company = widget()
    await company.connect()
    first = await company.say("hej", client_id="same-id-123456")
    await company.wait_message("bot")
    again = await company.say("hej", client_id="same-id-123456")

    assert again == first
    assert company.conversation_id is not None
    assert fake_rasa.conversation(company.conversation_id).messages == ["hej"]
    assert [m["role"] for m in company.messages] == ["system", "user", "bot"]


async def test_a_reconnecting_widget_gets_exactly_what_it_missed(
    widget: Callable[..., Widget],
) -> None:
    company = widget()
    await company.connect()
    await company.say("hej")
    await company.wait_message("bot")
    await company.disconnect()

    later = widget()
    welcome = await later.connect(company.conversation_id, last_seq=1)

    assert welcome["resumed"] is True
    assert welcome["conversation_id"] == company.conversation_id
    await later.wait_message("bot")
    assert [m["seq"] for m in later.messages] == [2, 3]


async def test_a_message_sent_while_the_connection_dropped_is_answered_after_resend(
    widget: Callable[..., Widget], fake_rasa: FakeRasa
) -> None:
    company = widget()
    await company.connect()
    await company.disconnect()
    # The widget kept "hej" in its outbox; on reconnect it resends with the same client_id.
    again = widget()
    await again.connect(company.conversation_id, last_seq=1)
    ack = await again.say("hej", client_id="outbox-item-0001")
    await again.wait_message("bot")
    assert ack["seq"] == 2


async def test_an_unknown_conversation_id_starts_a_new_conversation(
    widget: Callable[..., Widget],
) -> None:
    company = widget()
    welcome = await company.connect("no-such-conversation", last_seq=7)
    assert welcome["resumed"] is False
    assert welcome["conversation_id"] != "no-such-conversation"
    assert (await company.wait_message("system"))["seq"] == 1


async def test_the_conversation_survives_a_gateway_restart(
    make_gateway: Callable[..., Awaitable[TestClient]],
    sessions: Callable[[], aiohttp.ClientSession],
) -> None:
    first = await make_gateway()
    company = Widget(sessions(), str(first.make_url("")).rstrip("/"), origin_of(first))
    await company.connect()
    await company.say("hej")
    await company.wait_message("bot")
    await company.disconnect()
    await first.close()

    second = await make_gateway()
    back = Widget(sessions(), str(second.make_url("")).rstrip("/"), origin_of(second))
    welcome = await back.connect(company.conversation_id, last_seq=0)
    await back.wait_message("bot")

    assert welcome["resumed"] is True
    assert [m["text"] for m in back.messages] == [
        texts.GREETING,
        "hej",
        "Hej! Vad kan jag hjälpa till med?",
    ]


async def test_a_message_the_bot_could_not_take_is_answered_first_when_the_company_writes_again(
    make_gateway: Callable[..., Awaitable[TestClient]],
    sessions: Callable[[], aiohttp.ClientSession],
    fake_rasa: FakeRasa,
) -> None:
    gateway = await make_gateway()
    company = Widget(sessions(), str(gateway.make_url("")).rstrip("/"), origin_of(gateway))
    await company.connect()
    fake_rasa.down = True
    await company.say("är ni där?")
    await company.wait_message("system", "svarar inte")
    fake_rasa.down = False
    await company.say("hej")
    await company.wait_message("bot", "Hej!")
    assert company.conversation_id is not None
    # Kept while Rasa was down, then sent before the newer message: in order, once each.
    assert fake_rasa.conversation(company.conversation_id).messages == ["är ni där?", "hej"]


async def test_a_website_not_on_the_list_cannot_open_the_widget_socket(
    gateway: TestClient,
) -> None:
    with pytest.raises(aiohttp.WSServerHandshakeError) as refused:
        await gateway.ws_connect("/widget/ws", headers={"Origin": FOREIGN_ORIGIN})
    assert refused.value.status == 403


async def test_a_request_without_origin_cannot_open_the_widget_socket(gateway: TestClient) -> None:
    with pytest.raises(aiohttp.WSServerHandshakeError) as refused:
        await gateway.ws_connect("/widget/ws")
    assert refused.value.status == 403


async def test_a_configured_customer_website_may_embed_the_widget(
    widget: Callable[..., Widget],
) -> None:
    company = widget(origin=CUSTOMER_SITE)
    assert (await company.connect())["type"] == "welcome"


async def test_the_first_frame_must_be_hello(gateway: TestClient) -> None:
    ws = await gateway.ws_connect("/widget/ws", headers={"Origin": origin_of(gateway)})
    await ws.send_json({"type": "message", "client_id": "abcdefgh1", "text": "hej"})
    error = await ws.receive_json()
    assert error["type"] == "error" and error["code"] == "hello_required"
    assert (await ws.receive()).type in {aiohttp.WSMsgType.CLOSE, aiohttp.WSMsgType.CLOSED}


async def test_a_too_long_message_is_refused_in_swedish_and_not_stored(
    widget: Callable[..., Widget], fake_rasa: FakeRasa
) -> None:
    company = widget()
    await company.connect()
    error = await company.say("a" * 2001)
    assert error["type"] == "error"
    assert error["code"] == "message_too_long"
    assert error["message"] == "Meddelandet är för långt. Du kan skriva högst 2000 tecken."
    assert [m["role"] for m in company.messages] == ["system"]
    assert fake_rasa.webhook_calls == 0


async def test_an_empty_message_and_a_bad_client_id_are_refused(
    widget: Callable[..., Widget],
) -> None:
    company = widget()
    await company.connect()
    assert (await company.say("   \n "))["code"] == "empty_message"
    await company.send({"type": "message", "client_id": "x", "text": "hej"})
    assert company.frames is not None
    error = await company.frames.wait_type("error", code="bad_request")
    assert error["message"] == texts.BAD_CLIENT_ID
    await company.send({"type": "dance"})
    await company.frames.wait_for(
        lambda f: f.get("code") == "bad_request" and f["message"] == texts.BAD_REQUEST
    )


async def test_sending_too_fast_is_refused_per_connection_with_a_retry_time(
    make_gateway: Callable[..., Awaitable[TestClient]],
    sessions: Callable[[], aiohttp.ClientSession],
) -> None:
    gateway = await make_gateway(RATE_LIMIT_MESSAGES="3", RATE_LIMIT_WINDOW_SECONDS="60")
    company = Widget(sessions(), str(gateway.make_url("")).rstrip("/"), origin_of(gateway))
    await company.connect()
    answers = [await company.say(f"fråga {n}") for n in range(4)]

    assert [a["type"] for a in answers] == ["ack", "ack", "ack", "error"]
    refused = answers[-1]
    assert refused["code"] == "rate_limited"
    assert refused["message"] == texts.RATE_LIMITED
    assert refused["retry_after"] >= 1
    # Another company (another connection) is not affected.
    other = Widget(sessions(), str(gateway.make_url("")).rstrip("/"), origin_of(gateway))
    await other.connect()
    assert (await other.say("hej"))["type"] == "ack"


async def test_an_oversized_frame_closes_the_socket(gateway: TestClient) -> None:
    ws = await gateway.ws_connect("/widget/ws", headers={"Origin": origin_of(gateway)})
    await ws.send_json({"type": "hello", "protocol": 1, "conversation_id": None, "last_seq": 0})
    assert (await ws.receive_json())["type"] == "welcome"
    await ws.send_str("x" * 20_000)
    while True:
        msg = await ws.receive()
        if msg.type in {aiohttp.WSMsgType.CLOSE, aiohttp.WSMsgType.CLOSED}:
            break
    assert ws.close_code == aiohttp.WSCloseCode.MESSAGE_TOO_BIG


async def test_user_text_is_sent_back_verbatim_as_json_never_as_markup(
    widget: Callable[..., Widget],
) -> None:
    company = widget()
    await company.connect()
    await company.say("<script>alert(1)</script> & \u0007bell")
    own = await company.wait_message("user")
    # Plain text (control characters removed); the widget renders it with textContent.
    assert own["text"] == "<script>alert(1)</script> & bell"


async def test_rasa_down_gives_a_swedish_explanation_and_an_advisor_button_not_an_error(
    widget: Callable[..., Widget], fake_rasa: FakeRasa
) -> None:
    fake_rasa.down = True
    company = widget()
    await company.connect()
    ack = await company.say("hej")
    notice = await company.wait_message("system", "svarar inte")

    assert ack["type"] == "ack"
    assert notice["text"] == texts.BOT_UNAVAILABLE
    assert notice["buttons"] == [
        {"title": "Prata med en rådgivare", "payload": "gateway:request_advisor"}
    ]
    # The stored message is not lost: it is in the transcript.
    assert [m["text"] for m in company.messages if m["role"] == "user"] == ["hej"]


async def test_rasa_down_then_asking_for_an_advisor_queues_the_chat(
    widget: Callable[..., Widget], fake_rasa: FakeRasa, gateway: TestClient
) -> None:
    fake_rasa.down = True
    company = widget()
    await company.connect()
    await company.say("hej")
    await company.wait_message("system", "svarar inte")
    await company.say("Prata med en rådgivare", payload="gateway:request_advisor")
    status = await company.wait_status("queued")

    assert status["position"] == 1
    assert company.conversation_id is not None
    async with core_of(gateway).ctx.sessions() as s:
        from bot.conversation.models import Conversation

        conv = await s.get(Conversation, company.conversation_id)
        assert conv is not None and conv.handoff_reason == "bot_unavailable"


async def test_a_message_in_flight_when_the_gateway_stops_is_answered_after_the_restart(
    make_gateway: Callable[..., Awaitable[TestClient]],
    sessions: Callable[[], aiohttp.ClientSession],
    fake_rasa: FakeRasa,
) -> None:
    first = await make_gateway()
    company = Widget(sessions(), str(first.make_url("")).rstrip("/"), origin_of(first))
    await company.connect()
    fake_rasa.delay = 10  # Rasa is thinking when the gateway is stopped for a deployment
    ack = await company.say("hej")
    await eventually(lambda: fake_rasa.webhook_calls == 1)
    await first.close()
    fake_rasa.delay = 0

    second = await make_gateway()
    back = Widget(sessions(), str(second.make_url("")).rstrip("/"), origin_of(second))
    await back.connect(company.conversation_id, last_seq=ack["seq"])
    reply = await back.wait_message("bot", "Hej!")
    assert reply["seq"] == ack["seq"] + 1


async def test_a_database_error_during_the_hello_closes_the_socket_with_1011_not_a_broken_frame(
    gateway: TestClient, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    from sqlalchemy.exc import OperationalError

    async def database_away(*args: object, **kwargs: object) -> None:
        raise OperationalError("SELECT 1", {}, Exception("the database system is shutting down"))

    monkeypatch.setattr(core_of(gateway).intake, "open", database_away)
    ws = await gateway.ws_connect("/widget/ws", headers={"Origin": origin_of(gateway)})
    await ws.send_json({"type": "hello", "protocol": 1})
    closing = await ws.receive()
    # A clean close the widget answers by reconnecting; never an HTTP 500 written into the
    # upgraded stream (which the client reads as a frame with reserved bits set: 1002).
    assert closing.type == aiohttp.WSMsgType.CLOSE
    assert closing.data == aiohttp.WSCloseCode.INTERNAL_ERROR
    assert "closing it with 1011" in caplog.text
