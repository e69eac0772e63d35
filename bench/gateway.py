"""Gateway benchmarks against a running Rasa server (the lead's `make bench` calls these).

* Turn latency: the same messages through raw Rasa REST and through the gateway's
  REST-compatible endpoint, at 1 and 10 concurrent clients; the ratio gateway/raw. At one
  client the two alternate turn by turn (`paired_turns`); at ten, one runs after the other.
* Escalation-to-console latency: from a company's hand-off request in the widget to the
  advisor console seeing the chat in its queue (p50/p95).

The gateway is started as its own process on a free loopback port with a fresh SQLite database,
always open (so escalations queue), and rate limits lifted. Nothing touches the real data.

    python -m bench.gateway [--clients 1 10] [--turns 30] [--paired 120] [--escalations 30]
                            [--own-stack] [--output FILE]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import secrets
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import AsyncIterator, Callable, Iterator, Sequence
from pathlib import Path
from typing import Any, NamedTuple
from urllib.parse import quote, urlsplit

import aiohttp
from aiohttp import web

from bench.limits import NO_LIMITS

MESSAGES = (
    "hej",
    "vi behöver ett lån till en ny maskin",
    "hur kontaktar jag dem?",
    "kan vi skjuta upp skatten?",
    "vi måste varsla personal",
    "tack för hjälpen",
)
# Paired turns at one client (`paired_turns`), and how long each conversation runs.
PAIRED_TURNS = 120
CONVERSATION_TURNS = 12
# A button payload goes straight to the request_human intent: no NLU guesswork in the timing.
ESCALATION = {"text": "Jag vill prata med en rådgivare", "payload": "/request_human"}


def cpu_seconds(pid: int) -> float | None:
    """CPU time (user + system) a process has used so far, from /proc (Linux); None where
    there is none."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except (FileNotFoundError, IndexError):
        return None
    # utime and stime are the 14th and 15th fields; [0] here is the 3rd (state).
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def percentiles(samples: Sequence[float]) -> dict[str, float]:
    """p50, p95 and mean in milliseconds (samples in seconds)."""
    if not samples:
        return {"p50": 0.0, "p95": 0.0, "mean": 0.0, "n": 0}
    ordered = sorted(samples)

    def at(q: float) -> float:
        index = min(len(ordered) - 1, max(0, round(q * (len(ordered) - 1))))
        return round(ordered[index] * 1000, 2)

    return {
        "p50": at(0.5),
        "p95": at(0.95),
        "mean": round(statistics.fmean(ordered) * 1000, 2),
        "n": len(ordered),
    }


async def turn_latencies(
    http: aiohttp.ClientSession, webhook: str, clients: int, turns: int, sender_prefix: str
) -> list[float]:
    """`clients` concurrent senders, each sending `turns` messages one after another."""

    async def one_client(n: int) -> list[float]:
        samples = []
        sender = f"{sender_prefix}-{n}-{secrets.token_hex(4)}"
        for turn in range(turns):
            body = {"sender": sender, "message": MESSAGES[turn % len(MESSAGES)]}
            start = time.perf_counter()
            async with http.post(webhook, json=body) as response:
                await response.read()
                if response.status != 200:
                    raise RuntimeError(f"{webhook} answered {response.status}")
            samples.append(time.perf_counter() - start)
        return samples

    results = await asyncio.gather(*(one_client(n) for n in range(clients)))
    return [s for client in results for s in client]


async def paired_turns(
    http: aiohttp.ClientSession, raw_hook: str, gw_hook: str, turns: int
) -> tuple[list[float], list[float]]:
    """One client, its turns alternating between raw Rasa and the gateway (which goes first
    alternates too), so that both see the same machine at the same moment: a difference of
    a few milliseconds is otherwise lost in what the machine does between two runs. Both
    conversations start again every `CONVERSATION_TURNS` turns and so stay the same length
    (Rasa's turn grows with its conversation's history)."""
    raw: list[float] = []
    gateway: list[float] = []
    raw_sender = gw_sender = ""
    for turn in range(turns):
        if turn % CONVERSATION_TURNS == 0:
            raw_sender, gw_sender = (f"bench-{kind}-1-{secrets.token_hex(4)}" for kind in ("raw", "gw"))
        message = MESSAGES[turn % len(MESSAGES)]
        order = ((raw_hook, raw_sender, raw), (gw_hook, gw_sender, gateway))
        for hook, sender, samples in order if turn % 2 == 0 else order[::-1]:
            start = time.perf_counter()
            async with http.post(hook, json={"sender": sender, "message": message}) as response:
                await response.read()
                if response.status != 200:
                    raise RuntimeError(f"{hook} answered {response.status}")
            samples.append(time.perf_counter() - start)
    return raw, gateway


async def compare_turns(
    http: aiohttp.ClientSession,
    rasa_url: str,
    gateway_url: str,
    client_counts: Sequence[int],
    turns: int,
    rasa_token: str,
    paired: int = PAIRED_TURNS,
    gateway_cpu: Callable[[], float | None] = lambda: None,
) -> dict[str, Any]:
    """`gateway_cpu`: the gateway process's CPU seconds so far (for its CPU per turn)."""
    # Rasa's REST channel asks for the API token (scripts/rasa_channel.py).
    raw_hook = f"{rasa_url.rstrip('/')}/webhooks/rest/webhook?token={quote(rasa_token)}"
    gw_hook = f"{gateway_url.rstrip('/')}/webhooks/rest/webhook"
    await turn_latencies(http, raw_hook, 1, 2, "bench-warm")  # load the model's caches
    await turn_latencies(http, gw_hook, 1, 2, "bench-warm")
    results: dict[str, Any] = {}
    for clients in client_counts:
        cpu_before = gateway_cpu()
        if clients == 1:
            # The overhead at one client is a few milliseconds: measured in pairs, with
            # more turns than at ten clients.
            raw_samples, gw_samples = await paired_turns(http, raw_hook, gw_hook, paired)
            raw, gateway = percentiles(raw_samples), percentiles(gw_samples)
            # The median of each pair's difference: the same quantity, less noisy.
            paired_ms = round(statistics.median(g - r for r, g in zip(raw_samples, gw_samples, strict=True)) * 1000, 2)
            # One client waits for each answer: its turns per second are 1 / its mean.
            raw_seconds, gateway_seconds = sum(raw_samples), sum(gw_samples)
        else:
            paired_ms = None
            started = time.perf_counter()
            raw = percentiles(await turn_latencies(http, raw_hook, clients, turns, "bench-raw"))
            raw_seconds = time.perf_counter() - started
            started = time.perf_counter()
            gateway = percentiles(await turn_latencies(http, gw_hook, clients, turns, "bench-gw"))
            gateway_seconds = time.perf_counter() - started
        cpu_after = gateway_cpu()
        overhead = round(gateway["p50"] - raw["p50"], 2)
        results[str(clients)] = {
            # What a turn costs the gateway's process in CPU, Rasa's time aside.
            "gateway_cpu_ms_per_turn": (
                round((cpu_after - cpu_before) * 1000 / gateway["n"], 2)
                if cpu_before is not None and cpu_after is not None and gateway["n"] else None
            ),
            "rasa_ms": raw,
            "gateway_ms": gateway,
            "rasa_turns_per_s": round(raw["n"] / raw_seconds, 1),
            "gateway_turns_per_s": round(gateway["n"] / gateway_seconds, 1),
            # The gateway's own share: (gateway p50 - Rasa p50) / Rasa p50; the goal is <= 0.10.
            "overhead_ms_p50": overhead,
            "overhead_share_p50": round(overhead / raw["p50"], 3) if raw["p50"] else None,
            "overhead_ms_paired_median": paired_ms,
            "ratio_p50": round(gateway["p50"] / raw["p50"], 3) if raw["p50"] else None,
            "ratio_p95": round(gateway["p95"] / raw["p95"], 3) if raw["p95"] else None,
        }
    return results


async def escalation_latencies(
    gateway_url: str, advisor_email: str, password: str, runs: int, timeout: float = 30.0
) -> list[float]:
    """Hand-off request in the widget → the chat appears in the console's queue."""
    base = gateway_url.rstrip("/")
    origin = f"{urlsplit(base).scheme}://{urlsplit(base).netloc}"
    ws_base = base.replace("http", "ws", 1)
    samples: list[float] = []
    async with aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True)) as advisor:
        async with advisor.get(f"{base}/console/api/session") as response:
            csrf = (await response.json())["csrf_token"]
        headers = {"X-CSRF-Token": csrf, "Origin": origin}
        login = {"email": advisor_email, "password": password}
        async with advisor.post(f"{base}/console/api/login", json=login, headers=headers) as r:
            if r.status != 200:
                raise RuntimeError(f"bench advisor could not log in: {r.status}")
            csrf = (await r.json())["csrf_token"]
        console = await advisor.ws_connect(f"{ws_base}/console/ws?csrf={csrf}", headers={"Origin": origin})
        async with aiohttp.ClientSession() as company:
            for run in range(runs):
                widget = await company.ws_connect(f"{ws_base}/widget/ws", headers={"Origin": origin})
                await widget.send_json({"type": "hello", "protocol": 1, "last_seq": 0})
                welcome = await _receive_until(widget, lambda f: f["type"] == "welcome", timeout)
                conversation_id = welcome["conversation_id"]
                start = time.perf_counter()
                await widget.send_json({"type": "message", "client_id": f"bench-{run:06d}-esc", **ESCALATION})
                await _receive_until(
                    console,
                    lambda f, cid=conversation_id: (
                        f["type"] == "queue" and f.get("event") == "enqueued" and f.get("conversation_id") == cid
                    ),
                    timeout,
                )
                samples.append(time.perf_counter() - start)
                await widget.send_json({"type": "cancel_handoff"})  # keep the queue short
                await _receive_until(widget, lambda f: f["type"] == "status" and f.get("state") == "bot", timeout)
                await widget.close()
        await console.close()
    return samples


async def _receive_until(ws: aiohttp.ClientWebSocketResponse[bool], predicate: Any, timeout: float) -> dict[str, Any]:
    async def wait() -> dict[str, Any]:
        while True:
            msg = await ws.receive()
            if msg.type != aiohttp.WSMsgType.TEXT:
                raise RuntimeError(f"socket closed while waiting ({msg.type})")
            frame: dict[str, Any] = json.loads(msg.data)
            if predicate(frame):
                return frame

    return await asyncio.wait_for(wait(), timeout)


@contextlib.asynccontextmanager
async def bench_gateway(
    rasa_url: str,
    rasa_token: str,
    rasa_urls: Sequence[str] = (),
    in_process: bool = False,
    on_pid: Callable[[int], None] | None = None,
) -> AsyncIterator[tuple[str, str, str]]:
    """A throw-away gateway; yields (url, advisor email, password).

    By default it runs as its own process (`python -m bot serve`), as in production: in
    the bench's process it would share one event loop and one core with the clients that
    measure it, and its overhead would be the clients' too. `rasa_urls`: a pool of Rasa
    servers (RASA_URLS)."""
    from bot.accounts.manage import create_advisor
    from core.db import make_engine, make_sessionmaker
    from core.settings import load_settings
    from scripts.db import upgrade
    from scripts.stack import APP_PYTHON, free_port, wait_http

    with tempfile.TemporaryDirectory(prefix="gateway-bench-") as tmp:
        db_url = f"sqlite:///{Path(tmp) / 'bench.db'}"
        upgrade(db_url)
        email, password = "bench@foretagssupport.invalid", secrets.token_urlsafe(16)
        engine = make_engine(db_url)
        create_advisor(make_sessionmaker(engine), email, "Bänk Test", password)
        engine.dispose()

        rasa = urlsplit(rasa_url)
        port = free_port()
        env = {
            "DATABASE_URL": db_url,
            "VAR_DIR": tmp,
            "RASA_HOST": rasa.hostname or "127.0.0.1",
            "RASA_PORT": str(rasa.port or 5005),
            "RASA_TOKEN": rasa_token,
            "RASA_URLS": ",".join(rasa_urls),
            "GATEWAY_HOST": "127.0.0.1",
            "GATEWAY_PORT": str(port),
            "OPENING_HOURS": "always",
            **NO_LIMITS,
            "RATE_LIMIT_WINDOW_SECONDS": "1",
            "LOG_LEVEL": "WARNING",
            "SESSION_SECRET": "bench-session-secret",
        }
        if in_process:
            from bot.app import create_app

            runner = web.AppRunner(create_app(load_settings(env)), access_log=None, shutdown_timeout=1)
            await runner.setup()
            await web.TCPSite(runner, "127.0.0.1", port).start()
            try:
                yield f"http://127.0.0.1:{port}", email, password
            finally:
                await runner.cleanup()
            return
        # GATEWAY_EVENT_LOOP passes through: the loops can be compared (`GATEWAY_EVENT_LOOP=asyncio`).
        passed = ("PATH", "HOME", "LANG", "PYTHONPATH", "GATEWAY_EVENT_LOOP")
        keep = {k: v for k, v in os.environ.items() if k in passed}
        process = subprocess.Popen([str(APP_PYTHON), "-m", "bot", "serve"], env={**keep, **env},
                                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            await asyncio.to_thread(wait_http, f"http://127.0.0.1:{port}/healthz", 60, process)
            if on_pid is not None:
                on_pid(process.pid)
            yield f"http://127.0.0.1:{port}", email, password
        finally:
            process.terminate()
            try:
                await asyncio.to_thread(process.wait, 15)
            except subprocess.TimeoutExpired:
                process.kill()


async def run(
    rasa_url: str,
    rasa_token: str,
    client_counts: Sequence[int] = (1, 10),
    turns: int = 30,
    escalations: int = 30,
    rasa_urls: Sequence[str] = (),
    paired: int = PAIRED_TURNS,
) -> dict[str, Any]:
    """Both benchmarks; returns a JSON-able report. With `rasa_urls` the gateway spreads
    conversations over that pool, and the raw figures are for the first server alone.
    `paired`: the turns of each kind at one client."""
    pids: list[int] = []
    async with bench_gateway(rasa_url, rasa_token, rasa_urls, on_pid=pids.append) as (gateway_url, email, password):
        connector = aiohttp.TCPConnector(limit=max(client_counts) * 2)
        async with aiohttp.ClientSession(connector=connector) as http:
            turns_report = await compare_turns(
                http, rasa_url, gateway_url, client_counts, turns, rasa_token, paired,
                gateway_cpu=lambda: cpu_seconds(pids[0]) if pids else None,
            )
        escalation = await escalation_latencies(gateway_url, email, password, escalations)
    return {
        "turn_latency": turns_report,
        "escalation_to_console_ms": percentiles(escalation),
    }


class PrivateRasa(NamedTuple):
    url: str
    token: str
    pid: int  # the Rasa server's process (for a profiler)


@contextlib.contextmanager
def private_rasa(model: Path | None = None) -> Iterator[PrivateRasa]:
    """A Rasa server and action server of our own on `model` (default: the current one), on
    free ports with a fresh database."""
    from scripts.db import seed, upgrade
    from scripts.model import model_path
    from scripts.stack import Stack, isolated_settings

    model = model or model_path()
    if not model.exists():
        raise SystemExit(f"No trained model ({model.name}): run `make model` first.")
    saved = dict(os.environ)
    with tempfile.TemporaryDirectory(prefix="bench-rasa-") as tmp:
        var_dir = Path(tmp)
        token = secrets.token_urlsafe(16)
        settings = isolated_settings(var_dir, {**os.environ, "RASA_TOKEN": token, "OPENING_HOURS": "always"})
        upgrade(settings.database_url)
        seed(settings.database_url)
        # The action server reads its database from the environment.
        os.environ.update({"DATABASE_URL": settings.database_url, "VAR_DIR": str(var_dir)})
        stack = Stack(settings, model, with_gateway=False, log_dir=var_dir / "logs")
        try:
            stack.start(timeout=600)
            yield PrivateRasa(settings.rasa_url, token, stack.processes["rasa"].pid)
        finally:
            stack.stop()
            os.environ.clear()
            os.environ.update(saved)


def main(argv: list[str] | None = None) -> int:
    from core.settings import load_settings

    parser = argparse.ArgumentParser(prog="python -m bench.gateway", description=__doc__)
    parser.add_argument("--clients", type=int, nargs="+", default=[1, 10])
    parser.add_argument("--turns", type=int, default=30, help="messages per client")
    parser.add_argument("--paired", type=int, default=PAIRED_TURNS, help="turns of each kind at one client")
    parser.add_argument("--escalations", type=int, default=30)
    parser.add_argument("--own-stack", action="store_true",
                        help="start a private Rasa and action server on the current model (else: the running ones)")
    parser.add_argument("--output", type=Path)
    args = parser.parse_args(argv)

    async def measure(rasa_url: str, rasa_token: str) -> dict[str, Any]:
        return await run(rasa_url, rasa_token, args.clients, args.turns, args.escalations, paired=args.paired)

    if args.own_stack:
        with private_rasa() as rasa:
            report = asyncio.run(measure(rasa.url, rasa.token))
    else:
        settings = load_settings()
        report = asyncio.run(measure(settings.rasa_url, settings.rasa_token))
    text = json.dumps(report, indent=2, ensure_ascii=False)
    if args.output:
        args.output.write_text(text + "\n")
    print(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
