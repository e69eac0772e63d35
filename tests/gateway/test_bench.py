"""The benchmark code runs end to end (here against the fake Rasa, with tiny counts)."""

from __future__ import annotations

from aiohttp.test_utils import TestServer

from bench import gateway as bench
from bench.fake_rasa import TOKEN


def test_percentiles_in_milliseconds() -> None:
    samples = [n / 1000 for n in range(1, 101)]  # 1..100 ms
    assert bench.percentiles(samples) == {"p50": 51.0, "p95": 95.0, "mean": 50.5, "n": 100}
    assert bench.percentiles([])["n"] == 0


async def test_the_benchmark_reports_ratios_and_escalation_latency(rasa_server: TestServer) -> None:
    rasa_url = str(rasa_server.make_url("")).rstrip("/")
    report = await bench.run(rasa_url, TOKEN, client_counts=(1, 2), turns=2, escalations=2, paired=3)

    assert set(report["turn_latency"]) == {"1", "2"}
    one = report["turn_latency"]["1"]  # one client alternates between the two, turn by turn
    assert one["rasa_ms"]["n"] == one["gateway_ms"]["n"] == 3
    assert one["overhead_ms_paired_median"] is not None
    assert one["gateway_cpu_ms_per_turn"] > 0  # the gateway runs as its own process
    two = report["turn_latency"]["2"]
    assert two["rasa_ms"]["n"] == two["gateway_ms"]["n"] == 4
    assert two["ratio_p50"] > 0
    assert report["escalation_to_console_ms"]["n"] == 2


async def test_a_short_soak_counts_turns_failures_and_memory_per_sample(rasa_server: TestServer) -> None:
    import os

    from bench import soak

    rasa_url = str(rasa_server.make_url("")).rstrip("/")
    async with bench.bench_gateway(rasa_url, TOKEN, in_process=True) as (gateway_url, _, _):
        report = await soak.soak(gateway_url, lambda: {"bench": os.getpid()}, minutes=0.05,
                                 conversations=2, sample_seconds=1)

    assert report["turns"] >= 2
    assert report["failed_turns"] == 0, report["failures"]
    assert len(report["rss_mib_per_minute"]) >= 2
    assert report["rss_mib_per_minute"][0]["bench"] > 0
    assert set(report["rss_growth_mib"]) == {"bench"}


async def test_a_traced_soak_names_the_lines_that_hold_more_memory(rasa_server: TestServer) -> None:
    from bench import soak

    rasa_url = str(rasa_server.make_url("")).rstrip("/")
    async with bench.bench_gateway(rasa_url, TOKEN, in_process=True) as (gateway_url, _, _):
        report = await soak.traced(gateway_url, minutes=0.03, conversations=2, warmup_minutes=0.02, top=5)

    assert report["failed_turns"] == 0, report["failures"]
    assert len(report["grown_since_warmup"]) <= 5
    for row in report["grown_since_warmup"]:
        assert row["kib"] > 0 and row["where"]
        assert not any(frame.startswith("bench/") for frame in row["where"])
