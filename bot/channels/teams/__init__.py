"""Microsoft Teams through Azure Bot Service (Bot Framework), `docs/channels/teams.md`.

A push channel: Teams posts Activities to `/webhooks/teams/messages` (verified as the
Bot Connector's before anything is stored), and the outbox posts the replies to the
Bot Connector with the bot's own token. Off (no route: 404) while `TEAMS_APP_ID` is unset.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

from aiohttp import web

from bot.channels.base import Channel
from bot.channels.teams.auth import ConnectorKeys
from bot.channels.teams.connector import CHANNEL_NAME, TeamsDeliverer
from bot.channels.teams.oauth import BotToken
from bot.channels.teams.services import TeamsServices, teams_key
from bot.channels.teams.views import teams_messages
from bot.web.keys import core_key, http_key, settings_key


def setup(app: web.Application) -> None:
    if not app[settings_key].teams_enabled:
        return
    app.router.add_post("/webhooks/teams/messages", teams_messages, name="teams_messages")
    app.cleanup_ctx.append(_services)


async def _services(app: web.Application) -> AsyncIterator[None]:
    """Runs after the core exists (it needs the shared HTTP client) and before it starts."""
    settings = app[settings_key]
    http = app[http_key]
    token = BotToken(http, settings.teams_token_endpoint, settings.teams_app_id, settings.teams_app_password)
    deliverer = TeamsDeliverer(http, token, settings.teams_allowed_service_urls, settings.max_message_chars)
    app[teams_key] = TeamsServices(ConnectorKeys(http, settings.teams_openid_metadata_url), token, deliverer)
    app[core_key].outbox.register(deliverer)
    yield


CHANNEL = Channel(name=CHANNEL_NAME, label="Teams", setup=setup)
