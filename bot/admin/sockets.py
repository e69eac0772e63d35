"""Closing an ended account's sockets at once, on every gateway replica.

A deactivation (admin page, or a revert) publishes `account_ended` on the hub; each
gateway closes that account's open sockets (console, admin). The console's heartbeat also
re-checks the session (bot/console/ws.py), which covers a deactivation from the command
line within one beat."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator

from aiohttp import web

from bot.admin.views.accounts import ACCOUNTS_CHANNEL
from bot.web.keys import hub_key, websockets_key

log = logging.getLogger(__name__)


async def accounts_listener(app: web.Application) -> AsyncIterator[None]:
    async def listen() -> None:
        async with app[hub_key].subscribe(ACCOUNTS_CHANNEL) as subscription:
            async for event in subscription:
                if event.get("type") == "account_ended" and isinstance(event.get("account_id"), int):
                    closed = await app[websockets_key].close_account(int(event["account_id"]))
                    if closed:
                        log.info("closed %d socket(s) of ended account %s", closed, event["account_id"])

    task = asyncio.create_task(listen())
    yield
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task
