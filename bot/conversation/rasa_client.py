"""Client for the Rasa server (REST channel and tracker events API), reachable only here."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

import aiohttp

log = logging.getLogger(__name__)


class RasaUnavailable(Exception):
    """Rasa did not answer (down, timeout, or an error status)."""


class RasaClient:
    def __init__(self, session: aiohttp.ClientSession, base_url: str, token: str, timeout: float) -> None:
        self._session = session
        self._base = base_url.rstrip("/")
        self._token = token
        self._timeout = aiohttp.ClientTimeout(total=timeout)

    @property
    def base_url(self) -> str:
        return self._base

    def use(self, base_url: str) -> None:
        """Send new turns to another Rasa server; calls under way finish where they began."""
        self._base = base_url.rstrip("/")

    async def send(self, sender: str, message: str, metadata: dict[str, Any] | None = None) -> list[dict[str, Any]]:
        """One user turn through Rasa's REST channel; returns the bot's messages."""
        body: dict[str, Any] = {"sender": sender, "message": message}
        if metadata:
            body["metadata"] = metadata
        data = await self._post(f"{self._base}/webhooks/rest/webhook", body, params=None)
        if not isinstance(data, list):
            raise RasaUnavailable(f"unexpected webhook answer: {type(data).__name__}")
        return [m for m in data if isinstance(m, dict)]

    async def parse(self, text: str) -> dict[str, Any]:
        """What the NLU makes of a text (intent ranking, entities), without touching any
        conversation: Rasa's `POST /model/parse`."""
        data = await self._post(f"{self._base}/model/parse", {"text": text}, params={"token": self._token})
        if not isinstance(data, dict):
            raise RasaUnavailable(f"unexpected parse answer: {type(data).__name__}")
        return data

    async def append_events(self, sender: str, events: list[dict[str, Any]]) -> None:
        """Append events (pause, resume, an advisor's `bot` utterance) to the tracker."""
        url = f"{self._base}/conversations/{sender}/tracker/events"
        await self._post(url, events, params={"token": self._token, "include_events": "NONE"})

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
        await self.append_events(sender, [{"event": "rewind"}])

    async def healthy(self) -> bool:
        """Whether this Rasa server answers at all (its root route, no token needed)."""
        return await self.reachable(f"{self._base}/")

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

    async def _post(self, url: str, body: Any, params: dict[str, str] | None) -> Any:
        try:
            async with self._session.post(url, json=body, params=params, timeout=self._timeout) as response:
                if response.status >= 400:
                    raise RasaUnavailable(f"Rasa answered {response.status} for {url}")
                return await response.json(content_type=None)
        except (aiohttp.ClientError, asyncio.TimeoutError, ValueError) as exc:
            raise RasaUnavailable(f"{type(exc).__name__}: {exc}") from exc
