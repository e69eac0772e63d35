"""The Slack benchmark runs end to end (here against the fake Rasa, with tiny counts)."""

from __future__ import annotations

from aiohttp.test_utils import TestServer

from bench import slack as bench
from bench.fake_rasa import TOKEN


async def test_the_benchmark_reports_latency_and_recovery_after_an_outage(rasa_server: TestServer) -> None:
    rasa_url = str(rasa_server.make_url("")).rstrip("/")
    report = await bench.run(rasa_url, TOKEN, conversation_counts=(1, 3), turns=2, outage_seconds=1.0,
                             outage_messages=4)
    assert set(report["event_to_post_ms"]) == {"1", "3"}
    assert report["event_to_post_ms"]["3"]["n"] == 6
    assert 0 < report["ack_ms"]["1"]["p50"] <= report["event_to_post_ms"]["1"]["p50"]
    assert report["rasa_ms"]["3"]["n"] == 6 and report["ratio_p50"]["3"] > 0
    outage = report["outage"]
    assert outage["replies_waiting_at_recovery"] == 4
    assert outage["replies_delivered"] == 4
    assert outage["posted_twice"] == 0
    assert report["slack_problems"] == []
