"""The first organisation a reply names, as the answer-quality measure counts it."""

from __future__ import annotations

from directory.mentions import first_named, name_patterns

NAMES = {
    "almi": ["Almi Företagspartner Mälardalen", "Almi"],
    "foretagssupport": ["Västmanlands Företagssupport", "Företagssupporten", "Företagssupport"],
    "skatteverket": ["Skatteverket"],
    "verksamt": ["Verksamt.se", "Verksamt"],
}
PATTERNS = name_patterns(NAMES)


def test_the_earliest_name_in_the_text_counts() -> None:
    text = "Vänd dig till Skatteverket. Även Almi Företagspartner Mälardalen kan hjälpa till."
    assert first_named(text, PATTERNS) == "skatteverket"


def test_names_match_case_insensitively_as_whole_words_only() -> None:
    assert first_named("kontakta almi i dag", PATTERNS) == "almi"
    assert first_named("Almighty är inget stöd", PATTERNS) is None
    assert first_named("Läs på verksamt.se om F-skatt", PATTERNS) == "verksamt"


def test_a_longer_name_at_the_same_place_wins() -> None:
    assert first_named("Västmanlands Företagssupport hjälper dig", PATTERNS) == "foretagssupport"


def test_no_name_no_target() -> None:
    assert first_named("Det kan jag tyvärr inte svara på.", PATTERNS) is None
