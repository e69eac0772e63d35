"""The first organisation a reply names, as the answer-quality measure counts it."""

from __future__ import annotations

from directory.mentions import first_named, mention_patterns, mentioned, name_patterns

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


# Recognising names in a company's message (the actions, at answer time).
ASKED = mention_patterns({
    **NAMES,
    "tillvaxtverket": ["Tillväxtverket"],
    "tullverket": ["Tullverket", "Tullen"],
    "kommun": ["kommunens näringslivskontor", "kommunen", "Västerås stad"],
    "hyresstod": ["Hyresstöd", "lokalhyresstöd"],
})


def test_a_message_names_organisations_inflected_and_typed_without_aa_ae_oe() -> None:
    assert mentioned("Kan Almis rådgivare hjälpa oss?", ASKED) == ("almi",)
    assert mentioned("har tillvaxtverkets stod upphort", ASKED) == ("tillvaxtverket",)
    assert mentioned("vad säger tullen om detta", ASKED) == ("tullverket",)
    assert mentioned("fick vi hyresstodet?", ASKED) == ("hyresstod",)


def test_every_name_counts_once_in_the_order_the_message_names_them() -> None:
    text = "Skatteverket sa nej, så vi gick till Almi Företagspartner Mälardalen och Almi igen"
    assert mentioned(text, ASKED) == ("skatteverket", "almi")


def test_a_long_name_is_one_mention_not_the_names_inside_it() -> None:
    assert mentioned("ring Västmanlands Företagssupport", ASKED) == ("foretagssupport",)
    assert mentioned("lokalhyresstödet", ASKED) == ("hyresstod",)


def test_generic_nouns_and_longer_words_do_not_name_anyone() -> None:
    assert mentioned("kommunen har sagt nej till bygglovet", ASKED) == ()
    assert mentioned("Almighty och verksamheten", ASKED) == ()
    assert mentioned("vi pratade med Västerås stad", ASKED) == ("kommun",)


def test_a_name_added_to_the_directory_is_recognised_without_anything_else() -> None:
    before = mention_patterns({"almi": ["Almi"]})
    after = mention_patterns({"almi": ["Almi", "Almi Invest"]})
    assert mentioned("kan almi invest ga in med kapital", before) == ("almi",)
    assert mentioned("hur når jag AlmiInvest?", before) == ()
    assert mentioned("hur nar jag almi invest", after) == ("almi",)
