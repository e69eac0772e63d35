"""Rate limits as token buckets: at most `capacity` events per `window` seconds, refilled
smoothly. Plain functions and in-memory state; the gateway keeps the same buckets in Redis
when several gateways share the load (bot/web/limits.py)."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Limit:
    """`capacity` events per `window` seconds."""

    capacity: int
    window: float

    @property
    def rate(self) -> float:
        return self.capacity / self.window


@dataclass
class TokenBucket:
    capacity: int
    window: float
    tokens: float = field(init=False)
    updated: float | None = field(init=False, default=None)

    def __post_init__(self) -> None:
        self.tokens = float(self.capacity)

    def _refill(self, now: float) -> None:
        rate = self.capacity / self.window
        if self.updated is not None:
            self.tokens = min(self.capacity, self.tokens + max(0.0, now - self.updated) * rate)
        self.updated = now

    def full_at(self, now: float) -> bool:
        """Whether the bucket has refilled by `now`: then it is the same as a new one."""
        if self.updated is None:
            return True
        return self.tokens + max(0.0, now - self.updated) * (self.capacity / self.window) >= self.capacity

    def take(self, now: float, cost: int = 1) -> float:
        """Take `cost` tokens at monotonic time `now` (0 only looks).

        Returns 0.0 when allowed, else the seconds to wait before the next token."""
        self._refill(now)
        need = max(cost, 1)
        if self.tokens >= need:
            self.tokens -= cost
            return 0.0
        return (need - self.tokens) / (self.capacity / self.window)


class BucketMap:
    """Token buckets by key (e.g. REST sender + address). A bucket that has refilled is
    forgotten (it is the same as a new one; Redis lets such keys expire likewise), so the
    map holds the keys active within about a window, and never more than `max_keys`
    (then the least recently used go first)."""

    def __init__(self, capacity: int, window: float, max_keys: int = 10_000) -> None:
        self.capacity = capacity
        self.window = window
        self.max_keys = max_keys
        self._buckets: dict[str, TokenBucket] = {}

    def take(self, key: str, now: float, cost: int = 1) -> float:
        bucket = self._buckets.pop(key, None) or TokenBucket(self.capacity, self.window)
        waited = bucket.take(now, cost)
        # Least recently used first: look at the oldest keys, forget those refilled (or
        # beyond `max_keys`), stop at the first still in use. One take forgets as many as
        # it finds, so the map follows the keys in use.
        while self._buckets:
            oldest = next(iter(self._buckets))
            if len(self._buckets) < self.max_keys and not self._buckets[oldest].full_at(now):
                break
            del self._buckets[oldest]
        self._buckets[key] = bucket  # most recently used last
        return waited

    def __len__(self) -> int:
        return len(self._buckets)

    def forget(self, key: str) -> None:
        self._buckets.pop(key, None)


# ---------------------------------------------------------------- what is limited

# Each scope is one family of buckets; the key says whose bucket (an address, a Slack
# workspace and user, "all").
MESSAGES_ADDRESS = "msg-addr"  # messages (widget, REST) from one client address
MESSAGES_SENDER = "msg-sender"  # messages of one REST sender from one address
MESSAGES_USER = "msg-user"  # messages from one Slack or Teams user (platform addresses are shared)
MESSAGES_GLOBAL = "msg-all"  # every company message the gateway accepts
HANDOFFS = "handoff"  # requests for an advisor from one address or platform user
CONNECTIONS = "conn-addr"  # new widget WebSockets from one address
LOGIN_PAIR = "login-pair"  # failed logins of one account from one address
LOGIN_ACCOUNT = "login-acct"  # failed logins of one account from anywhere
LOGIN_ADDRESS = "login-addr"  # failed logins from one address, any account


@dataclass(frozen=True)
class LoginPolicy:
    """Failed logins only are counted, so that a correct password is never refused because
    someone else guessed. The pair (account, address) is throttled hardest: a guesser from
    one address slows down only their own guesses, not the advisor elsewhere nor colleagues
    behind the same address. The account and the address alone have wider limits (against
    guessing one account from many addresses, or many accounts from one). Every limit is a
    refilling bucket, so a wait is seconds, never a lockout."""

    pair: Limit = Limit(5, 300)
    account: Limit = Limit(20, 300)
    address: Limit = Limit(50, 300)

    def keys(self, account: str, address: str) -> list[tuple[str, str, Limit]]:
        account = account.strip().lower()[:254]
        return [
            (LOGIN_PAIR, f"{account}|{address}", self.pair),
            (LOGIN_ACCOUNT, account, self.account),
            (LOGIN_ADDRESS, address, self.address),
        ]


def retry_after(wait: float) -> int:
    """Whole seconds for a Retry-After header (at least 1)."""
    return max(1, int(-(-wait // 1)))
