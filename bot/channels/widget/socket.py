"""The website widget's WebSocket (docs/gateway-protocol.md, section 3)."""

from __future__ import annotations

import asyncio
import time
from typing import Any

from aiohttp import WSCloseCode, WSMsgType, web

from bot import texts
from bot.conversation import privacy
from bot.conversation.errors import DomainError
from bot.conversation.pubsub import Event, conversation_channel
from bot.conversation.rasa_worker import REQUEST_ADVISOR
from bot.rules import validation
from bot.rules.ratelimit import TokenBucket, retry_after
from bot.rules.validation import Invalid
from bot.web.keys import core_key, hub_key, limits_key, settings_key, tracker_key, websockets_key
from bot.web.security import is_same_origin, json_error, rate_limited
from bot.web.socket import MAX_FRAME, JsonSocket, decode_frame, run_connection

CHANNEL_NAME = "widget"

PROTOCOL = 1
HELLO_TIMEOUT = 30.0
ERASED_BY_COMPANY = "Företaget själv (Radera min chatt)"
TYPING_INTERVAL = 1.0


async def widget_ws(request: web.Request) -> web.StreamResponse:
    # Checked before the handshake: a foreign page must not open a chat as the company.
    if not widget_origin_allowed(request):
        raise web.HTTPForbidden(text=texts.FORBIDDEN_ORIGIN)
    # Floods of connections from one address are refused before the upgrade, with a status.
    limits = request.app[limits_key]
    address = limits.address(request)
    wait = await limits.connection(address)
    if wait > 0:
        return rate_limited(wait, "too_many_connections", texts.TOO_MANY_CONNECTIONS)
    if not limits.socket_opened(address):
        return json_error(429, "too_many_connections", texts.TOO_MANY_CONNECTIONS)
    try:
        # Frames over MAX_FRAME close the socket with 1009, invalid UTF-8 with 1007 (aiohttp).
        ws = web.WebSocketResponse(heartbeat=20.0, max_msg_size=MAX_FRAME)
        await ws.prepare(request)
        async with request.app[websockets_key].serving(ws):
            await run_connection(ws, WidgetConnection(request, ws, address).run())
        return ws
    finally:
        limits.socket_closed(address)


def widget_origin_allowed(request: web.Request) -> bool:
    """A widget WebSocket may come from this gateway's pages or a configured website."""
    origin = request.headers.get("Origin")
    if not origin:
        return False
    if is_same_origin(request, origin):
        return True
    allowed = {o.rstrip("/").lower() for o in request.app[settings_key].gateway_allowed_origins}
    return origin.rstrip("/").lower() in allowed


class WidgetConnection(JsonSocket):
    def __init__(self, request: web.Request, ws: web.WebSocketResponse, address: str) -> None:
        super().__init__(ws)
        self.address = address
        self.limits = request.app[limits_key]
        self.settings = request.app[settings_key]
        self.core = request.app[core_key]
        self.hub = request.app[hub_key]
        self.tracker = request.app[tracker_key]
        self.conversation_id = ""
        self.sent_seq = 0
        self.last_status: dict[str, Any] | None = None
        self.bucket = TokenBucket(self.settings.rate_limit_messages, float(self.settings.rate_limit_window_seconds))
        self.last_typing = 0.0
        self._flush_lock = asyncio.Lock()

    async def run(self) -> None:
        hello = await self._receive_hello()
        if hello is None:
            return
        requested = hello.get("conversation_id")
        raw_page = hello.get("page")
        page = (
            validation.neutralize(raw_page)[:500]
            if isinstance(raw_page, str) and raw_page.startswith(("http://", "https://"))
            else None
        )
        resumed = (
            isinstance(requested, str)
            and 0 < len(requested) <= 64
            and await self.core.intake.resume(requested, CHANNEL_NAME, page)
        )
        if resumed:
            assert isinstance(requested, str)
            conversation_id = requested
        else:
            conversation_id = (await self.core.intake.open(CHANNEL_NAME, page=page, greeting=True)).id
        self.conversation_id = conversation_id
        await self.core.intake.seen(conversation_id)
        last_seq = hello.get("last_seq", 0)
        if resumed and isinstance(last_seq, int) and not isinstance(last_seq, bool) and last_seq > 0:
            self.sent_seq = last_seq
        # Subscribe before replaying, so nothing stored in between is missed.
        async with self.hub.subscribe(conversation_channel(conversation_id)) as subscription:
            status = await self.core.status.of(conversation_id)
            await self.send(
                {
                    "type": "welcome",
                    "protocol": PROTOCOL,
                    "conversation_id": conversation_id,
                    "resumed": resumed,
                    "limits": {"max_message_chars": self.settings.max_message_chars},
                    # For the privacy notice shown before the first message.
                    "privacy": {
                        "retention_days": self.settings.retention_transcript_days,
                        "url": self.settings.privacy_page_url,
                    },
                    "status": status,
                }
            )
            await self.flush()
            await self.send_status(status)
            self.core.rasa.kick(conversation_id)  # anything stored but not yet answered
            pump = asyncio.create_task(self.pump(subscription, self._on_event))
            # While the socket is open the company keeps its place in the queue.
            seen_every = max(1.0, min(60.0, self.settings.queue_abandon_seconds / 3))
            presence = asyncio.create_task(self.every(seen_every, self._seen))
            try:
                await self._read_loop()
            finally:
                await self.stop_tasks([pump, presence])

    async def _seen(self) -> None:
        # Only a queued chat needs it (the sweep looks at queued chats alone): no write for
        # the many sockets of companies chatting with the bot.
        if self.last_status is not None and self.last_status.get("state") == "queued":
            await self.core.intake.seen(self.conversation_id)

    async def _receive_hello(self) -> dict[str, Any] | None:
        try:
            msg = await self.ws.receive(timeout=HELLO_TIMEOUT)
        except asyncio.TimeoutError:
            await self.ws.close()
            return None
        data = decode_frame(msg.data) if msg.type == WSMsgType.TEXT else None
        if data is None or data.get("type") != "hello":
            if msg.type == WSMsgType.TEXT:
                await self.send_error("hello_required", texts.HELLO_REQUIRED)
            # 1008: the protocol was not followed (aiohttp itself closes with 1009 for a
            # frame that is too big and 1007 for one that is not UTF-8).
            await self.ws.close(code=WSCloseCode.POLICY_VIOLATION)
            return None
        return data

    async def _read_loop(self) -> None:
        async for msg in self.ws:
            if msg.type != WSMsgType.TEXT:
                continue
            data = decode_frame(msg.data)
            if data is None:
                await self.send_error("bad_request", texts.BAD_REQUEST)
                continue
            try:
                await self._handle(data)
            except Invalid as exc:
                extra = {"fields": exc.fields} if exc.fields else {}
                await self.send_error(exc.code, exc.message, _client_id(data), **extra)
            except DomainError as exc:
                await self.send_error(exc.code, exc.message, _client_id(data))

    async def _handle(self, data: dict[str, Any]) -> None:
        kind = data.get("type")
        if kind == "message":
            client_id = validation.client_id(data.get("client_id"))
            text = validation.clean_text(data.get("text"), self.settings.max_message_chars)
            payload = data.get("payload")
            if payload is not None and (not isinstance(payload, str) or len(payload) > 500):
                raise Invalid("bad_request", texts.BAD_REQUEST)
            if not await self._allowed(client_id, handoff=payload == REQUEST_ADVISOR):
                return
            submitted = await self.core.intake.submit(self.conversation_id, client_id, text, payload or None)
            await self.send({"type": "ack", "client_id": client_id, "seq": submitted.seq})
            await self.flush()
        elif kind == "typing":
            now = time.monotonic()
            typing = data.get("typing") is True
            if typing and now - self.last_typing < TYPING_INTERVAL:
                return
            self.last_typing = now if typing else 0.0
            await self.core.intake.typing(self.conversation_id, typing)
        elif kind == "cancel_handoff":
            await self.core.ownership.cancel_handoff(self.conversation_id)
        elif kind == "ticket":
            client_id = validation.client_id(data.get("client_id"))
            form = validation.ticket_form(data, self.settings.max_message_chars)
            if not await self._allowed(client_id):
                return
            ticket_id, seq, _created = await self.core.intake.create_ticket(self.conversation_id, client_id, form)
            await self.send({"type": "ticket_created", "client_id": client_id, "ticket_id": ticket_id})
            await self.send({"type": "ack", "client_id": client_id, "seq": seq})
            await self.flush()
        elif kind == "erase":
            await self._erase()
        elif kind == "ping":
            await self.send({"type": "pong"})
        else:
            raise Invalid("bad_request", texts.BAD_REQUEST)

    async def _erase(self) -> None:
        """"Radera min chatt": the company erases its own conversation (the widget asked it
        to confirm first). The browser forgets the id; the socket closes."""
        core = self.core
        async with core.ctx.sessions() as s:
            found = await privacy.find(s, privacy.Lookup("conversation", self.conversation_id))
        await privacy.erase(
            core.ctx.sessions, self.tracker, found, None, ERASED_BY_COMPANY, core.ctx.now(), "company_request",
            core.ctx.copies,
        )
        await core.ctx.announce.queue("erased", None)  # consoles refresh; waiting companies move up
        await self.send({"type": "erased", "message": texts.CHAT_ERASED})
        await self.ws.close()

    async def _allowed(self, client_id: str, handoff: bool = False) -> bool:
        """The connection's own limit, then its address's and everyone's, then (for a
        request for an advisor) the hand-off limit; a refused item gets an error frame
        with retry_after."""
        code, message = "rate_limited", texts.RATE_LIMITED
        wait = self.bucket.take(time.monotonic())
        if wait <= 0:
            wait = await self.limits.message(self.address)
        if wait <= 0 and handoff:
            wait = await self.limits.handoff(self.address)
            code, message = "handoff_limited", texts.TOO_MANY_HANDOFFS
        if wait <= 0:
            return True
        await self.send_error(code, message, client_id, retry_after=retry_after(wait))
        return False

    async def _on_event(self, event: Event) -> None:
        kind = event.get("type")
        if kind == "messages":
            await self.flush()
        elif kind == "status":
            await self.send_status(await self.core.status.of(self.conversation_id))
        elif kind == "typing":
            await self.send(
                {
                    "type": "typing",
                    "role": event.get("role"),
                    "author": event.get("author"),
                    "typing": bool(event.get("typing")),
                }
            )

    async def flush(self) -> None:
        """Send every stored message the client has not seen, in order, without gaps."""
        async with self._flush_lock:
            for message in await self.core.messages_after(self.conversation_id, self.sent_seq):
                await self.send({"type": "message", "message": message})
                self.sent_seq = message["seq"]

    async def send_status(self, status: dict[str, Any]) -> None:
        if status == self.last_status:
            return
        self.last_status = status
        await self.send({"type": "status", **status})


def _client_id(data: dict[str, Any]) -> str | None:
    value = data.get("client_id")
    return value if isinstance(value, str) and len(value) <= 64 else None
