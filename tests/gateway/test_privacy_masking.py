"""Masking personnummer and samordningsnummer: what is masked, and what is left alone."""

from __future__ import annotations

import datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st
from stdnum import luhn

from bot.rules.personal_numbers import (
    MASK,
    find_personal_numbers,
    is_personal_number,
    mask,
    mask_optional,
    mask_personal_numbers,
)

TODAY = datetime.date(2026, 12, 4)

# Skatteverket's own examples and test personnummer (serials 98xx are reserved for tests),
# the Tolvan test person, and Skatteverket's samordningsnummer example (day 63 = the 3rd).
VALID = [
    "811218-9876",
    "640823-3234",
    "811228-9841",
    "121212-1212",
    "19121212-1212",
    "191212121212",
    "8112189876",
    "198112189876",
    "19811218-9876",
    "189001019802",
    "190001019801",
    "701063-2391",  # samordningsnummer
    "7010632391",
    "19701063-2391",
    "121212+1212",  # aged 100 or more: born 1912
]

# Near-misses: one digit off (checksum fails), dates that do not exist, wrong lengths,
# phone numbers and order numbers.
NOT_PERSONAL = [
    "811218-9875",  # checksum
    "640823-3235",
    "19121212-1213",
    "811232-9876",  # 32 December (fails the date even before the checksum)
    "811300-0000",
    "010229-1234",  # 29 February 2001 does not exist
    "701093-2391",  # day 93-60 = 33
    "811218-987",  # too short
    "811218-98766",  # too long
    "21121212-1212",  # century 21
    "070-123 45 67",  # mobile number
    "0701234560",  # mobile number written together, fails the checksum
    "Order 1234567890",
    "ordernummer 20231105-0001",
    "556036-0793",  # organisationsnummer (month 60 does not exist)
]


@pytest.mark.parametrize("number", VALID)
def test_valid_numbers_in_every_format_are_masked(number: str) -> None:
    result = mask_personal_numbers(f"Mitt personnummer är {number}, kan ni hjälpa?", TODAY)
    assert result.text == f"Mitt personnummer är {MASK}, kan ni hjälpa?"
    assert result.count == 1
    assert is_personal_number(number, TODAY)


@pytest.mark.parametrize("text", NOT_PERSONAL)
def test_near_misses_and_other_numbers_are_left_alone(text: str) -> None:
    result = mask_personal_numbers(f"Gäller {text} tack", TODAY)
    assert result.text == f"Gäller {text} tack"
    assert result.count == 0


def test_29_february_exists_in_a_leap_year_only() -> None:
    leap = _with_check("000229001")  # 2000-02-29
    assert is_personal_number(leap, TODAY)
    assert not is_personal_number(_with_check("010229001"), TODAY)


def test_several_numbers_and_text_between_them_are_kept_in_order() -> None:
    text = "Jag 811218-9876 och min kompanjon 19640823-3234 har order 12345."
    result = mask_personal_numbers(text, TODAY)
    assert result.text == f"Jag {MASK} och min kompanjon {MASK} har order 12345."
    assert result.count == 2
    assert find_personal_numbers(text, TODAY) == [(4, 15), (34, 47)]


def test_a_number_glued_to_more_digits_is_not_a_personal_number() -> None:
    assert mask("1811218-9876") == "1811218-9876"
    assert mask("811218-98761") == "811218-98761"


def test_mask_optional_passes_none_through() -> None:
    assert mask_optional(None) is None
    assert mask_optional("811218-9876") == MASK


def _with_check(nine: str) -> str:
    """A ten-digit number from nine digits and the Luhn check digit."""
    return nine + luhn.calc_check_digit(nine)


@st.composite
def personal_numbers(draw: st.DrawFn) -> str:
    born = draw(st.dates(min_value=datetime.date(1900, 1, 1), max_value=TODAY))
    coordination = draw(st.booleans())
    day = born.day + (60 if coordination else 0)
    serial = draw(st.integers(min_value=0, max_value=999))
    nine = f"{born:%y%m}{day:02d}{serial:03d}"
    ten = _with_check(nine)
    style = draw(st.sampled_from(["short", "dash", "long", "long-dash"]))
    age_100 = TODAY.year - born.year >= 100
    sep = "+" if age_100 else "-"
    if style == "short" and not age_100:
        return ten
    if style in ("short", "dash"):
        return f"{ten[:6]}{sep}{ten[6:]}"
    full = f"{born.year}{ten[2:]}"
    return full if style == "long" else f"{full[:8]}-{full[8:]}"


@given(personal_numbers(), st.text(alphabet="abcåäö ,.!?", max_size=20))
def test_any_valid_number_is_masked_wherever_it_stands(number: str, around: str) -> None:
    result = mask_personal_numbers(f"{around} {number} {around}", TODAY)
    assert number not in result.text
    assert result.count == 1


@given(st.text())
def test_masking_is_idempotent_and_never_adds_digits(text: str) -> None:
    once = mask(text)
    assert mask(once) == once
    assert sum(ch in "0123456789" for ch in once) <= sum(ch in "0123456789" for ch in text)


@given(st.from_regex(r"\A[0-9]{10}\Z"))
def test_ten_digits_failing_the_checksum_are_kept(digits: str) -> None:
    if not luhn.is_valid(digits):
        assert mask(digits) == digits


def test_only_ascii_digits_make_a_number() -> None:
    arabic_indic = "٨١١٢١٨-٩٨٧٦"  # the same digits in another script: not a Swedish number as written
    assert mask(arabic_indic) == arabic_indic
