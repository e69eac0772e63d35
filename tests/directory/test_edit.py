"""An admin's directory edits: the rules (Swedish messages, nothing saved), optimistic
locking, the audit entry, the 12-month review flag, and the next answer reading the edit."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from core.audit import AuditEntry
from core.db import make_engine, make_sessionmaker, transaction
from core.editing import Actor, Conflict, Invalid
from directory import edit, queries
from directory.models import Organisation, Scheme, Topic
from directory.seed import organisation_from_row, scheme_from_row, topic_from_row
from directory.validation import needs_review
from scripts.db import seed, upgrade

ADMIN = Actor(3, "Eva Ek")
NOW = dt.datetime(2026, 12, 4, 10, 0, tzinfo=dt.timezone.utc)


@pytest.fixture
def factory(database_url: str) -> Iterator[sessionmaker[Session]]:
    upgrade(database_url)
    seed(database_url, with_content=False)
    engine = make_engine(database_url)
    yield make_sessionmaker(engine)
    engine.dispose()


def state(factory: sessionmaker[Session], model: type[Any], row_id: str) -> tuple[dict[str, Any], int]:
    canonical = {Organisation: organisation_from_row, Scheme: scheme_from_row, Topic: topic_from_row}[model]
    with factory() as s:
        row = s.get(model, row_id)
        assert row is not None
        return canonical(row), row.version


def refused(factory: sessionmaker[Session], save: Any, row_id: str, version: int, data: dict[str, Any],
            **kw: Any) -> list[str]:
    with pytest.raises(Invalid) as caught, transaction(factory) as s:
        save(s, ADMIN, NOW, row_id, version, data, **kw)
    return [p.message for p in caught.value.problems]


def test_an_alias_is_saved_logged_and_read_by_the_next_answer(factory: sessionmaker[Session]) -> None:
    almi, version = state(factory, Organisation, "almi")
    with transaction(factory) as s:
        edit.save_organisation(s, ADMIN, NOW, "almi", version, {**almi, "aliases": ["Almi", "Almi Invest"]})
    with factory() as s:
        assert "Almi Invest" in queries.organisation_names(s)["almi"]
        entry = s.scalar(select(AuditEntry).order_by(AuditEntry.id.desc()).limit(1))
    assert entry is not None and (entry.entity, entry.entity_id, entry.action) == ("organisation", "almi", "updated")
    assert (entry.before or {})["aliases"] == ["Almi"] and (entry.after or {})["aliases"] == ["Almi", "Almi Invest"]


def test_a_name_that_already_names_another_entry_is_refused(factory: sessionmaker[Session]) -> None:
    almi, version = state(factory, Organisation, "almi")
    messages = refused(factory, edit.save_organisation, "almi", version, {**almi, "aliases": ["Almi", "skatteverket"]})
    assert messages == ["”skatteverket” är redan ett namn på Skatteverket. Två poster kan inte heta samma sak: "
                        "assistenten skulle inte veta vilken som menas."]


@pytest.mark.parametrize("change, expected", [
    ({"contacts": [{"kind": "web", "value": "almi.se", "label": ""}]}, "en webbadress börjar med https://"),
    ({"contacts": [{"kind": "email", "value": "info(at)almi.se", "label": ""}]}, "är ingen e-postadress"),
    ({"contacts": [{"kind": "phone", "value": "ring oss", "label": ""}]}, "skriv telefonnumret med siffror"),
    ({"reviewed": "2027-01-01"}, "Granskningsdatumet kan inte ligga i framtiden."),
    ({"reviewed": "4 december"}, "Granskad ska vara ett datum som 2026-12-04."),
    ({"source_url": "www.almi.se"}, "Källans adress ska börja med https://"),
    ({"name": " "}, "Skriv ett namn."),
    ({"reached_through": "almi"}, "Välj en annan organisation i katalogen, eller ingen."),
])
def test_organisation_rules(factory: sessionmaker[Session], change: dict[str, Any], expected: str) -> None:
    almi, version = state(factory, Organisation, "almi")
    messages = refused(factory, edit.save_organisation, "almi", version, {**almi, **change})
    assert any(expected in m for m in messages), messages


def test_an_ended_scheme_says_when_and_what_applies_now(factory: sessionmaker[Session]) -> None:
    with factory() as s:
        scheme_id = s.scalars(select(Scheme.id).where(Scheme.status == "active")).first()
    assert scheme_id is not None
    scheme, version = state(factory, Scheme, scheme_id)
    messages = refused(factory, edit.save_scheme, scheme_id, version,
                       {**scheme, "status": "ended", "end_date": None, "now_applies": ""})
    assert messages == ["Ett avslutat stöd behöver ett slutdatum.",
                        "Skriv vad som gäller nu, när stödet har avslutats."]
    messages = refused(factory, edit.save_scheme, scheme_id, version,
                       {**scheme, "start_date": "2026-05-01", "end_date": "2026-01-01"})
    assert "Slutdatumet ligger före startdatumet." in messages


def test_a_topic_needs_known_distinct_targets(factory: sessionmaker[Session]) -> None:
    topic, version = state(factory, Topic, "financing")
    assert refused(factory, edit.save_topic, "financing", version, {**topic, "targets": []}) == [
        "Ämnet behöver minst en organisation att hänvisa till."]
    target = topic["targets"][0]
    messages = refused(factory, edit.save_topic, "financing", version,
                       {**topic, "targets": [target, target, {**target, "target": "finns-inte"},
                                             {**target, "target": "ekn", "min_employees": 50, "max_employees": 10}]})
    assert messages == [
        f"Mottagare 2: {target['target']} står redan i listan.",
        "Mottagare 3: välj en organisation i katalogen.",
        "Mottagare 4: lägsta antal anställda är större än högsta.",
    ]


def test_a_save_from_an_old_form_is_refused_even_when_only_contacts_changed(factory: sessionmaker[Session]) -> None:
    almi, version = state(factory, Organisation, "almi")
    phone = {"kind": "phone", "value": "021-10 10 10", "label": "Växel"}
    with transaction(factory) as s:
        edit.save_organisation(s, ADMIN, NOW, "almi", version, {**almi, "contacts": [*almi["contacts"], phone]})
    with pytest.raises(Conflict), transaction(factory) as s:
        edit.save_organisation(s, ADMIN, NOW, "almi", version, {**almi, "summary": "Skrivet i ett gammalt formulär."})
    saved, _ = state(factory, Organisation, "almi")
    assert phone in saved["contacts"] and saved["summary"] == almi["summary"]


def test_a_new_organisation_needs_a_free_well_formed_id(factory: sessionmaker[Session]) -> None:
    almi, _ = state(factory, Organisation, "almi")
    data = {**almi, "name": "Energikontoret Mälardalen", "aliases": ["Energikontoret"]}
    assert refused(factory, edit.save_organisation, "almi", None, data, create=True) == ["Id almi används redan."]
    assert "Id skrivs med små bokstäver" in refused(factory, edit.save_organisation, "Energi Kontoret", None, data,
                                                    create=True)[0]
    with transaction(factory) as s:
        edit.save_organisation(s, ADMIN, NOW, "energikontoret", None, data, create=True)
    with factory() as s:
        assert queries.organisation_names(s)["energikontoret"] == ["Energikontoret Mälardalen", "Energikontoret"]


@pytest.mark.parametrize("reviewed, flagged", [
    (None, True), (dt.date(2025, 12, 3), True), (dt.date(2025, 12, 4), False), (dt.date(2026, 6, 1), False),
])
def test_entries_not_reviewed_for_twelve_months_are_flagged(reviewed: dt.date | None, flagged: bool) -> None:
    assert needs_review(reviewed, dt.date(2026, 12, 4)) is flagged
