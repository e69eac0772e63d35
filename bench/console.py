"""How fast the advisor's inbox stays with a full queue and a long history.

Seeds a throw-away database with 500 queued chats and 10,000 closed ones (each with a
transcript of company, bot and advisor messages, spread over half a year, eight advisors,
every channel and outcome), starts the gateway in this process, logs an advisor in and
times each view of the console through its HTTP API (and the console WebSocket's first
snapshot): p50/p95 over repeated requests, and the size of each answer.

No Rasa is needed: the views read the database only.

    python -m bench.console [--queued 500] [--closed 10000] [--repeats 20]
                            [--database-url URL] [--output FILE]

With --database-url (e.g. an empty PostgreSQL database) the data is seeded there instead
of a temporary SQLite file; the database is migrated first and must hold no chats.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import datetime as dt
import json
import random
import secrets
import sys
import tempfile
import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import aiohttp
from sqlalchemy import insert
from sqlalchemy.orm import Session

from bench.gateway import percentiles
from bench.serving import print_report, serve

CHANNELS = ("widget", "widget", "widget", "rest", "slack", "teams")
OUTCOMES = ("resolved", "referred", "callback", "no_response", "other")
ADVISORS = ("Anna Berg", "Karin Lund", "Olle Berg", "Sara Holm", "Erik Ström", "Maja Ek", "Jonas Lind", "Lisa Åberg")
COMPANIES = ("Ek Bygg AB", "Sala Plåt AB", "Kungsörs Café", "Köping Data", "Västerås Logistik", "Fagersta Smide",
             "Arboga Trä", "Norberg Foto", "Hallstahammars Bil", "Surahammar El")
QUESTIONS = (
    "Vi behöver ett lån till en ny maskin",
    "Vi måste varsla tre anställda, vad gäller?",
    "Kan vi skjuta upp skatteinbetalningen?",
    "Hur startar jag ett aktiebolag?",
    "Vi vill börja exportera till Norge",
    "Vår hyresvärd höjer hyran kraftigt",
    "Vi har svårt att betala våra leverantörer",
    "Finns det stöd för att anställa?",
)
REPLIES = (
    "Vänd dig till Almi Företagspartner Mälardalen. De lånar ut pengar till små och medelstora företag.",
    "Arbetsförmedlingen ska ha ett skriftligt varsel när minst fem anställda berörs.",
    "Skatteverket kan ge anstånd med inbetalning av skatt i vissa fall.",
    "Verksamt.se har guider för att starta företag.",
)
ADVISOR_LINES = (
    "Hej! Jag heter {name} och är rådgivare. Hur kan jag hjälpa dig?",
    "Tack, jag tar reda på det och återkommer senast i morgon.",
    "Har ni pratat med er bank om det?",
)
BATCH = 2000


def _chunks(rows: list[dict[str, Any]]) -> Iterator[list[dict[str, Any]]]:
    for start in range(0, len(rows), BATCH):
        yield rows[start : start + BATCH]


def seed(database_url: str, queued: int, closed: int, now: dt.datetime, rng: random.Random) -> dict[str, Any]:
    """The chats, written with bulk INSERTs; returns the advisor to log in as."""
    from bot.accounts.manage import create_advisor
    from bot.conversation.models import Conversation, ConversationEvent, Delivery, Message, QueueEntry
    from core.db import make_engine, make_sessionmaker

    engine = make_engine(database_url)
    factory = make_sessionmaker(engine)
    password = secrets.token_urlsafe(16)
    advisor_ids = []
    for number, name in enumerate(ADVISORS):
        email = f"bench{number}@foretagssupport.invalid"
        advisor_ids.append(create_advisor(factory, email, name, password, update=True).id)
    conversations: list[dict[str, Any]] = []
    messages: list[dict[str, Any]] = []
    entries: list[dict[str, Any]] = []
    deliveries: list[dict[str, Any]] = []
    events: list[dict[str, Any]] = []

    def chat(state: str, started: dt.datetime, advisor: int | None) -> str:
        conversation_id = secrets.token_urlsafe(24)
        channel = rng.choice(CHANNELS)
        question = rng.choice(QUESTIONS)
        lines: list[tuple[str, str, str | None]] = [
            ("user", question, None),
            ("bot", rng.choice(REPLIES), None),
            ("user", "hur kontaktar jag dem?", None),
            ("bot", "Så här når du dem: webben och telefon.", None),
        ]
        if advisor is not None:
            name = ADVISORS[advisor_ids.index(advisor)]
            lines += [("advisor", line.format(name=name), name) for line in ADVISOR_LINES]
            lines += [("user", "Tack för hjälpen!", None)]
        for seq, (role, text, author) in enumerate(lines, start=1):
            messages.append({
                "conversation_id": conversation_id, "seq": seq, "role": role, "text": text, "buttons": [],
                "author": author, "advisor_id": advisor if role == "advisor" else None,
                "rasa_status": "done" if role in ("user", "advisor") else None,
                "created_at": started + dt.timedelta(seconds=20 * seq),
            })
        closed_at = started + dt.timedelta(minutes=rng.randint(5, 40)) if state == "closed" else None
        conversations.append({
            "id": conversation_id, "channel": channel, "state": state, "last_seq": len(lines),
            "rasa_paused": state == "queued", "handoff_reason": "request_human",
            "summary": {"asked": [question], "understood": ["Finansiering"], "targets_given": ["Almi Mälardalen"],
                        "text": "Företaget bad att få prata med en rådgivare."},
            "display_name": f"Person {len(conversations)}" if channel in ("slack", "teams") else None,
            "company_name": rng.choice(COMPANIES) if rng.random() < 0.6 else None,
            "question": question, "outcome": rng.choice(OUTCOMES) if state == "closed" else None,
            "created_at": started, "updated_at": closed_at or started, "closed_at": closed_at,
            "closed_by": advisor if state == "closed" else None,
        })
        deliveries.append({"conversation_id": conversation_id, "channel": channel, "delivered_seq": len(lines),
                           "attempts": 0, "next_attempt_at": started})
        events.append({"conversation_id": conversation_id, "kind": "opened", "at": started, "channel": channel,
                       "data": {}})
        return conversation_id

    for number in range(closed):
        started = now - dt.timedelta(days=180) + dt.timedelta(minutes=number * 180 * 24 * 60 / max(1, closed))
        chat("closed", started, rng.choice(advisor_ids))
    for number in range(queued):
        started = now - dt.timedelta(minutes=queued - number)
        conversation_id = chat("queued", started, None)
        entries.append({"conversation_id": conversation_id, "status": "waiting", "reason": "request_human",
                        "returned": False, "enqueued_at": started + dt.timedelta(seconds=90)})
    with Session(engine) as session, session.begin():
        for table, rows in ((Conversation, conversations), (Message, messages), (QueueEntry, entries),
                            (Delivery, deliveries), (ConversationEvent, events)):
            for chunk in _chunks(rows):
                session.execute(insert(table), chunk)
    engine.dispose()
    return {"email": "bench0@foretagssupport.invalid", "password": password, "messages": len(messages)}


@contextlib.asynccontextmanager
async def gateway(database_url: str, var_dir: str, now: dt.datetime) -> AsyncIterator[str]:
    from bot.app import create_app
    from core.settings import load_settings
    from scripts.stack import free_port

    port = free_port()
    settings = load_settings({
        "DATABASE_URL": database_url, "VAR_DIR": var_dir, "GATEWAY_HOST": "127.0.0.1",
        "GATEWAY_PORT": str(port), "RASA_PORT": str(free_port()), "RASA_TOKEN": "unused",
        "OPENING_HOURS": "always", "LOG_LEVEL": "WARNING", "ADVISOR_TIMEOUT_SECONDS": "3600",
    })
    app = create_app(settings, clock=lambda: now + dt.timedelta(seconds=time.monotonic() - started))
    started = time.monotonic()
    async with serve(app, port) as url:
        yield url


async def time_views(base: str, email: str, password: str, repeats: int) -> dict[str, Any]:
    origin = f"{urlsplit(base).scheme}://{urlsplit(base).netloc}"
    report: dict[str, Any] = {}
    async with aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True)) as http:
        async with http.get(f"{base}/console/api/session") as response:
            csrf = (await response.json())["csrf_token"]
        login = {"email": email, "password": password}
        async with http.post(f"{base}/console/api/login", json=login,
                             headers={"X-CSRF-Token": csrf, "Origin": origin}) as response:
            if response.status != 200:
                raise RuntimeError(f"could not log in: {response.status}")
            csrf = (await response.json())["csrf_token"]

        async def get(path: str) -> tuple[float, int, Any]:
            start = time.perf_counter()
            async with http.get(f"{base}{path}") as response:
                body = await response.read()
                if response.status != 200:
                    raise RuntimeError(f"{path} answered {response.status}: {body[:200]!r}")
            return time.perf_counter() - start, len(body), json.loads(body)

        _, _, queue = await get("/console/api/queue")
        _, _, closed_page = await get("/console/api/closed")
        some_closed = closed_page["conversations"][0]["conversation_id"]
        deep = closed_page["next"]
        for _ in range(9):  # ten pages back (fewer when the history is short)
            if not deep:
                break
            _, _, page = await get(f"/console/api/closed?before={aiohttp.helpers.quote(deep, safe='')}")
            deep = page["next"] or deep
        views = {
            "queue snapshot (500 waiting)": "/console/api/queue",
            "bot chats": "/console/api/conversations?state=bot",
            "closed, newest 50": "/console/api/closed",
            "closed, page 11": f"/console/api/closed?before={aiohttp.helpers.quote(deep or '', safe='')}",
            "closed, search a common word": "/console/api/closed?q=l%C3%A5n",
            "closed, search a rare word": "/console/api/closed?q=hyresv%C3%A4rd",
            "closed, search two words": "/console/api/closed?q=almi+tack",
            "closed, search by advisor name": "/console/api/closed?q=karin",
            "closed, search no match": "/console/api/closed?q=xyzzy",
            "closed, filters (channel, outcome, dates)":
                "/console/api/closed?channel=widget&outcome=referred&from=2026-07-01&to=2026-09-30",
            "one chat with its transcript": f"/console/api/conversations/{some_closed}",
            "advisors": "/console/api/advisors",
            "canned replies for a chat": f"/console/api/canned?conversation_id={some_closed}",
        }
        for name, path in views.items():
            await get(path)  # warm
            samples, size, rows = [], 0, None
            for _ in range(repeats):
                seconds, size, body = await get(path)
                samples.append(seconds)
                rows = len(body.get("conversations") or body.get("queue") or body.get("messages") or [])
            report[name] = {**percentiles(samples), "bytes": size, "rows": rows}

        ws_samples = []
        for _ in range(repeats):
            start = time.perf_counter()
            async with http.ws_connect(f"{base.replace('http', 'ws', 1)}/console/ws?csrf={csrf}",
                                       headers={"Origin": origin}) as ws:
                while True:
                    frame = json.loads((await ws.receive()).data)
                    if frame["type"] == "queue":
                        break
            ws_samples.append(time.perf_counter() - start)
        report["console WebSocket: connect to first snapshot"] = percentiles(ws_samples)
        report["_queue_length"] = len(queue["queue"])
    return report


async def run(queued: int = 500, closed: int = 10_000, repeats: int = 20, database_url: str | None = None,
              seed_value: int = 12) -> dict[str, Any]:
    """Seed, start, time; returns a JSON-able report (`make bench` stores it)."""
    from scripts.db import upgrade

    now = dt.datetime(2026, 12, 1, 9, 30, tzinfo=dt.timezone.utc)
    with tempfile.TemporaryDirectory(prefix="console-bench-") as tmp:
        url = database_url or f"sqlite:///{Path(tmp) / 'bench.db'}"
        upgrade(url)
        started = time.perf_counter()
        account = seed(url, queued, closed, now, random.Random(seed_value))
        seeding = time.perf_counter() - started
        async with gateway(url, tmp, now) as base:
            views = await time_views(base, account["email"], account["password"], repeats)
    return {
        "database": "sqlite" if database_url is None else urlsplit(url).scheme,
        "queued": queued,
        "closed": closed,
        "messages": account["messages"],
        "seed_seconds": round(seeding, 1),
        "repeats": repeats,
        "views_ms": {k: v for k, v in views.items() if not k.startswith("_")},
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.console", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--queued", type=int, default=500)
    parser.add_argument("--closed", type=int, default=10_000)
    parser.add_argument("--repeats", type=int, default=20)
    parser.add_argument("--database-url", help="an empty database to seed (default: a temporary SQLite file)")
    parser.add_argument("--output", type=Path)
    args = parser.parse_args(argv)
    report = asyncio.run(run(args.queued, args.closed, args.repeats, args.database_url))
    print_report(report, args.output)
    return 0


if __name__ == "__main__":
    sys.exit(main())
