"""The website widget: a WebSocket per browser tab (docs/gateway-protocol.md, section 3).

Replies are pushed over the socket as soon as they are stored; the client's last seen
sequence number is the delivery cursor, so a reconnect resends exactly what it missed."""

from __future__ import annotations

from aiohttp import web

from bot.channels.base import Channel
from bot.channels.widget.socket import widget_ws


def setup(app: web.Application) -> None:
    app.router.add_get("/widget/ws", widget_ws, name="widget_ws")


CHANNEL = Channel(name="widget", label="Webb", setup=setup)
