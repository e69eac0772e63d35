"""Live events between the parts of the gateway, across replicas when Redis is configured.

Events are small JSON-able dicts. They are *nudges*: what matters is stored in the
database, so a lost event only delays a screen update until the next one (or a reconnect).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any, Protocol

log = logging.getLogger(__name__)

Event = dict[str, Any]

CONSOLE = "console"


def conversation_channel(conversation_id: str) -> str:
    return f"conv:{conversation_id}"


def outbox_channel(channel: str) -> str:
    """Where the relay of a channel (slack, teams ...) hears that messages wait for it."""
    return f"outbox:{channel}"


class Subscription:
    """A bounded queue of events for one subscriber; the oldest are dropped on overflow."""

    def __init__(self, channel: str, maxsize: int = 256) -> None:
        self.channel = channel
        self._queue: asyncio.Queue[Event] = asyncio.Queue(maxsize)

    def deliver(self, event: Event) -> None:
        if self._queue.full():
            with contextlib.suppress(asyncio.QueueEmpty):
                self._queue.get_nowait()
        self._queue.put_nowait(event)

    async def get(self) -> Event:
        return await self._queue.get()

    def __aiter__(self) -> AsyncIterator[Event]:
        return self._iterate()

    async def _iterate(self) -> AsyncIterator[Event]:
        while True:
            yield await self._queue.get()


class Hub(Protocol):
    async def start(self) -> None: ...

    async def stop(self) -> None: ...

    async def publish(self, channel: str, event: Event) -> None: ...

    def subscribe(self, channel: str) -> contextlib.AbstractAsyncContextManager[Subscription]: ...


class _LocalFanout:
    """Subscriptions of this process, by channel."""

    def __init__(self) -> None:
        self.subscribers: dict[str, set[Subscription]] = {}

    def add(self, sub: Subscription) -> bool:
        """Register; True if it is the channel's first local subscriber."""
        subs = self.subscribers.setdefault(sub.channel, set())
        subs.add(sub)
        return len(subs) == 1

    def remove(self, sub: Subscription) -> bool:
        """Unregister; True if the channel has no local subscriber left."""
        subs = self.subscribers.get(sub.channel)
        if subs is None:
            return False
        subs.discard(sub)
        if subs:
            return False
        del self.subscribers[sub.channel]
        return True

    def deliver(self, channel: str, event: Event) -> None:
        for sub in list(self.subscribers.get(channel, ())):
            sub.deliver(event)


class MemoryHub:
    """In-process pub/sub: enough for one gateway process."""

    def __init__(self) -> None:
        self._local = _LocalFanout()

    async def start(self) -> None:
        return None

    async def stop(self) -> None:
        return None

    async def publish(self, channel: str, event: Event) -> None:
        self._local.deliver(channel, event)

    @contextlib.asynccontextmanager
    async def subscribe(self, channel: str) -> AsyncIterator[Subscription]:
        sub = Subscription(channel)
        self._local.add(sub)
        try:
            yield sub
        finally:
            self._local.remove(sub)


class RedisHub:
    """Pub/sub through Redis so that several gateway replicas see each other's events.

    One Redis connection per process listens; events are fanned out locally.
    """

    def __init__(self, url: str, prefix: str = "foretagsstod:") -> None:
        import redis.asyncio as redis_asyncio

        self._client = redis_asyncio.from_url(url)
        self._pubsub = self._client.pubsub()
        self._prefix = prefix
        self._local = _LocalFanout()
        self._listener: asyncio.Task[None] | None = None
        self._lock = asyncio.Lock()
        self._degraded = False
        self._missed: set[str] = set()  # subscriptions Redis did not take (it was down)

    async def start(self) -> None:
        # Always subscribed to one channel, so the listener never sees "not subscribed".
        await self._pubsub.subscribe(self._prefix + "_hub")
        self._listener = asyncio.create_task(self._listen(), name="redis-hub-listener")

    async def stop(self) -> None:
        if self._listener is not None:
            self._listener.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._listener
        await self._pubsub.aclose()  # type: ignore[no-untyped-call]
        await self._client.aclose()

    async def publish(self, channel: str, event: Event) -> None:
        """Publish through Redis; while Redis is unreachable, to this process's subscribers
        only (a nudge: what matters is stored, and the turn's own gateway, which holds
        the company's socket in the common case, still sees it)."""
        try:
            await self._client.publish(self._prefix + channel, json.dumps(event))
        except Exception as exc:  # redis.ConnectionError, TimeoutError, a restarting server
            if not self._degraded:
                log.warning("Redis unreachable (%s): live events stay within this process", exc)
            self._degraded = True
            self._local.deliver(channel, event)
            return
        if self._degraded:
            log.warning("Redis reachable again: live events go to every replica")
            self._degraded = False

    @contextlib.asynccontextmanager
    async def subscribe(self, channel: str) -> AsyncIterator[Subscription]:
        sub = Subscription(channel)
        async with self._lock:
            if self._local.add(sub):
                await self._redis_call(self._pubsub.subscribe, self._prefix + channel)
        try:
            yield sub
        finally:
            async with self._lock:
                if self._local.remove(sub):
                    await self._redis_call(self._pubsub.unsubscribe, self._prefix + channel)

    async def _redis_call(self, call: Callable[[str], Awaitable[Any]], name: str) -> None:
        """(Un)subscribe. A subscription Redis did not take (it was down) is made again by
        the listener once Redis answers; channels it took are renewed by redis-py itself
        when its connection comes back."""
        subscribing = call == self._pubsub.subscribe
        if not subscribing:
            self._missed.discard(name)
        try:
            await call(name)
        except Exception as exc:
            log.warning("Redis (un)subscribe of %s failed: %s", name, exc)
            if subscribing:
                self._missed.add(name)

    async def _subscribe_missed(self) -> None:
        async with self._lock:
            for name in list(self._missed):
                self._missed.discard(name)
                await self._redis_call(self._pubsub.subscribe, name)

    async def _listen(self) -> None:
        failing = False
        while True:
            try:
                message = await self._pubsub.get_message(ignore_subscribe_messages=True, timeout=1.0)
            except asyncio.CancelledError:
                raise
            except Exception:
                if not failing:
                    log.exception("Redis pub/sub failed; retrying every second")
                failing = True
                await asyncio.sleep(1)
                continue
            if self._missed:
                await self._subscribe_missed()
            if failing:
                # Events published elsewhere during the outage were lost: every open screen
                # of this process fetches what it missed from the database.
                failing = False
                for channel in list(self._local.subscribers):
                    if channel.startswith("conv:"):
                        self._local.deliver(channel, {"type": "messages"})
                        self._local.deliver(channel, {"type": "status"})
            if not message or message.get("type") != "message":
                continue
            name = message["channel"]
            if isinstance(name, bytes):
                name = name.decode()
            try:
                event = json.loads(message["data"])
            except (TypeError, ValueError):
                continue
            self._local.deliver(name[len(self._prefix) :], event)


def make_hub(redis_url: str | None) -> Hub:
    return RedisHub(redis_url) if redis_url else MemoryHub()
