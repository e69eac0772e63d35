"""`bench.teams` measures what it says (a tiny run with the echo standing in for Rasa)."""

from __future__ import annotations

from bench import teams


async def test_the_teams_bench_reports_verification_acks_and_turns() -> None:
    report = await teams.run(client_counts=(1, 2), turns=2, verifications=5)
    assert report["token_verification_ms"]["n"] == 5
    assert report["clients_1"]["turn_ms"]["n"] == 2
    assert report["clients_2"]["inbound_ack_ms"]["n"] == 4
    for clients in ("clients_1", "clients_2"):
        figures = report[clients]
        assert 0 < figures["inbound_ack_ms"]["p50"] <= figures["turn_ms"]["p95"]
    assert report["replies_posted"] == 1 + 2 + 4  # the warm-up turn, then every turn once
    assert report["token_requests"] == 1
    assert report["rasa"] == "echo"
