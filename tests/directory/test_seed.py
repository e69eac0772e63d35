"""Seeding the directory: complete, idempotent, and never undoing an admin's edit."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from core.db import make_engine, make_sessionmaker, transaction
from directory.models import Organisation, Scheme, Topic
from directory.seed import SeedError, load_seed, seed_directory
from scripts.db import upgrade

BRIEF_IDS = {
    "foretagssupport", "almi", "region-vastmanland", "lansstyrelsen", "handelskammaren",
    "svenskt-naringsliv", "tillvaxtverket", "skatteverket", "arbetsformedlingen",
    "forsakringskassan", "bolagsverket", "riksgalden", "business-sweden", "verksamt",
    "nyforetagarcentrum", "arbetsmiljoverket", "omstallning", "ekn", "tullverket", "boverket",
    "kronofogden", "kommun",
}
DOMAIN = yaml.safe_load(Path("domain.yml").read_text(encoding="utf-8"))


def test_the_shipped_directory_has_every_target_of_the_brief_and_a_topic_per_intent():
    seed = load_seed()
    assert {o["id"] for o in seed["organisations"]} >= BRIEF_IDS
    topic_ids = {t["id"] for t in seed["topics"]}
    referral = {i for i in DOMAIN["intents"] if i in topic_ids}
    assert len(referral) == len(topic_ids) == 29


def test_every_shipped_row_says_where_its_facts_come_from_and_when_they_were_checked():
    seed = load_seed()
    for kind in ("organisations", "schemes"):
        for entry in seed[kind]:
            assert entry["source"], f"{kind}/{entry['id']} has no source"
            assert entry["reviewed"], f"{kind}/{entry['id']} has no reviewed date"


def test_ended_schemes_say_what_applies_now():
    for scheme in load_seed()["schemes"]:
        if scheme["status"] == "ended":
            assert scheme["end_date"] and scheme["now_applies"] and scheme["now_targets"]


def _counts(factory: sessionmaker[Session]) -> tuple[int, int, int]:
    with factory() as s:
        return tuple(s.scalar(select(func.count()).select_from(m)) for m in (Organisation, Scheme, Topic))  # type: ignore[return-value]


def _check_idempotent_and_respectful(url: str) -> None:
    upgrade(url)
    engine = make_engine(url)
    factory = make_sessionmaker(engine)
    try:
        with transaction(factory) as s:
            first = seed_directory(s)
        assert first.inserted and not first.updated
        counts = _counts(factory)

        with transaction(factory) as s:
            again = seed_directory(s)
        assert not again.inserted and not again.updated and not again.kept_admin_edit
        assert _counts(factory) == counts

        with transaction(factory) as s:  # an admin edits Almi's summary
            almi = s.get(Organisation, "almi")
            assert almi is not None
            almi.summary = "Redigerad av en administratör."
        with transaction(factory) as s:
            report = seed_directory(s)
        assert report.kept_admin_edit == ["organisations/almi"]
        with factory() as s:
            assert s.get(Organisation, "almi").summary == "Redigerad av en administratör."  # type: ignore[union-attr]
    finally:
        engine.dispose()


def test_seeding_twice_changes_nothing_and_keeps_admin_edits(database_url: str) -> None:
    _check_idempotent_and_respectful(database_url)


@pytest.mark.postgres
def test_the_same_on_postgresql(postgres_url: str) -> None:
    _check_idempotent_and_respectful(postgres_url)


def test_a_seed_that_refers_to_an_unknown_organisation_is_refused(tmp_path: Path) -> None:
    (tmp_path / "organisations.yml").write_text("organisations:\n- {id: a, name: A}\n")
    (tmp_path / "schemes.yml").write_text("schemes: []\n")
    (tmp_path / "topics.yml").write_text(
        "topics:\n- {id: t, name: T, targets: [{target: nobody, pitch: x}]}\n")
    with pytest.raises(SeedError, match="unknown target nobody"):
        load_seed(tmp_path)
