"""What Rasa's thread and memory settings do: model load time, resident memory and turn
latency of one Rasa server started with given settings (RASA_TF_THREADS,
RASA_MALLOC_ARENA_MAX; see scripts/stack.py `rasa_tuning`).

`make bench` measures the tuned default with the rest of the figures and the untuned
variant here, in the same run (`bench/results.json`, "rasa_footprint").

    python -m bench.rasa_footprint [--variant untuned] [--variant tuned]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from bench.soak import rss_mib

# Settings of each variant (on top of the environment).
VARIANTS: dict[str, dict[str, str]] = {
    "untuned": {"RASA_TF_THREADS": "0", "RASA_MALLOC_ARENA_MAX": "0"},
    "threads_only": {"RASA_TF_THREADS": "1", "RASA_MALLOC_ARENA_MAX": "0"},
    "tuned": {"RASA_TF_THREADS": "1", "RASA_MALLOC_ARENA_MAX": "2"},
}


async def measure(model: Path, overrides: dict[str, str]) -> dict[str, Any]:
    """Start Rasa (and the action server) with `overrides`; load time, memory, latency."""
    from bench.run import latency
    from scripts.db import seed, upgrade
    from scripts.stack import Stack, isolated_settings

    var_dir = Path(tempfile.mkdtemp(prefix="footprint-"))
    settings = isolated_settings(var_dir, {**os.environ, **overrides, "RASA_TOKEN": "footprint-token"})
    upgrade(settings.database_url)
    seed(settings.database_url)
    saved = os.environ.get("DATABASE_URL")
    os.environ["DATABASE_URL"] = settings.database_url  # the action server reads it
    stack = Stack(settings, model, with_gateway=False, log_dir=var_dir / "logs")
    started = time.monotonic()
    try:
        stack.start(timeout=600)
        load_seconds = round(time.monotonic() - started, 1)
        one = await latency(settings.rasa_url, clients=1, conversations_per_client=5, token=settings.rasa_token)
        ten = await latency(settings.rasa_url, clients=10, conversations_per_client=2, token=settings.rasa_token)
        memory = round(rss_mib(stack.processes["rasa"].pid), 1)
    finally:
        stack.stop()
        if saved is None:
            os.environ.pop("DATABASE_URL", None)
        else:
            os.environ["DATABASE_URL"] = saved
    return {"settings": overrides, "model_load_seconds": load_seconds, "rasa_rss_mib": memory,
            "p50_ms_1_client": one["p50_ms"], "turns_per_s_10_clients": ten["turns_per_s"],
            "p95_ms_10_clients": ten["p95_ms"]}


def main(argv: list[str] | None = None) -> int:
    from scripts.model import ensure_model

    parser = argparse.ArgumentParser(prog="python -m bench.rasa_footprint", description=__doc__)
    parser.add_argument("--variant", action="append", choices=sorted(VARIANTS))
    args = parser.parse_args(argv)
    model = ensure_model()
    report = {name: asyncio.run(measure(model, VARIANTS[name])) for name in args.variant or ["untuned", "tuned"]}
    print(json.dumps(report, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
