"""Slack (docs/channels/slack.md): the Events API and interactivity in, replies out
through the outbox with `chat.postMessage`.

Off until `SLACK_BOT_TOKEN` is set: then no route exists and both URLs answer 404.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

from aiohttp import web

from bot.channels.base import Channel
from bot.channels.slack.runtime import SlackRuntime, slack_key
from bot.channels.slack.views import slack_events, slack_interactive
from bot.web.keys import core_key, http_key, settings_key
from core.settings import SettingsError


def setup(app: web.Application) -> None:
    settings = app[settings_key]
    if not settings.slack_enabled:
        return
    if not settings.slack_signing_secret:
        raise SettingsError("SLACK_SIGNING_SECRET must be set when SLACK_BOT_TOKEN is (every request is verified)")
    app.router.add_post("/webhooks/slack/events", slack_events, name="slack_events")
    app.router.add_post("/webhooks/slack/interactive", slack_interactive, name="slack_interactive")
    app.cleanup_ctx.append(_running)


async def _running(app: web.Application) -> AsyncIterator[None]:
    """After the core exists and before it starts: the deliverer joins the outbox."""
    runtime = SlackRuntime(app[settings_key], app[core_key], app[http_key])
    app[slack_key] = runtime
    app[core_key].outbox.register(runtime.deliverer)
    await runtime.start()
    yield
    await runtime.stop()


CHANNEL = Channel(name="slack", label="Slack", setup=setup)
