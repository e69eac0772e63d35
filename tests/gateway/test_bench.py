"""The benchmark code runs end to end (here against the fake Rasa, with tiny counts)."""

from __future__ import annotations

from aiohttp.test_utils import TestServer

from bench import gateway as bench
from tests.gateway.fake_rasa import TOKEN


def test_percentiles_in_milliseconds() -> None:
    samples = [n / 1000 for n in range(1, 101)]  # 1..100 ms
    assert bench.percentiles(samples) == {"p50": 51.0, "p95": 95.0, "mean": 50.5, "n": 100}
    assert bench.percentiles([])["n"] == 0


async def test_the_benchmark_reports_ratios_and_escalation_latency(rasa_server: TestServer) -> None:
    rasa_url = str(rasa_server.make_url("")).rstrip("/")
    report = await bench.run(rasa_url, TOKEN, client_counts=(1, 2), turns=2, escalations=2)

    assert set(report["turn_latency"]) == {"1", "2"}
    two = report["turn_latency"]["2"]
    assert two["rasa_ms"]["n"] == two["gateway_ms"]["n"] == 4
    assert two["ratio_p50"] > 0
    assert report["escalation_to_console_ms"]["n"] == 2
