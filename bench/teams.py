"""Teams channel figures, measured against the local Bot Framework (bench/fake_botframework.py):

* `token_verification_ms`: checking one Bot Connector JWT (RS256 signature, claims) with
  the signing keys cached: the CPU cost every incoming activity pays.
* `inbound_ack_ms`: an Activity posted to /webhooks/teams/messages until the gateway
  answers 200 (token checked, message stored; Rasa is not waited for).
* `turn_ms`: an Activity posted until the bot's reply reaches the Connector (Rasa, the
  outbox and the Bot Connector call), at 1 and 10 concurrent conversations.
* `token_requests`: how many client-credentials tokens all those replies needed (cached).

With a running Rasa (`run(rasa_url, rasa_token)`, as `make bench` calls it) the turns go
through the real assistant; without one (`--echo-rasa`) an instant echo stands in, so the
figures are the channel's and the gateway's own overhead.

    python -m bench.teams [--echo-rasa] [--clients 1 10] [--turns 20] [--output FILE]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import sys
import tempfile
import time
from collections.abc import AsyncIterator, Sequence
from pathlib import Path
from typing import Any

import aiohttp
from aiohttp import web

from bench.fake_botframework import FakeBotFramework, Post
from bench.gateway import percentiles
from bench.limits import NO_LIMITS
from bench.serving import serve

MESSAGES = ("hej", "vi behöver ett lån till en ny maskin", "hur kontaktar jag dem?", "tack för hjälpen")


def echo_rasa() -> web.Application:
    """Answers every message at once (the REST channel and the tracker events Rasa offers)."""

    async def webhook(request: web.Request) -> web.Response:
        body = await request.json()
        return web.json_response([{"recipient_id": body["sender"], "text": f"Du skrev: {body['message']}"}])

    async def events(request: web.Request) -> web.Response:
        return web.json_response({"sender_id": request.match_info["sender"]})

    app = web.Application()
    app.router.add_post("/webhooks/rest/webhook", webhook)
    app.router.add_post("/conversations/{sender}/tracker/events", events)
    return app


@contextlib.asynccontextmanager
async def teams_gateway(rasa_url: str, rasa_token: str, teams_env: dict[str, str]) -> AsyncIterator[str]:
    """A throw-away gateway with the Teams channel, in this process, on a fresh database."""
    from urllib.parse import urlsplit

    from bot.app import create_app
    from core.settings import load_settings
    from scripts.db import upgrade

    with tempfile.TemporaryDirectory(prefix="teams-bench-") as tmp:
        db_url = f"sqlite:///{Path(tmp) / 'bench.db'}"
        upgrade(db_url)
        rasa = urlsplit(rasa_url)
        settings = load_settings(
            {
                "DATABASE_URL": db_url,
                "VAR_DIR": tmp,
                "RASA_HOST": rasa.hostname or "127.0.0.1",
                "RASA_PORT": str(rasa.port or 5005),
                "RASA_TOKEN": rasa_token,
                "OPENING_HOURS": "always",
                "LOG_LEVEL": "WARNING",
                **NO_LIMITS,
                **teams_env,
            }
        )
        async with serve(create_app(settings)) as url:
            yield url


async def token_verification(bf: FakeBotFramework, http: aiohttp.ClientSession, count: int) -> list[float]:
    from bot.channels.teams.auth import ConnectorKeys, authenticate

    keys = ConnectorKeys(http, bf.metadata_url)
    await authenticate("Bearer " + bf.sign(), keys, bf.app_id)  # fetch the keys once
    tokens = ["Bearer " + bf.sign(claims={"jti": str(n)}) for n in range(count)]
    timings = []
    for token in tokens:
        started = time.perf_counter()
        await authenticate(token, keys, bf.app_id)
        timings.append(time.perf_counter() - started)
    return timings


async def conversations(
    bf: FakeBotFramework, http: aiohttp.ClientSession, gateway: str, clients: int, turns: int
) -> tuple[list[float], list[float]]:
    """Each client is one Teams conversation sending `turns` messages, each after the
    previous reply arrived. Returns (ack latencies, turn latencies) in seconds."""
    waiting: dict[str, asyncio.Future[Post]] = {}

    def on_post(post: Post) -> None:
        future = waiting.pop(post.reply_to or "", None)
        if future is not None and not future.done():
            future.set_result(post)

    bf.listeners.append(on_post)
    acks: list[float] = []
    turn_times: list[float] = []

    async def client(n: int) -> None:
        conversation = f"a:1bench-{clients}-{n}-{time.monotonic_ns()}"
        for turn in range(turns):
            activity = bf.message(MESSAGES[turn % len(MESSAGES)], conversation=conversation, user=f"29:bench-{n}")
            arrived = asyncio.get_running_loop().create_future()
            waiting[activity["id"]] = arrived
            started = time.perf_counter()
            status, body = await bf.post_activity(http, gateway, activity)
            acks.append(time.perf_counter() - started)
            if status != 200:
                raise RuntimeError(f"the gateway answered {status}: {body}")
            post = await asyncio.wait_for(arrived, 60)
            turn_times.append(post.at - started)

    try:
        await asyncio.gather(*(client(n) for n in range(clients)))
    finally:
        bf.listeners.remove(on_post)
    return acks, turn_times


async def run(
    rasa_url: str | None = None,
    rasa_token: str = "",
    client_counts: Sequence[int] = (1, 10),
    turns: int = 20,
    verifications: int = 200,
) -> dict[str, Any]:
    """The figures above; without `rasa_url` an echo stands in for Rasa."""
    bf = FakeBotFramework()
    async with contextlib.AsyncExitStack() as stack:
        bf.base_url = await stack.enter_async_context(serve(bf.app()))
        if rasa_url is None:
            rasa_url, rasa_token = await stack.enter_async_context(serve(echo_rasa())), "echo"
        gateway = await stack.enter_async_context(teams_gateway(rasa_url, rasa_token, bf.env()))
        http = await stack.enter_async_context(aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=50)))
        verification = await token_verification(bf, http, verifications)
        await conversations(bf, http, gateway, 1, 1)  # warm up: keys and token fetched
        report: dict[str, Any] = {"token_verification_ms": percentiles(verification)}
        for clients in client_counts:
            acks, turn_times = await conversations(bf, http, gateway, clients, turns)
            report[f"clients_{clients}"] = {"inbound_ack_ms": percentiles(acks), "turn_ms": percentiles(turn_times)}
        report["token_requests"] = len(bf.token_requests)
        report["replies_posted"] = len(bf.posts)
        report["rasa"] = "echo" if rasa_token == "echo" else "real"
    return report


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.teams", description=__doc__.split("\n\n")[0])
    parser.add_argument("--echo-rasa", action="store_true", help="an instant echo instead of the running Rasa")
    parser.add_argument("--clients", type=int, nargs="+", default=[1, 10])
    parser.add_argument("--turns", type=int, default=20, help="messages per conversation")
    parser.add_argument("--verifications", type=int, default=200)
    parser.add_argument("--output", type=Path)
    args = parser.parse_args(argv)
    rasa_url, rasa_token = None, ""
    if not args.echo_rasa:
        from core.settings import load_settings

        settings = load_settings()
        rasa_url, rasa_token = settings.rasa_url, settings.rasa_token
    report = asyncio.run(run(rasa_url, rasa_token, args.clients, args.turns, args.verifications))
    text = json.dumps(report, indent=2, ensure_ascii=False)
    if args.output:
        args.output.write_text(text + "\n")
    print(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
