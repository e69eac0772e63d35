"""The inbox's background duties, started with the app after the conversation core:
transfers and capped claims (`Assignment`), automatic assignment of waiting chats when
`AUTO_ASSIGN` is on, and the transcript e-mail loop."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator

from aiohttp import web

from bot.console.keys import assignment_key, mailer_key
from bot.console.mail import Mailer
from bot.conversation.assignment import Assignment
from bot.conversation.pubsub import CONSOLE, Hub
from bot.web.keys import core_key, hub_key, settings_key

log = logging.getLogger(__name__)

# Queue events after which a waiting chat may find an advisor (or an advisor room).
ASSIGN_AFTER = {"snapshot", "enqueued", "returned", "closed", "handed_back", "released", "transferred", "presence"}
# Advisors come and go without an event (a console that stops beating): look again this often.
ASSIGN_EVERY_SECONDS = 5.0


async def inbox_context(app: web.Application) -> AsyncIterator[None]:
    settings = app[settings_key]
    core = app[core_key]
    assignment = Assignment(core.ctx, core.ownership, core.notes, settings.console_max_chats_default)
    mailer = Mailer(core.ctx, settings)
    app[assignment_key] = assignment
    app[mailer_key] = mailer
    mailer.start()
    task = asyncio.create_task(auto_assign(assignment, app[hub_key])) if settings.auto_assign else None
    yield
    if task is not None:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
    await mailer.stop()


async def auto_assign(assignment: Assignment, hub: Hub) -> None:
    """Assign waiting chats whenever the queue or an advisor's presence changes."""
    wake = asyncio.Event()
    wake.set()

    async def listen() -> None:
        async with hub.subscribe(CONSOLE) as events:
            async for event in events:
                if event.get("type") == "queue" and event.get("event") in ASSIGN_AFTER:
                    wake.set()

    listener = asyncio.create_task(listen())
    try:
        while True:
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(wake.wait(), ASSIGN_EVERY_SECONDS)
            wake.clear()
            try:
                await assignment.assign_waiting()
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("automatic assignment failed")
    finally:
        listener.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await listener
