"""The gateway's application factory: wiring only, no I/O at import time.

The conversation core is built in a cleanup context (it needs the database and an HTTP
client); each registered channel adds its routes, and a push channel its delivery, in
`setup`; the console and the pages come last.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from pathlib import Path

import aiohttp
from aiohttp import web

from bot.admin.analytics.lagesbild import ensure_scheduled
from bot.admin.analytics.quotes import LagesbildQuotes
from bot.admin.routes import setup_admin
from bot.channels.base import Channel
from bot.channels.registry import CHANNELS
from bot.console.routes import setup_console
from bot.conversation.context import CoreConfig
from bot.conversation.core import build_core
from bot.conversation.duty import Duty
from bot.conversation.models import utcnow
from bot.conversation.nlu_log import NluLog
from bot.conversation.pubsub import Hub, make_hub
from bot.conversation.rasa_client import RasaClient
from bot.conversation.retention import Retention
from bot.rules.hours import parse_hours
from bot.rules.retention import Periods
from bot.web.body import MAX_REQUEST_BYTES
from bot.web.keys import (
    Paths,
    channel_labels_key,
    clock_key,
    core_key,
    db_key,
    hours_key,
    http_key,
    hub_key,
    limits_key,
    nlu_log_key,
    paths_key,
    rasa_key,
    retention_key,
    settings_key,
    tracker_key,
    websockets_key,
)
from bot.web.limits import Limits, make_buckets
from bot.web.openapi import setup_openapi
from bot.web.pages import setup_pages
from bot.web.security import add_security_headers, errors_middleware
from bot.web.socket import OpenSockets
from core.db import AsyncDatabase, make_async_reader
from core.settings import Settings

log = logging.getLogger(__name__)

BOT_DIR = Path(__file__).resolve().parent


def create_app(
    settings: Settings,
    *,
    hub: Hub | None = None,
    clock: Callable[[], dt.datetime] = utcnow,
    static_dir: Path | None = None,
    templates_dir: Path | None = None,
    sweep_interval: float | None = None,
    outbox_poll_interval: float = 2.0,
    nlu_log_interval: float = 5.0,
    retention_check_interval: float = 3600.0,
    lagesbild_interval: float = 600.0,
    channels: Sequence[Channel] = CHANNELS,
) -> web.Application:
    """Build the gateway. Tests pass a clock, may pass a hub shared between apps, and may
    add channels of their own."""
    app = web.Application(middlewares=[errors_middleware], client_max_size=MAX_REQUEST_BYTES)
    app[settings_key] = settings
    app[hours_key] = parse_hours(settings.opening_hours, settings.opening_timezone, settings.opening_closed_dates)
    app[paths_key] = Paths(static_dir or BOT_DIR / "static", templates_dir or BOT_DIR / "templates")
    app[clock_key] = clock
    app[hub_key] = hub or make_hub(settings.redis_url)
    app[limits_key] = Limits(settings, make_buckets(settings.redis_url))
    app.on_cleanup.append(_close_limits)
    app[websockets_key] = OpenSockets()
    app[channel_labels_key] = {channel.name: channel.label for channel in channels}
    app.cleanup_ctx.extend([db_context, hub_context, core_context(outbox_poll_interval)])
    for channel in channels:
        channel.setup(app)
    # Started after every channel registered its delivery with the outbox.
    app.cleanup_ctx.append(_core_running)
    app.cleanup_ctx.append(nlu_log_context(nlu_log_interval))
    app.cleanup_ctx.append(retention_context(retention_check_interval))
    if sweep_interval is None:
        sweep_interval = max(1.0, min(10.0, settings.advisor_timeout_seconds / 4))
    app.cleanup_ctx.append(sweeper_context(sweep_interval))
    app.cleanup_ctx.append(lagesbild_context(lagesbild_interval))
    app.on_response_prepare.append(add_security_headers)
    app.on_shutdown.append(close_websockets)
    setup_openapi(app)
    setup_pages(app)
    setup_console(app)
    setup_admin(app)
    return app


async def _close_limits(app: web.Application) -> None:
    await app[limits_key].close()


async def db_context(app: web.Application) -> AsyncIterator[None]:
    database = AsyncDatabase(app[settings_key].database_url)
    app[db_key] = database.sessions
    yield
    await database.dispose()


async def hub_context(app: web.Application) -> AsyncIterator[None]:
    await app[hub_key].start()
    yield
    await app[hub_key].stop()


def core_context(outbox_poll_interval: float) -> Callable[[web.Application], AsyncIterator[None]]:
    async def context(app: web.Application) -> AsyncIterator[None]:
        settings = app[settings_key]
        async with aiohttp.ClientSession() as http:
            app[http_key] = http
            app[rasa_key] = RasaClient(
                http, settings.rasa_url, settings.rasa_token, settings.rasa_timeout_seconds, settings.rasa_urls
            )
            core = build_core(
                app[db_key],
                app[hub_key],
                app[rasa_key],
                CoreConfig(
                    hours=app[hours_key],
                    advisor_timeout_seconds=settings.advisor_timeout_seconds,
                    queue_minutes_per_chat=settings.queue_minutes_per_chat,
                    rasa_timeout_seconds=settings.rasa_timeout_seconds,
                    actions_health_url=settings.actions_health_url,
                    bot_retry_window_seconds=settings.bot_retry_window_seconds,
                ),
                clock=app[clock_key],
                outbox_poll_interval=outbox_poll_interval,
            )
            # The lägesbild quotes company words: erasure and retention must reach them.
            core.ctx.copies.append(LagesbildQuotes())
            app[core_key] = core
            yield
            await core.stop()

    return context


async def _core_running(app: web.Application) -> AsyncIterator[None]:
    await app[core_key].start()
    yield


def nlu_log_context(interval: float) -> Callable[[web.Application], AsyncIterator[None]]:
    """Copy what the bot understood of each message from Rasa's tracker store, every few seconds."""

    async def context(app: web.Application) -> AsyncIterator[None]:
        tracker = make_async_reader(app[settings_key].rasa_tracker_url)
        app[nlu_log_key] = NluLog(app[core_key].ctx, tracker)
        duty = Duty("nlu-log", interval, _count_only(app[nlu_log_key].sync))
        duty.start()
        yield
        await duty.stop()
        await tracker.dispose()

    return context


def retention_context(interval: float) -> Callable[[web.Application], AsyncIterator[None]]:
    """The daily purge of what is past its retention period (checked every `interval` s)."""

    async def context(app: web.Application) -> AsyncIterator[None]:
        settings = app[settings_key]
        tracker = make_async_reader(settings.rasa_tracker_url)
        app[tracker_key] = tracker
        periods = Periods(
            transcript_days=settings.retention_transcript_days,
            ticket_days=settings.retention_ticket_days,
            tracker_days=settings.retention_tracker_days,
            audit_content_days=settings.retention_audit_content_days,
        )
        retention = Retention(app[db_key], tracker, periods, app[clock_key], app[core_key].ctx.copies)
        app[retention_key] = retention

        async def purge() -> None:
            await retention.run_if_due()

        duty = Duty("retention", interval, purge)
        duty.start()
        yield
        await duty.stop()
        await tracker.dispose()

    return context


def _count_only(sync: Callable[[], Awaitable[int]]) -> Callable[[], Awaitable[None]]:
    async def run() -> None:
        await sync()

    return run


def sweeper_context(interval: float) -> Callable[[web.Application], AsyncIterator[None]]:
    """Background duty: return chats of vanished advisors, take chats of vanished companies
    out of the queue, restart forgotten deliveries."""

    async def context(app: web.Application) -> AsyncIterator[None]:
        core = app[core_key]

        abandon_seconds = app[settings_key].queue_abandon_seconds
        pushed = [name for name in app[channel_labels_key] if core.outbox.pushes_to(name)]

        async def sweep() -> None:
            await core.ownership.sweep_stale_advisors()
            await core.ownership.sweep_abandoned(abandon_seconds, skip_channels=pushed)
            await core.rasa.kick_forgotten()
            await core.rasa.retry_when_back()

        duty = Duty("sweeper", interval, sweep)
        duty.start()
        yield
        await duty.stop()

    return context


def lagesbild_context(interval: float) -> Callable[[web.Application], AsyncIterator[None]]:
    """Background duty: once a week has ended (from Monday 00:00 UTC), store its lägesbild.
    Checked every `interval` seconds; a week already stored is not computed again."""

    async def context(app: web.Application) -> AsyncIterator[None]:
        async def weekly() -> None:
            async with app[db_key].begin() as session:
                now = app[clock_key]()
                await session.run_sync(lambda sync: ensure_scheduled(sync, now))

        duty = Duty("lagesbild", interval, weekly)
        duty.start()
        yield
        await duty.stop()

    return context


async def close_websockets(app: web.Application) -> None:
    await app[websockets_key].close_all()
