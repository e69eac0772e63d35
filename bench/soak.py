"""Soak: steady conversations through the gateway for a while, the resident memory of every
process each minute, and every failed turn counted.

`make bench` runs a short soak (BENCH_SOAK_MINUTES, default 2); the full one is

    python -m bench.soak --minutes 30 --conversations 10 [--output FILE]

which starts its own private stack (Rasa, the action server and the gateway, as `make run`
starts them, on free ports with a fresh database) with the current model. To find what
grows in the gateway:

    python -m bench.soak --minutes 10 --tracemalloc

(the gateway in the bench's process under tracemalloc; the lines of code that hold more
memory at the end than after a two-minute warm-up).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import aiohttp

from bench.gateway import percentiles
from bench.limits import NO_LIMITS

# One conversation's turns, over and over (a new conversation after each round).
SCRIPT = (
    "hej",
    "vi har inga pengar kvar i kassan, kan vi få lån någonstans?",
    "hur kontaktar jag dem?",
    "finns det något mer?",
    "vi måste varsla personal",
    "vi är 12 anställda",
    "tack för hjälpen",
)
ROOT = Path(__file__).resolve().parent.parent
THINK_SECONDS = 1.0  # a person reads the answer before writing again


def rss_mib(pid: int) -> float:
    """Resident memory of a process and its children, in MiB."""
    total = 0.0
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                total = int(line.split()[1]) / 1024
        children = Path(f"/proc/{pid}/task/{pid}/children")
        if children.exists():
            for child in children.read_text().split():
                total += rss_mib(int(child))
    except FileNotFoundError:
        return 0.0
    return total


async def soak(
    gateway_url: str,
    pids: Callable[[], dict[str, int]],
    minutes: float,
    conversations: int = 10,
    sample_seconds: float = 60.0,
) -> dict[str, Any]:
    """`conversations` steady conversations through the gateway's REST endpoint for
    `minutes`; memory of each process in `pids()` every `sample_seconds`."""
    deadline = time.monotonic() + minutes * 60
    timings: list[float] = []
    failures: list[str] = []
    memory: list[dict[str, Any]] = []
    started = time.monotonic()

    async def conversation(http: aiohttp.ClientSession) -> None:
        while time.monotonic() < deadline:
            sender = f"soak-{uuid.uuid4().hex[:12]}"
            for text in SCRIPT:
                if time.monotonic() >= deadline:
                    return
                begun = time.perf_counter()
                try:
                    async with http.post(f"{gateway_url}/webhooks/rest/webhook",
                                         json={"sender": sender, "message": text}) as response:
                        body = await response.json(content_type=None)
                        if response.status != 200 or not isinstance(body, list) or not body:
                            failures.append(f"{response.status}: {str(body)[:120]}")
                        elif any("svarar inte" in str(m.get("text") or "") for m in body):
                            failures.append("bot unavailable")
                except (aiohttp.ClientError, asyncio.TimeoutError, ValueError) as exc:
                    failures.append(f"{type(exc).__name__}: {exc}")
                timings.append(time.perf_counter() - begun)
                await asyncio.sleep(THINK_SECONDS)

    async def sampler() -> None:
        while True:
            memory.append({"minute": round((time.monotonic() - started) / 60, 1),
                           **{name: round(rss_mib(pid), 1) for name, pid in pids().items()}})
            if time.monotonic() >= deadline:
                return
            await asyncio.sleep(min(sample_seconds, max(0.1, deadline - time.monotonic())))

    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=60)) as http:
        await asyncio.gather(sampler(), *(conversation(http) for _ in range(conversations)))
    names = [k for k in memory[0] if k != "minute"] if memory else []
    growth = {name: round(memory[-1][name] - memory[0][name], 1) for name in names} if memory else {}
    return {
        "minutes": minutes,
        "conversations": conversations,
        "turns": len(timings),
        "failed_turns": len(failures),
        "failures": failures[:20],
        "latency_ms": percentiles(timings),
        "rss_mib_per_minute": memory,
        "rss_growth_mib": growth,
    }


async def soak_private_stack(minutes: float, conversations: int) -> dict[str, Any]:
    """A private stack with the current model, soaked."""
    from scripts.db import seed, upgrade
    from scripts.model import ensure_model
    from scripts.stack import Stack, isolated_settings

    model = ensure_model()
    var_dir = Path(tempfile.mkdtemp(prefix="soak-"))
    settings = isolated_settings(var_dir, {**os.environ, "RASA_TOKEN": "soak-token"})
    upgrade(settings.database_url)
    seed(settings.database_url)
    saved = dict(os.environ)
    os.environ.update(gateway_environment(settings))
    stack = Stack(settings, model, with_gateway=True, log_dir=var_dir / "logs")
    try:
        stack.start(timeout=600)
        os.environ.clear()
        os.environ.update(saved)
        url = f"http://{settings.gateway_host}:{settings.gateway_port}"
        return await soak(url, lambda: {n: p.pid for n, p in stack.processes.items() if p.running()},
                          minutes, conversations)
    finally:
        os.environ.clear()
        os.environ.update(saved)
        stack.stop()


async def traced(gateway_url: str, minutes: float, conversations: int, warmup_minutes: float = 2.0,
                 top: int = 15) -> dict[str, Any]:
    """`soak` of a gateway running in this process, under tracemalloc after a warm-up: the
    report adds the lines of code that hold more memory at the end than after the warm-up
    (`grown_since_warmup`). Allocations made for the bench's own clients (a frame in
    bench/) are left out."""
    import tracemalloc

    here = {"bench and gateway": os.getpid()}
    await soak(gateway_url, lambda: here, warmup_minutes, conversations)
    tracemalloc.start(12)
    try:
        first = tracemalloc.take_snapshot()
        report = await soak(gateway_url, lambda: here, minutes, conversations)
        last = tracemalloc.take_snapshot()
    finally:
        tracemalloc.stop()
    own = [tracemalloc.Filter(False, tracemalloc.__file__)]
    rows: list[dict[str, Any]] = []
    for stat in last.filter_traces(own).compare_to(first.filter_traces(own), "traceback"):
        frames = [f"{f.filename.split('site-packages/')[-1].removeprefix(str(ROOT) + '/')}:{f.lineno}"
                  for f in stat.traceback]
        if stat.size_diff <= 0 or any(f.startswith("bench/") for f in frames):
            continue
        # The innermost frames: where the memory was allocated, and what called it.
        rows.append({"kib": round(stat.size_diff / 1024, 1), "blocks": stat.count_diff, "where": frames[-6:][::-1]})
        if len(rows) == top:
            break
    report["grown_since_warmup"] = rows
    return report


async def soak_traced(minutes: float, conversations: int) -> dict[str, Any]:
    """`traced` against a private Rasa and action server with the current model (slower than
    the plain soak, since tracemalloc records every allocation: for finding what grows,
    not for figures)."""
    from bench.gateway import bench_gateway, private_rasa

    with private_rasa() as rasa:  # its start blocks the loop: nothing else runs yet
        async with bench_gateway(rasa.url, rasa.token, in_process=True) as (url, _, _):
            return await traced(url, minutes, conversations)


def gateway_environment(settings: Any) -> dict[str, str]:
    """What a bench stack's gateway and action server read from the environment."""
    return {
        "DATABASE_URL": settings.database_url,
        "VAR_DIR": str(settings.var_dir),
        "RASA_TOKEN": settings.rasa_token,
        "RASA_PORT": str(settings.rasa_port),
        "ACTION_SERVER_PORT": str(settings.action_server_port),
        "GATEWAY_PORT": str(settings.gateway_port),
        "OPENING_HOURS": "always",
        **NO_LIMITS,
        "RATE_LIMIT_WINDOW_SECONDS": "1",
        "SESSION_SECRET": "bench-session-secret",
        "LOG_LEVEL": "WARNING",
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.soak", description=__doc__)
    parser.add_argument("--minutes", type=float, default=30)
    parser.add_argument("--conversations", type=int, default=10)
    parser.add_argument("--output", type=Path)
    parser.add_argument("--tracemalloc", action="store_true",
                        help="gateway in this process under tracemalloc: which lines hold more memory at the end")
    args = parser.parse_args(argv)
    if args.tracemalloc:
        report = asyncio.run(soak_traced(args.minutes, args.conversations))
    else:
        report = asyncio.run(soak_private_stack(args.minutes, args.conversations))
    text = json.dumps(report, indent=2, ensure_ascii=False)
    if args.output:
        args.output.write_text(text + "\n")
    print(text)
    return 1 if report["failed_turns"] else 0


if __name__ == "__main__":
    sys.exit(main())
