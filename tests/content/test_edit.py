"""An admin's changes to intents, examples and responses: the rules they must follow (each
refusal in Swedish, nothing saved), optimistic locking, and an audit entry for each."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from content import edit
from content.export import check_project, load_project
from content.models import Example, Intent, Response
from core.audit import AuditEntry
from core.db import transaction
from core.editing import STALE, Actor, Conflict, Invalid
from directory.models import Topic

ADMIN = Actor(7, "Eva Ek <eva@foretagssupport.se>")
NOW = dt.datetime(2026, 12, 4, 10, 0, tzinfo=dt.timezone.utc)


def texts(session: Session, intent: str) -> list[str]:
    return [e.text for e in edit.get_intent(session, intent).examples]


def last_entry(session: Session) -> AuditEntry:
    entry = session.scalar(select(AuditEntry).order_by(AuditEntry.id.desc()).limit(1))
    assert entry is not None
    return entry


def refused(factory: sessionmaker[Session], change: object, *args: object, **kwargs: object) -> list[str]:
    """Run a change that must be refused; returns its messages (and checks nothing stayed)."""
    with pytest.raises(Invalid) as caught, transaction(factory) as s:
        change(s, ADMIN, NOW, *args, **kwargs)  # type: ignore[operator]
    with factory() as s:
        assert s.scalar(select(AuditEntry.id).limit(1)) is None, "a refused change left an audit entry"
    return [p.message for p in caught.value.problems]


# ---------------------------------------------------------------- creating intents


def test_a_referral_intent_gets_a_topic_and_joins_the_referral_rule(factory: sessionmaker[Session]) -> None:
    with transaction(factory) as s:
        edit.create_intent(s, ADMIN, NOW, name="energy_support", kind="referral", description="Elpriser",
                           examples=["stöd för höga elpriser", "hjälp med energikostnaderna"],
                           topic_name="Energistöd", first_target="foretagssupport")
    with factory() as s:
        intent = edit.get_intent(s, "energy_support")
        assert (intent.action, intent.nlu_file) == ("action_referral", "energy_support")
        topic = s.get(Topic, "energy_support")
        assert topic is not None and [t.organisation_id for t in topic.targets] == ["foretagssupport"]
        project = load_project(s)
        assert check_project(s) == []
        entry = last_entry(s)
    assert (entry.entity, entry.entity_id, entry.action, entry.actor) == ("intent", "energy_support", "created",
                                                                          ADMIN.label)
    assert entry.after is not None and entry.after["examples"] == ["stöd för höga elpriser",
                                                                   "hjälp med energikostnaderna"]
    referral_rule = [i for i in project.intents if i.action == "action_referral" and i.kind == "referral"]
    assert {i.rule_title for i in referral_rule} == {edit.REFERRAL_RULE}


def test_a_conversation_intent_gets_its_response_and_rule(factory: sessionmaker[Session]) -> None:
    with transaction(factory) as s:
        edit.create_intent(s, ADMIN, NOW, name="ask_parking", kind="conversation", description="",
                           examples=["var kan jag parkera", "finns det parkering"], answer="Parkera vid entrén.")
    with factory() as s:
        intent = edit.get_intent(s, "ask_parking")
        assert (intent.action, intent.response) == ("utter_ask_parking", "utter_ask_parking")
        assert edit.get_response(s, "utter_ask_parking").variations == [{"text": "Parkera vid entrén."}]


def test_a_question_for_the_response_selector_joins_its_group(factory: sessionmaker[Session]) -> None:
    with transaction(factory) as s:
        edit.create_intent(s, ADMIN, NOW, name="faq/parking", kind="retrieval", description="",
                           examples=["kan man parkera hos er", "finns parkering vid kontoret"],
                           answer="Ja, det finns parkering.")
    with factory() as s:
        intent = edit.get_intent(s, "faq/parking")
        assert (intent.action, intent.response, intent.nlu_file) == ("utter_faq", "utter_faq/parking", "faq")
        assert check_project(s) == []


@pytest.mark.parametrize("name", ["Energi Stöd", "energistöd", "x", "utter_hej", "nlu_fallback", "a/b/c", "9lives"])
def test_an_invalid_intent_name_is_refused(factory: sessionmaker[Session], name: str) -> None:
    messages = refused(factory, edit.create_intent, name=name, kind="conversation", description="",
                       examples=["ett exempel här", "ett till exempel"], answer="Svar.")
    assert any("namn" in m or "reserverat" in m for m in messages), messages


def test_a_taken_name_is_refused(factory: sessionmaker[Session]) -> None:
    messages = refused(factory, edit.create_intent, name="greet", kind="conversation", description="",
                       examples=["hallå där borta", "tjenare allihop"], answer="Hej.")
    assert messages == ["Det finns redan en avsikt som heter greet."]


def test_an_empty_intent_is_refused(factory: sessionmaker[Session]) -> None:
    messages = refused(factory, edit.create_intent, name="ask_parking", kind="conversation", description="",
                       examples=[], answer="Svar.")
    assert any("minst 2 exempel" in m for m in messages)


def test_a_response_with_an_unknown_slot_is_refused(factory: sessionmaker[Session]) -> None:
    messages = refused(factory, edit.create_intent, name="ask_parking", kind="conversation", description="",
                       examples=["var parkerar jag", "parkering?"], answer="Hej {företagsnamn}!")
    assert any("{företagsnamn}" in m and "ingen uppgift (slot)" in m for m in messages)


# ---------------------------------------------------------------- examples


def test_examples_are_added_once_and_never_to_two_intents(factory: sessionmaker[Session]) -> None:
    with factory() as s:
        taken = texts(s, "financing")[0]
    messages = refused(factory, edit.add_examples, "debt_problems", [taken.upper() + "  "])
    assert messages == [
        f"”{taken.upper()}” är redan ett exempel på financing. Samma mening kan inte lära assistenten två "
        "avsikter; flytta exemplet i stället om det hör hemma här."
    ]
    messages = refused(factory, edit.add_examples, "financing", [taken])
    assert messages == [f"”{taken}” finns redan som exempel på financing."]


def test_an_example_of_100_kb_is_refused_with_its_length(factory: sessionmaker[Session]) -> None:
    messages = refused(factory, edit.add_examples, "financing", ["lån " * 25_600])
    assert messages == ["Exemplet är 102 399 tecken långt; ett exempel får vara högst 500 tecken. "
                        "Korta ner det till det företaget faktiskt frågar om."]


@pytest.mark.parametrize("text, expected", [
    ("   ", "tomt"),
    ("vi behöver [Almi](organisation) nu", "entitetsmarkering"),
    ("osynligt\u200btecken här", "styrtecken"),
])
def test_examples_that_would_break_the_training_data_are_refused(
    factory: sessionmaker[Session], text: str, expected: str
) -> None:
    assert any(expected in m for m in refused(factory, edit.add_examples, "financing", [text]))


def test_an_edit_saved_from_an_old_form_is_refused_and_nothing_is_overwritten(
    factory: sessionmaker[Session],
) -> None:
    with factory() as s:
        example = edit.get_intent(s, "financing").examples[0]
        seen_id, seen_version, original = example.id, example.version, example.text
    with transaction(factory) as s:  # the first admin saves
        edit.edit_example(s, ADMIN, NOW, seen_id, seen_version, "lån till en ny lastbil")
    with pytest.raises(Conflict) as caught, transaction(factory) as s:  # the second, from the same old form
        edit.edit_example(s, ADMIN, NOW, seen_id, seen_version, "lån till en ny traktor")
    assert caught.value.message == STALE
    with factory() as s:
        example = s.get(Example, seen_id)
        assert example is not None and example.text == "lån till en ny lastbil"
        entry = last_entry(s)
    assert (entry.before, entry.after) == ({"intent": "financing", "texts": [original]},
                                           {"intent": "financing", "texts": ["lån till en ny lastbil"]})


def test_examples_move_to_another_intent_and_the_log_says_from_where(factory: sessionmaker[Session]) -> None:
    with factory() as s:
        first, second = edit.get_intent(s, "tax_general").examples[:2]
        versions = {first.id: first.version, second.id: second.version}
        moved = [first.text, second.text]
    with transaction(factory) as s:
        assert edit.move_examples(s, ADMIN, NOW, versions, "tax_deferral") == 2
    with factory() as s:
        assert set(moved) <= set(texts(s, "tax_deferral"))
        entry = last_entry(s)
    assert (entry.before, entry.after) == ({"intent": "tax_general", "texts": moved},
                                           {"intent": "tax_deferral", "texts": moved})


def test_the_last_examples_of_an_intent_cannot_be_deleted(factory: sessionmaker[Session]) -> None:
    with transaction(factory) as s:
        edit.create_intent(s, ADMIN, NOW, name="ask_parking", kind="conversation", description="",
                           examples=["var parkerar jag", "finns det parkering"], answer="Vid entrén.")
    with factory() as s:
        versions = {e.id: e.version for e in edit.get_intent(s, "ask_parking").examples[:1]}
    with pytest.raises(Invalid) as caught, transaction(factory) as s:
        edit.delete_examples(s, ADMIN, NOW, versions)
    assert "skulle bara ha 1 exempel kvar" in caught.value.problems[0].message


def test_a_deleted_example_is_logged_with_its_text(factory: sessionmaker[Session]) -> None:
    with factory() as s:
        example = edit.get_intent(s, "greet").examples[0]
        versions, text = {example.id: example.version}, example.text
    with transaction(factory) as s:
        edit.delete_examples(s, ADMIN, NOW, versions)
    with factory() as s:
        assert text not in texts(s, "greet")
        entry = last_entry(s)
    assert (entry.action, entry.before, entry.after) == ("deleted", {"intent": "greet", "texts": [text]}, None)


# ---------------------------------------------------------------- intents and responses


def test_retiring_an_intent_that_a_button_sends_is_refused(factory: sessionmaker[Session]) -> None:
    with factory() as s:
        version = edit.get_intent(s, "request_human").version
    with pytest.raises(Invalid) as caught, transaction(factory) as s:
        edit.update_intent(s, ADMIN, NOW, "request_human", version, retired=True)
    assert "utter_no_referral" in caught.value.problems[0].message


def test_a_retired_intent_keeps_its_examples_and_leaves_the_training_data(factory: sessionmaker[Session]) -> None:
    with factory() as s:
        version = edit.get_intent(s, "thank").version
    with transaction(factory) as s:
        edit.update_intent(s, ADMIN, NOW, "thank", version, retired=True)
    with factory() as s:
        assert len(texts(s, "thank")) > 100
        assert "thank" not in {i.name for i in load_project(s).intents}
        assert last_entry(s).after == {**(last_entry(s).before or {}), "retired": True}


def test_a_response_keeps_its_variations_buttons_and_unknown_keys(factory: sessionmaker[Session]) -> None:
    with transaction(factory) as s:
        row = edit.get_response(s, "utter_no_referral")
        row.variations = [{**row.variations[0], "custom": {"kept": True}}]
    with factory() as s:
        version = edit.get_response(s, "utter_no_referral").version
    variations = [
        {"text": "Jag hittar ingen bra kontakt. Vill du prata med en rådgivare?",
         "buttons": [{"title": "Ja tack", "payload": "/request_human"}]},
        {"text": "Det vet jag tyvärr inte. Ska jag koppla dig vidare?", "buttons": []},
    ]
    with transaction(factory) as s:
        edit.update_response(s, ADMIN, NOW, "utter_no_referral", version, variations)
    with factory() as s:
        saved = edit.get_response(s, "utter_no_referral").variations
    assert saved == [{**variations[0], "custom": {"kept": True}}, {"text": variations[1]["text"]}]


@pytest.mark.parametrize("variation, expected", [
    ({"text": ""}, "saknar text"),
    ({"text": "Hej {namn}"}, "ingen uppgift (slot)"),
    ({"text": "Kostar {{ ingenting"}, None),
    ({"text": "Ett { ensamt"}, "ensam klammerparentes"),
    ({"text": "Ok", "buttons": [{"title": "Ja", "payload": "/finns_inte"}]}, "ingen aktiv avsikt finns_inte"),
    ({"text": "Ok", "buttons": [{"title": "", "payload": "ja"}]}, "saknar text"),
])
def test_response_rules(factory: sessionmaker[Session], variation: dict[str, object], expected: str | None) -> None:
    with factory() as s:
        version = edit.get_response(s, "utter_thank").version
    if expected is None:
        with transaction(factory) as s:
            edit.update_response(s, ADMIN, NOW, "utter_thank", version, [variation])
        return
    messages = refused(factory, edit.update_response, "utter_thank", version, [variation])
    assert any(expected in m for m in messages), messages


def test_intents_and_responses_saved_twice_from_one_form_conflict(factory: sessionmaker[Session]) -> None:
    with factory() as s:
        intent_version = edit.get_intent(s, "greet").version
        response_version = edit.get_response(s, "utter_greet").version
    with transaction(factory) as s:
        edit.update_intent(s, ADMIN, NOW, "greet", intent_version, description="Hälsningar")
        edit.update_response(s, ADMIN, NOW, "utter_greet", response_version, [{"text": "Hej!"}])
    with pytest.raises(Conflict), transaction(factory) as s:
        edit.update_intent(s, ADMIN, NOW, "greet", intent_version, description="Något annat")
    with pytest.raises(Conflict), transaction(factory) as s:
        edit.update_response(s, ADMIN, NOW, "utter_greet", response_version, [{"text": "Tjena!"}])
    with factory() as s:
        assert edit.get_intent(s, "greet").description == "Hälsningar"
        assert s.scalars(select(Response.variations).where(Response.name == "utter_greet")).one() == [{"text": "Hej!"}]
        assert s.scalar(select(Intent.description).where(Intent.name == "greet")) == "Hälsningar"


def test_two_saves_racing_past_the_version_check_the_update_itself_refuses(factory: sessionmaker[Session]) -> None:
    """The form check compares versions; between that check and the UPDATE another save may
    land. The row's version_id_col makes the UPDATE say WHERE version = :seen, so the
    second save fails (the gateway shows it as the same stale-save message)."""
    from sqlalchemy.orm.exc import StaleDataError

    first = factory()
    example = edit.get_intent(first, "greet").examples[0]
    example_id, seen = example.id, example.version
    with transaction(factory) as other:
        edit.edit_example(other, ADMIN, NOW, example_id, seen, "hej hej på er där")
    with pytest.raises(StaleDataError):
        edit.edit_example(first, ADMIN, NOW, example_id, seen, "goddag på er alla")  # still `seen` in memory
    first.rollback()
    first.close()
    with factory() as s:
        assert s.get(Example, example_id).text == "hej hej på er där"  # type: ignore[union-attr]
