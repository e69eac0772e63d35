"""A token bucket: at most `capacity` events per `window` seconds, refilled smoothly."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class TokenBucket:
    capacity: int
    window: float
    tokens: float = field(init=False)
    updated: float | None = field(init=False, default=None)

    def __post_init__(self) -> None:
        self.tokens = float(self.capacity)

    def take(self, now: float) -> float:
        """Take one token at monotonic time `now`.

        Returns 0.0 when allowed, else the seconds to wait before the next token.
        """
        rate = self.capacity / self.window
        if self.updated is not None:
            self.tokens = min(self.capacity, self.tokens + (now - self.updated) * rate)
        self.updated = now
        if self.tokens >= 1:
            self.tokens -= 1
            return 0.0
        return (1 - self.tokens) / rate


class BucketMap:
    """Token buckets by key (e.g. REST sender + address), forgetting the oldest keys."""

    def __init__(self, capacity: int, window: float, max_keys: int = 10_000) -> None:
        self.capacity = capacity
        self.window = window
        self.max_keys = max_keys
        self._buckets: dict[str, TokenBucket] = {}

    def take(self, key: str, now: float) -> float:
        bucket = self._buckets.pop(key, None) or TokenBucket(self.capacity, self.window)
        self._buckets[key] = bucket  # most recently used last
        while len(self._buckets) > self.max_keys:
            del self._buckets[next(iter(self._buckets))]
        return bucket.take(now)
