"""The Swedish reply texts: the referral names the right organisation first."""

import datetime as dt

from directory import compose
from directory.views import ContactView, OrganisationView, SchemeView

ALMI = OrganisationView(
    "almi", "Almi Företagspartner Mälardalen", "Almi lånar ut pengar till företag.",
    aliases=("Almi",),
    contacts=(ContactView("web", "https://www.almi.se"), ContactView("phone", "010-000 00 00")),
)
SUPPORT = OrganisationView("foretagssupport", "Västmanlands Företagssupport", "Första linjen.")
PARTNER = OrganisationView("partner-hr", "Företagssupportens partner inom HR", "HR-stöd.",
                           reached_through="foretagssupport")
SKV = OrganisationView("skatteverket", "Skatteverket", "Skatter.")


def test_referral_names_the_first_target_first_then_pitch_contact_and_the_next():
    text = compose.referral(ALMI, "De lånar ut pengar.", also=[SUPPORT])
    assert text.startswith("Vänd dig till Almi Företagspartner Mälardalen. De lånar ut pengar.")
    assert "https://www.almi.se" in text and "010-000 00 00" in text
    assert text.endswith("Även Västmanlands Företagssupport kan hjälpa till.")


def test_referral_without_pitch_uses_the_summary():
    assert "Almi lånar ut pengar till företag." in compose.referral(ALMI, "")


def test_a_partner_is_reached_through_its_organisation():
    text = compose.referral(PARTNER, "", via=SUPPORT)
    assert "Du når dem genom Västmanlands Företagssupport" in text


def test_ended_scheme_names_who_ran_it_first_and_what_applies_now():
    scheme = SchemeView(
        "omstallningsstod", "Omställningsstöd", "skatteverket", "ended", "",
        start_date=dt.date(2020, 3, 1), end_date=dt.date(2022, 3, 31),
        now_applies="Kontakta Västmanlands Företagssupport.",
    )
    text = compose.ended_scheme(scheme, SKV)
    assert text.startswith("Skatteverket hade hand om omställningsstöd, men stödet har upphört")
    assert "1 mars 2020–31 mars 2022" in text
    assert text.endswith("Kontakta Västmanlands Företagssupport.")


def test_contact_card_lists_every_way_to_reach_them():
    card = compose.contact_details(ALMI)
    assert card.splitlines() == [
        "Så här når du Almi Företagspartner Mälardalen:",
        "• Webb: https://www.almi.se",
        "• Telefon: 010-000 00 00",
    ]


def test_contact_card_without_contacts_offers_an_advisor():
    assert "rådgivare" in compose.contact_details(SKV)


def test_more_options_lists_the_next_targets_or_offers_an_advisor():
    assert compose.more_options([(SUPPORT, "Lotsar.")]).splitlines()[1] == (
        "• Västmanlands Företagssupport: Lotsar."
    )
    assert "rådgivare" in compose.more_options([])


def test_names_resolve_with_inflection_case_and_without_diacritics():
    names = {"almi": ["Almi Företagspartner Mälardalen", "Almi"],
             "tillvaxtverket": ["Tillväxtverket"], "tullverket": ["Tullverket", "Tullen"]}
    assert compose.resolve_name("Almis", names) == "almi"
    assert compose.resolve_name("tillvaxtverket", names) == "tillvaxtverket"
    assert compose.resolve_name("Tillväxtverkets", names) == "tillvaxtverket"
    assert compose.resolve_name("tullen", names) == "tullverket"
    assert compose.resolve_name("Alma", names) is None


def test_swedish_dates():
    assert compose.swedish_date(dt.date(2020, 3, 31)) == "31 mars 2020"
