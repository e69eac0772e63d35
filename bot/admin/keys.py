"""The admin pages' own application keys."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from pathlib import Path

from aiohttp import web

from bot.web.keys import db_key
from content.metrics import bench_f1
from training.registry import evaluation_of_active
from training.runner import Runner, Tools

# Per-intent F1 of the active model for the intent list: its evaluation on the held-out
# set (training/), or the last `make bench` while the active model has none.
F1Source = Callable[[web.Application], Awaitable[dict[str, float]]]


async def bench_f1_source(app: web.Application) -> dict[str, float]:
    return await asyncio.to_thread(bench_f1)


async def training_f1_source(app: web.Application) -> dict[str, float]:
    async with app[db_key]() as session:
        evaluation = await session.run_sync(evaluation_of_active)
    figures = (evaluation or {}).get("per_intent_f1") or {}
    if figures:
        return {str(k): float(v) for k, v in figures.items()}
    return await bench_f1_source(app)


f1_source_key: web.AppKey[F1Source] = web.AppKey("f1_source")
# The background training (one per gateway; the database keeps it to one at a time).
training_runner_key: web.AppKey[Runner] = web.AppKey("training_runner", Runner)
# How the runner calls Rasa; tests set a fake before the app starts.
training_tools_key: web.AppKey[Tools] = web.AppKey("training_tools", Tools)
# The held-out referral set's file (tests use their own copy).
training_heldout_key: web.AppKey[Path] = web.AppKey("training_heldout", Path)
