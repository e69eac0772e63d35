"""`make bench`: answer quality, speed and memory of the current model, written to
bench/results.json and printed as a table.

- cross-validated intent F1 (per intent, and weighted), `rasa test nlu --cross-validation`
- dev-set top-1 referral and any-mention through the REST channel
- the conversation set (tests/conversations.yml): turns and whole conversations as expected
- turn latency p50/p95 at 1 and 10 concurrent clients through Rasa's REST channel
- model load time, training time (recorded when the model was trained), resident memory
- the analytics page and the lägesbild at 100,000 conversations (bench/analytics.py)

- retrain-to-live for a one-example edit and failed or stalled turns during a model swap
  under 10 clients (bench/training.py)

`--skip-cv` leaves out the cross-validation (it trains the NLU five times);
`--skip-analytics` the analytics timing (seeding 100,000 conversations takes minutes);
`--skip-training` the retrain-to-live and swap figures (one fine-tuning, two model loads).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

import aiohttp

from bench import analytics as analytics_bench
from bench import gateway as gateway_bench
from bench import rasa_footprint
from bench import slack as slack_bench
from bench import soak as soak_bench
from bench import teams as teams_bench
from bench import training as training_bench
from core.settings import PROJECT_ROOT, RASA_CHANNEL_HEADER, load_settings
from scripts import conversation_eval
from scripts.db import seed, upgrade
from scripts.model import RASA, ensure_model, rasa_env
from scripts.referral_eval import evaluate, load_set, load_targets
from scripts.stack import Stack, isolated_settings, rasa_tuning

RESULTS = PROJECT_ROOT / "bench" / "results.json"
TURNS = [
    "vi har inga pengar kvar i kassan, kan vi få lån någonstans?",
    "hur kontaktar jag dem?",
    "finns det något mer?",
    "vi är 12 anställda",
]


def rss_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def tree_rss_mib(pid: int) -> float:
    """Resident memory of a process and its children (Sanic may fork workers)."""
    total = rss_mib(pid)
    children = Path(f"/proc/{pid}/task/{pid}/children")
    if children.exists():
        for child in children.read_text().split():
            total += tree_rss_mib(int(child))
    return total


async def latency(url: str, clients: int, conversations_per_client: int, token: str) -> dict[str, float]:
    timings: list[float] = []

    async def client(http: aiohttp.ClientSession) -> None:
        for _ in range(conversations_per_client):
            sender = f"bench-{uuid.uuid4().hex}"
            for text in TURNS:
                started = time.perf_counter()
                async with http.post(f"{url}/webhooks/rest/webhook", headers={RASA_CHANNEL_HEADER: token},
                                     json={"sender": sender, "message": text}) as response:
                    await response.read()
                    response.raise_for_status()
                timings.append(time.perf_counter() - started)

    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=120)) as http:
        started = time.perf_counter()
        await asyncio.gather(*(client(http) for _ in range(clients)))
        elapsed = time.perf_counter() - started
    figures = gateway_bench.percentiles(timings)  # the same definition as the gateway's
    return {
        "turns": len(timings),
        "p50_ms": figures["p50"],
        "p95_ms": figures["p95"],
        "turns_per_s": round(len(timings) / elapsed, 1),
    }


def cross_validation(config: Path, folds: int) -> dict[str, Any]:
    out = Path(tempfile.mkdtemp(prefix="cv-"))
    started = time.monotonic()
    subprocess.run(
        [str(RASA), "test", "nlu", "--nlu", "data/nlu", "--config", str(config),
         "--cross-validation", "--folds", str(folds), "--out", str(out)],
        cwd=PROJECT_ROOT, check=True, env=rasa_env(), stdout=subprocess.DEVNULL,
    )
    return {"folds": folds, **intent_f1(out), "seconds": round(time.monotonic() - started)}


def intent_f1(report_dir: Path) -> dict[str, Any]:
    """Weighted, macro and per-intent F1 from the `intent_report.json` of `rasa test nlu`."""
    report = json.loads((report_dir / "intent_report.json").read_text())
    per_intent = {
        name: round(values["f1-score"], 3)
        for name, values in report.items()
        if isinstance(values, dict) and "f1-score" in values
        and name not in ("micro avg", "macro avg", "weighted avg")
    }
    return {
        "weighted_f1": round(report["weighted avg"]["f1-score"], 3),
        "macro_f1": round(report["macro avg"]["f1-score"], 3),
        "accuracy": round(report.get("accuracy", float("nan")), 3),
        "per_intent_f1": dict(sorted(per_intent.items(), key=lambda kv: kv[1])),
    }


async def measure_stack(
    model: Path, gateway: bool = True, soak_minutes: float = 0.0, rasa_replicas: int = 1
) -> dict[str, Any]:
    var_dir = Path(tempfile.mkdtemp(prefix="bench-"))
    settings = isolated_settings(var_dir, {**os.environ, "RASA_TOKEN": "bench-token"})
    upgrade(settings.database_url)
    seed(settings.database_url)
    os.environ["DATABASE_URL"] = settings.database_url
    stack = Stack(settings, model, with_gateway=False, log_dir=var_dir / "logs", replicas=rasa_replicas)
    started = time.monotonic()
    try:
        stack.start(timeout=300)
        load_seconds = round(time.monotonic() - started, 1)
        report = await evaluate(settings.rasa_url, load_set(), load_targets(), token=settings.rasa_token)
        conversations = await conversation_eval.evaluate(settings.rasa_url, token=settings.rasa_token)
        one = await latency(settings.rasa_url, clients=1, conversations_per_client=10, token=settings.rasa_token)
        ten = await latency(settings.rasa_url, clients=10, conversations_per_client=4, token=settings.rasa_token)
        memory = {name: round(tree_rss_mib(p.pid), 1) for name, p in stack.processes.items()}
        gateway_figures = (
            await gateway_bench.run(settings.rasa_url, settings.rasa_token, (1, 10), turns=20, escalations=20,
                                    rasa_urls=stack.rasa_urls if rasa_replicas > 1 else ())
            if gateway else None
        )
        teams_figures = (
            await teams_bench.run(settings.rasa_url, settings.rasa_token, (1, 10), turns=20) if gateway else None
        )
        slack_figures = (
            await slack_bench.run(settings.rasa_url, settings.rasa_token, (1, 10), turns=20) if gateway else None
        )
        soak_figures = None
        if soak_minutes > 0:
            gateway_pid: list[int] = []
            async with gateway_bench.bench_gateway(settings.rasa_url, settings.rasa_token,
                                                   on_pid=gateway_pid.append) as (url, _, _):
                soak_figures = await soak_bench.soak(
                    url,
                    lambda: {**{n: p.pid for n, p in stack.processes.items() if p.running()},
                             "gateway": gateway_pid[0]},
                    soak_minutes,
                    sample_seconds=min(60.0, soak_minutes * 30),
                )
    finally:
        stack.stop()
    return {
        "dev_set": {"questions": len(report.rows), "top1": round(report.top1, 3),
                    "any_mention": round(report.any_mention, 3),
                    "misses": [{"text": r["text"], "expect": r["expect"], "first": r["first"]}
                               for r in report.failures()]},
        "conversation_set": {
            "turns": len(conversations.rows), "turn_score": round(conversations.turn_score, 3),
            "conversations": conversations.conversations,
            "conversation_score": round(conversations.conversation_score, 3),
            "misses": [{k: r[k] for k in ("conversation", "turn", "say", "expect", "got")}
                       for r in conversations.failures()],
        },
        "latency_rest": {"1_client": one, "10_clients": ten},
        "gateway": gateway_figures,
        "teams": teams_figures,
        "slack": slack_figures,
        "soak": soak_figures,
        "rasa_tuning": rasa_tuning(settings),
        "rasa_servers": rasa_replicas,
        "model_load_seconds": load_seconds,
        "rss_mib": memory,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--skip-cv", action="store_true")
    parser.add_argument("--folds", type=int, default=5)
    parser.add_argument("--soak-minutes", type=float, default=float(os.environ.get("BENCH_SOAK_MINUTES", "2")),
                        help="steady-load soak after the figures (0: none; `python -m bench.soak` for 30 min)")
    parser.add_argument("--rasa-replicas", type=int, default=1,
                        help="Rasa servers behind the bench gateway (RASA_URLS), for throughput")
    parser.add_argument("--skip-footprint", action="store_true",
                        help="leave out the untuned Rasa (one more model load) for the tuning comparison")
    parser.add_argument("--skip-analytics", action="store_true")
    parser.add_argument("--skip-training", action="store_true")
    args = parser.parse_args(argv)
    load_settings()
    model = ensure_model()
    results: dict[str, Any] = {"model": model.name}
    meta = model.with_suffix("").with_suffix(".json")
    if meta.exists():
        results["training_seconds"] = json.loads(meta.read_text()).get("training_seconds")
    results.update(asyncio.run(measure_stack(model, soak_minutes=args.soak_minutes,
                                             rasa_replicas=args.rasa_replicas)))
    if not args.skip_footprint:
        results["rasa_footprint"] = {
            "untuned": asyncio.run(rasa_footprint.measure(model, rasa_footprint.VARIANTS["untuned"])),
            "tuned": {"settings": results["rasa_tuning"], "model_load_seconds": results["model_load_seconds"],
                      "rasa_rss_mib": results["rss_mib"].get("rasa")},
        }
    results["load_average"] = " ".join(Path("/proc/loadavg").read_text().split()[:3])
    if not args.skip_analytics:
        results["analytics"] = asyncio.run(analytics_bench.run())
    if not args.skip_training:
        results["training"] = training_bench.run()
    if not args.skip_cv:
        results["cross_validation"] = cross_validation(PROJECT_ROOT / "config.yml", args.folds)
    existing = json.loads(RESULTS.read_text()) if RESULTS.exists() else {}
    existing.update(results)
    RESULTS.write_text(json.dumps(existing, indent=2, ensure_ascii=False) + "\n")
    print_table(existing)
    return 0


def print_table(r: dict[str, Any]) -> None:
    rows = [
        ("Dev-set top-1 referral", f"{r['dev_set']['top1']:.3f} ({r['dev_set']['questions']} questions)"),
        ("Dev-set any-mention", f"{r['dev_set']['any_mention']:.3f}"),
    ]
    if "conversation_set" in r:
        c = r["conversation_set"]
        rows.append(("Conversation set", f"{c['turn_score']:.3f} of {c['turns']} turns, "
                     f"{c['conversation_score']:.3f} of {c['conversations']} conversations"))
    if "cross_validation" in r:
        cv = r["cross_validation"]
        rows.append(("Cross-validated intent F1", f"{cv['weighted_f1']:.3f} weighted, "
                     f"{cv['macro_f1']:.3f} macro ({cv['folds']} folds)"))
    for name, key in (("1 client", "1_client"), ("10 clients", "10_clients")):
        lat = r["latency_rest"][key]
        rows.append((f"Turn latency, {name} (REST)", f"p50 {lat['p50_ms']} ms, p95 {lat['p95_ms']} ms"))
    for clients, row in r["gateway"]["turn_latency"].items():
        rows.append((f"Gateway vs raw Rasa, {clients} client(s)",
                     f"p50 {row['gateway_ms']['p50']} vs {row['rasa_ms']['p50']} ms "
                     f"(ratio {row['ratio_p50']}), p95 ratio {row['ratio_p95']}"))
        rows.append((f"Gateway overhead, {clients} client(s)",
                     f"{row.get('overhead_ms_p50')} ms = {row.get('overhead_share_p50')} of Rasa's p50 "
                     f"(goal <= 0.10); {row.get('gateway_turns_per_s')} turns/s through the gateway"))
    escalation = r["gateway"]["escalation_to_console_ms"]
    rows.append(("Escalation to console", f"p50 {escalation['p50']} ms, p95 {escalation['p95']} ms"))
    if r.get("analytics"):
        analytics = r["analytics"]
        for name, figures in analytics["views_ms"].items():
            rows.append((f"{name} ({analytics['conversations']:,} conversations)",
                         f"p50 {figures['p50']} ms, p95 {figures['p95']} ms"))
    rows.append(("Model load", f"{r['model_load_seconds']} s"))
    if r.get("training"):
        edit, swap = r["training"]["one_example_edit"], r["training"]["swap_under_load"]
        rows.append(("Retrain-to-live, one-example edit",
                     f"{edit['train_to_active_seconds']} s ({edit['mode']}; swap {edit['swap_seconds']} s)"))
        for name in ("without_swap", "activation", "rollback"):
            row = swap[name]
            rows.append((f"Swap under {swap['clients']} clients, {name}",
                         f"{row['failed']} failed, {row['stalled_over_2s']} over 2 s of {row['turns']} turns"))
    if r.get("training_seconds"):
        rows.append(("Training", f"{r['training_seconds']} s"))
    rows.append(("Resident memory", ", ".join(f"{k} {v} MiB" for k, v in r["rss_mib"].items())))
    for name, variant in (r.get("rasa_footprint") or {}).items():
        rows.append((f"Rasa {name}", f"load {variant.get('model_load_seconds')} s, "
                     f"{variant.get('rasa_rss_mib')} MiB resident"))
    if r.get("soak"):
        soak = r["soak"]
        rows.append(("Soak", f"{soak['minutes']} min, {soak['conversations']} conversations, {soak['turns']} turns, "
                     f"{soak['failed_turns']} failed, growth {soak['rss_growth_mib']} MiB"))
    if r.get("load_average"):
        rows.append(("Load average during the run", r["load_average"]))
    width = max(len(a) for a, _ in rows)
    print()
    for a, b in rows:
        print(f"{a.ljust(width)}  {b}")
    print(f"\nWritten to {RESULTS.relative_to(PROJECT_ROOT)}")


if __name__ == "__main__":
    sys.exit(main())
