"""The plain rules behind the analytics page and the lägesbild (bot/rules/analytics.py)."""

from __future__ import annotations

import datetime as dt

import pytest

from bot.rules import analytics as rules
from bot.rules.analytics import Trend


def test_weeks_start_on_monday_and_are_named_by_iso_week() -> None:
    assert rules.week_start(dt.date(2026, 12, 6)) == dt.date(2026, 11, 30)  # Sunday → its Monday
    assert rules.week_start(dt.date(2026, 11, 30)) == dt.date(2026, 11, 30)
    assert rules.week_label(dt.date(2026, 11, 30)) == "v. 49 2026"
    assert rules.week_label(dt.date(2025, 12, 29)) == "v. 1 2026"  # the ISO year
    # a Monday's report covers the week that just ended; so does any later day of the week
    assert rules.previous_week(dt.date(2026, 12, 7)) == dt.date(2026, 11, 30)
    assert rules.previous_week(dt.date(2026, 12, 13)) == dt.date(2026, 11, 30)


def test_daily_counts_are_summed_per_week() -> None:
    rows = [(dt.date(2026, 11, 30), "almi", 2), (dt.date(2026, 12, 6), "almi", 1), (dt.date(2026, 12, 7), "almi", 4),
            (dt.date(2026, 12, 1), "skatteverket", 3)]
    assert rules.bucket_by_week(rows) == {
        dt.date(2026, 11, 30): {"almi": 3, "skatteverket": 3},
        dt.date(2026, 12, 7): {"almi": 4},
    }
    assert len(rules.days_between(dt.date(2026, 11, 30), dt.date(2026, 12, 6))) == 7


@pytest.mark.parametrize(("values", "fraction", "expected"), [
    ([60.0, 120.0, 600.0], 0.5, 120.0),
    ([60.0, 120.0, 600.0], 0.9, 600.0),
    ([1.0, 2.0, 3.0, 4.0], 0.5, 2.0),  # nearest rank: the 2nd of 4
    ([float(n) for n in range(1, 11)], 0.9, 9.0),
    ([7.0], 0.9, 7.0),
])
def test_percentile_is_the_nearest_rank(values: list[float], fraction: float, expected: float) -> None:
    assert rules.percentile(values, fraction) == expected


def test_percentile_of_nothing_is_none_and_rates_need_a_whole() -> None:
    assert rules.percentile([], 0.5) is None
    assert rules.rate(1, 0) is None
    assert rules.rate(2, 5) == pytest.approx(0.4)
    with pytest.raises(ValueError):
        rules.rank_index(0, 0.5)


@pytest.mark.parametrize(("current", "previous", "trend"), [
    (12, [4, 5, 3, 4], Trend.RISING),  # three times the usual level
    (6, [4, 5, 3, 4], Trend.STEADY),  # half as much again but only two more
    (1, [8, 9, 7, 8], Trend.FALLING),
    (6, [8, 9, 7, 8], Trend.STEADY),
    (4, [0, 0, 0, 0], Trend.NEW),
    (2, [0, 0, 0, 0], Trend.STEADY),  # two questions about something new: too few to call
    (0, [0, 0, 0, 0], Trend.STEADY),
    (2, [1, 0, 0, 0], Trend.STEADY),
])
def test_trends_against_the_four_weeks_before(current: int, previous: list[int], trend: Trend) -> None:
    assert rules.classify_trend(current, previous) is trend


@pytest.mark.parametrize(("value", "expected"), [
    ("Västerås", "Västerås"), ("vasteras", "Västerås"), ("Västerås kommun", "Västerås"),
    ("köpings", "Köping"), ("SALA", "Sala"), ("Uppsala", "Uppsala"), ("", None),
])
def test_municipality_names_are_normalised(value: str, expected: str | None) -> None:
    assert rules.municipality_of(value) == expected


@pytest.mark.parametrize(("value", "expected"), [
    ("ensamföretagare", "0"), ("inga anställda", "0"), ("0 anställda", "0"), ("5 anställda", "1–9"),
    ("12 anställda", "10–49"), ("49", "10–49"), ("50 personer", "50–249"), ("300 anställda", "250+"),
    ("många", None),
])
def test_company_sizes_become_size_classes(value: str, expected: str | None) -> None:
    assert rules.size_bucket(value) == expected


def test_company_facets_take_the_first_of_each_entity() -> None:
    entities = [{"entity": "organisation", "value": "Almi"}, {"entity": "municipality", "value": "köping"},
                {"entity": "company_size", "value": "bara jag, enmansföretag"},
                {"entity": "municipality", "value": "Sala"}]
    assert rules.company_facets(entities) == ("Köping", "0")
    assert rules.company_facets([]) == (None, None)


def test_questions_are_grouped_by_their_normalised_wording() -> None:
    grouped = rules.group_questions([("Kan ni hjälpa med min katt?", 1), ("kan ni hjälpa med min  katt", 2),
                                     ("xyz", 1), ("?!", 5)])
    assert grouped == [("kan ni hjälpa med min katt", "kan ni hjälpa med min katt", 3), ("xyz", "xyz", 1)]


@pytest.mark.parametrize(("text", "expected"), [
    ("Mitt personnummer är 19121212-1212.", "Mitt personnummer är [personnummer borttaget]."),
    ("Ring 070-123 45 67 eller +46 70 123 45 67", "Ring [telefonnummer borttaget] eller [telefonnummer borttaget]"),
    ("Mejla anna.berg@firma.se", "Mejla [e-post borttagen]"),
    ("Vi har 12 anställda sedan 2019", "Vi har 12 anställda sedan 2019"),
    ("Order 5566778899 gäller", "Order 5566778899 gäller"),  # not a valid personnummer: left alone
])
def test_quotes_mask_personal_data(text: str, expected: str) -> None:
    assert rules.mask_quote(text) == expected


def test_a_reports_quotes_of_erased_texts_go_and_the_rest_stay() -> None:
    data = {"topics": [{"id": "financing"}], "quotes": [
        {"topic": "Finansiering", "texts": ["Vi behöver ett lån", "Kan vi få en garanti?"]},
        {"topic": "Starta företag", "texts": ["Hur startar jag eget företag?"]},
    ]}
    # the erased messages as written; the report holds them as quoted (white space folded)
    kept, removed = rules.without_quotes(data, ["Vi behöver ett lån", "Hur startar jag  eget\nföretag?"])
    assert removed == 2
    assert kept == {"topics": [{"id": "financing"}],
                    "quotes": [{"topic": "Finansiering", "texts": ["Kan vi få en garanti?"]}]}
    assert data["quotes"][0]["texts"] == ["Vi behöver ett lån", "Kan vi få en garanti?"]  # not changed in place


def test_expired_reports_lose_every_quote_and_keep_their_figures() -> None:
    data = {"topics": [{"id": "financing"}], "quotes": [{"topic": "Finansiering", "texts": ["a", "b"]}]}
    assert rules.without_quotes(data) == ({"topics": [{"id": "financing"}], "quotes": []}, 2)


def test_an_erased_personnummer_is_matched_in_its_masked_quoted_form() -> None:
    text = "Mitt personnummer är 19121212-1212, kan ni ringa?"
    data = {"quotes": [{"topic": "X", "texts": [rules.quote_of(text)]}]}
    assert rules.without_quotes(data, [text]) == ({"quotes": []}, 1)
