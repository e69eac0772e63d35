"""Every typed application key of the gateway, in one place."""

from __future__ import annotations

import datetime as dt
import weakref
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from aiohttp import web
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.pubsub import Hub
from bot.rasa import RasaClient
from bot.rules.hours import OpeningHours
from bot.rules.ratelimit import BucketMap
from bot.service import ConversationService
from core.settings import Settings


@dataclass(frozen=True)
class Paths:
    static_dir: Path
    templates_dir: Path


settings_key = web.AppKey("settings", Settings)
hours_key = web.AppKey("hours", OpeningHours)
paths_key = web.AppKey("paths", Paths)
clock_key: web.AppKey[Callable[[], dt.datetime]] = web.AppKey("clock")
hub_key = web.AppKey("hub", Hub)
db_key = web.AppKey("db", async_sessionmaker[AsyncSession])
rasa_key = web.AppKey("rasa", RasaClient)
service_key = web.AppKey("service", ConversationService)
rest_limits_key = web.AppKey("rest_limits", BucketMap)
login_limits_key = web.AppKey("login_limits", BucketMap)
websockets_key: web.AppKey[weakref.WeakSet[web.WebSocketResponse]] = web.AppKey("websockets")
