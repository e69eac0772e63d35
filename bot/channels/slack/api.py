"""Slack's Web API as the channel uses it: posting replies through the outbox (once),
looking a reply up after an interrupted call, the bot's own identity, display names.

slack_sdk's `AsyncWebClient` does the HTTP, on the gateway's shared aiohttp session and
with its own retry handlers turned off: the outbox owns retries, and a client that
retried a post on its own could post a reply twice. What a failed call means for the
outbox (`failure`):

* certainly not taken, try later: HTTP 429 (with Slack's Retry-After), `ratelimited`,
  `service_unavailable`, `request_timeout`, HTTP 502/503/504, connection refused, and
  token or scope problems (an admin can fix those; nothing is dropped meanwhile);
* uncertain: `internal_error`/`fatal_error` and HTTP 500 (Slack says part of the
  operation may have happened), a timeout or a connection cut after sending. The
  receipt stays "sending" and `find_delivered` asks Slack before the next attempt;
* never: every other error (`channel_not_found`, `not_in_channel`, `is_archived` ...).

Every reply carries message metadata (`event_type` foretagsstod_message, `message_id`
our id), which `find_delivered` looks for in the DM's history or the thread's replies.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncIterator, Callable, Mapping
from dataclasses import dataclass
from typing import Any

import aiohttp
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.channels.slack.render import Rendered, render
from bot.conversation.outbox import Outgoing, Recipient, RetryLater, Undeliverable

log = logging.getLogger(__name__)

CHANNEL_NAME = "slack"
METADATA_EVENT = "foretagsstod_message"
CALL_TIMEOUT = 10.0

RETRY_ERRORS = frozenset({"ratelimited", "service_unavailable", "request_timeout", "team_added_to_org"})
UNCERTAIN_ERRORS = frozenset({"internal_error", "fatal_error"})
SETUP_ERRORS = frozenset(
    {
        "not_authed",
        "invalid_auth",
        "account_inactive",
        "token_revoked",
        "token_expired",
        "no_permission",
        "missing_scope",
        "not_allowed_token_type",
        "ekm_access_denied",
        "team_access_not_granted",
        "access_denied",
    }
)
BLOCK_ERRORS = frozenset({"invalid_blocks", "invalid_blocks_format"})
SETUP_RETRY_SECONDS = 60.0


class BlocksRefused(Exception):
    """Slack refused our blocks: post the text alone."""


def failure(status: int, error: str | None, retry_after: str | None) -> Exception | None:
    """What a failed Web API call means for the outbox: RetryLater, Undeliverable,
    BlocksRefused, or None when Slack may have done it anyway (uncertain)."""
    if status == 429 or error == "ratelimited":
        return RetryLater("Slack: rate limited", _seconds(retry_after))
    if error in RETRY_ERRORS:
        return RetryLater(f"Slack: {error}", _seconds(retry_after))
    if error in SETUP_ERRORS:
        return RetryLater(f"Slack: {error} (check SLACK_BOT_TOKEN and the app's scopes)", SETUP_RETRY_SECONDS)
    if error in UNCERTAIN_ERRORS:
        return None
    if error in BLOCK_ERRORS:
        return BlocksRefused(error)
    if error:
        return Undeliverable(f"Slack: {error}")
    if status in (502, 503, 504):
        return RetryLater(f"Slack: HTTP {status}", _seconds(retry_after))
    if status >= 500:
        return None
    return Undeliverable(f"Slack: HTTP {status}")


def _seconds(raw: str | None) -> float | None:
    if raw is None:
        return None
    try:
        value = float(raw.strip())
    except ValueError:
        return None
    return value if 0 <= value <= 3600 else None


def _error_of(exc: SlackApiError) -> tuple[int, str | None, str | None]:
    response = exc.response
    status = int(getattr(response, "status_code", 0) or 0)
    data = getattr(response, "data", None)
    error = data.get("error") if isinstance(data, dict) else None
    headers = getattr(response, "headers", None) or {}
    retry_after = headers.get("Retry-After") if hasattr(headers, "get") else None
    return status, error if isinstance(error, str) else None, retry_after


def slack_client(token: str, base_url: str, session: aiohttp.ClientSession) -> AsyncWebClient:
    # retry_handlers=[]: slack_sdk must never repeat a call by itself (see the module doc).
    return AsyncWebClient(token=token, base_url=base_url, session=session, retry_handlers=[])


@dataclass
class BotIdentity:
    user_id: str = ""
    team_id: str = ""
    bot_id: str = ""


class SlackApi:
    def __init__(self, client: AsyncWebClient, timeout: float = CALL_TIMEOUT) -> None:
        self.client = client
        self.timeout = timeout
        self.identity = BotIdentity()
        self._identity_lock = asyncio.Lock()

    async def call(self, method: str, **kwargs: Any) -> Mapping[str, Any]:
        """One Web API call within the timeout; the response's data."""
        function = getattr(self.client, method)
        response = await asyncio.wait_for(function(**kwargs), self.timeout)
        data = response.data
        return data if isinstance(data, dict) else {}

    # ------------------------------------------------------------------ who we are

    async def bot_user_id(self, fallback: str = "") -> str:
        """Our bot's user id (auth.test, asked once); `fallback` while Slack cannot say."""
        if self.identity.user_id:
            return self.identity.user_id
        async with self._identity_lock:
            if not self.identity.user_id:
                try:
                    data = await self.call("auth_test")
                except (SlackApiError, aiohttp.ClientError, asyncio.TimeoutError) as exc:
                    log.warning("Slack auth.test failed: %s", exc)
                    return fallback
                self.identity = BotIdentity(
                    str(data.get("user_id") or ""), str(data.get("team_id") or ""), str(data.get("bot_id") or "")
                )
        return self.identity.user_id or fallback

    # ------------------------------------------------------------------ people

    async def display_name(self, user: str) -> str | None:
        data = await self.call("users_info", user=user)
        person = data.get("user")
        if not isinstance(person, Mapping):
            return None
        raw_profile = person.get("profile")
        profile: Mapping[str, Any] = raw_profile if isinstance(raw_profile, Mapping) else {}
        for candidate in (
            profile.get("display_name"),
            profile.get("real_name"),
            person.get("real_name"),
            person.get("name"),
        ):
            if isinstance(candidate, str) and candidate.strip():
                return candidate.strip()[:200]
        return None

    async def tell(self, channel: str, user: str, thread_ts: str | None, text: str) -> None:
        """A message only `user` sees (chat.postEphemeral): nothing is stored."""
        await self.call("chat_postEphemeral", channel=channel, user=user, thread_ts=thread_ts, text=text)

    async def open_view(self, trigger_id: str, view: Mapping[str, Any]) -> None:
        await self.call("views_open", trigger_id=trigger_id, view=dict(view))


class SlackDeliverer:
    """The outbox's delivery side for Slack."""

    channel = CHANNEL_NAME

    def __init__(self, api: SlackApi) -> None:
        self.api = api

    async def deliver(self, recipient: Recipient, message: Outgoing) -> str | None:
        channel, thread_ts = _where(recipient)
        rendered = render(message)
        if not rendered.blocks and not rendered.text.strip():
            return None  # nothing a person could see (e.g. a bot message with custom data only)
        try:
            return await self._post(channel, thread_ts, rendered, message.id, with_blocks=True)
        except BlocksRefused as exc:
            log.warning("Slack refused the blocks of message %s (%s); posting its text", message.id, exc)
            return await self._post(channel, thread_ts, rendered, message.id, with_blocks=False)

    async def _post(
        self, channel: str, thread_ts: str | None, rendered: Rendered, message_id: int, *, with_blocks: bool
    ) -> str:
        arguments: dict[str, Any] = {
            "channel": channel,
            "text": rendered.text,
            "metadata": {"event_type": METADATA_EVENT, "event_payload": {"message_id": message_id}},
            "unfurl_links": False,
            "unfurl_media": False,
        }
        if thread_ts:
            arguments["thread_ts"] = thread_ts
        if with_blocks and rendered.blocks:
            arguments["blocks"] = rendered.blocks
        try:
            data = await self.api.call("chat_postMessage", **arguments)
        except SlackApiError as exc:
            meaning = failure(*_error_of(exc))
            if meaning is None:
                raise  # uncertain: the outbox looks it up before trying again
            if isinstance(meaning, BlocksRefused) and not with_blocks:
                raise Undeliverable(f"Slack: {meaning}") from exc
            raise meaning from exc
        except aiohttp.ClientConnectorError as exc:
            raise RetryLater(f"Slack unreachable: {exc}") from exc
        ts = data.get("ts")
        return str(ts) if ts else ""

    async def find_delivered(self, recipient: Recipient, message: Outgoing) -> str | None:
        channel, thread_ts = _where(recipient)
        async for item in self._recent(channel, thread_ts):
            metadata = item.get("metadata")
            if not isinstance(metadata, Mapping) or metadata.get("event_type") != METADATA_EVENT:
                continue
            payload = metadata.get("event_payload")
            if isinstance(payload, Mapping) and payload.get("message_id") == message.id:
                return str(item.get("ts") or "")
        return None

    async def _recent(self, channel: str, thread_ts: str | None, pages: int = 10) -> AsyncIterator[Mapping[str, Any]]:
        """The DM's latest messages, or the whole thread, with our metadata."""
        cursor: str | None = None
        for _ in range(pages):
            if thread_ts:
                data = await self.api.call(
                    "conversations_replies", channel=channel, ts=thread_ts, limit=200,
                    include_all_metadata=True, cursor=cursor,
                )
            else:
                data = await self.api.call(
                    "conversations_history", channel=channel, limit=200, include_all_metadata=True, cursor=cursor
                )
            for item in data.get("messages") or []:
                if isinstance(item, Mapping):
                    yield item
            meta = data.get("response_metadata")
            cursor = meta.get("next_cursor") if isinstance(meta, Mapping) else None
            if not cursor:
                return


def _where(recipient: Recipient) -> tuple[str, str | None]:
    channel = recipient.address.get("channel")
    if not isinstance(channel, str) or not channel:
        raise Undeliverable("the conversation has no Slack channel")
    thread_ts = recipient.address.get("thread_ts")
    return channel, thread_ts if isinstance(thread_ts, str) and thread_ts else None


class DisplayNames:
    """users.info, cached in memory: a person's name is asked once an hour at most, and a
    failed look-up is not repeated for a minute."""

    def __init__(
        self, api: SlackApi, ttl: float = 3600.0, failure_ttl: float = 60.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.api = api
        self.ttl = ttl
        self.failure_ttl = failure_ttl
        self.clock = clock
        self._cache: dict[str, tuple[str | None, float]] = {}

    def cached(self, user: str) -> str | None:
        entry = self._cache.get(user)
        return entry[0] if entry and entry[1] > self.clock() else None

    def fresh(self, user: str) -> bool:
        entry = self._cache.get(user)
        return entry is not None and entry[1] > self.clock()

    async def fetch(self, user: str) -> str | None:
        if self.fresh(user):
            return self.cached(user)
        try:
            name = await self.api.display_name(user)
        except (SlackApiError, aiohttp.ClientError, asyncio.TimeoutError) as exc:
            log.warning("Slack users.info for %s failed: %s", user, exc)
            self._cache[user] = (None, self.clock() + self.failure_ttl)
            return None
        self._cache[user] = (name, self.clock() + (self.ttl if name else self.failure_ttl))
        return name
