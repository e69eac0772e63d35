"""Reverting the audit log's entries: each kind of change goes back exactly, writes an entry
of its own, refuses when the item changed since, and can itself be reverted (redo)."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from content import edit
from content.history import CHANGED_SINCE, content_handlers, revert
from content.models import Intent
from core.audit import AuditEntry
from core.db import transaction
from core.editing import Actor, Invalid
from directory import edit as directory_edit
from directory.models import Organisation, Topic
from directory.seed import organisation_from_row, topic_from_row

ADMIN = Actor(7, "Eva Ek")
OTHER = Actor(8, "Olle Ek")
NOW = dt.datetime(2026, 12, 4, 10, 0, tzinfo=dt.timezone.utc)


def last_id(session: Session) -> int:
    entry_id = session.scalar(select(AuditEntry.id).order_by(AuditEntry.id.desc()).limit(1))
    assert entry_id is not None
    return entry_id


def undo(factory: sessionmaker[Session], entry_id: int, actor: Actor = OTHER) -> AuditEntry:
    with transaction(factory) as s:
        return revert(s, entry_id, content_handlers(), actor, NOW)


def undo_refused(factory: sessionmaker[Session], entry_id: int) -> str:
    with pytest.raises(Invalid) as caught, transaction(factory) as s:
        revert(s, entry_id, content_handlers(), OTHER, NOW)
    return caught.value.problems[0].message


def examples(factory: sessionmaker[Session], intent: str) -> list[str]:
    with factory() as s:
        return [e.text for e in edit.get_intent(s, intent).examples]


def test_reverting_an_added_example_removes_it_and_reverting_that_adds_it_back(
    factory: sessionmaker[Session],
) -> None:
    with transaction(factory) as s:
        edit.add_examples(s, ADMIN, NOW, "financing", ["lån till solceller på taket"])
        added = last_id(s)
    entry = undo(factory, added)
    assert "lån till solceller på taket" not in examples(factory, "financing")
    assert (entry.action, entry.reverts, entry.actor) == ("reverted", added, OTHER.label)
    assert (entry.before, entry.after) == ({"intent": "financing", "texts": ["lån till solceller på taket"]}, None)
    assert undo_refused(factory, added).startswith("Ändringen är redan ångrad")
    undo(factory, entry.id)  # redo
    assert "lån till solceller på taket" in examples(factory, "financing")


def test_a_moved_example_goes_back_where_it_was(factory: sessionmaker[Session]) -> None:
    with factory() as s:
        example = edit.get_intent(s, "tax_general").examples[0]
        versions, text = {example.id: example.version}, example.text
    with transaction(factory) as s:
        edit.move_examples(s, ADMIN, NOW, versions, "tax_deferral")
        moved = last_id(s)
    undo(factory, moved)
    assert text in examples(factory, "tax_general") and text not in examples(factory, "tax_deferral")


def test_a_revert_is_refused_when_the_example_changed_since(factory: sessionmaker[Session]) -> None:
    with transaction(factory) as s:
        edit.add_examples(s, ADMIN, NOW, "financing", ["lån till solceller"])
        added = last_id(s)
    with factory() as s:
        example = next(e for e in edit.get_intent(s, "financing").examples if e.text == "lån till solceller")
    with transaction(factory) as s:
        edit.edit_example(s, ADMIN, NOW, example.id, example.version, "lån till solpaneler")
        edited = last_id(s)
    assert undo_refused(factory, added) == CHANGED_SINCE
    undo(factory, edited)
    undo(factory, added)  # in order, both go
    assert not {"lån till solceller", "lån till solpaneler"} & set(examples(factory, "financing"))


def test_reverting_a_deleted_example_brings_it_back(factory: sessionmaker[Session]) -> None:
    with factory() as s:
        example = edit.get_intent(s, "greet").examples[3]
        versions, text = {example.id: example.version}, example.text
    with transaction(factory) as s:
        edit.delete_examples(s, ADMIN, NOW, versions)
        deleted = last_id(s)
    undo(factory, deleted)
    assert text in examples(factory, "greet")


def test_reverting_a_new_intent_removes_it_with_its_examples_and_topic_and_redo_restores_all(
    factory: sessionmaker[Session],
) -> None:
    with transaction(factory) as s:
        edit.create_intent(s, ADMIN, NOW, name="energy_support", kind="referral", description="",
                           examples=["höga elpriser", "energikostnader"], topic_name="Energistöd",
                           first_target="almi")
        created = last_id(s)
    entry = undo(factory, created)
    with factory() as s:
        assert s.scalar(select(Intent).where(Intent.name == "energy_support")) is None
        assert s.get(Topic, "energy_support") is None
    undo(factory, entry.id)
    assert examples(factory, "energy_support") == ["höga elpriser", "energikostnader"]
    with factory() as s:
        topic = s.get(Topic, "energy_support")
        assert topic is not None and topic.name == "Energistöd"


def test_a_new_intent_with_examples_added_later_is_not_removed_by_a_revert(factory: sessionmaker[Session]) -> None:
    with transaction(factory) as s:
        edit.create_intent(s, ADMIN, NOW, name="ask_parking", kind="conversation", description="",
                           examples=["var parkerar jag", "parkering?"], answer="Vid entrén.")
        created = last_id(s)
        edit.add_examples(s, ADMIN, NOW, "ask_parking", ["finns det p-platser"])
    assert undo_refused(factory, created) == CHANGED_SINCE
    assert len(examples(factory, "ask_parking")) == 3


def test_a_response_and_a_retirement_go_back(factory: sessionmaker[Session]) -> None:
    with factory() as s:
        response = edit.get_response(s, "utter_thank")
        old, version = response.variations, response.version
        intent_version = edit.get_intent(s, "thank").version
    with transaction(factory) as s:
        edit.update_response(s, ADMIN, NOW, "utter_thank", version, [{"text": "Tack själv!"}])
        changed = last_id(s)
        edit.update_intent(s, ADMIN, NOW, "thank", intent_version, retired=True)
        retired = last_id(s)
    undo(factory, retired)
    undo(factory, changed)
    with factory() as s:
        assert edit.get_response(s, "utter_thank").variations == old
        assert edit.get_intent(s, "thank").retired is False


def organisation(session: Session, org_id: str) -> dict[str, Any]:
    row = session.get(Organisation, org_id)
    assert row is not None
    return organisation_from_row(row)


def test_a_directory_edit_goes_back_and_refuses_when_edited_again(factory: sessionmaker[Session]) -> None:
    with factory() as s:
        original = organisation(s, "almi")
        version = s.get(Organisation, "almi").version  # type: ignore[union-attr]
    changed = {**original, "aliases": [*original["aliases"], "Almi Mälardalen"]}
    with transaction(factory) as s:
        directory_edit.save_organisation(s, ADMIN, NOW, "almi", version, changed)
        first = last_id(s)
        version = s.get(Organisation, "almi").version  # type: ignore[union-attr]
        directory_edit.save_organisation(s, ADMIN, NOW, "almi", version, {**changed, "summary": "Ny text."})
        second = last_id(s)
    assert undo_refused(factory, first) == CHANGED_SINCE
    undo(factory, second)
    undo(factory, first)
    with factory() as s:
        assert organisation(s, "almi") == original


def test_a_topics_targets_go_back_in_their_order(factory: sessionmaker[Session]) -> None:
    with factory() as s:
        row = s.get(Topic, "financing")
        assert row is not None
        original, version = topic_from_row(row), row.version
    reordered = {**original, "targets": list(reversed(original["targets"]))}
    with transaction(factory) as s:
        directory_edit.save_topic(s, ADMIN, NOW, "financing", version, reordered)
        changed = last_id(s)
    undo(factory, changed)
    with factory() as s:
        row = s.get(Topic, "financing")
        assert row is not None and topic_from_row(row) == original


def test_changes_of_unknown_kinds_cannot_be_reverted_here(factory: sessionmaker[Session]) -> None:
    with transaction(factory) as s:
        s.add(AuditEntry(at=NOW, actor_id=None, actor="supervisor", entity="model", entity_id="model-1.tar.gz",
                         action="activated", before=None, after={"model": "model-1.tar.gz"}))
    with factory() as s:
        entry_id = last_id(s)
    assert undo_refused(factory, entry_id) == "Den här sortens ändring kan inte ångras här."
