"""Retrain-to-live and swap figures for `make bench` (issue 8):

* from "train" to "active" for a one-example edit: an example is added to the shipped
  content, the job runner trains (the fast path it chooses: fine-tuning the active
  model), evaluates, and the model is activated through the supervisor's swap; the time
  until the gateway's serving row names the new model, with the time of each stage;
* failed or stalled (over 2 s) turns during a swap while 10 clients keep talking to the
  gateway: the activation of the new model and the rollback to the old one.

A private copy of the stack (own var/, database and free ports); the shipped model is
linked into its own model directory. Needs the trained model (`make model`).

    .venv/bin/python -m bench.training [--clients 10] [--output FILE]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import secrets
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp
from sqlalchemy import select

from bench.limits import NO_LIMITS
from content.models import Example, Intent
from content.validation import example_key
from core import serving
from core.db import AsyncDatabase, make_engine, make_sessionmaker, transaction
from core.editing import Actor
from core.settings import PROJECT_ROOT, Settings
from scripts.db import seed, upgrade
from scripts.model import model_path
from scripts.stack import Stack, isolated_settings
from training import models as m
from training import registry
from training.models import ModelRecord, TrainingJob
from training.runner import Runner, default_tools

STALL_SECONDS = 2.0
EDIT = ("financing", "vi behöver låna till en ny svarv i verkstaden")
# Questions the bot answers itself (nothing that asks for a human or fails twice, which
# would hand the conversation to an advisor and silence the bot).
MESSAGES = ("hej", "vi behöver ett lån till en ny maskin", "vi måste varsla personal", "kan vi skjuta upp skatten?",
            "vi vill börja exportera till Tyskland", "tack för hjälpen")
BENCH = Actor(None, "make bench")
# Turns of one conversation before the client starts another, as companies do (the soak
# bench's conversations are as long). Rasa reads a conversation's whole history on every
# turn, so one endless conversation per client made every turn slower as the bench went
# on (a turn at its 200th message takes about four times as long as at its first), and
# the later of the two swaps looked the worse for it.
CONVERSATION_TURNS = 12


@dataclass
class Load:
    """Turns sent by steady clients: when each started, how long it took, and failures."""

    turns: list[tuple[float, float]] = field(default_factory=list)  # (start, seconds)
    failures: list[tuple[float, str]] = field(default_factory=list)
    silent: list[float] = field(default_factory=list)  # answered 200 without a bot message (a hand-off)

    def timeline(self, start: float, end: float, step: float = 2.0) -> list[list[float]]:
        """[seconds after `start`, turns, p50 ms, slowest ms] per `step` seconds: where in
        a swap the slow turns fall (the load, the switch, the old server's stop)."""
        rows = []
        at = start
        while at < end:
            inside = sorted(s for t, s in self.turns if at <= t < at + step)
            if inside:
                rows.append([round(at - start, 1), len(inside), round(inside[len(inside) // 2] * 1000),
                             round(inside[-1] * 1000)])
            at += step
        return rows

    def during(self, start: float, end: float) -> dict[str, Any]:
        inside = sorted(s for t, s in self.turns if start <= t <= end)
        failed = [f for t, f in self.failures if start <= t <= end]
        return {"turns": len(inside) + len(failed), "failed": len(failed),
                "stalled_over_2s": sum(1 for s in inside if s > STALL_SECONDS),
                "without_bot_reply": sum(1 for t in self.silent if start <= t <= end),
                "p50_ms": round(inside[len(inside) // 2] * 1000) if inside else None,
                "slowest_ms": round(max(inside, default=0.0) * 1000)}


async def steady_load(url: str, clients: int, stop: asyncio.Event, load: Load) -> None:
    hook = f"{url}/webhooks/rest/webhook"

    async def client(n: int) -> None:
        turn = 0
        async with aiohttp.ClientSession() as http:
            while not stop.is_set():
                if turn % CONVERSATION_TURNS == 0:  # the next company's conversation
                    sender = f"bench-swap-{n}-{secrets.token_hex(3)}"
                started = time.monotonic()
                try:
                    async with http.post(hook, json={"sender": sender, "message": MESSAGES[turn % len(MESSAGES)]},
                                         timeout=aiohttp.ClientTimeout(total=30)) as response:
                        body = await response.json()
                        if response.status != 200:
                            raise RuntimeError(f"status {response.status}")
                    load.turns.append((started, time.monotonic() - started))
                    if not body:  # the conversation was handed to an advisor: the bot is silent
                        load.silent.append(started)
                except Exception as exc:  # counted, the client goes on
                    load.failures.append((started, repr(exc)[:200]))
                turn += 1
                await asyncio.sleep(0.5)

    await asyncio.gather(*(client(n) for n in range(clients)))


def _add_example(url: str) -> None:
    engine = make_engine(url)
    with transaction(make_sessionmaker(engine)) as session:
        intent = session.scalar(select(Intent).where(Intent.name == EDIT[0]))
        assert intent is not None
        session.add(Example(intent_id=intent.id, text=EDIT[1], key=example_key(EDIT[1]), source="admin"))
    engine.dispose()


async def _wait_active(database: AsyncDatabase, model: str, timeout: float = 900) -> float:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        async with database.sessions() as session:
            current = await serving.current(session)
        if current is not None and current.active_model == model:
            return time.monotonic()
        if current is not None and current.state == serving.FAILED:
            raise RuntimeError(f"the swap failed: {current.message}")
        await asyncio.sleep(0.2)
    raise TimeoutError(f"{model} was not active within {timeout:.0f} s")


async def _activate(database: AsyncDatabase, settings: Settings, file_name: str) -> None:
    async with database.sessions.begin() as session:
        record = await session.run_sync(registry.by_file, file_name)
        if record is None:
            record = await session.run_sync(lambda s: registry.adopt(s, settings.model_dir, file_name, _utc()))
        assert record is not None
        record_id = record.id
        await session.run_sync(lambda s: registry.activate(s, record_id, settings.model_dir, BENCH, _utc()))


def _utc() -> Any:
    import datetime as dt

    return dt.datetime.now(dt.timezone.utc)


async def measure(stack: Stack, settings: Settings, base: str, clients: int) -> dict[str, Any]:
    database = AsyncDatabase(settings.database_url)
    try:
        runner = Runner(database.sessions, settings.model_dir, settings.var_dir / "training", default_tools())
        _add_example(settings.database_url)
        clicked = time.monotonic()
        job_id = await runner.start(BENCH)
        await runner.wait(job_id)
        async with database.sessions() as session:
            job = await session.get(TrainingJob, job_id)
        assert job is not None
        if job.state != m.SUCCEEDED or not job.model_file:
            raise RuntimeError(f"the training failed: {job.message} {job.problems} {job.log_tail[-2000:]}")
        trained = time.monotonic()
        async with database.sessions() as session:
            record = await session.scalar(select(ModelRecord).where(ModelRecord.file_name == job.model_file))
        gateway = f"http://{settings.gateway_host}:{settings.gateway_port}"

        load, stop = Load(), asyncio.Event()
        traffic = asyncio.create_task(steady_load(gateway, clients, stop, load))
        steady_from = time.monotonic()
        await asyncio.sleep(30)  # the steady state without a swap, for comparison
        swap_started = time.monotonic()
        await _activate(database, settings, job.model_file)
        active = await _wait_active(database, job.model_file)
        await asyncio.sleep(settings.rasa_timeout_seconds + 6)  # the old server retires under load
        rollback_started = time.monotonic()
        await _activate(database, settings, base)
        rolled_back = await _wait_active(database, base)
        await asyncio.sleep(settings.rasa_timeout_seconds + 6)
        stop.set()
        await traffic
        end = time.monotonic()
        return {
            "one_example_edit": {
                "mode": job.mode,
                # The job plus the swap; not the 30 s of steady traffic the bench waits
                # between them to have a baseline for the swap figures below.
                "train_to_active_seconds": round((trained - clicked) + (active - swap_started), 1),
                "training_job_seconds": round(trained - clicked, 1),
                "rasa_train_seconds": record.training_seconds if record else None,
                "swap_seconds": round(active - swap_started, 1),
                "held_out_accuracy": (record.evaluation or {}).get("accuracy") if record else None,
            },
            "swap_under_load": {
                "clients": clients,
                "without_swap": load.during(steady_from, swap_started),
                "activation": load.during(swap_started, rollback_started),
                "rollback": load.during(rollback_started, end),
                "rollback_seconds": round(rolled_back - rollback_started, 1),
                # Each swap from its request: the new server is active after `*_seconds`
                # and the old one stops RASA_TIMEOUT_SECONDS + 5 s later.
                "activation_timeline": load.timeline(swap_started, rollback_started),
                "rollback_timeline": load.timeline(rollback_started, end),
                "failures": [f for _, f in load.failures][:10],
            },
            "uptime": Path("/proc/loadavg").read_text().split()[:3] if Path("/proc/loadavg").exists() else None,
        }
    finally:
        await database.dispose()


def run(clients: int = 10) -> dict[str, Any]:
    base = model_path()
    if not base.exists():
        raise SystemExit(f"No trained model ({base.name}): run `make model` first.")
    var_dir = Path(tempfile.mkdtemp(prefix="bench-training-"))
    model_dir = var_dir / "models"
    model_dir.mkdir()
    try:
        os.link(base, model_dir / base.name)
    except OSError:  # another file system
        (model_dir / base.name).symlink_to(base)
    env = {**os.environ, "RASA_TOKEN": "bench-token", "MODEL_DIR": str(model_dir), "OPENING_HOURS": "always",
           **NO_LIMITS, "RATE_LIMIT_WINDOW_SECONDS": "1"}
    settings = isolated_settings(var_dir, env)
    upgrade(settings.database_url)
    seed(settings.database_url)
    # The gateway and the action server read their settings from the environment.
    os.environ.update({key: env[key] for key in ("RASA_TOKEN", "MODEL_DIR", "OPENING_HOURS",
                                                 "RATE_LIMIT_WINDOW_SECONDS", *NO_LIMITS)})
    os.environ.update({"DATABASE_URL": settings.database_url, "VAR_DIR": str(var_dir),
                       "RASA_PORT": str(settings.rasa_port), "ACTION_SERVER_PORT": str(settings.action_server_port),
                       "GATEWAY_PORT": str(settings.gateway_port)})
    stack = Stack(settings, model_dir / base.name, with_gateway=True, log_dir=var_dir / "logs")
    stop = threading.Event()

    def supervise() -> None:  # what `make run` does
        while not stop.wait(0.5):
            stack.poll()

    supervisor = threading.Thread(target=supervise, name="supervisor", daemon=True)
    try:
        stack.start(timeout=600)
        supervisor.start()
        return asyncio.run(measure(stack, settings, base.name, clients))
    finally:
        stop.set()
        if supervisor.is_alive():
            supervisor.join()
        stack.stop()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--clients", type=int, default=10)
    parser.add_argument("--output", type=Path, default=PROJECT_ROOT / "bench" / "training.json")
    args = parser.parse_args(argv)
    figures = run(args.clients)
    args.output.write_text(json.dumps(figures, indent=2, ensure_ascii=False) + "\n")
    print(json.dumps(figures, indent=2, ensure_ascii=False))
    return 0


if __name__ == "__main__":
    sys.exit(main())
