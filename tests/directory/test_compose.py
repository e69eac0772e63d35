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
    assert text.endswith("Även vi på Västmanlands Företagssupport kan hjälpa till.")


def test_referral_without_pitch_uses_the_summary():
    assert "Almi lånar ut pengar till företag." in compose.referral(ALMI, "")


def test_a_partner_is_reached_through_us():
    text = compose.referral(PARTNER, "", via=SUPPORT)
    assert text.startswith("Vänd dig till Företagssupportens partner inom HR.")
    assert "Du når dem genom oss på Västmanlands Företagssupport." in text


def test_ended_scheme_names_who_ran_it_first_and_what_applies_now():
    scheme = SchemeView(
        "omstallningsstod", "Omställningsstöd", "skatteverket", "ended", "",
        start_date=dt.date(2020, 3, 1), end_date=dt.date(2022, 3, 31),
        now_applies="Kontakta Västmanlands Företagssupport.",
    )
    text = compose.ended_scheme(scheme, SKV)
    assert text.startswith("Skatteverket hade hand om omställningsstöd, men stödet har upphört")
    assert "1 mars 2020–31 mars 2022" in text
    assert text.endswith("Kontakta oss.")


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
        "• Vi på Västmanlands Företagssupport: Lotsar."
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


# On Företagssupporten's own website the assistant is Västmanlands Företagssupport.

US = OrganisationView(
    "foretagssupport", "Västmanlands Företagssupport",
    "Västmanlands Företagssupport är en första kontaktpunkt för företag i Västmanland.",
    contacts=(ContactView("web", "https://www.vasterassciencepark.se"),),
)


def test_a_referral_to_us_says_oss_and_keeps_our_name_once():
    pitch = ("Västmanlands Företagssupport tar emot frågor om budget och hänvisar er till sin "
             "samarbetspartner inom ekonomi. Företagssupporten är ett komplement till stödsystemet.")
    text = compose.referral(US, pitch, also=[ALMI])
    assert text.startswith("Vänd dig till oss på Västmanlands Företagssupport. Vi tar emot frågor")
    assert "hänvisar er till vår samarbetspartner inom ekonomi. Vi är ett komplement" in text
    assert "Du når oss via webben: https://www.vasterassciencepark.se." in text
    assert "Du når dem" not in text
    assert text.count("Västmanlands Företagssupport") == 1
    assert text.endswith("Även Almi Företagspartner Mälardalen kan hjälpa till.")


def test_without_a_pitch_our_summary_is_in_our_voice_too():
    text = compose.referral(US, "")
    assert "Vi är en första kontaktpunkt för företag i Västmanland." in text


def test_other_organisations_are_still_dem():
    assert compose.contact_line(ALMI).startswith("Du når dem via webben: https://www.almi.se")
    assert compose.contact_line(US) == "Du når oss via webben: https://www.vasterassciencepark.se."


def test_our_contact_card_is_ours():
    assert compose.contact_details(US).splitlines() == [
        "Så här når du oss på Västmanlands Företagssupport:",
        "• Webb: https://www.vasterassciencepark.se",
    ]
    partner_card = compose.contact_details(PARTNER, via=US).splitlines()
    assert partner_card[:2] == [
        "Så här når du Företagssupportens partner inom HR:",
        "Du når dem genom oss på Västmanlands Företagssupport:",
    ]


def test_when_we_are_named_with_others_we_come_last():
    text = compose.referral(SKV, "Skatter.", also=[US, ALMI])
    assert text.endswith(
        "Även Almi Företagspartner Mälardalen och vi på Västmanlands Företagssupport kan hjälpa till."
    )


def test_our_voice_rewrites_only_what_speaks_of_us():
    assert compose.our_voice("Kontakten förmedlas via Västmanlands Företagssupport.") == (
        "Kontakten förmedlas via oss.")
    assert compose.our_voice("Kontakta Västmanlands Företagssupport för råd.") == "Kontakta oss för råd."
    # Already in our voice, and other organisations' sentences, stay as written.
    kept = ("Almi lånar ut pengar och kan ge en mentor via sin partner. "
            "Kontakta oss på Västmanlands Företagssupport om ni vill ha hjälp.")
    assert compose.our_voice(kept) == kept
    # "Företagssupportens partner" is a partner's name, not us as subject.
    assert compose.our_voice("Företagssupportens partner inom HR ger råd.") == (
        "Företagssupportens partner inom HR ger råd.")


def test_the_fallback_guess_speaks_for_us_too():
    text = compose.hedged_referral("Ekonomi, budget och likviditet", US, "")
    assert "kan vi på Västmanlands Företagssupport hjälpa dig." in text
    assert "Du når oss via webben" in text
