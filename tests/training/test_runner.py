"""The training job: its stages, one at a time, cancel, failures that leave the active
model alone, and a restart in the middle (with a fake Rasa: tests/training/fake_rasa.py)."""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import Callable
from pathlib import Path

import pytest
from sqlalchemy import delete, select

from content.models import Example, Intent
from core import serving
from core.db import AsyncDatabase
from core.editing import Actor
from tests.training.conftest import ACTIVE, called, exported_domain, sync_session, write_model
from training import models as m
from training.models import ModelRecord, TrainingJob
from training.plan import FINETUNE, FULL, UNCHANGED
from training.runner import Busy, Runner, recover

ANNA = Actor(7, "Anna Admin <anna@example.se>")


async def finished(runner: Runner, job_id: int) -> TrainingJob:
    await asyncio.wait_for(runner.wait(job_id), 60)
    async with runner.sessions() as session:
        job = await session.get(TrainingJob, job_id)
    assert job is not None
    return job


async def until(runner: Runner, job_id: int, check: Callable[[TrainingJob], bool]) -> TrainingJob:
    for _ in range(400):
        async with runner.sessions() as session:
            job = await session.get(TrainingJob, job_id)
        assert job is not None
        if check(job):
            return job
        await asyncio.sleep(0.05)
    raise AssertionError(f"job {job_id} never reached the expected state")


async def active_model(database: AsyncDatabase) -> str:
    async with database.sessions() as session:
        current = await serving.current(session)
    assert current is not None
    return current.active_model


async def test_an_edit_with_the_same_labels_is_fine_tuned_from_the_active_model_and_evaluated(
        make_runner: Callable[..., Runner], database: AsyncDatabase, model_dir: Path, calls: Path) -> None:
    # Rasa says nothing for longer than a heartbeat while it loads: the job waits and beats.
    runner = make_runner(FAKE_RASA_EPOCHS="6", FAKE_RASA_EPOCH_SECONDS="0.3", FAKE_RASA_VALIDATE_SECONDS="1.5")
    job_id = await runner.start(ANNA)
    training = await until(runner, job_id, lambda j: j.stage == m.TRAIN and j.epoch >= 1)
    assert (training.state, training.mode, training.component, training.epochs) == (m.RUNNING, FINETUNE,
                                                                                    "DIETClassifier", 6)
    assert "finjusteras" in training.mode_reason
    assert training.estimate_seconds and training.estimate_seconds > 0
    job = await finished(runner, job_id)

    assert (job.state, job.stage, job.slot) == (m.SUCCEEDED, m.DONE, None)
    commands = [argv[:2] if argv[0] == "data" else argv[:1] for argv in called(calls)]
    assert commands == [["data", "validate"], ["train"], ["evaluate"]]
    train = called(calls)[1]
    assert train[train.index("--finetune") + 1] == str(model_dir / ACTIVE)
    assert train[train.index("--epoch-fraction") + 1] == "0.2"
    assert job.model_file and (model_dir / job.model_file).is_file()
    async with database.sessions() as session:
        record = await session.scalar(select(ModelRecord).where(ModelRecord.file_name == job.model_file))
        active = await session.scalar(select(ModelRecord).where(ModelRecord.file_name == ACTIVE))
    assert record is not None and active is not None
    assert (record.mode, record.base_model, record.created_by) == (FINETUNE, ACTIVE, ANNA.label)
    assert record.evaluation and record.evaluation["accuracy"] == 1.0
    assert record.evaluation["per_intent_f1"] == {"export": 1.0, "financing": 1.0, "greet": 1.0}
    # The active model was scored on the same set (for the comparison), and is still the active one.
    assert active.evaluation and active.evaluation["set"] == record.evaluation["set"]
    assert await active_model(database) == ACTIVE


async def test_when_rasa_refuses_to_fine_tune_the_job_trains_in_full_instead_and_says_why(
        make_runner: Callable[..., Runner], database: AsyncDatabase, calls: Path) -> None:
    runner = make_runner(FAKE_RASA_REFUSE_FINETUNE="1")
    job = await finished(runner, await runner.start(ANNA))
    assert (job.state, job.mode) == (m.SUCCEEDED, FULL)
    assert "tränas från början" in job.mode_reason
    trainings = [argv for argv in called(calls) if argv[0] == "train"]
    assert ["--finetune" in argv for argv in trainings] == [True, False]
    async with database.sessions() as session:
        record = await session.scalar(select(ModelRecord).where(ModelRecord.file_name == job.model_file))
    assert record is not None and record.mode == FULL


async def test_the_same_content_again_reuses_the_model_without_training(
        make_runner: Callable[..., Runner], calls: Path) -> None:
    runner = make_runner()
    first = await finished(runner, await runner.start(ANNA))
    again = await finished(runner, await runner.start(ANNA))
    assert (again.state, again.mode, again.model_file) == (m.SUCCEEDED, UNCHANGED, first.model_file)
    assert [argv[0] for argv in called(calls)].count("train") == 1


async def test_a_new_intent_needs_the_full_training_and_says_so(
        make_runner: Callable[..., Runner], model_dir: Path, db_url: str, tmp_path: Path, calls: Path) -> None:
    domain = exported_domain(db_url, tmp_path)
    domain["intents"] = domain["intents"][1:]  # the active model did not know the first intent
    write_model(model_dir / ACTIVE, domain)
    runner = make_runner()
    job = await finished(runner, await runner.start(ANNA))
    assert (job.state, job.mode) == (m.SUCCEEDED, FULL)
    assert "hela träningen" in job.mode_reason
    assert "--finetune" not in called(calls)[1]


async def test_only_one_training_at_a_time(make_runner: Callable[..., Runner]) -> None:
    runner = make_runner(FAKE_RASA_EPOCHS="50", FAKE_RASA_EPOCH_SECONDS="0.2")
    job_id = await runner.start(ANNA)
    with pytest.raises(Busy) as busy:
        await runner.start(ANNA)
    assert busy.value.job_id == job_id
    # Another replica's runner on the same database is refused as well.
    other = make_runner()
    with pytest.raises(Busy):
        await other.start(ANNA)
    await runner.cancel(job_id)
    await finished(runner, job_id)


async def test_cancel_stops_rasa_and_leaves_the_active_model(
        make_runner: Callable[..., Runner], database: AsyncDatabase, model_dir: Path) -> None:
    runner = make_runner(FAKE_RASA_EPOCHS="200", FAKE_RASA_EPOCH_SECONDS="0.2")
    job_id = await runner.start(ANNA)
    await until(runner, job_id, lambda j: j.stage == m.TRAIN and j.epoch >= 1)
    assert await runner.cancel(job_id)
    job = await asyncio.wait_for(finished(runner, job_id), 10)  # not the 40 s the training would take
    assert (job.state, job.slot) == (m.CANCELLED, None)
    assert "oförändrad" in job.message
    assert sorted(p.name for p in model_dir.iterdir()) == [ACTIVE]
    assert await active_model(database) == ACTIVE
    # The slot is free again.
    await finished(runner, await make_runner().start(ANNA))


async def test_a_validation_error_is_shown_in_swedish_and_nothing_is_trained(
        make_runner: Callable[..., Runner], model_dir: Path, calls: Path) -> None:
    runner = make_runner(FAKE_RASA_VALIDATE_FAIL="1")
    job = await finished(runner, await runner.start(ANNA))
    assert (job.state, job.stage) == (m.FAILED, m.VALIDATE)
    assert job.problems == ["Exemplet ”hej” finns under flera avsikter. Ett exempel får bara höra till en avsikt."]
    assert [argv[0] for argv in called(calls)] == ["data"]
    assert sorted(p.name for p in model_dir.iterdir()) == [ACTIVE]


async def test_a_failed_training_leaves_the_active_model_and_no_file(
        make_runner: Callable[..., Runner], database: AsyncDatabase, model_dir: Path) -> None:
    runner = make_runner(FAKE_RASA_TRAIN_FAIL="1")
    job = await finished(runner, await runner.start(ANNA))
    assert (job.state, job.stage, job.slot) == (m.FAILED, m.TRAIN, None)
    assert job.problems == ["Datorn fick slut på minne under träningen."]
    assert "Epochs" in job.log_tail
    assert sorted(p.name for p in model_dir.iterdir()) == [ACTIVE]
    assert await active_model(database) == ACTIVE


async def test_content_that_cannot_be_trained_is_refused_before_rasa_runs(
        make_runner: Callable[..., Runner], db_url: str, calls: Path) -> None:
    with sync_session(db_url) as session:
        intent = session.scalar(select(Intent).where(Intent.name == "financing"))
        assert intent is not None
        keep = session.scalar(select(Example.id).where(Example.intent_id == intent.id).limit(1))
        session.execute(delete(Example).where(Example.intent_id == intent.id, Example.id != keep))
    runner = make_runner()
    job = await finished(runner, await runner.start(ANNA))
    assert (job.state, job.stage) == (m.FAILED, m.EXPORT)
    assert job.problems and "Avsikten financing har 1 exempel; den behöver minst 2." in job.problems
    assert called(calls) == []


async def test_a_job_whose_gateway_restarted_is_shown_as_interrupted(
        make_runner: Callable[..., Runner], db_url: str) -> None:
    long_ago = dt.datetime.now(dt.timezone.utc) - dt.timedelta(minutes=5)
    with sync_session(db_url) as session:
        session.add(TrainingJob(slot=1, state=m.RUNNING, stage=m.TRAIN, created_at=long_ago,
                                started_at=long_ago, heartbeat_at=long_ago, requested_by="Anna",
                                message="", log_tail="", mode=FINETUNE, mode_reason="", component=""))
    with sync_session(db_url) as session:
        assert recover(session, dt.datetime.now(dt.timezone.utc)) == 1
        job = session.scalars(select(TrainingJob)).one()
        assert (job.state, job.slot) == (m.INTERRUPTED, None)
        assert "startades om" in job.message
    # A fresh job starts (the start itself also recovers stale jobs).
    runner = make_runner()
    assert (await finished(runner, await runner.start(ANNA))).state == m.SUCCEEDED
