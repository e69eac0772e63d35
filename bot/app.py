"""The gateway's application factory: wiring only, no I/O at import time."""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import logging
import weakref
from collections.abc import AsyncIterator, Callable
from pathlib import Path

import aiohttp
from aiohttp import WSCloseCode, web

from bot.db import make_async_engine, make_async_sessionmaker
from bot.keys import (
    Paths,
    clock_key,
    db_key,
    hours_key,
    hub_key,
    login_limits_key,
    paths_key,
    rasa_key,
    rest_limits_key,
    service_key,
    settings_key,
    websockets_key,
)
from bot.models import utcnow
from bot.pubsub import Hub, make_hub
from bot.rasa import RasaClient
from bot.routes import setup_routes
from bot.rules.hours import parse_hours
from bot.rules.ratelimit import BucketMap
from bot.security import add_security_headers, errors_middleware
from bot.service import ConversationService, ServiceConfig
from core.settings import Settings

log = logging.getLogger(__name__)

BOT_DIR = Path(__file__).resolve().parent
MAX_REQUEST_BYTES = 64 * 1024


def create_app(
    settings: Settings,
    *,
    hub: Hub | None = None,
    clock: Callable[[], dt.datetime] = utcnow,
    static_dir: Path | None = None,
    templates_dir: Path | None = None,
    sweep_interval: float | None = None,
) -> web.Application:
    """Build the gateway. Tests pass a clock, and may pass a hub shared between apps."""
    app = web.Application(middlewares=[errors_middleware], client_max_size=MAX_REQUEST_BYTES)
    app[settings_key] = settings
    app[hours_key] = parse_hours(settings.opening_hours, settings.opening_timezone, settings.opening_closed_dates)
    app[paths_key] = Paths(static_dir or BOT_DIR / "static", templates_dir or BOT_DIR / "templates")
    app[clock_key] = clock
    app[hub_key] = hub or make_hub(settings.redis_url)
    app[rest_limits_key] = BucketMap(settings.rate_limit_messages, settings.rate_limit_window_seconds)
    app[login_limits_key] = BucketMap(10, 300)
    app[websockets_key] = weakref.WeakSet()
    app.cleanup_ctx.extend([db_context, hub_context, service_context])
    if sweep_interval is None:
        sweep_interval = max(1.0, min(10.0, settings.advisor_timeout_seconds / 4))
    app.cleanup_ctx.append(sweeper_context(sweep_interval))
    app.on_response_prepare.append(add_security_headers)
    app.on_shutdown.append(close_websockets)
    setup_routes(app)
    return app


async def db_context(app: web.Application) -> AsyncIterator[None]:
    engine = make_async_engine(app[settings_key].database_url)
    app[db_key] = make_async_sessionmaker(engine)
    yield
    await engine.dispose()


async def hub_context(app: web.Application) -> AsyncIterator[None]:
    await app[hub_key].start()
    yield
    await app[hub_key].stop()


async def service_context(app: web.Application) -> AsyncIterator[None]:
    settings = app[settings_key]
    async with aiohttp.ClientSession() as http:
        app[rasa_key] = RasaClient(http, settings.rasa_url, settings.rasa_token, settings.rasa_timeout_seconds)
        service = ConversationService(
            app[db_key],
            app[rasa_key],
            app[hub_key],
            ServiceConfig(
                hours=app[hours_key],
                advisor_timeout_seconds=settings.advisor_timeout_seconds,
                queue_minutes_per_chat=settings.queue_minutes_per_chat,
                fallback_handoff_after=settings.fallback_handoff_after,
                rasa_timeout_seconds=settings.rasa_timeout_seconds,
            ),
            clock=app[clock_key],
        )
        app[service_key] = service
        yield
        await service.stop()


def sweeper_context(interval: float) -> Callable[[web.Application], AsyncIterator[None]]:
    """Background duty: return chats of vanished advisors, restart forgotten deliveries."""

    async def context(app: web.Application) -> AsyncIterator[None]:
        task = asyncio.create_task(_sweep_forever(app[service_key], interval))
        yield
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task

    return context


async def _sweep_forever(service: ConversationService, interval: float) -> None:
    while True:
        await asyncio.sleep(interval)
        try:
            await service.sweep_stale_advisors()
            await service.kick_forgotten()
        except Exception:
            log.exception("sweep failed")


async def close_websockets(app: web.Application) -> None:
    sockets: weakref.WeakSet[web.WebSocketResponse] = app[websockets_key]
    for ws in list(sockets):
        await ws.close(code=WSCloseCode.GOING_AWAY, message=b"server shutdown")
