"""The job runner with the real Rasa 3.6 on a tiny project of its own (not the shipped
content: a full training of that takes 8–20 minutes): a first full training, then a
one-example edit that is fine-tuned from it, both validated, trained and evaluated by
Rasa itself, with its progress read from Rasa's real output."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
import yaml
from sqlalchemy.orm import Session

from core import serving
from core.db import AsyncDatabase
from core.editing import Actor
from scripts.model import RASA
from tests.training.conftest import sync_session
from training import evaluation
from training import models as m
from training.models import ModelRecord, TrainingJob
from training.plan import FINETUNE, FULL
from training.runner import Runner, default_tools

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(900)]

ANNA = Actor(7, "Anna Admin <anna@example.se>")
CONFIG = {
    "recipe": "default.v1", "language": "sv", "assistant_id": "tiny",
    "pipeline": [{"name": "WhitespaceTokenizer"}, {"name": "CountVectorsFeaturizer"},
                 {"name": "DIETClassifier", "epochs": 20, "number_of_transformer_layers": 0,
                  "entity_recognition": False, "random_seed": 1}],
    "policies": [{"name": "RulePolicy"}],
}
EXAMPLES = {
    "greet": ["hej", "hallå", "god morgon", "tjena", "hej där"],
    "financing": ["jag behöver ett lån", "lån till företaget", "finansiering av maskiner", "hur får jag kapital",
                  "vi behöver pengar till investering"],
}


def tiny_exporter(examples: dict[str, list[str]]):  # type: ignore[no-untyped-def]
    def export(session: Session, project: Path) -> list[str]:
        (project / "data").mkdir(parents=True, exist_ok=True)
        (project / "config.yml").write_text(yaml.safe_dump(CONFIG), encoding="utf-8")
        domain = {"version": "3.1", "intents": list(examples),
                  "responses": {f"utter_{i}": [{"text": f"Svar om {i}"}] for i in examples}}
        (project / "domain.yml").write_text(yaml.safe_dump(domain, allow_unicode=True), encoding="utf-8")
        nlu = {"version": "3.1", "nlu": [{"intent": i, "examples": "".join(f"- {t}\n" for t in texts)}
                                         for i, texts in examples.items()]}
        (project / "data" / "nlu.yml").write_text(yaml.safe_dump(nlu, allow_unicode=True), encoding="utf-8")
        rules = {"version": "3.1", "rules": [{"rule": i, "steps": [{"intent": i}, {"action": f"utter_{i}"}]}
                                             for i in examples]}
        (project / "data" / "rules.yml").write_text(yaml.safe_dump(rules), encoding="utf-8")
        return []

    return export


@pytest.mark.skipif(not RASA.exists(), reason="Rasa's environment is not installed")
async def test_a_tiny_project_is_trained_then_fine_tuned_and_evaluated_by_the_real_rasa(
        tmp_path: Path, database: AsyncDatabase, db_url: str) -> None:
    heldout = tmp_path / "referrals.yml"
    evaluation.add(heldout, "hej hej", "greet")
    evaluation.add(heldout, "kan vi få ett lån", "financing")
    model_dir = tmp_path / "models"
    tools = default_tools()
    # A training cache of its own: one shared with earlier runs would restore DIET instead of
    # training it, and there would be no epochs to read.
    tools.env["RASA_CACHE_DIRECTORY"] = str(tmp_path / "rasa-cache")
    runner = Runner(database.sessions, model_dir, tmp_path / "work", tools, heldout,
                    exporter=tiny_exporter(EXAMPLES))

    async def run() -> tuple[TrainingJob, int]:
        job_id = await runner.start(ANNA)
        seen_epochs = 0
        while job_id in runner.tasks:
            async with database.sessions() as session:
                row = await session.get(TrainingJob, job_id)
            if row is not None and row.stage in (m.TRAIN, m.EVALUATE):  # kept once training ends
                seen_epochs = max(seen_epochs, row.epochs)
            await asyncio.sleep(0.5)
        async with database.sessions() as session:
            job = await session.get(TrainingJob, job_id)
        assert job is not None
        assert job.state == m.SUCCEEDED, (job.message, job.problems, job.log_tail)
        assert seen_epochs > 0, job.log_tail  # the epochs were read from Rasa's own progress bar
        return job, seen_epochs

    first, _ = await run()
    assert first.mode == FULL
    with sync_session(db_url) as session:
        serving.activate(session, str(first.model_file), "http://127.0.0.1:5005", None)

    # A one-example edit: same labels, so Rasa fine-tunes the active model.
    runner.exporter = tiny_exporter({**EXAMPLES, "greet": [*EXAMPLES["greet"], "hejsan svejsan"]})
    second, epochs = await run()
    assert (second.mode, epochs) == (FINETUNE, 4)  # 20 epochs × 0.2
    async with database.sessions() as session:
        record = await session.run_sync(lambda s: s.query(ModelRecord).filter_by(file_name=second.model_file).one())
    assert record.base_model == first.model_file
    assert record.evaluation is not None and record.evaluation["count"] == 2
    assert set(record.evaluation["predictions"]) == {"hej hej", "kan vi få ett lån"}
    assert record.evaluation["accuracy"] is not None and record.evaluation["accuracy"] >= 0.5
