"""How fast the analytics page and the lägesbild stay at 100,000 conversations.

Seeds a throw-away database with `--conversations` conversations spread over twelve
weeks (every channel; company messages with what the NLU understood, municipality and
company size, referrals, fallbacks, layoff questions rising in the last two weeks; a
fifth handed off with a queue wait, an advisor's claim and first reply; CSAT ratings in
the survey's table),
starts the gateway in this process, logs an admin in and times, through HTTP:

- the analytics page for the last 28 days, for the whole twelve weeks, and with filters;
- an advisor's own page; a chart's CSV;
- generating a lägesbild (POST, computing and storing it) and showing it.

    python -m bench.analytics [--conversations 100000] [--repeats 5]
                              [--database-url URL] [--output FILE]

With --database-url (an empty PostgreSQL database) the data is seeded there instead of a
temporary SQLite file; the database is migrated first and must hold no chats.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import datetime as dt
import random
import re
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

from bench.gateway import percentiles
from bench.serving import print_report, serve

NOW = dt.datetime(2026, 12, 8, 9, 0, tzinfo=dt.timezone.utc)  # a Tuesday
WEEKS = 12
RISING_SINCE = dt.datetime(2026, 11, 30, tzinfo=dt.timezone.utc)  # layoff questions rise in the last weeks
CHANNELS = ("widget", "widget", "widget", "rest", "slack", "teams")
TOPICS = (
    ("financing", "Vi behöver ett lån till en ny maskin", "almi"),
    ("layoff_notice", "Vi måste varsla tre anställda, vad gäller?", "arbetsformedlingen"),
    ("tax_deferral", "Kan vi skjuta upp skatteinbetalningen?", "skatteverket"),
    ("start_business", "Hur startar jag ett aktiebolag?", "verksamt"),
    ("export", "Vi vill börja exportera till Norge", "business_sweden"),
    ("rent_support", "Vår hyresvärd höjer hyran kraftigt", None),
    ("hiring_support", "Finns det stöd för att anställa?", "arbetsformedlingen"),
    ("debt_problems", "Vi har svårt att betala våra leverantörer", "almi"),
)
FALLBACKS = ("asdf qwerty", "kan ni hjälpa med min katt", "vad kostar en pizza i sala", "hej hej hallå")
PLACES = ("Västerås", "Västerås", "Köping", "Sala", "Fagersta", "Arboga", "Hallstahammar", "Kungsör", None, None)
SIZES = ("ensamföretagare", "5 anställda", "12 anställda", "80 anställda", "300 anställda", None, None)
REASONS = ("request_human", "request_human", "fallback", "complaint")
ADVISORS = 8
BATCH = 5000


def _chunks(rows: list[dict[str, Any]]) -> Iterator[list[dict[str, Any]]]:
    for start in range(0, len(rows), BATCH):
        yield rows[start : start + BATCH]


def seed(database_url: str, count: int, rng: random.Random) -> dict[str, Any]:
    """The conversations, written with bulk INSERTs; returns the accounts to log in as."""
    from bot.accounts.manage import create_advisor
    from bot.admin.analytics.csat import RATINGS
    from bot.conversation.models import Conversation, ConversationEvent, Message, MessageNlu, QueueEntry
    from bot.rules.analytics import company_facets
    from core.db import make_engine, make_sessionmaker

    engine = make_engine(database_url)
    factory = make_sessionmaker(engine)
    password = secrets.token_urlsafe(16)
    admin = create_advisor(factory, "bench-admin@foretagssupport.invalid", "Bench Admin", password, update=True,
                           role="admin")
    advisor_ids = [create_advisor(factory, f"bench{n}@foretagssupport.invalid", f"Rådgivare {n}", password,
                                  update=True).id for n in range(ADVISORS)]
    span = WEEKS * 7 * 86400
    rows: dict[str, list[dict[str, Any]]] = {"c": [], "m": [], "n": [], "e": [], "q": [], "r": []}

    # executemany needs the same keys in every row of a batch
    defaults = {"m": {"rasa_status": None, "reply_to": None, "advisor_id": None}, "e": {"advisor_id": None}}

    def flush() -> None:
        for key, values in defaults.items():
            rows[key] = [{**values, **row} for row in rows[key]]
        with engine.begin() as conn:
            for table, key in ((Conversation.__table__, "c"), (Message.__table__, "m"), (MessageNlu.__table__, "n"),
                               (ConversationEvent.__table__, "e"), (QueueEntry.__table__, "q"), (RATINGS, "r")):
                for chunk in _chunks(rows[key]):
                    conn.execute(insert(table), chunk)
                rows[key].clear()

    messages = 0
    for number in range(count):
        cid = f"bench-{number:07d}-{secrets.token_hex(6)}"
        started = NOW - dt.timedelta(seconds=rng.randrange(span))
        channel = rng.choice(CHANNELS)
        rows["c"].append({"id": cid, "channel": channel, "state": "bot", "last_seq": 0, "rasa_paused": False,
                          "created_at": started, "updated_at": started})
        rows["e"].append({"conversation_id": cid, "kind": "opened", "at": started, "channel": channel, "data": {}})
        entities = []
        place, size = rng.choice(PLACES), rng.choice(SIZES)
        if place:
            entities.append({"entity": "municipality", "value": place})
        if size:
            entities.append({"entity": "company_size", "value": size})
        municipality, size_class = company_facets(entities)
        seq = 0
        turns = rng.randint(1, 3)
        understood = rng.random() > 0.12
        for turn in range(turns):
            seq += 1
            at = started + dt.timedelta(seconds=30 * seq)
            if (understood or turn > 0) and started > RISING_SINCE and rng.random() < 0.3:
                intent, text, target = TOPICS[1]  # layoffs: the lägesbild has a rising topic to show
                confidence = rng.uniform(0.6, 0.99)
            elif understood or turn > 0:
                intent, text, target = rng.choice(TOPICS)
                confidence = rng.uniform(0.6, 0.99)
            else:
                intent, text, target, confidence = "nlu_fallback", rng.choice(FALLBACKS), None, rng.uniform(0.1, 0.5)
            rows["m"].append({"conversation_id": cid, "seq": seq, "role": "user", "text": text, "buttons": [],
                              "rasa_status": "done", "created_at": at})
            rows["n"].append({"conversation_id": cid, "seq": seq, "at": at, "intent": intent,
                              "confidence": confidence, "entities": entities if turn == 0 else [],
                              "referral_target": target, "municipality": municipality if turn == 0 else None,
                              "company_size": size_class if turn == 0 else None})
            seq += 1
            rows["m"].append({"conversation_id": cid, "seq": seq, "role": "bot", "text": "Svar från boten.",
                              "buttons": [], "reply_to": seq - 1, "created_at": at + dt.timedelta(seconds=1)})
        if rng.random() < 0.2:
            at = started + dt.timedelta(seconds=30 * seq + 10)
            reason = rng.choice(REASONS)
            advisor = rng.choice(advisor_ids)
            claimed = at + dt.timedelta(seconds=rng.expovariate(1 / 90))
            rows["e"].append({"conversation_id": cid, "kind": "handoff", "at": at, "channel": channel,
                              "data": {"reason": reason}})
            rows["q"].append({"conversation_id": cid, "status": "done", "reason": reason, "returned": False,
                              "enqueued_at": at, "claimed_by": advisor, "claimed_at": claimed})
            rows["e"].append({"conversation_id": cid, "kind": "claimed", "at": claimed, "channel": channel,
                              "advisor_id": advisor, "data": {"from_state": "queued"}})
            seq += 1
            rows["m"].append({"conversation_id": cid, "seq": seq, "role": "advisor", "text": "Hej, jag hjälper dig.",
                              "buttons": [], "advisor_id": advisor,
                              "created_at": claimed + dt.timedelta(seconds=rng.expovariate(1 / 40))})
            if rng.random() < 0.4:
                rows["r"].append({"conversation_id": cid, "advisor_id": advisor, "channel": channel,
                                  "asked_at": claimed + dt.timedelta(minutes=8), "rating": rng.randint(1, 5),
                                  "rated_at": claimed + dt.timedelta(minutes=10)})
        messages += seq
        if len(rows["m"]) >= 50_000:
            flush()
    flush()
    if engine.dialect.name == "postgresql":
        # What autovacuum does after a bulk load: without statistics the planner walks the
        # wrong index for the filters (seconds instead of a few hundred ms).
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.exec_driver_sql("ANALYZE")
    engine.dispose()
    return {"email": admin.email, "advisor_email": "bench0@foretagssupport.invalid", "password": password,
            "messages": messages}


@contextlib.asynccontextmanager
async def gateway(database_url: str, var_dir: str) -> AsyncIterator[str]:
    from bot.app import create_app
    from core.settings import load_settings
    from scripts.stack import free_port

    port = free_port()
    settings = load_settings({
        "DATABASE_URL": database_url, "VAR_DIR": var_dir, "GATEWAY_HOST": "127.0.0.1",
        "GATEWAY_PORT": str(port), "RASA_PORT": str(free_port()), "RASA_TOKEN": "unused",
        "OPENING_HOURS": "always", "LOG_LEVEL": "WARNING", "ADVISOR_TIMEOUT_SECONDS": "3600",
    })
    app = create_app(settings, clock=lambda: NOW, lagesbild_interval=24 * 3600)
    async with serve(app, port) as url:
        yield url


CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


async def _login(http: aiohttp.ClientSession, base: str, email: str, password: str) -> str:
    origin = f"{urlsplit(base).scheme}://{urlsplit(base).netloc}"
    async with http.get(f"{base}/admin/login") as response:
        csrf = CSRF.search(await response.text())
    assert csrf is not None
    async with http.post(f"{base}/admin/login", data={"csrf_token": csrf.group(1), "email": email,
                                                      "password": password, "next": "/admin"},
                         headers={"Origin": origin}, allow_redirects=False) as response:
        if response.status != 303:
            raise RuntimeError(f"could not log in: {response.status}")
    return origin


async def time_views(base: str, account: dict[str, Any], repeats: int) -> dict[str, Any]:
    report: dict[str, Any] = {}
    jar = aiohttp.CookieJar(unsafe=True)
    async with aiohttp.ClientSession(cookie_jar=jar, timeout=aiohttp.ClientTimeout(total=600)) as http:
        origin = await _login(http, base, account["email"], account["password"])

        async def get(path: str) -> tuple[float, str]:
            start = time.perf_counter()
            async with http.get(f"{base}{path}") as response:
                body = await response.text()
                if response.status != 200:
                    raise RuntimeError(f"{path} answered {response.status}: {body[:200]!r}")
            return time.perf_counter() - start, body

        views = {
            "analytics page, last 28 days": "/admin/analytics",
            "analytics page, twelve weeks": "/admin/analytics?fran=2026-09-15&till=2026-12-08",
            "analytics page, filtered (Västerås, widget, 10–49)":
                "/admin/analytics?fran=2026-09-15&till=2026-12-08&kommun=V%C3%A4ster%C3%A5s&kanal=widget"
                "&storlek=10%E2%80%9349",
            "a chart's CSV (conversations per day, twelve weeks)":
                "/admin/analytics.csv?fran=2026-09-15&till=2026-12-08&diagram=samtal-per-dag",
        }
        for name, path in views.items():
            await get(path)  # warm
            report[name] = percentiles([(await get(path))[0] for _ in range(repeats)])

        samples = []
        report_path = ""
        for _ in range(repeats):
            _, page = await get("/admin/lagesbild")
            csrf = CSRF.search(page)
            assert csrf is not None
            start = time.perf_counter()
            async with http.post(f"{base}/admin/lagesbild", data={"csrf_token": csrf.group(1), "vecka": "2026-11-30"},
                                 headers={"Origin": origin}, allow_redirects=False) as response:
                await response.read()
                if response.status != 303:
                    raise RuntimeError(f"lägesbild answered {response.status}")
                report_path = response.headers["Location"]
            samples.append(time.perf_counter() - start)
        report["lägesbild: generate and store (POST)"] = percentiles(samples)
        report["lägesbild: show a stored report"] = percentiles([(await get(report_path))[0] for _ in range(repeats)])

    jar = aiohttp.CookieJar(unsafe=True)
    async with aiohttp.ClientSession(cookie_jar=jar, timeout=aiohttp.ClientTimeout(total=600)) as http:
        await _login(http, base, account["advisor_email"], account["password"])
        samples = []
        for _ in range(repeats + 1):
            start = time.perf_counter()
            async with http.get(f"{base}/statistik?fran=2026-09-15&till=2026-12-08") as response:
                await response.read()
                if response.status != 200:
                    raise RuntimeError(f"/statistik answered {response.status}")
            samples.append(time.perf_counter() - start)
        report["an advisor's own page, twelve weeks"] = percentiles(samples[1:])
    return report


async def run(conversations: int = 100_000, repeats: int = 5, database_url: str | None = None,
              seed_value: int = 9) -> dict[str, Any]:
    """Seed, start, time; returns a JSON-able report (`make bench` stores it)."""
    from scripts.db import upgrade

    with tempfile.TemporaryDirectory(prefix="analytics-bench-") as tmp:
        url = database_url or f"sqlite:///{Path(tmp) / 'bench.db'}"
        upgrade(url)
        started = time.perf_counter()
        account = seed(url, conversations, random.Random(seed_value))
        seeding = time.perf_counter() - started
        async with gateway(url, tmp) as base:
            views = await time_views(base, account, repeats)
    return {
        "database": "sqlite" if database_url is None else urlsplit(url).scheme,
        "conversations": conversations,
        "messages": account["messages"],
        "seed_seconds": round(seeding, 1),
        "repeats": repeats,
        "views_ms": views,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.analytics", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--conversations", type=int, default=100_000)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--database-url", help="an empty database to seed (default: a temporary SQLite file)")
    parser.add_argument("--output", type=Path)
    args = parser.parse_args(argv)
    report = asyncio.run(run(args.conversations, args.repeats, args.database_url))
    print_report(report, args.output)
    return 0


if __name__ == "__main__":
    sys.exit(main())
