"""The background training job: export → `rasa data validate` → train → evaluate, one at a
time, its progress in its row (stage, component, epoch, elapsed, estimate), cancellable.

The job runs inside the gateway process that accepted it, as an asyncio task driving Rasa
subprocesses (nice'd, so the live bot keeps its share of the CPU). It beats a heartbeat
into its row; a row whose heartbeat stopped (the gateway was restarted or died) is shown
as interrupted, and the slot is free again. Nothing touches the active model until an
admin activates the result: a failed, cancelled or interrupted job leaves it as it was,
and the model file only appears in MODEL_DIR once training and evaluation succeeded.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import logging
import os
import shutil
import signal
import statistics
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlalchemy.orm import Session

from content.export import check_project, write_rasa_project
from core import serving
from core.db import make_engine, make_sessionmaker
from core.editing import Actor
from core.settings import PROJECT_ROOT
from training import evaluation, plan, registry
from training import models as m
from training.models import ModelRecord, TrainingJob
from training.progress import Progress, feed, tail
from training.validation_messages import translate

log = logging.getLogger(__name__)

HEARTBEAT_SECONDS = 1.0
STALE_AFTER_SECONDS = 30.0  # a running job without a heartbeat this long was interrupted
# Before any job of a mode has finished: what docs/training.md measured on two cores.
DEFAULT_ESTIMATES = {plan.FULL: 900.0, plan.FINETUNE: 150.0, plan.UNCHANGED: 5.0}
# What the model is trained with besides the exported project (as in scripts/model.py).
CODE_INPUTS = ("nlu", "requirements/rasa.lock", "models/spacy/sv_foretagsstod/.fingerprint")

INTERRUPTED_MESSAGE = (
    "Träningen avbröts när tjänsten startades om. Den aktiva modellen är oförändrad; starta träningen igen."
)
CANCELLED_MESSAGE = "Träningen avbröts. Den aktiva modellen är oförändrad."
FINETUNE_REFUSED = ("Rasa kunde inte finjustera den aktiva modellen (den tränades med andra inställningar), "
                    "så modellen tränas från början i stället.")

class Busy(Exception):
    """Another training is already queued or running."""

    def __init__(self, job_id: int | None) -> None:
        super().__init__("En träning pågår redan. Vänta tills den är klar eller avbryt den.")
        self.job_id = job_id

class _Failed(Exception):
    def __init__(self, message: str, problems: Sequence[str] = ()) -> None:
        super().__init__(message)
        self.message = message
        self.problems = list(problems)

class _Cancelled(Exception):
    pass

@dataclass(frozen=True)
class Tools:
    """How the runner calls Rasa (a fake in the tests)."""

    rasa: Sequence[str]  # the `rasa` command
    evaluate: Sequence[str]  # `training.rasa_evaluate` in Rasa's environment
    cwd: Path = PROJECT_ROOT
    env: dict[str, str] = field(default_factory=dict)
    nice: bool = True

def default_tools() -> Tools:
    from scripts.model import RASA, RASA_PYTHON, rasa_env

    return Tools([str(RASA)], [str(RASA_PYTHON), "-m", "training.rasa_evaluate"], PROJECT_ROOT, rasa_env())

Exporter = Callable[[Session, Path], list[str]]


def export_content(session: Session, project: Path) -> list[str]:
    """The database's content as a Rasa project in `project`; the problems that would
    make training fail instead (Swedish), with nothing written."""
    problems = check_project(session)
    if not problems:
        write_rasa_project(session, project)
    return problems


def _now() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc)

def _aware(at: dt.datetime | None) -> dt.datetime | None:
    return at.replace(tzinfo=dt.timezone.utc) if at is not None and at.tzinfo is None else at

def recover(session: Session, now: dt.datetime, stale_after: float = STALE_AFTER_SECONDS) -> int:
    """Mark the jobs whose runner is gone as interrupted (and free the slot)."""
    count = 0
    for job in session.scalars(select(TrainingJob).where(TrainingJob.state.in_(m.ACTIVE_STATES))):
        beat = _aware(job.heartbeat_at or job.created_at)
        if beat is None or (now - beat).total_seconds() > stale_after:
            job.state, job.slot, job.finished_at, job.message = m.INTERRUPTED, None, now, INTERRUPTED_MESSAGE
            count += 1
    return count

def estimate_for(session: Session, mode: str) -> float:
    """The median duration of the last finished jobs of this mode, or the measured default."""
    rows = session.execute(select(TrainingJob.started_at, TrainingJob.finished_at)
                           .where(TrainingJob.state == m.SUCCEEDED, TrainingJob.mode == mode)
                           .order_by(TrainingJob.id.desc()).limit(5)).all()
    durations = [(_aware(end) - _aware(start)).total_seconds()  # type: ignore[operator]
                 for start, end in rows if start and end]
    return statistics.median(durations) if durations else DEFAULT_ESTIMATES.get(mode, 600.0)

@dataclass
class Runner:
    sessions: async_sessionmaker[AsyncSession]
    model_dir: Path
    work_dir: Path  # one temporary project per job under here
    tools: Tools
    heldout: Path = evaluation.HELDOUT_FILE
    clock: Callable[[], dt.datetime] = _now
    epoch_fraction: float = 0.2
    exporter: Exporter = export_content  # a tiny project of its own in the real-Rasa test
    config_override: Path | None = None  # trained with instead of the exported config.yml
    # With the database's URL, the export (reading ~8,000 examples and writing YAML, about a
    # second) runs in a thread with its own connection instead of on the gateway's loop.
    database_url: str | None = None
    tasks: dict[int, asyncio.Task[None]] = field(default_factory=dict)
    _tails: dict[int, str] = field(default_factory=dict)  # each job's log, across its commands
    _process: asyncio.subprocess.Process | None = None

    # ------------------------------------------------------------------ the admin's side

    async def start(self, actor: Actor) -> int:
        """Queue a training and start it in the background; Busy if one is under way."""
        now = self.clock()
        try:
            async with self.sessions.begin() as session:
                await session.run_sync(recover, now)
            async with self.sessions.begin() as session:
                job = TrainingJob(slot=1, state=m.RUNNING, stage=m.EXPORT, requested_by=actor.label,
                                  requested_by_id=actor.id, created_at=now, started_at=now, heartbeat_at=now,
                                  message="", log_tail="", mode="", mode_reason="", component="")
                session.add(job)
                await session.flush()
                job_id = job.id
        except IntegrityError:
            async with self.sessions() as session:
                running = await session.scalar(select(TrainingJob.id).where(TrainingJob.slot == 1))
            raise Busy(running) from None
        self.tasks[job_id] = asyncio.create_task(self._run(job_id), name=f"training-{job_id}")
        return job_id

    async def cancel(self, job_id: int) -> bool:
        """Ask a queued or running job to stop (seen within a heartbeat, on any replica)."""
        async with self.sessions.begin() as session:
            result = await session.execute(
                update(TrainingJob).where(TrainingJob.id == job_id, TrainingJob.state.in_(m.ACTIVE_STATES))
                .values(cancel_requested=True))
        return bool(getattr(result, "rowcount", 0))

    async def wait(self, job_id: int) -> None:
        task = self.tasks.get(job_id)
        if task is not None:
            await asyncio.shield(task)

    async def close(self) -> None:
        """Stop every job of this process (the gateway is shutting down): interrupted."""
        for job_id, task in list(self.tasks.items()):
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
            async with self.sessions.begin() as session:
                await session.execute(
                    update(TrainingJob).where(TrainingJob.id == job_id, TrainingJob.state.in_(m.ACTIVE_STATES))
                    .values(state=m.INTERRUPTED, slot=None, finished_at=self.clock(), message=INTERRUPTED_MESSAGE))

    # ------------------------------------------------------------------ the job

    async def _run(self, job_id: int) -> None:
        folder = self.work_dir / f"job-{job_id}"
        try:
            await self._stages(job_id, folder)
        except _Cancelled:
            await self._finish(job_id, m.CANCELLED, CANCELLED_MESSAGE)
        except _Failed as failure:
            await self._finish(job_id, m.FAILED, failure.message, failure.problems)
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("training job %s failed", job_id)
            await self._finish(job_id, m.FAILED, "Träningen misslyckades av ett oväntat fel (se gatewayens logg). "
                               "Den aktiva modellen är oförändrad.")
        finally:
            shutil.rmtree(folder, ignore_errors=True)
            self.tasks.pop(job_id, None)
            self._tails.pop(job_id, None)

    async def _stages(self, job_id: int, folder: Path) -> None:
        project = folder / "project"
        # 1. export: the database's content as a Rasa project, checked first.
        if self.database_url is not None:
            problems = await asyncio.to_thread(self._export_in_thread, project)
        else:
            async with self.sessions() as session:
                problems = await session.run_sync(self.exporter, project)
        if problems:
            raise _Failed("Innehållet har fel som måste rättas före träningen. Den aktiva modellen är oförändrad.",
                          problems)
        if self.config_override is not None:
            shutil.copyfile(self.config_override, project / "config.yml")
        extra = [self.tools.cwd / p for p in CODE_INPUTS if (self.tools.cwd / p).exists()]
        prints = await asyncio.to_thread(plan.project_fingerprints, project, extra)
        chosen, estimate = await self._plan(prints)
        await self._update(job_id, mode=chosen.mode, mode_reason=chosen.reason, estimate_seconds=estimate)
        await self._check_cancel(job_id)
        if chosen.mode == plan.UNCHANGED:
            await self._finish(job_id, m.SUCCEEDED, chosen.reason, model_file=chosen.base_model)
            return
        # 2. rasa data validate
        await self._update(job_id, stage=m.VALIDATE)
        code, output = await self._call(job_id, [*self.tools.rasa, "data", "validate", *self._project_args(project)])
        if code != 0:
            raise _Failed("Rasa hittade fel i träningsdata. Den aktiva modellen är oförändrad.", translate(output))
        # 3. train
        await self._update(job_id, stage=m.TRAIN)
        name = f"model-{prints.project}"
        argv = [*self.tools.rasa, "train", *self._project_args(project), "--out", str(folder / "out"),
                "--fixed-model-name", name]
        if chosen.mode == plan.FINETUNE and chosen.base_model:
            argv += ["--finetune", str(self.model_dir / chosen.base_model),
                     "--epoch-fraction", str(self.epoch_fraction)]
        started = asyncio.get_running_loop().time()
        code, output = await self._call(job_id, argv, track=True)
        if code != 0 and chosen.mode == plan.FINETUNE and "Cannot finetune" in output:
            # Rasa refuses to fine-tune a model whose recorded fingerprints differ (e.g. a
            # model trained elsewhere): the same training in full instead of a failure.
            chosen = plan.Plan(plan.FULL, FINETUNE_REFUSED)
            async with self.sessions() as session:
                estimate = await session.run_sync(estimate_for, chosen.mode)
            await self._update(job_id, mode=chosen.mode, mode_reason=chosen.reason, estimate_seconds=estimate)
            argv = argv[: argv.index("--finetune")]
            code, output = await self._call(job_id, argv, track=True)
        trained = folder / "out" / f"{name}.tar.gz"
        if code != 0 or not trained.is_file():
            raise _Failed("Träningen misslyckades (se loggen nedan). Den aktiva modellen är oförändrad.",
                          translate(output))
        seconds = asyncio.get_running_loop().time() - started
        # 4. evaluate on the held-out set, the active model too when it has no score on this set.
        await self._update(job_id, stage=m.EVALUATE)
        record = await self._evaluate_and_register(job_id, trained, prints, chosen, seconds)
        await self._finish(job_id, m.SUCCEEDED, "Modellen är tränad och utvärderad. Jämför och aktivera den.",
                           model_file=record)

    def _export_in_thread(self, project: Path) -> list[str]:
        assert self.database_url is not None
        engine = make_engine(self.database_url)
        try:
            with make_sessionmaker(engine)() as session:
                return self.exporter(session, project)
        finally:
            engine.dispose()

    def _project_args(self, project: Path) -> list[str]:
        return ["--config", str(project / "config.yml"), "--domain", str(project / "domain.yml"),
                "--data", str(project / "data")]

    async def _plan(self, prints: plan.Fingerprints) -> tuple[plan.Plan, float]:
        async with self.sessions() as session:
            current = await session.run_sync(serving.read)
        await registry.adopt_async(self.sessions, self.model_dir, current.active_model if current else "", self.clock())

        def choose(session: Session) -> tuple[plan.Plan, float]:
            active = registry.by_file(session, current.active_model) if current else None
            known_active = plan.Known(active.file_name, active.fingerprint, active.labels) if active else None
            chosen = plan.choose(prints, known_active, registry.known(session, self.model_dir))
            return chosen, estimate_for(session, chosen.mode)

        async with self.sessions.begin() as session:
            return await session.run_sync(choose)

    async def _evaluate_and_register(self, job_id: int, trained: Path, prints: plan.Fingerprints,
                                     chosen: plan.Plan, seconds: float) -> str:
        questions = evaluation.load(self.heldout)
        set_print = evaluation.set_fingerprint(questions)
        async with self.sessions() as session:
            current = await session.run_sync(serving.read)
            active = await session.run_sync(registry.by_file, current.active_model) if current else None
            active_eval = active.evaluation if active else None
        models = [trained]
        if (active is not None and (not active_eval or active_eval.get("set") != set_print)
                and (self.model_dir / active.file_name).is_file()):
            models.append(self.model_dir / active.file_name)
        scores: dict[str, dict[str, Any]] = {}
        if questions:
            code, output = await self._call(job_id, [*self.tools.evaluate, "--set", str(self.heldout),
                                                     *map(str, models)])
            if code != 0:
                raise _Failed("Utvärderingen av den nya modellen misslyckades. Den aktiva modellen är oförändrad.",
                              translate(output))
            predictions = evaluation.parse_predictions(output)
            scores = {name: evaluation.score(questions, rows) for name, rows in predictions.items()}
        target = self.model_dir / trained.name
        if target.exists():
            target = self.model_dir / f"{trained.name.removesuffix('.tar.gz')}-{job_id}.tar.gz"
        self.model_dir.mkdir(parents=True, exist_ok=True)
        await asyncio.to_thread(shutil.move, str(trained), str(target))

        def register(session: Session) -> None:
            job = session.get(TrainingJob, job_id)
            session.add(ModelRecord(
                file_name=target.name, fingerprint=prints.project, labels=prints.labels, dialogue=prints.dialogue,
                mode=chosen.mode, base_model=chosen.base_model, created_by=job.requested_by if job else "",
                created_at=self.clock(), training_seconds=round(seconds, 1), job_id=job_id,
                evaluation=scores.get(trained.name)))
            if active is not None and active.file_name in scores:
                row = registry.by_file(session, active.file_name)
                if row is not None:
                    row.evaluation = scores[active.file_name]

        async with self.sessions.begin() as session:
            await session.run_sync(register)
        return target.name

    # ------------------------------------------------------------------ subprocesses

    async def _call(self, job_id: int, argv: list[str], track: bool = False) -> tuple[int, str]:
        """Run a Rasa command, beating the heartbeat, reading its progress and stopping it
        when the job is cancelled. Returns its exit code and its output."""
        if self.tools.nice and shutil.which("nice"):
            argv = ["nice", "-n", "10", *argv]
        process = await asyncio.create_subprocess_exec(
            *argv, cwd=self.tools.cwd, env=self.tools.env or None, stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.STDOUT, start_new_session=True)
        assert process.stdout is not None
        chunks: list[str] = []
        progress = Progress()
        log_tail = self._tails.get(job_id, "")
        loop = asyncio.get_running_loop()
        next_beat = 0.0
        try:
            while True:
                try:
                    data = await asyncio.wait_for(process.stdout.read(4096), HEARTBEAT_SECONDS)
                except asyncio.TimeoutError:  # Python 3.10: not yet the builtin TimeoutError
                    data = None
                if data == b"":
                    break
                if data:
                    text = data.decode("utf-8", "replace")
                    chunks.append(text)
                    log_tail = tail(log_tail, text)
                    if track:
                        feed(progress, text)
                if loop.time() >= next_beat:
                    next_beat = loop.time() + HEARTBEAT_SECONDS
                    values: dict[str, Any] = {"log_tail": log_tail}
                    if track:
                        values.update(component=progress.component[:64], epoch=progress.epoch,
                                      epochs=progress.epochs)
                    await self._update(job_id, **values)
                    await self._check_cancel(job_id)
            code = await process.wait()
        except BaseException:
            _kill(process)
            with contextlib.suppress(Exception):
                await asyncio.wait_for(process.wait(), 10)
            raise
        self._tails[job_id] = log_tail
        # The last progress too: a short training can end between two heartbeats.
        final: dict[str, Any] = {"log_tail": log_tail}
        if track:
            final.update(component=progress.component[:64], epoch=progress.epoch, epochs=progress.epochs)
        await self._update(job_id, **final)
        return code, "".join(chunks)

    # ------------------------------------------------------------------ the row

    async def _update(self, job_id: int, **values: Any) -> None:
        values["heartbeat_at"] = self.clock()
        async with self.sessions.begin() as session:
            await session.execute(update(TrainingJob).where(TrainingJob.id == job_id).values(**values))

    async def _check_cancel(self, job_id: int) -> None:
        async with self.sessions() as session:
            if await session.scalar(select(TrainingJob.cancel_requested).where(TrainingJob.id == job_id)):
                raise _Cancelled()

    async def _finish(self, job_id: int, state: str, message: str, problems: Sequence[str] | None = None,
                      model_file: str | None = None) -> None:
        now = self.clock()
        async with self.sessions.begin() as session:
            await session.execute(update(TrainingJob).where(TrainingJob.id == job_id).values(
                state=state, slot=None, finished_at=now, heartbeat_at=now, message=message,
                problems=list(problems) if problems else None, model_file=model_file,
                stage=m.DONE if state == m.SUCCEEDED else TrainingJob.stage))

def _kill(process: asyncio.subprocess.Process) -> None:
    """Stop the subprocess and everything it started (its own process group)."""
    if process.returncode is not None:
        return
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(process.pid, signal.SIGTERM)

async def job(sessions: async_sessionmaker[AsyncSession], job_id: int) -> TrainingJob | None:
    async with sessions() as session:
        return await session.get(TrainingJob, job_id)

def jobs(session: Session, limit: int = 10) -> list[TrainingJob]:
    return list(session.scalars(select(TrainingJob).order_by(TrainingJob.id.desc()).limit(limit)))

