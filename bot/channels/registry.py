"""Every channel of the gateway: a new channel is one folder and one line here."""

from __future__ import annotations

from bot.channels import rest, slack, teams, widget
from bot.channels.base import Channel

CHANNELS: tuple[Channel, ...] = (
    widget.CHANNEL,
    rest.CHANNEL,
    slack.CHANNEL,
    teams.CHANNEL,
)
