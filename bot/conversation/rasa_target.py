"""Which Rasa servers this gateway sends turns to: those the `rasa_serving` row names (one,
or several on the machine with REPLICAS).

The supervisor switches the row when an admin activates a model (core/serving.py); every
gateway reads it every second and moves new turns to the new servers. Until the row exists
(a fresh database, the tests' fake Rasa) the configured RASA_HOST:RASA_PORT is used. With a
fixed pool of Rasa servers on other machines (RASA_URLS) the row is not followed.
"""

from __future__ import annotations

import contextlib
import logging

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.conversation.duty import Duty
from bot.conversation.rasa_client import RasaClient
from core import serving

log = logging.getLogger(__name__)


class RasaTarget:
    def __init__(
        self, sessions: async_sessionmaker[AsyncSession], rasa: RasaClient, interval: float = 1.0
    ) -> None:
        self.sessions = sessions
        self.rasa = rasa
        self.interval = interval
        self.generation: int | None = None
        self._duty = Duty("rasa-target", interval, self.refresh)

    async def refresh(self) -> None:
        """Read the serving row once and follow it."""
        if self.rasa.pooled:  # a fixed pool of servers (RASA_URLS): nothing to follow
            return
        async with self.sessions() as s:
            current = await serving.current(s)
        if current is None or not current.active_url or current.generation == self.generation:
            return
        if self.generation is not None:
            log.info("Rasa: switching to %s (%s)", current.active_url, current.active_model)
        self.rasa.use(*serving.split_urls(current.active_url))
        self.generation = current.generation

    async def start(self) -> None:
        with contextlib.suppress(Exception):
            await self.refresh()
        self._duty.start()

    async def stop(self) -> None:
        await self._duty.stop()
