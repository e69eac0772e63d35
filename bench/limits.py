"""The gateway's abuse limits lifted for a benchmark: every simulated client comes from
127.0.0.1, so the per-address, global and connection limits (docs/hardening.md) would
measure the limiter instead of the gateway."""

from __future__ import annotations

NO_LIMITS: dict[str, str] = {
    "RATE_LIMIT_MESSAGES": "1000000",
    "RATE_LIMIT_ADDRESS_MESSAGES": "1000000",
    "RATE_LIMIT_GLOBAL_MESSAGES": "1000000",
    "RATE_LIMIT_HANDOFFS": "1000000",
    "RATE_LIMIT_CONNECTIONS": "1000000",
    "MAX_SOCKETS_PER_ADDRESS": "1000000",
}
