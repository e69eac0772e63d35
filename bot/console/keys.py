"""The console's own application keys (set up by `bot.console.background`)."""

from __future__ import annotations

from aiohttp import web

from bot.console.mail import Mailer
from bot.conversation.assignment import Assignment

assignment_key = web.AppKey("assignment", Assignment)
mailer_key = web.AppKey("mailer", Mailer)
