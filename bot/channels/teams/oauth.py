"""The bot's own token for the Bot Connector (OAuth 2.0 client credentials).

`POST TEAMS_TOKEN_URL` (by default the tenant's Microsoft Entra endpoint,
`https://login.microsoftonline.com/<tenant>/oauth2/v2.0/token`; single-tenant bots are
the norm now) with the app id and secret and the scope
`https://api.botframework.com/.default`. The token is cached until five minutes before it
expires (or half its life, if it is short), one request at a time, and forgotten when the
Connector turns it down.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Callable
from dataclasses import dataclass

import aiohttp

SCOPE = "https://api.botframework.com/.default"
REFRESH_MARGIN_SECONDS = 300.0
TIMEOUT_SECONDS = 15.0


class TokenUnavailable(Exception):
    """No token: the login service is down, or refused the app's credentials."""

    def __init__(self, reason: str, after: float | None = None) -> None:
        super().__init__(reason)
        self.after = after


@dataclass(frozen=True)
class _Cached:
    token: str
    refresh_at: float


class BotToken:
    def __init__(
        self,
        http: aiohttp.ClientSession,
        token_url: str,
        app_id: str,
        app_password: str,
        *,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.http = http
        self.token_url = token_url
        self.app_id = app_id
        self.app_password = app_password
        self.clock = clock
        self._cached: _Cached | None = None
        self._lock = asyncio.Lock()

    async def get(self) -> str:
        cached = self._cached
        if cached is not None and self.clock() < cached.refresh_at:
            return cached.token
        async with self._lock:
            cached = self._cached
            if cached is not None and self.clock() < cached.refresh_at:
                return cached.token  # fetched by another delivery while this one waited
            self._cached = await self._request()
            return self._cached.token

    def forget(self, token: str) -> None:
        """The Connector refused this token: the next delivery asks for a new one."""
        if self._cached is not None and self._cached.token == token:
            self._cached = None

    async def _request(self) -> _Cached:
        form = {
            "grant_type": "client_credentials",
            "client_id": self.app_id,
            "client_secret": self.app_password,
            "scope": SCOPE,
        }
        started = self.clock()
        try:
            async with self.http.post(
                self.token_url, data=form, timeout=aiohttp.ClientTimeout(total=TIMEOUT_SECONDS)
            ) as response:
                body = await response.read()
                status = response.status
                retry_after = response.headers.get("Retry-After")
        except (aiohttp.ClientError, asyncio.TimeoutError) as exc:
            raise TokenUnavailable(f"token endpoint unreachable: {exc!r}") from exc
        if status != 200:
            after = _seconds(retry_after)
            # The login service's error body names the problem (e.g. invalid_client) and
            # holds no secret; the secret itself is never logged.
            raise TokenUnavailable(f"token endpoint answered HTTP {status}: {body[:300]!r}", after)
        try:
            data = json.loads(body)
            token = data["access_token"]
            lifetime = float(data.get("expires_in", 3600))
        except (ValueError, KeyError, TypeError) as exc:
            raise TokenUnavailable("token endpoint answered without an access token") from exc
        if not isinstance(token, str) or not token:
            raise TokenUnavailable("token endpoint answered without an access token")
        margin = min(REFRESH_MARGIN_SECONDS, lifetime / 2)
        return _Cached(token, started + lifetime - margin)


def _seconds(header: str | None) -> float | None:
    if header is None:
        return None
    try:
        return max(0.0, float(header))
    except ValueError:
        return None
