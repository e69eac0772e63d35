"""What the widget's and the console's WebSockets share: JSON frames sent one at a time,
errors in one shape, and a pump that turns live events into frames."""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

from aiohttp import WSCloseCode, web

from bot.conversation.pubsub import Event, Subscription
from bot.rules.payload import PayloadError, parse_object

log = logging.getLogger(__name__)

# Close code of a socket whose account was deactivated or whose session ended (4000-4999
# are the application's own; the console shows its login again).
ACCOUNT_ENDED = 4401


async def run_connection(ws: web.WebSocketResponse, connection: Awaitable[None]) -> web.WebSocketResponse:
    """Run an upgraded connection to its end. An unexpected error (the database away for a
    moment, say) is logged and closes the socket with 1011, so the client reconnects; it
    must never reach the error middleware, which would write an HTTP 500 into the upgraded
    stream (the client would read it as a corrupt frame)."""
    try:
        await connection
    except Exception:
        log.exception("WebSocket connection failed; closing it with 1011")
        with contextlib.suppress(ConnectionError, RuntimeError):
            await ws.close(code=WSCloseCode.INTERNAL_ERROR, message=b"internal error")
    return ws


class OpenSockets:
    """The gateway's open WebSockets and the tasks serving them.

    At shutdown each socket is closed and its task is given time to finish what it was
    doing (a message half stored, a state change), so the database is closed only after
    every handler let go of it."""

    def __init__(self) -> None:
        self._open: dict[web.WebSocketResponse, asyncio.Task[Any]] = {}
        self._accounts: dict[web.WebSocketResponse, int] = {}

    def __len__(self) -> int:
        return len(self._open)

    @contextlib.asynccontextmanager
    async def serving(self, ws: web.WebSocketResponse, account_id: int | None = None) -> AsyncIterator[None]:
        """Track a socket (and the account it serves, if any) while it is open."""
        task = asyncio.current_task()
        assert task is not None
        self._open[ws] = task
        if account_id is not None:
            self._accounts[ws] = account_id
        try:
            yield
        finally:
            self._open.pop(ws, None)
            self._accounts.pop(ws, None)

    async def close_account(self, account_id: int) -> int:
        """Close every open socket of an account whose sessions ended; returns how many."""
        mine = [ws for ws, owner in list(self._accounts.items()) if owner == account_id]
        for ws in mine:
            await ws.close(code=ACCOUNT_ENDED, message=b"session ended")
        return len(mine)

    async def close_all(self, timeout: float = 5.0) -> None:
        open_now = dict(self._open)
        for ws in open_now:
            await ws.close(code=WSCloseCode.GOING_AWAY, message=b"server shutdown")
        tasks = [t for t in open_now.values() if not t.done() and t is not asyncio.current_task()]
        if tasks:
            await asyncio.wait(tasks, timeout=timeout)


MAX_FRAME = 16 * 1024


def decode_frame(raw: object, max_bytes: int = MAX_FRAME) -> dict[str, Any] | None:
    """A client frame: a JSON object of bounded size and depth, or None for anything else
    (never an exception: a hostile frame costs one error frame, not the connection)."""
    if not isinstance(raw, str):
        return None
    try:
        return parse_object(raw, max_bytes)
    except PayloadError:
        return None


class JsonSocket:
    """A server-side WebSocket that sends JSON frames, never two at once.

    Its background tasks (the live-event pump, periodic work) do their work under one lock,
    so that closing the socket waits for the work in hand instead of cancelling it in the
    middle of a database call."""

    def __init__(self, ws: web.WebSocketResponse) -> None:
        self.ws = ws
        self._send_lock = asyncio.Lock()
        self._work = asyncio.Lock()

    async def send(self, frame: dict[str, Any]) -> None:
        if self.ws.closed:
            return
        async with self._send_lock:
            await self.ws.send_str(json.dumps(frame, ensure_ascii=False))

    async def send_error(self, code: str, message: str, client_id: str | None = None, **extra: Any) -> None:
        frame: dict[str, Any] = {"type": "error", "code": code, "message": message}
        if client_id is not None:
            frame["client_id"] = client_id
        frame.update(extra)
        await self.send(frame)

    async def pump(self, subscription: Subscription, on_event: Callable[[Event], Awaitable[None]]) -> None:
        """Handle live events until the socket goes away; one failed event is logged, not fatal."""
        async for event in subscription:
            async with self._work:
                try:
                    await on_event(event)
                except (ConnectionResetError, RuntimeError):
                    return
                except Exception:
                    log.exception("live event %s failed", event.get("type"))

    async def every(self, seconds: float, work: Callable[[], Awaitable[None]]) -> None:
        """Periodic work for as long as the socket is open (a failed round is logged)."""
        while True:
            await asyncio.sleep(seconds)
            async with self._work:
                try:
                    await work()
                except Exception:
                    log.exception("periodic socket work failed")

    async def stop_tasks(self, tasks: list[asyncio.Task[None]]) -> None:
        """Stop the socket's background tasks once the work in hand is done."""
        async with self._work:
            for task in tasks:
                task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
