"""The model registry (activate through the swap, discard, roll back from the history), the
held-out set and the scores, and the choice of training path."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import select

from content.history import revert
from content.validation import example_key
from core import serving
from core.audit import AuditEntry
from core.editing import Actor, Invalid
from tests.training.conftest import ACTIVE, NOW, sync_session, write_model
from training import evaluation, registry
from training.models import ModelRecord
from training.plan import FINETUNE, FULL, UNCHANGED, Fingerprints, Known, choose, label_set

ANNA = Actor(7, "Anna Admin <anna@example.se>")


def add_model(db_url: str, model_dir: Path, name: str) -> int:
    write_model(model_dir / name, {"intents": ["greet"]})
    with sync_session(db_url) as session:
        record = ModelRecord(file_name=name, fingerprint="f-" + name, labels="l", dialogue="d", mode=FINETUNE,
                             created_by="Anna", created_at=NOW)
        session.add(record)
        session.flush()
        return record.id


def test_activating_a_model_asks_the_supervisor_for_it_and_is_in_the_history(db_url: str, model_dir: Path) -> None:
    new_id = add_model(db_url, model_dir, "model-new.tar.gz")
    with sync_session(db_url) as session:
        registry.activate(session, new_id, model_dir, ANNA, NOW)
    with sync_session(db_url) as session:
        current = serving.read(session)
        assert current is not None
        assert (current.active_model, current.requested_model, current.state) == (
            ACTIVE, "model-new.tar.gz", serving.STARTING)
        entry = session.scalars(select(AuditEntry)).one()
        assert (entry.entity, entry.entity_id, entry.action, entry.before, entry.after) == (
            "model", "model-new.tar.gz", "activated", {"model": ACTIVE}, {"model": "model-new.tar.gz"})
        # A second request while the first is starting is refused.
        with pytest.raises(Invalid, match="håller redan på att startas"):
            registry.activate(session, new_id, model_dir, ANNA, NOW)


def test_reverting_an_activation_rolls_back_to_the_previous_model_with_the_same_swap(
        db_url: str, model_dir: Path) -> None:
    new_id = add_model(db_url, model_dir, "model-new.tar.gz")
    with sync_session(db_url) as session:
        registry.activate(session, new_id, model_dir, ANNA, NOW)
        entry_id = session.scalars(select(AuditEntry.id)).one()
        # The supervisor's swap finishes: the new model is active.
        serving.activate(session, "model-new.tar.gz", "http://127.0.0.1:5006", None)
    with sync_session(db_url) as session:
        new = revert(session, entry_id, {"model": registry.reverter(model_dir)}, ANNA, NOW)
        assert (new.action, new.before, new.after) == ("reverted", {"model": "model-new.tar.gz"}, {"model": ACTIVE})
        current = serving.read(session)
        assert current is not None and current.requested_model == ACTIVE
        # The model we did not train ourselves now has its record too.
        assert registry.by_file(session, ACTIVE) is not None


def test_a_rollback_is_refused_when_another_model_was_activated_since(db_url: str, model_dir: Path) -> None:
    new_id = add_model(db_url, model_dir, "model-new.tar.gz")
    with sync_session(db_url) as session:
        registry.activate(session, new_id, model_dir, ANNA, NOW)
        entry_id = session.scalars(select(AuditEntry.id)).one()
        serving.activate(session, "model-other.tar.gz", "http://127.0.0.1:5007", None)
    with sync_session(db_url) as session, pytest.raises(Invalid, match="En annan modell har aktiverats"):
        revert(session, entry_id, {"model": registry.reverter(model_dir)}, ANNA, NOW)


def test_throwing_a_model_away_deletes_its_file_keeps_its_record_and_spares_the_active_one(
        db_url: str, model_dir: Path) -> None:
    old_id = add_model(db_url, model_dir, "model-old.tar.gz")
    with sync_session(db_url) as session:
        registry.discard(session, old_id, model_dir, ANNA, NOW)
        active = registry.adopt(session, model_dir, ACTIVE, NOW)
        assert active is not None
        with pytest.raises(Invalid, match="aktiva modellen"):
            registry.discard(session, active.id, model_dir, ANNA, NOW)
        with pytest.raises(Invalid, match="slängd"):
            registry.activate(session, old_id, model_dir, ANNA, NOW)
    assert not (model_dir / "model-old.tar.gz").exists()
    with sync_session(db_url) as session:
        listed = {row.record.file_name: row for row in registry.listing(session, model_dir)}
        assert listed["model-old.tar.gz"].record.discarded_at is not None
        assert not listed["model-old.tar.gz"].present
        assert listed[ACTIVE].active


# ---------------------------------------------------------------- evaluation


QUESTIONS = [evaluation.Question("lån till maskin", "financing"), evaluation.Question("sälja i Tyskland", "export"),
             evaluation.Question("kredit för lager", "financing")]


def test_scores_are_accuracy_and_per_intent_f1_over_the_held_out_set() -> None:
    result = evaluation.score(QUESTIONS, {
        "lån till maskin": {"intent": "financing", "confidence": 0.9},
        "sälja i Tyskland": {"intent": "financing", "confidence": 0.6},
        "kredit för lager": {"intent": "financing", "confidence": 0.8},
    })
    assert result["accuracy"] == pytest.approx(0.667, abs=0.001)
    # financing: 2 right, 1 wrongly predicted → F1 = 4/5; export: never found → 0.
    assert result["per_intent_f1"] == {"export": 0.0, "financing": 0.8}
    assert result["count"] == 3


def test_the_questions_whose_answer_changed_are_listed_as_better_or_worse() -> None:
    right = {q.text: {"intent": q.intent, "confidence": 1.0} for q in QUESTIONS}
    old = evaluation.score(QUESTIONS, {**right, "sälja i Tyskland": {"intent": "greet", "confidence": 0.5}})
    new = evaluation.score(QUESTIONS, {**right, "kredit för lager": {"intent": "export", "confidence": 0.5}})
    changes = {c.text: c for c in evaluation.changed(new, old)}
    assert set(changes) == {"sälja i Tyskland", "kredit för lager"}
    assert changes["sälja i Tyskland"].better and changes["kredit för lager"].worse


def test_a_question_joins_the_set_only_when_it_is_not_training_data(tmp_path: Path) -> None:
    path = tmp_path / "referrals.yml"
    evaluation.add(path, "  Hur  startar jag eget? ", "start_business")
    questions = evaluation.load(path)
    assert questions == [evaluation.Question("Hur startar jag eget?", "start_business")]
    assert path.read_text(encoding="utf-8").startswith("# The held-out referral set")

    def problems(text: str, intent: str = "financing") -> list[str]:
        return [p.message for p in evaluation.question_problems(
            text, intent, questions, {"financing", "start_business"}, {example_key("lån till företag")})]

    assert problems("Lån till  FÖRETAG") == [
        "Frågan är redan ett träningsexempel. Utvärderingen ska bara ha frågor som modellen inte tränats på; "
        "skriv frågan på ett annat sätt."]
    assert problems("hur startar jag eget?", "start_business") == ["Frågan finns redan i utvärderingen."]
    assert problems("Något nytt", "okänd") == ["Välj vilken avsikt som ska svara på frågan."]
    assert problems("") == ["Exemplet är tomt. Skriv en mening som ett företag kan tänkas skriva."]
    assert problems("Kan jag få ett lån till en ny lokal?") == []


def test_the_shipped_held_out_set_is_no_training_data() -> None:
    import yaml

    from content.validation import normalise
    from core.settings import PROJECT_ROOT

    training = set()
    for path in (PROJECT_ROOT / "data" / "nlu").glob("*.yml"):
        for item in (yaml.safe_load(path.read_text(encoding="utf-8")) or {}).get("nlu") or []:
            training |= {normalise(line[2:]) for line in str(item.get("examples", "")).splitlines()}
    questions = evaluation.load()
    assert len(questions) >= 20
    assert not [q.text for q in questions if normalise(q.text) in training]


# ---------------------------------------------------------------- the choice


def test_the_cheapest_training_path_is_chosen() -> None:
    new = Fingerprints("p2", "labels", "d")
    active = Known("model-a.tar.gz", "p1", "labels")
    assert choose(new, active, [active]).mode == FINETUNE
    assert choose(new, active, [active]).base_model == "model-a.tar.gz"
    assert choose(new, Known("model-a.tar.gz", "p1", "other"), []).mode == FULL
    assert choose(new, None, []).mode == FULL
    same = Known("model-b.tar.gz", "p2", "labels")
    assert (choose(new, active, [active, same]).mode, choose(new, active, [same]).base_model) == (
        UNCHANGED, "model-b.tar.gz")


def test_the_label_set_ignores_answer_texts_but_not_retrieval_answers() -> None:
    domain = {"intents": ["greet", {"faq": {"is_retrieval_intent": True}}], "entities": ["organisation"],
              "responses": {"utter_greet": [{"text": "Hej"}], "utter_faq/open": [{"text": "9–17"}]}}
    assert label_set(domain)["intents"] == ["faq", "greet"]
    assert label_set(domain)["retrieval"] == ["utter_faq/open"]
    edited = {**domain, "responses": {"utter_greet": [{"text": "Hallå"}], "utter_faq/open": [{"text": "8–16"}]}}
    assert label_set(edited) == label_set(domain)
    # A trained model's domain also lists the retrieval intents' utter_ actions.
    trained = {**domain, "actions": ["utter_faq", "action_referral"]}
    assert label_set(trained) == label_set({**domain, "actions": ["action_referral"]})
