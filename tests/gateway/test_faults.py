"""The bot down, and two gateways on one conversation: nothing lost, nothing twice, in order.

Rasa (fake) or the action server (a tiny health endpoint, or a closed port) is taken away
while a company writes; it is told in Swedish, its message is kept, and when the bot is
back the message is answered once. Two gateways sharing the database never send turns of
one conversation to Rasa at the same time or out of order.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer
from sqlalchemy import select

from bench.fake_rasa import FakeRasa
from bot import texts
from bot.conversation.models import Message
from tests.gateway.conftest import Widget, core_of


async def health(_: web.Request) -> web.Response:
    return web.json_response({"status": "ok"})


async def action_server(aiohttp_server: Callable[..., Awaitable[TestServer]]) -> TestServer:
    """The action server's health route, as the gateway probes it."""
    app = web.Application()
    app.router.add_get("/health", health)
    return await aiohttp_server(app)


@pytest.fixture
async def actions_port(aiohttp_server: Callable[..., Awaitable[TestServer]]) -> str:
    return str((await action_server(aiohttp_server)).port)


async def rasa_statuses(gateway: TestClient, conversation_id: str) -> list[tuple[str, str | None, str | None]]:
    async with core_of(gateway).ctx.sessions() as s:
        rows = await s.execute(
            select(Message.role, Message.text, Message.rasa_status)
            .where(Message.conversation_id == conversation_id)
            .order_by(Message.seq)
        )
        return [(r, t, st) for r, t, st in rows]


async def test_while_rasa_is_down_the_company_is_told_and_its_message_is_answered_once_when_it_is_back(
    make_gateway: Callable[..., Awaitable[TestClient]],
    widget: Callable[..., Widget],
    fake_rasa: FakeRasa,
    actions_port: str,
) -> None:
    gateway = await make_gateway(ACTION_SERVER_PORT=actions_port)
    company = widget(gateway)
    await company.connect()
    fake_rasa.down = True
    await company.say("hej")
    notice = await company.wait_message("system", "svarar inte")
    assert notice["text"] == texts.BOT_UNAVAILABLE
    assert notice["buttons"] == [dict(texts.REQUEST_ADVISOR_BUTTON)]
    assert company.conversation_id is not None

    # Still down: the supervisor's sweep tries nothing (Rasa's root does not answer).
    assert await core_of(gateway).rasa.retry_when_back() == []

    fake_rasa.down = False
    assert await core_of(gateway).rasa.retry_when_back() == [company.conversation_id]
    await company.wait_message("bot", "Hej!")
    await core_of(gateway).rasa.wait_delivered(company.conversation_id)
    # A second sweep finds nothing left: the message went to Rasa once, answered once.
    assert await core_of(gateway).rasa.retry_when_back() == []

    assert fake_rasa.conversation(company.conversation_id).messages == ["hej"]
    answers = [m for m in company.messages if m["role"] == "bot"]
    assert [m["text"] for m in answers] == ["Hej! Vad kan jag hjälpa till med?"]
    statuses = await rasa_statuses(gateway, company.conversation_id)
    assert [s for s in statuses if s[0] == "user"] == [("user", "hej", "done")]


async def test_a_dead_action_server_is_not_silence_the_turn_is_undone_and_answered_once_it_is_back(
    make_gateway: Callable[..., Awaitable[TestClient]],
    widget: Callable[..., Widget],
    fake_rasa: FakeRasa,
    aiohttp_server: Callable[..., Awaitable[TestServer]],
) -> None:
    actions = await action_server(aiohttp_server)
    port = actions.port
    await actions.close()  # the action server is killed: its port answers nothing
    gateway = await make_gateway(ACTION_SERVER_PORT=str(port))
    company = widget(gateway)
    await company.connect()
    fake_rasa.actions_down = True  # Rasa answers [] when its custom action fails

    await company.say("vi behöver ett lån")
    await company.wait_message("system", "svarar inte")
    assert company.conversation_id is not None
    conv = fake_rasa.conversation(company.conversation_id)
    # The failed turn was undone in Rasa's tracker, so the retry is not a second copy.
    assert conv.messages == []
    assert {"event": "rewind"} in conv.events

    fake_rasa.actions_down = False
    assert await core_of(gateway).rasa.retry_when_back() == []  # the action server is still down
    restarted = web.Application()
    restarted.router.add_get("/health", health)
    runner = web.AppRunner(restarted)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", port)
    await site.start()
    try:
        assert await core_of(gateway).rasa.retry_when_back() == [company.conversation_id]
        await company.wait_message("bot", "Almi")
        await core_of(gateway).rasa.wait_delivered(company.conversation_id)
    finally:
        await runner.cleanup()
    assert conv.messages == ["vi behöver ett lån"]
    assert [m["text"] for m in company.messages if m["role"] == "bot"] == ["Almi Mälardalen kan hjälpa er med lån."]


async def test_an_empty_answer_with_the_action_server_up_is_just_an_empty_answer(
    make_gateway: Callable[..., Awaitable[TestClient]],
    widget: Callable[..., Widget],
    fake_rasa: FakeRasa,
    aiohttp_server: Callable[..., Awaitable[TestServer]],
) -> None:
    actions = await action_server(aiohttp_server)
    gateway = await make_gateway(ACTION_SERVER_PORT=str(actions.port))
    company = widget(gateway)
    await company.connect()
    fake_rasa.actions_down = True  # stands for a turn the bot chose to answer with nothing
    await company.say("hej")
    assert company.conversation_id is not None
    await core_of(gateway).rasa.wait_delivered(company.conversation_id)

    statuses = await rasa_statuses(gateway, company.conversation_id)
    assert [s for s in statuses if s[0] == "user"] == [("user", "hej", "done")]
    assert not [m for m in company.messages if m["role"] == "system" and "svarar inte" in (m["text"] or "")]


async def test_messages_written_while_the_bot_is_down_are_answered_in_order_when_it_is_back(
    make_gateway: Callable[..., Awaitable[TestClient]],
    widget: Callable[..., Widget],
    fake_rasa: FakeRasa,
    actions_port: str,
) -> None:
    gateway = await make_gateway(ACTION_SERVER_PORT=actions_port)
    company = widget(gateway)
    await company.connect()
    fake_rasa.down = True
    for text in ("ett", "två", "tre"):
        await company.say(text)
    await company.wait_message("system", "svarar inte")
    assert company.conversation_id is not None
    await core_of(gateway).rasa.wait_delivered(company.conversation_id)

    fake_rasa.down = False
    await company.say("fyra")  # the next message sends the waiting ones first
    await company.wait_message("bot", "Du skrev: fyra")

    assert fake_rasa.conversation(company.conversation_id).messages == ["ett", "två", "tre", "fyra"]
    bot = [m["text"] for m in company.messages if m["role"] == "bot"]
    assert bot == ["Du skrev: ett", "Du skrev: två", "Du skrev: tre", "Du skrev: fyra"]


async def test_a_message_older_than_the_retry_window_is_left_to_the_advisors(
    make_gateway: Callable[..., Awaitable[TestClient]],
    widget: Callable[..., Widget],
    fake_rasa: FakeRasa,
    clock: object,
    actions_port: str,
) -> None:
    gateway = await make_gateway(ACTION_SERVER_PORT=actions_port, BOT_RETRY_WINDOW_SECONDS="60")
    company = widget(gateway)
    await company.connect()
    fake_rasa.down = True
    await company.say("hej")
    await company.wait_message("system", "svarar inte")
    fake_rasa.down = False
    clock.advance(120)  # type: ignore[attr-defined]

    assert await core_of(gateway).rasa.retry_when_back() == []
    assert fake_rasa.webhook_calls == 1
    assert company.conversation_id is not None
    statuses = await rasa_statuses(gateway, company.conversation_id)
    assert [s for s in statuses if s[0] == "user"] == [("user", "hej", "failed")]


async def test_an_empty_answer_rasa_did_not_record_is_the_bot_being_down(
    make_gateway: Callable[..., Awaitable[TestClient]],
    widget: Callable[..., Widget],
    fake_rasa: FakeRasa,
    actions_port: str,
) -> None:
    gateway = await make_gateway(ACTION_SERVER_PORT=actions_port)
    company = widget(gateway)
    await company.connect()
    fake_rasa.loses_turns = True  # Rasa's Redis lock store is down: [] and nothing recorded
    await company.say("hej")
    await company.wait_message("system", "svarar inte")
    assert company.conversation_id is not None

    fake_rasa.loses_turns = False
    assert await core_of(gateway).rasa.retry_when_back() == [company.conversation_id]
    await company.wait_message("bot", "Hej!")
    assert fake_rasa.conversation(company.conversation_id).messages == ["hej"]
