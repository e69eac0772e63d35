"""Every figure of the analytics page on the hand-built week of `analytics_data` (known
answers), on SQLite always and on PostgreSQL when TEST_DATABASE_URL is set."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator

import pytest
from sqlalchemy.orm import Session, sessionmaker

from bot.admin.analytics import queries
from bot.admin.analytics.queries import Filters
from core.db import make_engine, make_sessionmaker
from scripts.db import upgrade
from tests.admin.analytics_data import MONDAY, SUNDAY, Team, build

WEEK = Filters(start=MONDAY, end=SUNDAY)


@pytest.fixture(params=["sqlite", "postgresql"])
def factory(request: pytest.FixtureRequest, tmp_path: object) -> Iterator[sessionmaker[Session]]:
    url = request.getfixturevalue("database_url" if request.param == "sqlite" else "postgres_url")
    upgrade(url)
    engine = make_engine(url)
    yield make_sessionmaker(engine)
    engine.dispose()


@pytest.fixture
def team(factory: sessionmaker[Session]) -> Team:
    return build(factory)


def test_conversations_per_day_and_channel(factory: sessionmaker[Session], team: Team) -> None:
    with factory() as s:
        per_day = queries.conversations_per_day(s, WEEK)
    assert per_day == {
        dt.date(2026, 11, 30): {"widget": 2},
        dt.date(2026, 12, 1): {"slack": 1},
        dt.date(2026, 12, 2): {"teams": 1},
        dt.date(2026, 12, 3): {"widget": 1},
    }


def test_containment_and_handoff_reasons(factory: sessionmaker[Session], team: Team) -> None:
    with factory() as s:
        figures = queries.figures(s, WEEK)
    assert (figures.total, figures.handed_off, figures.contained) == (5, 3, 2)
    assert figures.containment == pytest.approx(0.4)
    assert figures.handoff_rate == pytest.approx(0.6)
    assert figures.handoff_reasons == [("complaint", 1), ("fallback", 1), ("request_human", 1)]


def test_fallback_rate_counts_company_messages_not_understood(factory: sessionmaker[Session], team: Team) -> None:
    with factory() as s:
        figures = queries.figures(s, WEEK)
    assert (figures.turns, figures.fallbacks) == (6, 1)
    assert figures.fallback_rate == pytest.approx(1 / 6)


def test_unanswered_questions_are_grouped_by_their_wording(factory: sessionmaker[Session], team: Team) -> None:
    with factory() as s:
        unanswered = queries.unanswered_questions(s, WEEK)
    assert [(key, count) for key, _, count in unanswered] == [("kan ni hjälpa med min katt", 2), ("xyz blabla", 1)]


def test_referrals_per_target_per_week(factory: sessionmaker[Session], team: Team) -> None:
    with factory() as s:
        assert queries.referrals_per_week(s, WEEK) == {MONDAY: {"almi": 2}}
        wider = Filters(start=MONDAY - dt.timedelta(days=7), end=SUNDAY)
        assert queries.referrals_per_week(s, wider) == {MONDAY - dt.timedelta(days=7): {"almi": 1},
                                                        MONDAY: {"almi": 2}}


def test_queue_wait_and_first_reply_percentiles(factory: sessionmaker[Session], team: Team) -> None:
    with factory() as s:
        wait, reply = queries.queue_wait(s, WEEK), queries.first_reply(s, WEEK)
    # waits 60, 120, 600 s: nearest rank p50 = 2nd, p90 = 3rd
    assert wait.count == 3
    assert wait.p50 == pytest.approx(120, abs=0.01)
    assert wait.p90 == pytest.approx(600, abs=0.01)
    # replies 30 and 60 s (c5 never got one)
    assert reply.count == 2
    assert reply.p50 == pytest.approx(30, abs=0.01)
    assert reply.p90 == pytest.approx(60, abs=0.01)


def test_csat_overall_and_per_advisor(factory: sessionmaker[Session], team: Team) -> None:
    with factory() as s:
        csat = queries.figures(s, WEEK).csat
    assert csat.count == 3
    assert csat.average == pytest.approx(10 / 3)
    assert [(a.name, a.count, a.average) for a in csat.per_advisor] == [("Anna Berg", 2, 4.0), ("Bo Ek", 1, 2.0)]


def test_without_stored_ratings_csat_is_empty(factory: sessionmaker[Session]) -> None:
    build(factory, with_ratings=False)
    with factory() as s:
        csat = queries.figures(s, WEEK).csat
    assert csat.count == 0 and csat.average is None and csat.per_advisor == []


def test_an_advisors_own_figures(factory: sessionmaker[Session], team: Team) -> None:
    with factory() as s:
        own = queries.figures(s, Filters(start=MONDAY, end=SUNDAY, advisor_id=team.anna))
    assert (own.total, own.handed_off) == (2, 2)  # c2 and c5
    assert own.queue_wait.count == 2
    assert own.queue_wait.p50 == pytest.approx(60, abs=0.01)
    assert own.queue_wait.p90 == pytest.approx(120, abs=0.01)
    assert own.first_reply.count == 1 and own.first_reply.p50 == pytest.approx(60, abs=0.01)
    assert [(a.name, a.count) for a in own.csat.per_advisor] == [("Anna Berg", 2)]
    # the bot's own figures are region-wide, not an advisor's
    assert own.turns == 0 and own.unanswered == [] and own.referrals == {}


@pytest.mark.parametrize(("filters", "total"), [
    (Filters(start=MONDAY, end=SUNDAY, channel="widget"), 3),
    (Filters(start=MONDAY, end=SUNDAY, municipality="Västerås"), 2),
    (Filters(start=MONDAY, end=SUNDAY, municipality="Köping"), 1),
    (Filters(start=MONDAY, end=SUNDAY, size="1–9"), 1),
    (Filters(start=MONDAY, end=SUNDAY, size="0", municipality="Västerås"), 1),
    (Filters(start=MONDAY, end=MONDAY), 2),
    (Filters(start=MONDAY - dt.timedelta(days=1), end=SUNDAY + dt.timedelta(days=1)), 7),
])
def test_filters_choose_the_conversations(factory: sessionmaker[Session], team: Team, filters: Filters,
                                          total: int) -> None:
    with factory() as s:
        assert queries.containment(s, filters)[0] == total
