"""A background duty that runs every few seconds and stops *between* rounds.

Cancelling a task in the middle of a database call can leave the driver finishing it after
the event loop is gone (aiosqlite runs each call in a thread); a duty is asked to stop
and finishes its round first, so the database is closed only when nothing uses it.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable

log = logging.getLogger(__name__)


class Duty:
    def __init__(self, name: str, interval: float, work: Callable[[], Awaitable[None]]) -> None:
        self.name = name
        self.interval = interval
        self.work = work
        self.stopping = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name=self.name)

    async def stop(self, grace: float = 10.0) -> None:
        self.stopping.set()
        if self._task is None:
            return
        with contextlib.suppress(asyncio.TimeoutError, asyncio.CancelledError):
            await asyncio.wait_for(asyncio.shield(self._task), grace)
        if not self._task.done():  # a round hung past the grace period
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    async def pause(self, seconds: float) -> bool:
        """Wait `seconds`, or less if asked to stop; True while the duty should go on."""
        with contextlib.suppress(asyncio.TimeoutError):
            await asyncio.wait_for(self.stopping.wait(), seconds)
        return not self.stopping.is_set()

    async def _run(self) -> None:
        while await self.pause(self.interval):
            try:
                await self.work()
            except Exception:
                log.exception("%s failed; trying again in %.0f s", self.name, self.interval)
