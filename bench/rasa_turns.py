"""Rasa's own throughput: the Rasa server and the action server (no gateway), ten clients
each talking in 20-turn conversations for a while, as fast as Rasa answers. Prints turns
per second, p50 and p95. With `--profile FILE`, py-spy records the Rasa server meanwhile
(raw format; `py-spy` must be on PATH or given with `--py-spy`).

Two commits compared in one sitting: check each out, run this, compare the ratio (turns/s
of the same code varies by about 15 % from one run to the next on a two-core machine).

    python -m bench.rasa_turns [--seconds 60] [--clients 10] [--model PATH] [--profile FILE]
"""

from __future__ import annotations

import argparse
import asyncio
import secrets
import shutil
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import quote

import aiohttp

from bench.gateway import percentiles, private_rasa
from bench.training import MESSAGES

CONVERSATION_TURNS = 20


async def drive(webhook: str, clients: int, seconds: float) -> list[float]:
    latencies: list[float] = []
    end = time.monotonic() + seconds
    async with aiohttp.ClientSession() as http:

        async def client(n: int) -> None:
            turn = 0
            sender = ""
            while time.monotonic() < end:
                if turn % CONVERSATION_TURNS == 0:
                    sender = f"bench-rasa-{n}-{secrets.token_hex(3)}"
                started = time.perf_counter()
                body = {"sender": sender, "message": MESSAGES[turn % len(MESSAGES)]}
                async with http.post(webhook, json=body) as response:
                    await response.read()
                    if response.status != 200:
                        raise RuntimeError(f"Rasa answered {response.status}")
                latencies.append(time.perf_counter() - started)
                turn += 1

        await asyncio.gather(*(client(n) for n in range(clients)))
    return latencies


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.rasa_turns", description=__doc__)
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--clients", type=int, default=10)
    parser.add_argument("--model", type=Path, default=None)
    parser.add_argument("--profile", type=Path, default=None)
    parser.add_argument("--py-spy", default=shutil.which("py-spy") or "py-spy")
    args = parser.parse_args(argv)
    with private_rasa(args.model) as rasa:
        webhook = f"{rasa.url}/webhooks/rest/webhook?token={quote(rasa.token)}"
        asyncio.run(drive(webhook, 1, 3))  # the first turns after the load
        spy = None
        if args.profile is not None:
            spy = subprocess.Popen([args.py_spy, "record", "-p", str(rasa.pid), "-r", "50",
                                    "-d", str(int(args.seconds)), "-f", "raw", "-o", str(args.profile)])
        started = time.monotonic()
        latencies = asyncio.run(drive(webhook, args.clients, args.seconds))
        elapsed = time.monotonic() - started
        if spy is not None:
            spy.wait()
    figures = percentiles(latencies)
    print(f"{len(latencies)} turns in {elapsed:.1f} s = {len(latencies) / elapsed:.1f} turns/s at {args.clients} "
          f"clients; p50 {figures['p50']:.0f} ms, p95 {figures['p95']:.0f} ms")
    return 0


if __name__ == "__main__":
    sys.exit(main())
