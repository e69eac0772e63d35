"""The custom actions against the real, seeded directory: events and messages."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher
from sqlalchemy.orm import Session, sessionmaker

from actions.handoff import ActionFallback, ActionHandoff
from actions.referral import ActionContactDetails, ActionMoreOptions, ActionReferral
from directory.models import Organisation, TopicTarget

FIXTURES = Path(__file__).parent / "fixtures"
DOMAIN: dict[str, Any] = {}


def tracker(
    text: str = "",
    intents: list[tuple[str, float]] | None = None,
    entities: list[tuple[str, str]] | None = None,
    slots: dict[str, Any] | None = None,
    fixture: str | None = None,
) -> Tracker:
    if fixture:
        state = json.loads((FIXTURES / f"{fixture}.json").read_text(encoding="utf-8"))
    else:
        ranking = [{"name": n, "confidence": c} for n, c in intents or []]
        state = {
            "sender_id": "test", "slots": {}, "events": [], "paused": False,
            "followup_action": None, "active_loop": {}, "latest_action_name": "action_listen",
            "latest_message": {"text": text, "intent": ranking[0] if ranking else {},
                               "intent_ranking": ranking,
                               "entities": [{"entity": e, "value": v} for e, v in entities or []]},
        }
        state["events"] = [{"event": "user", "text": text,
                            "parse_data": {"intent": ranking[0] if ranking else {}}}]
    state["slots"].update(slots or {})
    return Tracker.from_dict(state)


def run(action: Any, t: Tracker) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    dispatcher = CollectingDispatcher()
    events = action.run(dispatcher, t, DOMAIN)
    return events, dispatcher.messages


def slots(events: list[dict[str, Any]]) -> dict[str, Any]:
    return {e["name"]: e["value"] for e in events if e["event"] == "slot"}


@pytest.fixture(autouse=True)
def _directory(seeded_sessions: sessionmaker[Session]) -> sessionmaker[Session]:
    return seeded_sessions


def test_a_loan_question_is_referred_to_almi_first_with_follow_up_buttons():
    events, messages = run(ActionReferral(), tracker(fixture="loan_question"))
    assert len(messages) == 1
    assert messages[0]["text"].startswith("Vänd dig till Almi Företagspartner Mälardalen.")
    assert "https://" in messages[0]["text"]
    assert [b["payload"] for b in messages[0]["buttons"]] == ["/ask_contact", "/ask_more", "/request_human"]
    s = slots(events)
    assert s["last_topic"] == "financing"
    assert s["last_targets"][0] == "almi"
    assert s["fallback_count"] == 0.0


def test_an_ended_scheme_says_so_and_what_applies_now():
    events, messages = run(ActionReferral(), tracker(
        "kan vi fortfarande söka omställningsstöd?", [("tax_general", 0.5), ("crisis_general", 0.3)],
        [("scheme", "omställningsstöd")]))
    text = messages[0]["text"]
    assert text.startswith("Skatteverket hade hand om omställningsstöd, men stödet har upphört")
    assert slots(events)["last_targets"][0] == "skatteverket"


def test_a_named_organisation_comes_first():
    _, messages = run(ActionReferral(), tracker(
        "kan EKN hjälpa oss?", [("export", 0.7)], [("organisation", "EKN")]))
    assert messages[0]["text"].startswith("Vänd dig till Exportkreditnämnden")


def test_a_municipality_gets_tillvaxtverkets_support():
    _, messages = run(ActionReferral(), tracker(
        "vi är en kommun och vår största arbetsgivare lägger ner",
        [("municipality_layoff", 0.8), ("layoff_notice", 0.15)]))
    assert messages[0]["text"].startswith("Vänd dig till Tillväxtverket.")


def test_company_size_follow_up_re_ranks_the_previous_topic():
    events, messages = run(ActionReferral(), tracker(
        "vi är 12 anställda", [("inform_situation", 0.84), ("hr_question", 0.05)],
        [("company_size", "12 anställda")],
        slots={"last_topic": "layoff_notice"}))
    assert messages[0]["text"].startswith("Vänd dig till Arbetsförmedlingen.")
    assert slots(events)["employees"] == 12.0


def test_a_directory_edit_changes_the_next_answer_without_retraining(
    seeded_sessions: sessionmaker[Session],
):
    with seeded_sessions.begin() as session:
        first = session.query(TopicTarget).filter_by(topic_id="financing", rank=0).one()
        first.pitch = "En helt ny beskrivning från en administratör."
    _, messages = run(ActionReferral(), tracker(fixture="loan_question"))
    assert "En helt ny beskrivning från en administratör." in messages[0]["text"]


def test_contact_details_for_the_organisation_just_named():
    _events, messages = run(ActionContactDetails(), tracker(
        "hur kontaktar jag dem?", [("ask_contact", 0.9)], slots={"last_targets": ["bolagsverket"]}))
    assert messages[0]["text"].startswith("Så här når du Bolagsverket:")
    assert "0771-670 670" in messages[0]["text"]


def test_contact_details_of_an_organisation_named_in_the_question():
    _, messages = run(ActionContactDetails(), tracker(
        "hur kontaktar jag Skatteverket?", [("ask_contact", 0.9)], slots={"last_targets": ["almi"]}))
    assert messages[0]["text"].startswith("Så här når du Skatteverket:")


def test_contact_details_of_foretagssupporten_itself_not_a_hand_off():
    for question in ("hur når jag Företagssupporten?", "vad har ni för telefonnummer?"):
        _, messages = run(ActionContactDetails(), tracker(
            question, [("ask_contact", 0.9)], slots={"last_targets": ["almi"]}))
        assert messages[0]["text"].startswith("Så här når du oss på Västmanlands Företagssupport:")


def test_an_alias_an_admin_adds_is_recognised_in_the_next_answer(seeded_sessions: sessionmaker[Session]):
    question = tracker("hur kontaktar jag Pengabolaget?", [("ask_contact", 0.9)])
    _, before = run(ActionContactDetails(), question)
    assert before[0]["response"] == "utter_ask_which_contact"
    with seeded_sessions.begin() as session:
        almi = session.get(Organisation, "almi")
        assert almi is not None
        almi.aliases = [*almi.aliases, "Pengabolaget"]
    _, after = run(ActionContactDetails(), question)
    assert after[0]["text"].startswith("Så här når du Almi Företagspartner Mälardalen:")


def test_contact_details_without_anyone_named_asks_which():
    _, messages = run(ActionContactDetails(), tracker("telefonnummer?", [("ask_contact", 0.9)]))
    assert messages[0]["response"] == "utter_ask_which_contact"


def test_more_options_gives_the_next_targets_and_remembers_them():
    events, messages = run(ActionMoreOptions(), tracker(
        "finns det något mer?", [("ask_more", 0.9)],
        slots={"last_topic": "financing", "more_targets": ["foretagssupport"]}))
    assert messages[0]["text"].startswith("Här är fler som kan hjälpa dig:\n• Vi på Västmanlands Företagssupport")
    assert slots(events)["more_targets"] == []


def test_asking_for_a_human_sends_the_handoff_payload_first_and_pauses():
    t = tracker("jag vill prata med en människa", [("request_human", 0.97)],
                slots={"given_targets": ["almi"]})
    t.events.insert(0, {"event": "user", "text": "behöver lån",
                        "parse_data": {"intent": {"name": "financing", "confidence": 0.9}}})
    events, messages = run(ActionHandoff(), t)
    handoff = messages[0]["custom"]["handoff"]
    assert handoff["reason"] == "request_human"
    assert handoff["summary"]["asked"] == ["behöver lån", "jag vill prata med en människa"]
    assert handoff["summary"]["understood"] == ["Lån och finansiering"]
    assert handoff["summary"]["targets_given"] == ["Almi Företagspartner Mälardalen"]
    assert "rådgivare" in messages[1]["text"]
    assert {"event": "pause", "timestamp": None} in events


def test_a_complaint_is_handed_off_with_its_reason():
    _, messages = run(ActionHandoff(), tracker("jag vill klaga", [("complaint", 0.9)]))
    assert messages[0]["custom"]["handoff"]["reason"] == "complaint"


def test_first_failure_offers_the_best_guess_and_topics_second_hands_off():
    low = [("nlu_fallback", 0.4), ("customs", 0.35), ("export", 0.05)]
    events, messages = run(ActionFallback(), tracker("eori?", low))
    assert messages[0]["text"].startswith(
        "Jag är inte helt säker på att jag förstod, men om din fråga gäller tull och eori-nummer kan Tullverket")
    assert messages[0]["buttons"][-1]["payload"] == "/request_human"
    assert slots(events)["fallback_count"] == 1.0

    events, messages = run(ActionFallback(), tracker("asdf", low, slots={"fallback_count": 1.0}))
    assert messages[0]["custom"]["handoff"]["reason"] == "fallback"
    assert any(e["event"] == "pause" for e in events)


def test_unsure_between_topics_that_point_to_different_organisations_asks_instead_of_naming():
    low = [("nlu_fallback", 0.4), ("legal_question", 0.26), ("customs", 0.22)]
    events, messages = run(ActionFallback(), tracker("vad gäller för oss nu när bolaget har problem", low))
    assert messages[0]["response"] == "utter_ask_clarify"
    assert [b["payload"] for b in messages[0]["buttons"]] == ["/legal_question", "/customs", "/request_human"]
    assert "last_targets" not in slots(events)


def test_unsure_topics_that_agree_on_the_organisation_name_it():
    low = [("nlu_fallback", 0.4), ("hr_question", 0.25), ("legal_question", 0.2)]
    _, messages = run(ActionFallback(), tracker("en anställd och ett avtal", low))
    assert "Västmanlands Företagssupport" in messages[0]["text"]


def test_unsure_but_the_message_names_an_organisation_names_it():
    low = [("nlu_fallback", 0.4), ("export", 0.15), ("customs", 0.14)]
    events, messages = run(ActionFallback(), tracker("nåt om nyföretagarcentrum", low))
    assert messages[0]["text"].startswith("Jag är inte helt säker på att jag förstod, men")
    assert "Nyföretagarcentrum" in messages[0]["text"]
    assert slots(events)["last_targets"] == ["nyforetagarcentrum"]


def test_unsure_but_an_ended_scheme_is_named_says_it_has_ended():
    low = [("nlu_fallback", 0.4), ("export", 0.1)]
    _, messages = run(ActionFallback(), tracker("hyresstodet?", low))
    assert messages[0]["text"].startswith("Boverket hade hand om hyresstöd")


def test_very_unsure_first_failure_asks_to_rephrase_without_naming_anyone():
    events, messages = run(ActionFallback(), tracker("🙂", [("nlu_fallback", 0.3), ("export", 0.05)]))
    assert messages[0]["response"] == "utter_ask_rephrase"
    assert slots(events)["fallback_count"] == 1.0


def test_a_partner_is_reached_through_foretagssupport(seeded_sessions: sessionmaker[Session]):
    with seeded_sessions() as session:
        partner = session.get(Organisation, "partner-juridik")
        assert partner is not None and partner.reached_through == "foretagssupport"
    _, messages = run(ActionContactDetails(), tracker(
        "hur når jag dem", [("ask_contact", 0.9)], slots={"last_targets": ["partner-juridik"]}))
    assert "Du når dem genom oss på Västmanlands Företagssupport" in messages[0]["text"]



def test_facts_before_any_question_are_remembered_and_the_bot_asks_what_is_needed():
    events, messages = run(ActionReferral(), tracker(
        "vi är ett litet byggföretag i Västerås med 5 anställda", [("inform_situation", 0.9)],
        [("company_size", "5 anställda"), ("municipality", "västerås")]))
    assert messages[0]["response"] == "utter_ask_situation"
    assert slots(events)["employees"] == 5.0
    assert slots(events)["municipality"] == "Västerås"


def test_facts_alone_do_not_turn_the_rankings_tail_into_a_referral():
    _, messages = run(ActionReferral(), tracker(
        "vi är ett litet byggföretag i Västerås", [("inform_situation", 0.98), ("hr_question", 0.004)]))
    assert messages[0]["response"] == "utter_ask_situation"
