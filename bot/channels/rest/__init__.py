"""The Rasa-REST-compatible endpoint for programs (docs/gateway-protocol.md, section 6).

A pull channel: each call returns what the conversation's delivery cursor has not yet
handed out (the bot's answer, and an advisor's replies since the last call)."""

from __future__ import annotations

from aiohttp import web

from bot.channels.base import Channel
from bot.channels.rest.views import rest_webhook


def setup(app: web.Application) -> None:
    app.router.add_post("/webhooks/rest/webhook", rest_webhook, name="rest_webhook")


CHANNEL = Channel(name="rest", label="API", setup=setup)
