"""Träning: start a training, follow it (stage, component, epoch, elapsed, estimate), cancel
it; the held-out questions every new model is scored on, and adding one.

The page works without JavaScript (forms and a link that reloads it); `training.js` polls
the job's JSON once a second and updates the figures in place."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from aiohttp import web
from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.admin.access import post_form, require_admin
from bot.admin.keys import training_runner_key
from bot.admin.pages import actor_of, done, errors_by_field, now_of, page, read
from bot.conversation.context import AdvisorRef
from bot.web.keys import db_key
from content.models import Example, Intent
from training import evaluation
from training import models as m
from training.models import TrainingJob
from training.plan import MODE_NAMES
from training.runner import Busy, jobs, recover

STAGE_NAMES = {m.EXPORT: "Export och kontroll av innehållet", m.VALIDATE: "Rasas validering (rasa data validate)",
               m.TRAIN: "Träning", m.EVALUATE: "Utvärdering"}
STATE_NAMES = {m.QUEUED: "Väntar", m.RUNNING: "Pågår", m.SUCCEEDED: "Klar", m.FAILED: "Misslyckades",
               m.CANCELLED: "Avbruten", m.INTERRUPTED: "Avbruten av omstart"}


def setup(router: web.UrlDispatcher) -> None:
    router.add_get("/admin/training", training_page, name="admin_training")
    router.add_post("/admin/training", start_training, name="admin_training_start")
    router.add_get("/admin/training/jobs/{id:\\d+}.json", job_json, name="admin_training_job")
    router.add_post("/admin/training/jobs/{id:\\d+}/cancel", cancel_training, name="admin_training_cancel")
    router.add_post("/admin/training/questions", add_question, name="admin_training_question")


@dataclass(frozen=True)
class StageView:
    name: str
    label: str
    status: str  # done | current | failed | waiting


def _aware(at: dt.datetime | None) -> dt.datetime | None:
    return at.replace(tzinfo=dt.timezone.utc) if at is not None and at.tzinfo is None else at


def describe(job: TrainingJob, now: dt.datetime) -> dict[str, Any]:
    """What the page and its JSON show of a job."""
    started, finished = _aware(job.started_at or job.created_at), _aware(job.finished_at)
    elapsed = ((finished or now) - started).total_seconds() if started else 0.0
    active = job.state in m.ACTIVE_STATES
    stages = []
    reached = m.STAGES.index(job.stage) if job.stage in m.STAGES else len(m.STAGES)
    for index, name in enumerate(m.STAGES):
        if job.state == m.SUCCEEDED or index < reached:
            status = "done"
        elif index == reached:
            status = "current" if active else "failed"
        else:
            status = "waiting"
        if job.mode == "unchanged" and name != m.EXPORT:
            status = "skipped"
        stages.append(StageView(name, STAGE_NAMES[name], status))
    estimate = job.estimate_seconds
    remaining = max(0.0, estimate - elapsed) if estimate and active else None
    return {
        "id": job.id, "state": job.state, "state_name": STATE_NAMES.get(job.state, job.state), "active": active,
        "stage": job.stage, "stage_name": STAGE_NAMES.get(job.stage, "Klar"),
        "stages": [s.__dict__ for s in stages], "mode": job.mode, "mode_name": MODE_NAMES.get(job.mode, ""),
        "mode_reason": job.mode_reason, "component": job.component, "epoch": job.epoch, "epochs": job.epochs,
        "elapsed": round(elapsed), "elapsed_text": duration(elapsed), "estimate": estimate,
        "estimate_text": duration(estimate) if estimate else "",
        "remaining_text": duration(remaining) if remaining is not None else "",
        "message": job.message, "problems": job.problems or [], "log_tail": job.log_tail,
        "model_file": job.model_file, "requested_by": job.requested_by, "cancel_requested": job.cancel_requested,
    }


def duration(seconds: float | None) -> str:
    if seconds is None:
        return ""
    whole = round(seconds)
    return f"{whole // 60} min {whole % 60:02d} s" if whole >= 60 else f"{whole} s"


def _page_data(session: Session, now: dt.datetime) -> dict[str, Any]:
    recover(session, now)
    recent = jobs(session, 10)
    intents = list(session.scalars(select(Intent.name).where(Intent.retired.is_(False)).order_by(Intent.name)))
    return {"recent": recent, "intents": intents}


def _keys(session: Session) -> set[str]:
    return set(session.scalars(select(Example.key)))


async def training_page(request: web.Request) -> web.StreamResponse:
    account = await require_admin(request)
    return await _render(request, account)


async def _render(request: web.Request, account: AdvisorRef, *, status: int = 200, errors: Any = None,
                  general: list[str] | None = None, values: dict[str, str] | None = None) -> web.Response:
    now = now_of(request)
    async with request.app[db_key].begin() as session:
        data = await session.run_sync(_page_data, now)
    runner = request.app[training_runner_key]
    recent = [describe(job, now) for job in data["recent"]]
    current = recent[0] if recent else None
    questions = evaluation.load(runner.heldout)
    return page(request, "training.html", account, "training", status=status, job=current, recent=recent,
                questions=questions, intents=data["intents"], values=values or {}, errors=errors or {},
                general_errors=general or [], busy=bool(current and current["active"]))


async def start_training(request: web.Request) -> web.StreamResponse:
    account = await require_admin(request)
    await post_form(request)
    try:
        job_id = await request.app[training_runner_key].start(actor_of(account))
    except Busy as busy:
        return await _render(request, account, status=409, general=[str(busy)])
    raise done("/admin/training", "traning_startad", jobb=str(job_id))


async def job_json(request: web.Request) -> web.StreamResponse:
    await require_admin(request)
    job_id = int(request.match_info["id"])
    row = await read(request, lambda s: s.get(TrainingJob, job_id))
    if row is None:
        return web.json_response({"error": "Träningen finns inte."}, status=404)
    return web.json_response(describe(row, now_of(request)), headers={"Cache-Control": "no-store"})


async def cancel_training(request: web.Request) -> web.StreamResponse:
    account = await require_admin(request)
    await post_form(request)
    job_id = int(request.match_info["id"])
    if not await request.app[training_runner_key].cancel(job_id):
        return await _render(request, account, status=409, general=["Träningen är redan klar eller avbruten."])
    raise done("/admin/training", "traning_avbryts")


async def add_question(request: web.Request) -> web.StreamResponse:
    account = await require_admin(request)
    form = await post_form(request)
    values = {"text": form.get("text", ""), "intent": form.get("intent", "")}
    runner = request.app[training_runner_key]
    questions = evaluation.load(runner.heldout)
    intents, keys = await read(request, lambda s: (
        set(s.scalars(select(Intent.name).where(Intent.retired.is_(False)))), _keys(s)))
    problems = evaluation.question_problems(values["text"], values["intent"], questions, intents, keys)
    if problems:
        errors, general = errors_by_field(problems)
        return await _render(request, account, status=400, errors=errors, general=general, values=values)
    evaluation.add(runner.heldout, values["text"], values["intent"])
    raise done("/admin/training", "fraga_tillagd")
