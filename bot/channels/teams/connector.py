"""Delivery to Teams through the Bot Connector REST API (the outbox's Deliverer).

`POST {serviceUrl}/v3/conversations/{conversationId}/activities/{replyToId}` for a bot
reply to a company message, `…/activities` for everything else (advisor replies, notices,
the greeting), with the bot's client-credentials token. The address is re-checked against
`TEAMS_ALLOWED_SERVICE_URLS` before every call and redirects are never followed, so the
token only ever goes to a Connector the settings allow.

What the outbox is told:

| Connector answer | outbox |
|---|---|
| 2xx | sent (the activity id the Connector returns) |
| 429, 5xx, connection refused, no token | RetryLater (with Retry-After when given) |
| 401 | RetryLater, with a fresh token next time |
| 403, 404 (bot removed, conversation gone), 400, 413 (refused as malformed or too large) | Undeliverable |

A bot reply whose `replyToId` the Connector does not know (404) is posted once more into
the conversation itself (`…/activities`) before it is given up.
| anything else, a timeout or a connection cut mid-call | uncertain (the call may have been taken) |

The Connector cannot look a posted activity up (there is no "get activity" operation and
it assigns the ids itself), so `find_delivered` answers None: after a call cut off after
Teams took the message, that one message may be shown twice. Everything else is
delivered exactly once, in order.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Sequence
from dataclasses import replace
from urllib.parse import quote

import aiohttp

from bot.channels.teams.activity import HASHED_ID_PREFIX, Address
from bot.channels.teams.oauth import BotToken, TokenUnavailable
from bot.channels.teams.render import render
from bot.channels.teams.service_urls import is_allowed
from bot.conversation.outbox import Outgoing, Recipient, RetryLater, Undeliverable

log = logging.getLogger(__name__)

CHANNEL_NAME = "teams"
TIMEOUT_SECONDS = 20.0
REFUSED_FOR_GOOD = {400, 403, 404, 413}


class ConnectorError(Exception):
    """An answer that does not say whether the Connector took the activity."""


def activities_url(address: Address, reply_to: str | None) -> str:
    base = address.service_url.rstrip("/")
    url = f"{base}/v3/conversations/{quote(address.conversation_id, safe='')}/activities"
    return f"{url}/{quote(reply_to, safe='')}" if reply_to else url


class TeamsDeliverer:
    def __init__(
        self,
        http: aiohttp.ClientSession,
        token: BotToken,
        allowed_service_urls: Sequence[str],
        max_chars: int = 2000,
    ) -> None:
        self.http = http
        self.token = token
        self.allowed_service_urls = tuple(allowed_service_urls)
        self.max_chars = max_chars

    @property
    def channel(self) -> str:
        return CHANNEL_NAME

    async def deliver(self, recipient: Recipient, message: Outgoing) -> str | None:
        address = Address.from_json(recipient.address)
        if address is None:
            raise Undeliverable("the conversation has no Teams address")
        if not is_allowed(address.service_url, self.allowed_service_urls):
            # Checked when the activity came in; checked again because the settings may
            # have changed since. The token is never sent to an address outside them.
            raise Undeliverable(f"serviceUrl {address.service_url!r} is not in TEAMS_ALLOWED_SERVICE_URLS")
        try:
            token = await self.token.get()
        except TokenUnavailable as exc:
            raise RetryLater(f"no bot token: {exc}", exc.after) from exc
        reply_to = message.reply_to_client_id
        if reply_to and reply_to.startswith(HASHED_ID_PREFIX):
            reply_to = None  # not a Teams activity id
        status, retry_after, raw = await self._post(address, replace(message, reply_to_client_id=reply_to), token)
        if reply_to and status == 404:
            # The activity answered is unknown to the Connector (so nothing was posted):
            # post into the conversation instead of losing the reply.
            status, retry_after, raw = await self._post(address, replace(message, reply_to_client_id=None), token)
        if 200 <= status < 300:
            return _activity_id(raw)
        if status == 401:
            self.token.forget(token)
            raise RetryLater("the Bot Connector refused the bot's token")
        if status == 429 or status >= 500:
            raise RetryLater(f"Bot Connector answered HTTP {status}", retry_after)
        if status in REFUSED_FOR_GOOD:
            raise Undeliverable(f"Bot Connector answered HTTP {status}: {raw[:300]!r}")
        raise ConnectorError(f"Bot Connector answered HTTP {status}")

    async def _post(self, address: Address, message: Outgoing, token: str) -> tuple[int, float | None, bytes]:
        try:
            async with self.http.post(
                activities_url(address, message.reply_to_client_id),
                json=render(message, address, self.max_chars),
                headers={"Authorization": f"Bearer {token}"},
                timeout=aiohttp.ClientTimeout(total=TIMEOUT_SECONDS),
                allow_redirects=False,
            ) as response:
                return response.status, _seconds(response.headers.get("Retry-After")), await response.read()
        except aiohttp.ClientConnectorError as exc:
            # The connection was never made: the Connector certainly has nothing.
            raise RetryLater(f"Bot Connector unreachable: {exc}") from exc

    async def find_delivered(self, recipient: Recipient, message: Outgoing) -> str | None:
        """The Connector offers no way to find an activity we may have posted."""
        return None


def _activity_id(raw: bytes) -> str | None:
    try:
        data = json.loads(raw) if raw else None
    except ValueError:
        return None
    if isinstance(data, dict) and isinstance(data.get("id"), str):
        return str(data["id"])[:255]
    return None


def _seconds(header: str | None) -> float | None:
    if header is None:
        return None
    try:
        return max(0.0, float(header))
    except ValueError:
        return None
