"""The console's WebSocket: the live queue, messages and typing (protocol section 5)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import Any

from aiohttp import WSMsgType, web

from bot import texts
from bot.accounts import auth
from bot.console import queries
from bot.conversation.context import AdvisorRef
from bot.conversation.errors import DomainError
from bot.conversation.pubsub import CONSOLE, Event
from bot.web.keys import (
    clock_key,
    core_key,
    db_key,
    hours_key,
    hub_key,
    settings_key,
    websockets_key,
)
from bot.web.security import is_same_origin, json_exception
from bot.web.session_cookie import session_token
from bot.web.socket import ACCOUNT_ENDED, JsonSocket, decode_frame, run_connection

log = logging.getLogger(__name__)

MAX_FRAME = 16 * 1024


async def console_ws(request: web.Request) -> web.WebSocketResponse:
    # All checks happen before the handshake.
    if not is_same_origin(request, request.headers.get("Origin")):
        raise json_exception(web.HTTPForbidden, "forbidden_origin", texts.FORBIDDEN_ORIGIN)
    token = session_token(request)
    advisor = await auth.session_advisor(request.app[db_key], token, request.app[clock_key]())
    if advisor is None or token is None:
        raise json_exception(web.HTTPUnauthorized, "not_authenticated", texts.NOT_AUTHENTICATED)
    secret = request.app[settings_key].session_secret
    if not auth.csrf_ok(secret, token, request.query.get("csrf")):
        raise json_exception(web.HTTPForbidden, "csrf_failed", texts.CSRF_FAILED)

    ws = web.WebSocketResponse(heartbeat=20.0, max_msg_size=MAX_FRAME)
    await ws.prepare(request)
    async with request.app[websockets_key].serving(ws, advisor.id):
        await run_connection(ws, ConsoleConnection(request, ws, advisor, token).run())
    return ws


class ConsoleConnection(JsonSocket):
    def __init__(self, request: web.Request, ws: web.WebSocketResponse, advisor: AdvisorRef, token: str) -> None:
        super().__init__(ws)
        self.app = request.app
        self.advisor = advisor
        self.token = token
        self.core = request.app[core_key]
        timeout = request.app[settings_key].advisor_timeout_seconds
        self.beat_interval = max(1.0, min(15.0, timeout / 4))

    async def run(self) -> None:
        await self.core.presence.touch(self.advisor.id, force=True)
        async with self.app[hub_key].subscribe(CONSOLE) as subscription:
            await self.send({"type": "hello", "advisor": {"id": self.advisor.id, "name": self.advisor.name}})
            await self.send_queue("snapshot", None)
            tasks = [
                asyncio.create_task(self.pump(subscription, self._on_event)),
                asyncio.create_task(self.every(self.beat_interval, self._beat)),
            ]
            try:
                await self._read_loop()
            finally:
                await self.stop_tasks(tasks)
                # The last sign of life: the advisor timeout counts from here.
                with contextlib.suppress(Exception):
                    await self.core.presence.touch(self.advisor.id, force=True)

    async def _beat(self) -> None:
        # A session that ended (logout elsewhere, expiry, the account deactivated, also from
        # the command line) closes the socket within one beat.
        if await auth.session_advisor(self.app[db_key], self.token, self.app[clock_key]()) is None:
            await self.ws.close(code=ACCOUNT_ENDED, message=b"session ended")
            return
        await self.core.presence.touch(self.advisor.id, force=True)

    async def _read_loop(self) -> None:
        async for msg in self.ws:
            if msg.type != WSMsgType.TEXT:
                continue
            data = decode_frame(msg.data)
            if data is None:
                await self.send_error("bad_request", texts.BAD_REQUEST)
                continue
            kind = data.get("type")
            if kind == "ping":
                await self.send({"type": "pong"})
            elif kind == "typing" and isinstance(data.get("conversation_id"), str):
                with contextlib.suppress(DomainError):
                    await self.core.replies.typing(data["conversation_id"], self.advisor, data.get("typing") is True)
            else:
                await self.send_error("bad_request", texts.BAD_REQUEST)

    async def _on_event(self, event: Event) -> None:
        kind = event.get("type")
        if kind == "queue":
            await self.send_queue(str(event.get("event")), event.get("conversation_id"))
        elif kind == "conversation":
            try:
                conversation = await queries.conversation_json(self.app[db_key], str(event.get("conversation_id")))
            except DomainError:
                return
            await self.send({"type": "conversation", "conversation": conversation})
        elif kind in {"message", "typing", "tickets", "transfer", "transcript_email"}:
            await self.send(event)

    async def send_queue(self, event: str, conversation_id: Any) -> None:
        snapshot = await queries.queue_snapshot(
            self.app[db_key], self.advisor.id, self.app[clock_key](), self.app[hours_key],
            self.app[settings_key].console_max_chats_default,
        )
        await self.send({"type": "queue", "event": event, "conversation_id": conversation_id, **snapshot})
