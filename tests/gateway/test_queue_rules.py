"""The queue and hand-off rules, as plain functions."""

from __future__ import annotations

import datetime as dt

import pytest

from bot.rules import queue as rules
from bot.rules.ratelimit import BucketMap, TokenBucket
from bot.rules.validation import Invalid, clean_text, client_id, ticket_form

T0 = dt.datetime(2026, 11, 24, 9, 0, tzinfo=dt.timezone.utc)
SUMMARY = {"asked": ["a"], "understood": ["Finansiering"], "targets_given": ["Almi"], "text": "t"}


# ---------------------------------------------------------------- ownership


def test_ownership_moves_bot_to_queue_to_advisor_and_back() -> None:
    assert rules.can_transition("bot", "queued")
    assert rules.can_transition("queued", "advisor")
    assert rules.can_transition("advisor", "bot")
    assert rules.can_transition("advisor", "closed")
    assert rules.can_transition("advisor", "queued")  # timeout or release
    assert rules.can_transition("closed", "bot")


def test_impossible_moves() -> None:
    assert not rules.can_transition("closed", "advisor")
    assert not rules.can_transition("queued", "closed")
    assert not rules.can_transition("bot", "closed")
    assert not rules.can_transition("advisor", "advisor")


def test_who_may_be_claimed_and_from_where_a_queue_is_entered() -> None:
    assert rules.CLAIMABLE == ("queued", "bot", "offline")
    assert rules.sources_for("queued") == ("bot", "advisor", "offline")
    assert rules.sources_for("offline") == ("bot",)


# ---------------------------------------------------------------- hand-off


def test_the_bots_handoff_payload_hands_off_with_its_reason_and_summary() -> None:
    replies = [
        {"custom": {"handoff": {"reason": "complaint", "summary": SUMMARY}}},
        {"text": "Jag kopplar dig."},
    ]
    verdict = rules.judge_turn(replies)
    assert verdict == rules.TurnVerdict("complaint", SUMMARY)
    assert verdict.hands_off


def test_an_unknown_reason_is_treated_as_a_request_for_a_human() -> None:
    verdict = rules.judge_turn([{"custom": {"handoff": {"reason": "???"}}}])
    assert verdict.handoff_reason == "request_human"
    assert verdict.summary is None


def test_only_the_bots_hand_off_signal_hands_off() -> None:
    """The bot counts not-understood turns itself; the gateway keeps no count of its own."""
    for replies in (
        [{"text": "Almi kan hjälpa."}],
        [{"text": "Jag förstod inte.", "custom": {"fallback": True}}],
        [{"custom": {"handoff": "not a dict"}}],
        [],
    ):
        verdict = rules.judge_turn(replies)
        assert verdict == rules.TurnVerdict(None, None)
        assert not verdict.hands_off


def test_a_summary_is_forced_into_a_safe_shape() -> None:
    raw = {"asked": ["x", {"evil": 1}, 3], "understood": "not a list", "text": 7}
    assert rules.normalize_summary(raw) == {
        "asked": ["x", "3"],
        "understood": [],
        "targets_given": [],
        "text": "",
    }
    assert rules.normalize_summary("nope") is None


def test_the_gateway_summarises_when_the_bot_did_not() -> None:
    summary = rules.build_summary(["a", "b", "c", "d", "e", "f"])
    assert summary["asked"] == ["b", "c", "d", "e", "f"]
    assert summary["text"].startswith("Företaget skrev: ”b”")
    assert rules.build_summary([])["text"] == "Företaget har inte skrivit något ännu."


def test_the_handoff_key_is_removed_before_anyone_sees_the_reply() -> None:
    reply = {"recipient_id": "x", "custom": {"handoff": {}, "other": 1}}
    assert rules.public_reply(reply) == {"recipient_id": "x", "custom": {"other": 1}}
    assert rules.public_reply({"custom": {"handoff": {}}}) == {}
    assert rules.public_reply({"text": "hej"}) == {"text": "hej"}


# ---------------------------------------------------------------- the queue


def test_first_come_first_served_and_a_returned_chat_keeps_its_place() -> None:
    waiting = [
        rules.Waiting("late", T0 + dt.timedelta(minutes=5), 3),
        rules.Waiting("returned", T0, 1),  # came first, was claimed, came back
        rules.Waiting("middle", T0 + dt.timedelta(minutes=2), 2),
        rules.Waiting("same-time", T0 + dt.timedelta(minutes=5), 4),
    ]
    assert rules.positions(waiting) == {"returned": 1, "middle": 2, "late": 3, "same-time": 4}


@pytest.mark.parametrize(
    ("position", "online", "free", "minutes"),
    [
        (1, 1, 1, 1),  # a free advisor: about a minute
        (1, 1, 0, 6),  # one busy advisor: one chat's time
        (3, 1, 0, 18),
        (3, 2, 0, 12),  # two advisors share the queue
        (3, 2, 1, 6),
        (1, 0, 0, 6),  # nobody online yet in opening hours: assume one will come
    ],
)
def test_expected_wait(position: int, online: int, free: int, minutes: int) -> None:
    assert rules.expected_wait_minutes(position, online, free, 6) == minutes


def test_expected_wait_in_swedish() -> None:
    assert rules.wait_text_sv(1) == "ungefär en minut"
    assert rules.wait_text_sv(12) == "cirka 12 minuter"
    assert rules.wait_text_sv(90) == "mer än en timme"


def test_an_advisor_is_stale_only_after_the_timeout() -> None:
    assert not rules.is_advisor_stale(T0, T0 + dt.timedelta(seconds=120), 120)
    assert rules.is_advisor_stale(T0, T0 + dt.timedelta(seconds=121), 120)
    assert rules.is_advisor_stale(None, T0, 120)


def test_outcomes_have_swedish_labels() -> None:
    assert dict(rules.OUTCOMES) == {
        "resolved": "Löst",
        "referred": "Hänvisad vidare",
        "callback": "Återkoppling bokad",
        "no_response": "Inget svar från företaget",
        "other": "Annat",
    }


# ---------------------------------------------------------------- rate limit


def test_a_bucket_allows_a_burst_then_refills_smoothly() -> None:
    bucket = TokenBucket(capacity=3, window=3.0)  # one message per second on average
    assert [bucket.take(0.0) for _ in range(3)] == [0.0, 0.0, 0.0]
    assert bucket.take(0.0) == pytest.approx(1.0)
    assert bucket.take(0.5) == pytest.approx(0.5)
    assert bucket.take(1.0) == 0.0


def test_buckets_by_key_are_independent_and_bounded() -> None:
    buckets = BucketMap(capacity=1, window=60, max_keys=2)
    assert buckets.take("a", 0) == 0.0
    assert buckets.take("a", 0) > 0
    assert buckets.take("b", 0) == 0.0
    buckets.take("c", 0)  # forgets "a", the least recently used
    assert buckets.take("a", 0) == 0.0


# ---------------------------------------------------------------- input


def test_text_is_trimmed_and_control_characters_removed() -> None:
    # NUL and the zero-width space are removed (docs/hardening.md: hidden characters).
    assert clean_text("  hej\r\ndå\u0000\u200b ", 100) == "hej\ndå"
    assert clean_text("e\u0301", 100) == "é"  # NFC


@pytest.mark.parametrize(
    ("raw", "code"),
    [
        ("", "empty_message"),
        (" \n", "empty_message"),
        ("x" * 11, "message_too_long"),
        (None, "bad_request"),
        (5, "bad_request"),
    ],
)
def test_unacceptable_text(raw: object, code: str) -> None:
    with pytest.raises(Invalid) as refused:
        clean_text(raw, 10)
    assert refused.value.code == code


def test_client_ids_are_short_safe_tokens() -> None:
    assert client_id("7f1c0d1e-aaaa") == "7f1c0d1e-aaaa"
    for bad in ("short", "x" * 65, "has space 123", None, 12345678):
        with pytest.raises(Invalid):
            client_id(bad)


def test_a_ticket_needs_a_question_and_a_way_to_reach_the_company() -> None:
    form = ticket_form(
        {"name": " Eva  Ek ", "email": "eva@ekbygg.se", "question": "Hjälp?", "phone": None}, 2000
    )
    assert (form.name, form.email, form.phone, form.question) == (
        "Eva Ek",
        "eva@ekbygg.se",
        "",
        "Hjälp?",
    )
    with pytest.raises(Invalid) as refused:
        ticket_form({"question": "Hjälp?", "phone": "abc"}, 2000)
    assert refused.value.fields == {"phone": "Ange ett giltigt telefonnummer."}
    with pytest.raises(Invalid) as refused:
        ticket_form({"question": "Hjälp?"}, 2000)
    assert refused.value.fields == {
        "email": "Ange e-postadress eller telefonnummer så att vi kan nå dig."
    }


def test_buckets_that_have_refilled_are_forgotten() -> None:
    # A refilled bucket is the same as a new one: a gateway that sees many senders, each
    # for a while, holds only those active within about a window.
    buckets = BucketMap(capacity=2, window=10, max_keys=1000)
    for n in range(100):
        buckets.take(f"sender-{n}", 0.0)
    assert len(buckets) == 100
    buckets.take("busy", 8.0)
    buckets.take("busy", 8.0)  # empty now, refilled only at 18 s
    buckets.take("late", 11.0)  # every sender of 0 s has refilled by 5 s
    assert len(buckets) == 2
    assert buckets.take("busy", 11.0) > 0  # remembered: 0.6 tokens back, its limit holds
    assert buckets.take("busy", 13.0) == 0.0  # one token back at 13 s
