"""Client for the Rasa server (REST channel and tracker events API), reachable only here."""

from __future__ import annotations

import asyncio
import logging
import zlib
from collections.abc import Sequence
from typing import Any

import aiohttp

from core.settings import RASA_CHANNEL_HEADER

log = logging.getLogger(__name__)


class RasaUnavailable(Exception):
    """Rasa did not answer (down, timeout, or an error status)."""


class RasaUnreachable(RasaUnavailable):
    """Nothing listens at that Rasa address: safe to try another server of the pool, since
    the turn never started."""


class RasaClient:
    def __init__(
        self,
        session: aiohttp.ClientSession,
        base_url: str,
        token: str,
        timeout: float,
        pool: Sequence[str] = (),
    ) -> None:
        self._session = session
        self._base = base_url.rstrip("/")
        self._token = token
        self._timeout = aiohttp.ClientTimeout(total=timeout)
        # Several Rasa servers sharing one tracker store: each conversation has a home
        # server (fewer lock waits) and moves to the next when its home is gone. A pool
        # given here (RASA_URLS, servers on other machines) is fixed; one named by the
        # serving row follows it (`use`).
        self._pool = [url.rstrip("/") for url in pool if url.strip()]
        self._fixed = bool(self._pool)

    @property
    def base_url(self) -> str:
        return self._base

    @property
    def pooled(self) -> bool:
        """Whether this client spreads conversations over a fixed pool of Rasa servers
        (then the serving row's address is not followed)."""
        return self._fixed

    def servers_for(self, sender: str) -> list[str]:
        """The Rasa servers to try for a conversation, its home server first."""
        if not self._pool:
            return [self._base]
        home = zlib.crc32(sender.encode()) % len(self._pool)
        return self._pool[home:] + self._pool[:home]

    def use(self, *urls: str) -> None:
        """Send new turns to other Rasa servers (one, or several sharing the tracker store);
        calls under way finish where they began."""
        servers = [url.rstrip("/") for url in urls if url.strip()]
        if not servers:
            return
        self._base = servers[0]
        self._pool = servers if len(servers) > 1 else []

    async def send(self, sender: str, message: str, metadata: dict[str, Any] | None = None) -> list[dict[str, Any]]:
        """One user turn through Rasa's REST channel; returns the bot's messages."""
        body: dict[str, Any] = {"sender": sender, "message": message}
        if metadata:
            body["metadata"] = metadata
        data = await self._post_to(sender, "/webhooks/rest/webhook", body, params=None)
        if not isinstance(data, list):
            raise RasaUnavailable(f"unexpected webhook answer: {type(data).__name__}")
        return [m for m in data if isinstance(m, dict)]

    async def parse(self, text: str) -> dict[str, Any]:
        """What the NLU makes of a text (intent ranking, entities), without touching any
        conversation: Rasa's `POST /model/parse`."""
        data = await self._post_to("", "/model/parse", {"text": text}, params={"token": self._token})
        if not isinstance(data, dict):
            raise RasaUnavailable(f"unexpected parse answer: {type(data).__name__}")
        return data

    async def append_events(self, sender: str, events: list[dict[str, Any]]) -> None:
        """Append events (pause, resume, an advisor's `bot` utterance) to the tracker."""
        path = f"/conversations/{sender}/tracker/events"
        await self._post_to(sender, path, events, params={"token": self._token, "include_events": "NONE"})

    async def pause(self, sender: str) -> None:
        await self.append_events(sender, [{"event": "pause"}])

    async def resume(self, sender: str) -> None:
        # The bot paused inside its hand-off action, so no action_listen followed; without
        # one the next user turn matches no rule and falls back. Listen again explicitly.
        await self.append_events(
            sender, [{"event": "resume"}, {"event": "action", "name": "action_listen"}]
        )

    async def rewind(self, sender: str) -> None:
        """Undo the latest user turn in the tracker (Rasa's `rewind` event): used when Rasa
        took a message but its custom action failed, so that sending it again later does
        not leave the unanswered copy in the conversation's history."""
        # A rewind also takes away the listen before the user turn (Rasa assumes one
        # follows, as after its two-stage fallback): listen again, or the next message
        # would be predicted as nothing but another listen.
        await self.append_events(sender, [{"event": "rewind"}, {"event": "action", "name": "action_listen"}])

    async def last_user_seq(self, sender: str) -> int | None:
        """The gateway's sequence number of the latest user turn in Rasa's tracker (from
        its metadata), or None when there is none. Raises RasaUnavailable."""
        url = f"{self.servers_for(sender)[0]}/conversations/{sender}/tracker"
        try:
            async with self._session.get(url, params={"token": self._token}, timeout=self._timeout) as response:
                if response.status >= 400:
                    raise RasaUnavailable(f"Rasa answered {response.status} for {url}")
                data = await response.json(content_type=None)
        except (aiohttp.ClientError, asyncio.TimeoutError, ValueError) as exc:
            raise RasaUnavailable(f"{type(exc).__name__}: {exc}") from exc
        events = data.get("events") if isinstance(data, dict) else None
        for event in reversed(events or []):
            if isinstance(event, dict) and event.get("event") == "rewind":
                return None
            if isinstance(event, dict) and event.get("event") == "user":
                seq = (event.get("metadata") or {}).get("message_seq")
                return seq if isinstance(seq, int) else None
        return None

    async def healthy(self) -> bool:
        """Whether a Rasa server answers at all (its root route, no token needed)."""
        for base in self.servers_for(""):
            if await self.reachable(f"{base}/"):
                return True
        return False

    async def reachable(self, url: str) -> bool:
        """Whether `url` answers a GET with a status below 500 within a couple of seconds."""
        try:
            async with self._session.get(url, timeout=aiohttp.ClientTimeout(total=2)) as response:
                return response.status < 500
        except (aiohttp.ClientError, asyncio.TimeoutError):
            return False

    async def record_advisor(self, sender: str, text: str, advisor: str) -> None:
        event = {"event": "bot", "text": text, "metadata": {"advisor": advisor}}
        await self.append_events(sender, [event])

    async def _post_to(self, sender: str, path: str, body: Any, params: dict[str, str] | None) -> Any:
        servers = self.servers_for(sender)
        for base in servers[:-1]:
            try:
                return await self._post(base + path, body, params)
            except RasaUnreachable as exc:
                log.warning("Rasa at %s unreachable, trying the next one: %s", base, exc)
        return await self._post(servers[-1] + path, body, params)

    async def _post(self, url: str, body: Any, params: dict[str, str] | None) -> Any:
        try:
            # Every call carries the token for Rasa's REST channel (scripts/rasa_channel.py);
            # the rest of Rasa's API reads it from `params` and ignores the header.
            headers = {RASA_CHANNEL_HEADER: self._token}
            async with self._session.post(
                url, json=body, params=params, headers=headers, timeout=self._timeout
            ) as response:
                if response.status >= 400:
                    raise RasaUnavailable(f"Rasa answered {response.status} for {url}")
                return await response.json(content_type=None)
        except aiohttp.ClientConnectorError as exc:
            raise RasaUnreachable(f"{type(exc).__name__}: {exc}") from exc
        except (aiohttp.ClientError, asyncio.TimeoutError, ValueError) as exc:
            raise RasaUnavailable(f"{type(exc).__name__}: {exc}") from exc
