"""The satisfaction survey's rules: asked once, ratings 1-5, 24 hours to answer."""

from __future__ import annotations

import datetime as dt

import pytest

from bot.rules import csat

ASKED = dt.datetime(2026, 11, 24, 10, 0, tzinfo=dt.timezone.utc)


def test_asked_only_after_an_advisor_closed_and_only_the_first_time() -> None:
    assert csat.should_ask(closed_by_advisor=True, asked_before=False)
    assert not csat.should_ask(closed_by_advisor=True, asked_before=True)
    assert not csat.should_ask(closed_by_advisor=False, asked_before=False)


@pytest.mark.parametrize("n", [1, 2, 3, 4, 5])
def test_each_button_sends_its_rating(n: int) -> None:
    button = csat.buttons({i: str(i) for i in range(1, 6)})[n - 1]
    assert csat.rating_of(button["payload"]) == n


@pytest.mark.parametrize("payload", [None, "gateway:csat:0", "gateway:csat:6", "gateway:csat:", "/csat 4", "4"])
def test_anything_else_is_not_a_rating(payload: str | None) -> None:
    assert csat.rating_of(payload) is None


def test_a_rating_within_24_hours_is_accepted_and_later_ignored() -> None:
    survey = csat.Survey(asked_at=ASKED)
    assert csat.judge_rating(survey, ASKED + dt.timedelta(hours=24)) is csat.Verdict.ACCEPTED
    assert csat.judge_rating(survey, ASKED + dt.timedelta(hours=24, seconds=1)) is csat.Verdict.EXPIRED
    assert csat.judge_rating(None, ASKED) is csat.Verdict.NOT_ASKED


def test_the_first_rating_stands() -> None:
    rated = csat.Survey(asked_at=ASKED, rated_at=ASKED + dt.timedelta(minutes=1))
    assert csat.judge_rating(rated, ASKED + dt.timedelta(minutes=2)) is csat.Verdict.ALREADY


def test_the_next_typed_message_after_a_rating_is_the_one_comment() -> None:
    later = ASKED + dt.timedelta(minutes=5)
    assert not csat.takes_comment(csat.Survey(asked_at=ASKED), later)  # not rated yet
    assert csat.takes_comment(csat.Survey(asked_at=ASKED, rated_at=later), later)
    assert not csat.takes_comment(csat.Survey(asked_at=ASKED, rated_at=later, commented_at=later), later)
    assert not csat.takes_comment(csat.Survey(asked_at=ASKED, rated_at=later), ASKED + dt.timedelta(hours=25))


def test_a_comment_is_trimmed_and_bounded() -> None:
    assert csat.clean_comment("  bra  ") == "bra"
    assert len(csat.clean_comment("x" * 5000)) == csat.MAX_COMMENT_CHARS
