"""The Slack channel's running parts: the Web API client, the outbox deliverer, the
display-name cache, the request verifier, and the background tasks it starts."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Coroutine, Mapping
from typing import Any

import aiohttp
from aiohttp import web
from slack_sdk.signature import SignatureVerifier

from bot.channels.slack.api import CHANNEL_NAME, DisplayNames, SlackApi, SlackDeliverer, slack_client
from bot.conversation.core import ConversationCore
from core.settings import Settings

log = logging.getLogger(__name__)

# How long a request may wait for our bot's identity before it goes on without it.
IDENTITY_WAIT = 1.5


class SlackRuntime:
    def __init__(self, settings: Settings, core: ConversationCore, session: aiohttp.ClientSession) -> None:
        self.settings = settings
        self.core = core
        self.api = SlackApi(slack_client(settings.slack_bot_token, settings.slack_api_url, session))
        self.deliverer = SlackDeliverer(self.api)
        self.names = DisplayNames(self.api)
        self.verifier = SignatureVerifier(settings.slack_signing_secret)
        self._tasks: set[asyncio.Task[Any]] = set()

    # ------------------------------------------------------------------ requests

    def verified(self, body: bytes, headers: Mapping[str, str]) -> bool:
        """Slack's v0 signature over the timestamp and the raw body, at most 5 minutes old."""
        timestamp = headers.get("X-Slack-Request-Timestamp")
        signature = headers.get("X-Slack-Signature")
        if not timestamp or not signature or not timestamp.isdigit() or len(timestamp) > 12:
            return False
        try:
            return self.verifier.is_valid(body=body, timestamp=timestamp, signature=signature)
        except (UnicodeDecodeError, ValueError):
            return False

    async def bot_user_id(self, envelope: Mapping[str, Any]) -> str:
        """Our bot's user id: from auth.test, or (while Slack has not answered it) from
        the envelope's authorizations, or waited for briefly."""
        known = self.api.identity.user_id
        if known:
            return known
        fallback = _authorized_bot(envelope)
        if fallback:
            self.spawn(self.api.bot_user_id())
            return fallback
        with contextlib.suppress(asyncio.TimeoutError):
            return await asyncio.wait_for(asyncio.shield(self.api.bot_user_id()), IDENTITY_WAIT)
        return ""

    # ------------------------------------------------------------------ background work

    def spawn(self, coro: Coroutine[Any, Any, Any]) -> None:
        """Work after the acknowledgement (Slack wants an answer within 3 seconds)."""
        task = asyncio.create_task(coro)
        self._tasks.add(task)
        task.add_done_callback(self._done)

    def _done(self, task: asyncio.Task[Any]) -> None:
        self._tasks.discard(task)
        if not task.cancelled() and task.exception() is not None:
            log.warning("Slack background task failed: %r", task.exception())

    def learn_name(self, user: str, external_id: str) -> None:
        """Fetch the person's display name (users.info, cached) and put it on the
        conversation, without delaying the acknowledgement."""
        if self.names.fresh(user):
            return
        self.spawn(self._learn_name(user, external_id))

    async def _learn_name(self, user: str, external_id: str) -> None:
        name = await self.names.fetch(user)
        if name:
            await self.core.intake.open(CHANNEL_NAME, external_id=external_id, display_name=name)

    async def start(self) -> None:
        self.spawn(self.api.bot_user_id())

    async def stop(self) -> None:
        tasks = list(self._tasks)
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task

    async def settle(self) -> None:
        """Wait for the background work started so far (tests, benchmarks)."""
        while self._tasks:
            await asyncio.gather(*list(self._tasks), return_exceptions=True)


def _authorized_bot(envelope: Mapping[str, Any]) -> str:
    authorizations = envelope.get("authorizations")
    for item in authorizations if isinstance(authorizations, list) else []:
        if isinstance(item, Mapping) and item.get("is_bot") and isinstance(item.get("user_id"), str):
            return str(item["user_id"])
    return ""


slack_key = web.AppKey("slack", SlackRuntime)
