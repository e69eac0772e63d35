"""The training runner's life in the gateway: built at start-up (after the database), and
at shutdown its running job is stopped and marked interrupted (the model stays as it was)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

from aiohttp import web

from bot.admin.keys import training_heldout_key, training_runner_key, training_tools_key
from bot.web.keys import clock_key, db_key, settings_key
from training.evaluation import HELDOUT_FILE
from training.runner import Runner, default_tools


async def training_runner(app: web.Application) -> AsyncIterator[None]:
    settings = app[settings_key]
    tools = app[training_tools_key] if training_tools_key in app else default_tools()
    heldout = app.get(training_heldout_key, HELDOUT_FILE)
    runner = Runner(app[db_key], settings.model_dir, settings.var_dir / "training", tools, heldout,
                    clock=app[clock_key], epoch_fraction=settings.training_epoch_fraction,
                    config_override=Path(settings.training_config) if settings.training_config else None,
                    database_url=settings.database_url)
    app[training_runner_key] = runner
    yield
    await runner.close()
