"""Every typed application key of the gateway, in one place."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path

import aiohttp
from aiohttp import web
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from bot.conversation.core import ConversationCore
from bot.conversation.nlu_log import NluLog
from bot.conversation.pubsub import Hub
from bot.conversation.rasa_client import RasaClient
from bot.conversation.retention import Retention
from bot.rules.hours import OpeningHours
from bot.web.limits import Limits
from bot.web.socket import OpenSockets
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
# One HTTP client for every outgoing call (Rasa, Slack, Bot Framework), closed at shutdown.
http_key = web.AppKey("http", aiohttp.ClientSession)
rasa_key = web.AppKey("rasa", RasaClient)
core_key = web.AppKey("core", ConversationCore)
nlu_log_key = web.AppKey("nlu_log", NluLog)
# Rate limits by address, platform user and for everyone; login throttling (bot/web/limits.py).
limits_key = web.AppKey("limits", Limits)
# Rasa's SQL tracker store, for erasure and retention (bot.conversation.tracker_store).
tracker_key = web.AppKey("tracker", AsyncEngine)
retention_key = web.AppKey("retention", Retention)
websockets_key = web.AppKey("websockets", OpenSockets)
# What each registered channel is called in the console ("widget" -> "Webb").
channel_labels_key: web.AppKey[Mapping[str, str]] = web.AppKey("channel_labels")
