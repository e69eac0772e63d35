"""The admin pages' own application keys."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

from aiohttp import web

from content.metrics import bench_f1

# Per-intent F1 of the active model for the intent list. The default reads the last
# `make bench`; the training pipeline replaces it with its latest evaluation.
F1Source = Callable[[web.Application], Awaitable[dict[str, float]]]


async def bench_f1_source(app: web.Application) -> dict[str, float]:
    return await asyncio.to_thread(bench_f1)


f1_source_key: web.AppKey[F1Source] = web.AppKey("f1_source")
