"""What a channel is to the gateway: a name, a label for the console, and a set-up step
that adds its inbound routes and, for a channel that pushes replies, registers its
delivery with the outbox. Each channel lives in its own folder, `bot/channels/<name>/`,
and is registered with one line in `bot/channels/registry.py`."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from aiohttp import web


@dataclass(frozen=True)
class Channel:
    name: str  # stored with each conversation: widget | rest | slack | teams
    label: str  # what advisors see in the console: Webb, API, Slack, Teams
    setup: Callable[[web.Application], None]
