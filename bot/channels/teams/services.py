"""What the Teams channel keeps for the life of the application."""

from __future__ import annotations

from dataclasses import dataclass

from aiohttp import web

from bot.channels.teams.auth import ConnectorKeys
from bot.channels.teams.connector import TeamsDeliverer
from bot.channels.teams.oauth import BotToken


@dataclass(frozen=True)
class TeamsServices:
    keys: ConnectorKeys  # Bot Framework's signing keys, for requests coming in
    token: BotToken  # the bot's own token, for replies going out
    deliverer: TeamsDeliverer


teams_key = web.AppKey("teams", TeamsServices)
