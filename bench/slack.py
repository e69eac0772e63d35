"""Slack benchmarks (the lead's `make bench` calls `run`): the fake Slack (bench/fake_slack.py)
on a loopback port, a gateway with Slack configured against it, and the Rasa given.

* Latency from a Slack event (a signed Events API request to the gateway) to the bot's
  reply arriving at Slack's `chat.postMessage`, p50/p95, with 1 and with 10 conversations
  writing at the same time (each waits for its answer before its next message, like a
  person); beside it, how long the gateway took to acknowledge the event (Slack allows
  3 s), and the same messages sent straight to Rasa's REST channel as the baseline.
* Delivery after a Slack outage: Slack answers 503 for `outage_seconds` while companies
  keep writing; the replies wait in the outbox. Reported: the time from Slack's recovery
  until every waiting reply was posted, how many, and that none was posted twice.

    python -m bench.slack [--conversations 1 10] [--turns 20] [--outage-seconds 5]
        [--outage-messages 20] [--output FILE]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import secrets
import sys
import tempfile
import time
from collections import Counter
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlsplit

import aiohttp
from aiohttp import web
from sqlalchemy import func, select

from bench.fake_slack import SIGNING_SECRET, TOKEN, FakeSlack, SlackSide
from bench.gateway import MESSAGES, percentiles, turn_latencies
from bench.limits import NO_LIMITS


@dataclass
class SlackBench:
    fake: FakeSlack
    side: SlackSide
    app: web.Application


@contextlib.asynccontextmanager
async def slack_gateway(rasa_url: str, rasa_token: str) -> AsyncIterator[SlackBench]:
    """The fake Slack and a throw-away gateway (fresh SQLite database) in this process."""
    from bot.app import create_app
    from core.settings import load_settings
    from scripts.db import upgrade
    from scripts.stack import free_port

    fake = FakeSlack()
    slack_runner = web.AppRunner(fake.app(), access_log=None)
    await slack_runner.setup()
    slack_port = free_port()
    await web.TCPSite(slack_runner, "127.0.0.1", slack_port).start()
    with tempfile.TemporaryDirectory(prefix="slack-bench-") as tmp:
        db_url = f"sqlite:///{Path(tmp) / 'bench.db'}"
        upgrade(db_url)
        rasa = urlsplit(rasa_url)
        port = free_port()
        settings = load_settings(
            {
                "DATABASE_URL": db_url,
                "VAR_DIR": tmp,
                "RASA_HOST": rasa.hostname or "127.0.0.1",
                "RASA_PORT": str(rasa.port or 5005),
                "RASA_TOKEN": rasa_token,
                "GATEWAY_HOST": "127.0.0.1",
                "GATEWAY_PORT": str(port),
                "OPENING_HOURS": "always",
                "LOG_LEVEL": "WARNING",
                **NO_LIMITS,
                "SLACK_BOT_TOKEN": TOKEN,
                "SLACK_SIGNING_SECRET": SIGNING_SECRET,
                "SLACK_API_URL": f"http://127.0.0.1:{slack_port}/api/",
            }
        )
        app = create_app(settings)
        runner = web.AppRunner(app, access_log=None, shutdown_timeout=1)
        await runner.setup()
        await web.TCPSite(runner, "127.0.0.1", port).start()
        try:
            connector = aiohttp.TCPConnector(limit=100)
            async with aiohttp.ClientSession(connector=connector) as http:
                yield SlackBench(fake, SlackSide(http, f"http://127.0.0.1:{port}", fake), app)
        finally:
            await runner.cleanup()
            await slack_runner.cleanup()


async def _quiet(bench: SlackBench, channel: str, timeout: float = 60.0) -> None:
    """Wait until everything stored for the conversation has been delivered (a turn may
    have more than one reply), so the next turn's clock starts clean."""
    from bot.conversation.models import Conversation, Delivery
    from bot.web.keys import core_key

    core = bench.app[core_key]
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        async with core.ctx.sessions() as s:
            behind = await s.scalar(
                select(func.count())
                .select_from(Conversation)
                .join(Delivery, Delivery.conversation_id == Conversation.id)
                .where(Conversation.external_id == channel, Conversation.last_seq > Delivery.delivered_seq)
            )
            pending = await s.scalar(
                select(func.count()).select_from(Conversation).where(Conversation.external_id == channel)
            )
        if pending and not behind:
            return
        await asyncio.sleep(0.02)
    raise RuntimeError(f"the replies in {channel} were not all delivered within {timeout} s")


async def reply_latencies(bench: SlackBench, conversations: int, turns: int) -> tuple[list[float], list[float]]:
    """(event → first reply posted, event → gateway's 200) for `conversations` at once."""

    async def one(n: int) -> tuple[list[float], list[float]]:
        channel = f"D{secrets.token_hex(5).upper()}"
        replies, acks = [], []
        for turn in range(turns):
            before = len(bench.fake.bot_posts(channel))
            started = time.perf_counter()
            status, _ = await bench.side.dm(MESSAGES[turn % len(MESSAGES)], user=f"U{n:08d}", channel=channel)
            acks.append(time.perf_counter() - started)
            if status != 200:
                raise RuntimeError(f"the gateway answered {status} to a Slack event")
            await bench.fake.wait_posts(channel, before + 1)
            replies.append(time.perf_counter() - started)
            await _quiet(bench, channel)
        return replies, acks

    results = await asyncio.gather(*(one(n) for n in range(conversations)))
    return [s for r, _ in results for s in r], [s for _, a in results for s in a]


async def outage_recovery(bench: SlackBench, seconds: float, messages: int) -> dict[str, Any]:
    """Slack down for `seconds` while `messages` events arrive; then time to deliver them all."""
    fake = bench.fake
    channels = [f"D{secrets.token_hex(5).upper()}" for _ in range(min(10, messages))]
    posted_before = len(fake.bot_posts())
    calls_before = fake.calls.count("chat.postMessage")
    fake.outage = True
    started = time.monotonic()
    for n in range(messages):
        channel = channels[n % len(channels)]
        status, _ = await bench.side.dm(MESSAGES[n % len(MESSAGES)], user=f"U{n:08d}", channel=channel)
        if status != 200:
            raise RuntimeError(f"the gateway answered {status} during the outage")
    await asyncio.sleep(max(0.0, seconds - (time.monotonic() - started)))
    # The outage lasts until every reply is stored and waiting (on a loaded machine the bot
    # may still be answering), so that recovery is timed for all of them.
    deadline = time.monotonic() + max(30.0, 10 * seconds)
    waiting = await _undelivered(bench)
    while waiting < messages and time.monotonic() < deadline:
        await asyncio.sleep(0.1)
        waiting = await _undelivered(bench)
    attempts_during = fake.calls.count("chat.postMessage") - calls_before
    fake.outage = False
    recovered = time.perf_counter()
    for channel in channels:
        await _quiet(bench, channel, timeout=600)
    drained = time.perf_counter() - recovered
    posts = fake.bot_posts()[posted_before:]
    ids = Counter(m.metadata["event_payload"]["message_id"] for m in posts if m.metadata)
    return {
        "outage_seconds": seconds,
        "events_during_outage": messages,
        "replies_waiting_at_recovery": waiting,
        "post_attempts_during_outage": attempts_during,
        "recovery_to_all_delivered_s": round(drained, 2),
        "replies_delivered": len(posts),
        "posted_twice": sum(1 for count in ids.values() if count > 1),
        "slack_problems": list(fake.problems),
    }


async def _undelivered(bench: SlackBench) -> int:
    from bot.conversation.models import Delivery, Message
    from bot.web.keys import core_key

    async with bench.app[core_key].ctx.sessions() as s:
        count = await s.scalar(
            select(func.count())
            .select_from(Message)
            .join(Delivery, Delivery.conversation_id == Message.conversation_id)
            .where(Message.seq > Delivery.delivered_seq, Message.role != "user")
        )
    return int(count or 0)


async def run(
    rasa_url: str,
    rasa_token: str,
    conversation_counts: Sequence[int] = (1, 10),
    turns: int = 20,
    outage_seconds: float = 5.0,
    outage_messages: int = 20,
) -> dict[str, Any]:
    """Both benchmarks; returns a JSON-able report."""
    report: dict[str, Any] = {"event_to_post_ms": {}, "ack_ms": {}, "rasa_ms": {}, "ratio_p50": {}}
    # Rasa's REST channel asks for the API token (scripts/rasa_channel.py).
    raw_hook = f"{rasa_url.rstrip('/')}/webhooks/rest/webhook?token={quote(rasa_token)}"
    async with slack_gateway(rasa_url, rasa_token) as bench:
        await reply_latencies(bench, 1, 2)  # warm up Rasa's caches and the display-name cache
        for conversations in conversation_counts:
            replies, acks = await reply_latencies(bench, conversations, turns)
            # The same messages straight to Rasa, at the same concurrency: the baseline.
            raw = percentiles(await turn_latencies(bench.side.http, raw_hook, conversations, turns, "bench-slack-raw"))
            key = str(conversations)
            report["event_to_post_ms"][key] = percentiles(replies)
            report["ack_ms"][key] = percentiles(acks)
            report["rasa_ms"][key] = raw
            p50 = report["event_to_post_ms"][key]["p50"]
            report["ratio_p50"][key] = round(p50 / raw["p50"], 2) if raw["p50"] else None
        report["outage"] = await outage_recovery(bench, outage_seconds, outage_messages)
        report["slack_problems"] = list(bench.fake.problems)
    return report


def main(argv: list[str] | None = None) -> int:
    from core.settings import load_settings

    parser = argparse.ArgumentParser(prog="python -m bench.slack", description=__doc__)
    parser.add_argument("--conversations", type=int, nargs="+", default=[1, 10])
    parser.add_argument("--turns", type=int, default=20, help="messages per conversation")
    parser.add_argument("--outage-seconds", type=float, default=5.0)
    parser.add_argument("--outage-messages", type=int, default=20)
    parser.add_argument("--rasa-url", help="default: the configured Rasa (RASA_HOST, RASA_PORT)")
    parser.add_argument("--output", type=Path)
    args = parser.parse_args(argv)
    settings = load_settings()
    report = asyncio.run(
        run(args.rasa_url or settings.rasa_url, settings.rasa_token, args.conversations, args.turns,
            args.outage_seconds, args.outage_messages)
    )
    text = json.dumps(report, indent=2, ensure_ascii=False)
    if args.output:
        args.output.write_text(text + "\n")
    print(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
