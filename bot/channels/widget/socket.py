"""The website widget's WebSocket (docs/gateway-protocol.md, section 3)."""

from __future__ import annotations

import asyncio
import math
import time
from typing import Any

from aiohttp import WSMsgType, web

from bot import texts
from bot.conversation import privacy
from bot.conversation.errors import DomainError
from bot.conversation.pubsub import Event, conversation_channel
from bot.rules import validation
from bot.rules.ratelimit import TokenBucket
from bot.rules.validation import Invalid
from bot.web.keys import core_key, hub_key, settings_key, tracker_key, websockets_key
from bot.web.security import is_same_origin
from bot.web.socket import JsonSocket, decode_frame

CHANNEL_NAME = "widget"

PROTOCOL = 1
MAX_FRAME = 16 * 1024
HELLO_TIMEOUT = 30.0
ERASED_BY_COMPANY = "Företaget själv (Radera min chatt)"
TYPING_INTERVAL = 1.0


async def widget_ws(request: web.Request) -> web.WebSocketResponse:
    # Checked before the handshake: a foreign page must not open a chat as the company.
    if not widget_origin_allowed(request):
        raise web.HTTPForbidden(text=texts.FORBIDDEN_ORIGIN)
    ws = web.WebSocketResponse(heartbeat=20.0, max_msg_size=MAX_FRAME)
    await ws.prepare(request)
    async with request.app[websockets_key].serving(ws):
        await WidgetConnection(request, ws).run()
    return ws


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
    def __init__(self, request: web.Request, ws: web.WebSocketResponse) -> None:
        super().__init__(ws)
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
        page = raw_page[:500] if isinstance(raw_page, str) and raw_page.startswith(("http://", "https://")) else None
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
            try:
                await self._read_loop()
            finally:
                await self.stop_tasks([pump])

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
            await self.ws.close()
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
            if not await self._allowed(client_id):
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
            core.ctx.sessions, self.tracker, found, None, ERASED_BY_COMPANY, core.ctx.now(), "company_request"
        )
        await core.ctx.announce.queue("erased", None)  # consoles refresh; waiting companies move up
        await self.send({"type": "erased", "message": texts.CHAT_ERASED})
        await self.ws.close()

    async def _allowed(self, client_id: str) -> bool:
        """The per-connection rate limit; a refused item gets `rate_limited` with retry_after."""
        wait = self.bucket.take(time.monotonic())
        if wait <= 0:
            return True
        retry_after = max(1, math.ceil(wait))
        await self.send_error("rate_limited", texts.RATE_LIMITED, client_id, retry_after=retry_after)
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
