"""Rate limits of the gateway: who a client is, and buckets kept in memory or in Redis.

A client is its address (the peer, or the forwarded address when the peer is a configured
trusted proxy), or for Slack and Teams the workspace/tenant and user (those requests all
come from the platforms' own addresses). With `REDIS_URL` set the buckets live in Redis,
shared by every gateway; if Redis fails, each gateway falls back to its own memory for the
time being rather than refusing every company."""

from __future__ import annotations

import ipaddress
import logging
import time
from collections import Counter
from collections.abc import Iterable
from typing import Any, Protocol

from aiohttp import web

from bot.rules import ratelimit
from bot.rules.ratelimit import BucketMap, Limit, LoginPolicy
from core.settings import Settings

log = logging.getLogger(__name__)

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


class Buckets(Protocol):
    async def take(self, scope: str, key: str, limit: Limit, cost: int = 1) -> float: ...

    async def forget(self, scope: str, key: str) -> None: ...

    async def close(self) -> None: ...


class MemoryBuckets:
    """Buckets in this process (one gateway, or a fallback while Redis is away)."""

    def __init__(self, max_keys: int = 50_000) -> None:
        self._maps: dict[tuple[str, Limit], BucketMap] = {}
        self._max_keys = max_keys

    async def take(self, scope: str, key: str, limit: Limit, cost: int = 1) -> float:
        buckets = self._maps.get((scope, limit))
        if buckets is None:
            buckets = self._maps[(scope, limit)] = BucketMap(limit.capacity, limit.window, self._max_keys)
        return buckets.take(key, time.monotonic(), cost)

    async def forget(self, scope: str, key: str) -> None:
        for (map_scope, _), buckets in self._maps.items():
            if map_scope == scope:
                buckets.forget(key)

    async def close(self) -> None:
        return None


# A token bucket in one Redis hash, on Redis's own clock so that gateways agree.
_TAKE = """
local cap = tonumber(ARGV[1])
local rate = tonumber(ARGV[2])
local cost = tonumber(ARGV[3])
local t = redis.call('TIME')
local now = tonumber(t[1]) + tonumber(t[2]) / 1000000
local b = redis.call('HMGET', KEYS[1], 't', 'u')
local tokens = tonumber(b[1])
local updated = tonumber(b[2])
if tokens == nil then tokens = cap; updated = now end
tokens = math.min(cap, tokens + math.max(0, now - updated) * rate)
local need = math.max(cost, 1)
local wait = 0
if tokens >= need then tokens = tokens - cost else wait = (need - tokens) / rate end
redis.call('HSET', KEYS[1], 't', tostring(tokens), 'u', tostring(now))
redis.call('EXPIRE', KEYS[1], math.ceil(cap / rate) + 1)
return tostring(wait)
"""


class RedisBuckets:
    """Buckets shared by every gateway through Redis."""

    def __init__(self, url: str, prefix: str = "foretagsstod:rl:") -> None:
        import redis.asyncio as redis_asyncio

        self._client = redis_asyncio.from_url(url, socket_timeout=1.0, socket_connect_timeout=1.0)
        self._script: Any = self._client.register_script(_TAKE)
        self._prefix = prefix
        self._fallback = MemoryBuckets()

    async def take(self, scope: str, key: str, limit: Limit, cost: int = 1) -> float:
        try:
            raw = await self._script(keys=[f"{self._prefix}{scope}:{key}"], args=[limit.capacity, limit.rate, cost])
            return float(raw)
        except Exception as exc:  # Redis away: limit in this process meanwhile
            log.warning("Redis rate limit unavailable (%s); using this process's memory", type(exc).__name__)
            return await self._fallback.take(scope, key, limit, cost)

    async def forget(self, scope: str, key: str) -> None:
        try:
            await self._client.delete(f"{self._prefix}{scope}:{key}")
        except Exception as exc:
            log.warning("Redis rate limit unavailable (%s)", type(exc).__name__)
        await self._fallback.forget(scope, key)

    async def close(self) -> None:
        await self._client.aclose()


def make_buckets(redis_url: str | None) -> Buckets:
    return RedisBuckets(redis_url) if redis_url else MemoryBuckets()


# ---------------------------------------------------------------- who the client is


def parse_networks(items: Iterable[str]) -> tuple[Network, ...]:
    return tuple(ipaddress.ip_network(item.strip(), strict=False) for item in items if item.strip())


def _in(address: str, networks: tuple[Network, ...]) -> bool:
    try:
        ip = ipaddress.ip_address(address.strip())
    except ValueError:
        return False
    return any(ip in network for network in networks)


def client_address(request: web.Request, trusted: tuple[Network, ...], header: str) -> str:
    """The client's address: the peer, unless the peer is a trusted proxy; then the last
    address in the forwarded header that is not itself a trusted proxy. A client cannot
    choose its address by sending the header itself: it is read only from trusted peers."""
    peer = request.remote or "unknown"
    if not trusted or not _in(peer, trusted):
        return peer
    hops = [hop.strip() for hop in request.headers.get(header, "").split(",") if hop.strip()]
    for hop in reversed(hops):
        if not _in(hop, trusted):
            try:
                return str(ipaddress.ip_address(hop))
            except ValueError:
                return peer  # garbage from the proxy's client: count it as the proxy's
    return peer


# ---------------------------------------------------------------- the gateway's limits


class Limits:
    """Every limit the gateway applies beyond one connection's own bucket."""

    def __init__(self, settings: Settings, buckets: Buckets) -> None:
        self.buckets = buckets
        window = float(settings.rate_limit_window_seconds)
        self.per_address = Limit(settings.rate_limit_address_messages, window)
        self.per_user = Limit(settings.rate_limit_messages, window)
        self.everyone = Limit(settings.rate_limit_global_messages, window)
        self.handoffs = Limit(settings.rate_limit_handoffs, float(settings.rate_limit_handoff_window_seconds))
        self.connections = Limit(settings.rate_limit_connections, 60.0)
        self.max_sockets = settings.max_sockets_per_address
        self.login = LoginPolicy()
        self._trusted = parse_networks(settings.trusted_proxies)
        self._header = settings.trusted_proxy_header
        self._open: Counter[str] = Counter()

    def address(self, request: web.Request) -> str:
        return client_address(request, self._trusted, self._header)

    async def message(self, who: str, *, platform_user: bool = False) -> float:
        """One company message from an address (or a Slack/Teams user); 0.0 when allowed."""
        if platform_user:
            scope, limit = ratelimit.MESSAGES_USER, self.per_user
        else:
            scope, limit = ratelimit.MESSAGES_ADDRESS, self.per_address
        wait = await self.buckets.take(scope, who, limit)
        if wait > 0:
            return wait
        return await self.buckets.take(ratelimit.MESSAGES_GLOBAL, "all", self.everyone)

    async def handoff(self, who: str) -> float:
        """One request for an advisor; 0.0 when allowed."""
        return await self.buckets.take(ratelimit.HANDOFFS, who, self.handoffs)

    async def connection(self, address: str) -> float:
        """One new widget WebSocket; 0.0 when allowed."""
        return await self.buckets.take(ratelimit.CONNECTIONS, address, self.connections)

    def socket_opened(self, address: str) -> bool:
        """Count an open socket of an address; False (not counted) when it has too many."""
        if self._open[address] >= self.max_sockets:
            return False
        self._open[address] += 1
        return True

    def socket_closed(self, address: str) -> None:
        self._open[address] -= 1
        if self._open[address] <= 0:
            del self._open[address]

    async def login_wait(self, account: str, address: str) -> float:
        """Seconds before this account may try again from this address (0.0: now)."""
        waits = [await self.buckets.take(s, k, lim, cost=0) for s, k, lim in self.login.keys(account, address)]
        return max(waits)

    async def login_failed(self, account: str, address: str) -> None:
        for scope, key, limit in self.login.keys(account, address):
            await self.buckets.take(scope, key, limit)

    async def login_succeeded(self, account: str, address: str) -> None:
        scope, key, _ = self.login.keys(account, address)[0]
        await self.buckets.forget(scope, key)

    async def close(self) -> None:
        await self.buckets.close()
