"""Hostile input through the widget WebSocket, the REST endpoint and the console API:
each is refused with a clear status (and Swedish message) or stored inert, and nothing
else is harmed (issue 11, "Hostile input and load, as tests")."""

from __future__ import annotations

import asyncio
import io
import resource
import socket
import time
from collections.abc import Awaitable, Callable
from typing import Any

import aiohttp
import pytest
from aiohttp import WSCloseCode, WSMsgType
from aiohttp.test_utils import TestClient
from sqlalchemy import func, select

from bot import texts
from bot.conversation.models import Message
from bot.rules.validation import neutralize
from bot.web.keys import core_key
from tests.gateway.conftest import AdvisorAccount, Console, Widget, origin_of, queued_conversation
from tests.hostile import DEEP_JSON, DEEP_OBJECT, INVALID_UTF8, ONE_MB, TEXTS, visible

WEBHOOK = "/webhooks/rest/webhook"
MakeGateway = Callable[..., Awaitable[TestClient]]


async def stored_texts(client: TestClient) -> list[str]:
    async with client.app[core_key].ctx.sessions() as s:
        return [t for t in await s.scalars(select(Message.text).where(Message.role == "user")) if t is not None]


async def message_count(client: TestClient) -> int:
    async with client.app[core_key].ctx.sessions() as s:
        return int(await s.scalar(select(func.count()).select_from(Message)) or 0)


# ---------------------------------------------------------------- REST


@pytest.mark.parametrize(("name", "text"), TEXTS, ids=[n for n, _ in TEXTS])
async def test_rest_stores_hostile_text_inert(gateway: TestClient, name: str, text: str) -> None:
    response = await gateway.post(WEBHOOK, json={"sender": f"prog-{name}", "message": text})
    assert response.status == 200, await response.text()
    answer = await response.json()
    [stored] = await stored_texts(gateway)
    assert stored == neutralize(text).strip()
    assert visible(stored)
    assert all(visible(m.get("text", "")) for m in answer)


@pytest.mark.parametrize(
    ("body", "status", "code", "message"),
    [
        (DEEP_JSON.encode(), 400, "too_deep", texts.TOO_DEEP),
        (DEEP_OBJECT.encode(), 400, "too_deep", texts.TOO_DEEP),
        (ONE_MB.encode(), 413, "too_large", texts.TOO_LARGE),
        (b'{"sender": "a", "message": "' + ONE_MB.encode() + b'"}', 413, "too_large", texts.TOO_LARGE),
        (INVALID_UTF8, 400, "bad_encoding", texts.BAD_ENCODING),
        (b'{"sender": "a\\u0000b", "message": "hej"}', 400, "bad_request", texts.BAD_SENDER),
        (b'{"sender": "a\\u202eb", "message": "hej"}', 400, "bad_request", texts.BAD_SENDER),
        (b'{"sender": "", "message": "hej"}', 400, "bad_request", texts.BAD_SENDER),
        (b"[1, 2", 400, "bad_json", texts.BAD_REQUEST),
    ],
    ids=["deep-array", "deep-object", "1mb", "1mb-message", "invalid-utf8", "nul-sender", "bidi-sender",
         "empty-sender", "broken"],
)
async def test_rest_refuses_bad_bodies_in_the_swedish_json_shape(
    gateway: TestClient, body: bytes, status: int, code: str, message: str
) -> None:
    response = await gateway.post(WEBHOOK, data=io.BytesIO(body), headers={"Content-Type": "application/json"})
    assert response.status == status
    assert response.content_type == "application/json"
    assert (await response.json())["error"] == {"code": code, "message": message}
    assert await message_count(gateway) == 0


async def test_a_chunked_body_without_length_is_cut_at_the_limit(gateway: TestClient) -> None:
    async def chunks() -> Any:
        for _ in range(32):
            yield b"x" * 65536

    response = await gateway.post(WEBHOOK, data=chunks(), headers={"Content-Type": "application/json"})
    assert response.status == 413
    assert (await response.json())["error"]["message"] == texts.TOO_LARGE


# ---------------------------------------------------------------- widget WebSocket


async def raw_socket(client: TestClient, session: aiohttp.ClientSession) -> aiohttp.ClientWebSocketResponse:
    ws = await session.ws_connect(f"{str(client.make_url('')).rstrip('/')}/widget/ws",
                                  headers={"Origin": origin_of(client)}, max_msg_size=0)
    await ws.send_json({"type": "hello", "protocol": 1})
    assert (await ws.receive_json(timeout=5))["type"] == "welcome"
    return ws


async def next_of(ws: aiohttp.ClientWebSocketResponse, kind: str) -> dict[str, Any]:
    while True:
        frame: dict[str, Any] = await ws.receive_json(timeout=5)
        if frame["type"] == kind:
            return frame


async def closed(ws: aiohttp.ClientWebSocketResponse) -> None:
    """Read (and drop) frames until the server closes the socket."""
    while (await ws.receive(timeout=5)).type not in (WSMsgType.CLOSE, WSMsgType.CLOSED, WSMsgType.CLOSING):
        pass


@pytest.mark.parametrize(("name", "text"), TEXTS, ids=[n for n, _ in TEXTS])
async def test_the_widget_stores_hostile_text_inert(widget: Callable[..., Widget], gateway: TestClient,
                                                     name: str, text: str) -> None:
    company = widget()
    await company.connect()
    await company.say(text)
    mine = await company.wait_message("user")
    assert mine["text"] == neutralize(text).strip()
    assert visible(mine["text"])
    assert (await stored_texts(gateway)) == [mine["text"]]


# Under the 16 KiB frame limit, deep enough to have crashed the parser.
DEEP_FRAME_OBJECT = '{"a":' * 2000 + "1" + "}" * 2000


@pytest.mark.parametrize(
    "frame", [DEEP_JSON, DEEP_FRAME_OBJECT, '{"type": "message", "text": ' + DEEP_JSON + "}", "nej"],
    ids=["deep-array", "deep-object", "deep-field", "not-json"],
)
async def test_a_bad_frame_gets_an_error_frame_and_the_socket_lives_on(
    gateway: TestClient, sessions: Callable[[], aiohttp.ClientSession], frame: str
) -> None:
    ws = await raw_socket(gateway, sessions())
    await ws.send_str(frame)
    error = await next_of(ws, "error")
    assert error["message"] == texts.BAD_REQUEST
    await ws.send_json({"type": "ping"})
    assert (await next_of(ws, "pong"))["type"] == "pong"
    await ws.close()


async def test_a_one_megabyte_frame_closes_the_socket_with_1009(
    gateway: TestClient, sessions: Callable[[], aiohttp.ClientSession]
) -> None:
    ws = await raw_socket(gateway, sessions())
    await ws.send_str('{"type": "message", "text": "' + ONE_MB + '"}')
    await closed(ws)
    assert ws.close_code == WSCloseCode.MESSAGE_TOO_BIG
    assert await message_count(gateway) == 1  # the greeting only


async def test_invalid_utf8_in_a_text_frame_closes_the_socket_with_1007(
    gateway: TestClient, sessions: Callable[[], aiohttp.ClientSession]
) -> None:
    ws = await raw_socket(gateway, sessions())
    await ws._writer.send_frame(b'{"type": "ping", "x": "\xff\xfe"}', WSMsgType.TEXT)
    await closed(ws)
    assert ws.close_code == WSCloseCode.INVALID_TEXT


async def test_a_socket_that_does_not_begin_with_hello_is_closed_with_1008(
    gateway: TestClient, sessions: Callable[[], aiohttp.ClientSession]
) -> None:
    ws = await sessions().ws_connect(f"{str(gateway.make_url('')).rstrip('/')}/widget/ws",
                                     headers={"Origin": origin_of(gateway)})
    await ws.send_str(DEEP_JSON)
    error = await next_of(ws, "error")
    assert error["code"] == "hello_required"
    await closed(ws)
    assert ws.close_code == WSCloseCode.POLICY_VIOLATION


async def test_the_console_api_refuses_deep_and_large_bodies(
    gateway: TestClient, console: Callable[..., Console], advisor: AdvisorAccount
) -> None:
    anna = console()
    await anna.fetch_csrf()
    headers = {"X-CSRF-Token": anna.csrf, "Origin": anna.origin, "Content-Type": "application/json"}
    for body, status, message in ((DEEP_JSON, 400, texts.TOO_DEEP), (ONE_MB, 413, texts.TOO_LARGE)):
        data = io.BytesIO(body.encode())
        async with anna.session.post(f"{anna.base}/console/api/login", data=data, headers=headers) as response:
            assert response.status == status
            assert (await response.json())["error"]["message"] == message


async def test_an_advisors_hostile_reply_is_stored_inert(
    gateway: TestClient, console: Callable[..., Console], advisor: AdvisorAccount, widget: Callable[..., Widget]
) -> None:
    company = widget()
    conversation_id = await queued_conversation(company)
    anna = console()
    await anna.login(advisor)
    assert (await anna.post(f"/console/api/conversations/{conversation_id}/claim"))[0] == 200
    status, _ = await anna.post(f"/console/api/conversations/{conversation_id}/messages",
                                {"text": "Se \u202efdp.exe <script>x</script>", "client_id": "reply-0001"})
    assert status == 201
    reply = await company.wait_message("advisor")
    assert reply["text"] == "Se fdp.exe <script>x</script>"


# ---------------------------------------------------------------- load


async def test_two_thousand_idle_sockets_do_not_slow_a_real_conversation(
    make_gateway: MakeGateway, widget: Callable[..., Widget]
) -> None:
    wanted = 2000
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    need = wanted * 2 + 500  # both ends of every socket live in this process
    if soft < need:
        if hard != resource.RLIM_INFINITY and hard < need:
            pytest.skip(f"the open-file limit ({hard}) is below the {need} this test needs")
        resource.setrlimit(resource.RLIMIT_NOFILE, (need, hard))
    gateway = await make_gateway()
    host, port = "127.0.0.1", gateway.port
    request = (
        f"GET /widget/ws HTTP/1.1\r\nHost: {host}:{port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
        f"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n"
        f"Origin: http://{host}:{port}\r\n\r\n"
    ).encode()
    idle: list[tuple[asyncio.StreamReader, asyncio.StreamWriter]] = []
    try:
        for _ in range(wanted):
            reader, writer = await asyncio.open_connection(host, port)
            writer.write(request)
            idle.append((reader, writer))
        upgraded = 0
        for reader, _ in idle:
            line = await asyncio.wait_for(reader.readline(), 30)
            upgraded += line.startswith(b"HTTP/1.1 101")
        assert upgraded == wanted
        company = widget(gateway)
        started = time.perf_counter()
        await company.connect()
        await company.say("hej")
        await company.wait_message("bot")
        elapsed = time.perf_counter() - started
        print(f"\n{wanted} idle sockets: a new chat's connect and first answer took {elapsed * 1000:.0f} ms")
        assert elapsed < 3.0
    finally:
        for _, writer in idle:
            writer.close()


async def test_a_slow_client_does_not_hold_up_the_others(gateway: TestClient) -> None:
    slow = socket.create_connection(("127.0.0.1", gateway.port))
    slow.sendall(b"POST /webhooks/rest/webhook HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                 b"Content-Length: 40000\r\n\r\n{\"sender\": ")
    try:
        started = time.perf_counter()
        response = await gateway.post(WEBHOOK, json={"sender": "quick", "message": "hej"})
        assert response.status == 200
        assert time.perf_counter() - started < 2.0
    finally:
        slow.close()
