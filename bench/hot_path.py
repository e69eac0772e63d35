"""The gateway's own cost per turn, without Rasa's: every database round trip and every
publish on the hot path of a REST turn, and the time the gateway adds.

A stand-in Rasa that answers at once (`instant_rasa`), so the
whole latency is the gateway's. SQLAlchemy's `before_cursor_execute`, `begin` and `commit`
events and the hot-path transactions' own observer (core/transactions.py) count
statements, and the hub counts publishes. With `--profile` the
run is repeated under cProfile and the top functions are printed.

    python -m bench.hot_path [--turns 200] [--clients 1 10] [--database-url URL] [--profile]
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import contextlib
import cProfile
import io
import json
import pstats
import secrets
import sys
import tempfile
import time
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import aiohttp
import aiosqlite
from aiohttp import web
from sqlalchemy import event

from bench.gateway import percentiles
from bench.limits import NO_LIMITS
from core.transactions import observe


class CountingHub:
    """The in-process hub, counting what is published per channel kind."""

    def __init__(self) -> None:
        from bot.conversation.pubsub import MemoryHub

        self.inner = MemoryHub()
        self.counts: collections.Counter[str] = collections.Counter()

    async def start(self) -> None:
        await self.inner.start()

    async def stop(self) -> None:
        await self.inner.stop()

    async def publish(self, channel: str, event: dict[str, Any]) -> None:
        self.counts[f"{channel.split(':')[0]}:{event.get('type')}"] += 1
        await self.inner.publish(channel, event)

    def subscribe(self, channel: str) -> Any:
        return self.inner.subscribe(channel)


def instant_rasa() -> web.Application:
    """A stand-in for Rasa that answers every turn at once with one message."""

    async def webhook(request: web.Request) -> web.Response:
        body = await request.json()
        return web.json_response([{"recipient_id": body["sender"], "text": f"Du skrev: {body['message']}"}])

    async def ok(_: web.Request) -> web.Response:
        return web.json_response({})

    app = web.Application()
    app.router.add_post("/webhooks/rest/webhook", webhook)
    app.router.add_post("/conversations/{sender}/tracker/events", ok)
    app.router.add_get("/", ok)
    return app


@asynccontextmanager
async def gateway_with_fake_rasa(database_url: str | None) -> AsyncIterator[tuple[str, CountingHub, Any]]:
    from bot.app import create_app
    from core.settings import load_settings
    from scripts.db import upgrade
    from scripts.stack import free_port
    rasa_runner = web.AppRunner(instant_rasa(), access_log=None)
    await rasa_runner.setup()
    rasa_port = free_port()
    await web.TCPSite(rasa_runner, "127.0.0.1", rasa_port).start()
    with tempfile.TemporaryDirectory(prefix="hot-path-") as tmp:
        url = database_url or f"sqlite:///{Path(tmp) / 'hot.db'}"
        upgrade(url)
        port = free_port()
        settings = load_settings({
            "DATABASE_URL": url, "VAR_DIR": tmp, "RASA_PORT": str(rasa_port), "RASA_TOKEN": "hot-path-token",
            "GATEWAY_PORT": str(port), **NO_LIMITS, "RATE_LIMIT_WINDOW_SECONDS": "1",
            "LOG_LEVEL": "WARNING", "OPENING_HOURS": "always",
        })
        hub = CountingHub()
        app = create_app(settings, hub=hub)
        runner = web.AppRunner(app, access_log=None, shutdown_timeout=1)
        await runner.setup()
        await web.TCPSite(runner, "127.0.0.1", port).start()
        try:
            yield f"http://127.0.0.1:{port}", hub, app
        finally:
            await runner.cleanup()
            await rasa_runner.cleanup()


def count_statements(app: Any) -> collections.Counter[str]:
    """Statements per kind (first word and table), counted from now on."""
    from bot.web.keys import db_key

    counts: collections.Counter[str] = collections.Counter()
    sessions = app[db_key]
    engines = {sessions.kw.get("bind"), sessions._writing.kw.get("bind")}
    engines.discard(None)

    def seen(statement: str) -> None:
        words = statement.split()
        if words[0].upper() in ("BEGIN", "COMMIT", "ROLLBACK"):
            counts[words[0].upper()] += 1
            return
        table = next((w for w in words[1:8] if w.islower() and w.isidentifier() and w not in
                      ("from", "into", "set", "where", "select")), "")
        counts[f"{words[0].upper()} {table}".strip()] += 1

    def before(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        seen(statement)

    def began(conn: Any) -> None:
        # A transaction (our SQLite connection sends BEGIN with the first statement, and
        # asyncpg sends none through the cursor: counted from SQLAlchemy's event).
        counts["BEGIN"] += 1

    def committed(conn: Any) -> None:
        counts["COMMIT"] += 1

    for engine in engines:
        event.listen(engine.sync_engine, "before_cursor_execute", before)
        event.listen(engine.sync_engine, "begin", began)
        event.listen(engine.sync_engine, "commit", committed)
        observe(engine, seen)  # the hot-path transactions' own (core/transactions.py)
    return counts


@contextlib.contextmanager
def counted_hand_offs() -> Iterator[list[object]]:
    """Every hand-off to an aiosqlite connection's thread, while in the block."""
    seen: list[object] = []
    original = aiosqlite.Connection._execute

    async def counted(self: aiosqlite.Connection, fn: object, *args: object, **kwargs: object) -> object:
        seen.append(fn)
        return await original(self, fn, *args, **kwargs)  # type: ignore[no-untyped-call]

    aiosqlite.Connection._execute = counted  # type: ignore[method-assign]
    try:
        yield seen
    finally:
        aiosqlite.Connection._execute = original  # type: ignore[method-assign]


async def turns(base: str, clients: int, per_client: int) -> tuple[list[float], float]:
    samples: list[float] = []

    async def one(http: aiohttp.ClientSession, n: int) -> None:
        sender = f"hot-{n}-{secrets.token_hex(4)}"
        for i in range(per_client):
            started = time.perf_counter()
            async with http.post(f"{base}/webhooks/rest/webhook",
                                 json={"sender": sender, "message": f"hej {i}"}) as response:
                await response.read()
                response.raise_for_status()
            samples.append(time.perf_counter() - started)

    async with aiohttp.ClientSession() as http:
        started = time.perf_counter()
        await asyncio.gather(*(one(http, n) for n in range(clients)))
        return samples, time.perf_counter() - started


async def measure(database_url: str | None, client_counts: list[int], total: int, profile: bool) -> dict[str, Any]:
    report: dict[str, Any] = {}
    async with gateway_with_fake_rasa(database_url) as (base, hub, app):
        await turns(base, 1, 5)  # warm up
        statements = count_statements(app)
        hub.counts.clear()
        with counted_hand_offs() as hand_offs:
            samples, _ = await turns(base, 1, 20)
        report["per_turn"] = {
            "statements": {k: round(v / 20, 2) for k, v in statements.most_common()},
            "statements_total": round(sum(statements.values()) / 20, 2),
            # Trips to aiosqlite's thread (SQLite), each a wake-up of two threads.
            "database_thread_hand_offs": round(len(hand_offs) / 20, 2),
            "publishes": {k: round(v / 20, 2) for k, v in hub.counts.most_common()},
        }
        for clients in client_counts:
            samples, elapsed = await turns(base, clients, max(1, total // clients))
            report[f"{clients}_clients"] = {**percentiles(samples), "turns_per_s": round(len(samples) / elapsed, 1)}
        if profile:
            profiler = cProfile.Profile()
            profiler.enable()
            await turns(base, 1, 100)
            profiler.disable()
            out = io.StringIO()
            stats = pstats.Stats(profiler, stream=out)
            # Python function calls per turn (the bench's client and stand-in Rasa included):
            # unlike milliseconds, the same from one run to the next, so two versions of the
            # hot path compare on a machine whose speed varies.
            report["python_calls_per_turn"] = round(stats.total_calls / 100)  # type: ignore[attr-defined]
            stats.sort_stats("cumulative").print_stats(35)
            report["profile"] = out.getvalue()
    return report


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.hot_path", description=__doc__)
    parser.add_argument("--turns", type=int, default=200)
    parser.add_argument("--clients", type=int, nargs="+", default=[1, 10])
    parser.add_argument("--database-url")
    parser.add_argument("--profile", action="store_true")
    args = parser.parse_args(argv)
    report = asyncio.run(measure(args.database_url, args.clients, args.turns, args.profile))
    profile = report.pop("profile", None)
    print(json.dumps(report, indent=2))
    if profile:
        print(profile)
    return 0


if __name__ == "__main__":
    sys.exit(main())
