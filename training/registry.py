"""The model registry: every trained model with what it was trained from, who trained it
and how it scored; activating one (a new model, or any earlier one: a rollback) through
the supervisor's swap (core/serving.py), and throwing one away.

An activation is an audit entry ("model", the file name, "activated", before/after the
active model), so it shows in the history and its revert is a rollback: the same swap.
"""

from __future__ import annotations

import asyncio
import datetime as dt
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlalchemy.orm import Session

from content.history import State, refuse
from core import serving
from core.audit import AuditEntry
from core.editing import Actor, NotFound, log
from training.models import ModelRecord
from training.plan import Known, model_labels


@dataclass(frozen=True)
class Listed:
    record: ModelRecord
    active: bool
    requested: bool
    present: bool  # the file is still in MODEL_DIR


def by_file(session: Session, file_name: str) -> ModelRecord | None:
    return session.scalar(select(ModelRecord).where(ModelRecord.file_name == file_name))


def adopt(session: Session, model_dir: Path, file_name: str, now: dt.datetime,
          labels: str | None = None) -> ModelRecord | None:
    """The record of a model we did not train ourselves (`make model`: the one the stack
    started with), created on first sight from the model file's own metadata. Reading the
    labels decompresses the archive (seconds for the shipped model): async callers use
    `adopt_async`, which reads them in a thread."""
    if not file_name:
        return None
    record = by_file(session, file_name)
    if record is not None:
        return record
    path = model_dir / file_name
    if "/" in file_name or not path.is_file():
        return None
    record = ModelRecord(file_name=file_name, fingerprint="", dialogue="",
                         labels=model_labels(path) if labels is None else labels,
                         mode="developer", created_by="utvecklare (make model)",
                         created_at=dt.datetime.fromtimestamp(path.stat().st_mtime, dt.timezone.utc))
    session.add(record)
    session.flush()
    return record


async def adopt_async(sessions: async_sessionmaker[AsyncSession], model_dir: Path, file_name: str,
                      now: dt.datetime) -> None:
    """`adopt` without blocking the event loop: the archive is read in a thread."""
    if not file_name or "/" in file_name or not (model_dir / file_name).is_file():
        return
    async with sessions() as session:
        if await session.run_sync(by_file, file_name) is not None:
            return
    labels = await asyncio.to_thread(model_labels, model_dir / file_name)
    async with sessions.begin() as session:
        await session.run_sync(adopt, model_dir, file_name, now, labels)


def known(session: Session, model_dir: Path) -> list[Known]:
    """Models that could be reused (same project) : kept and still on disk."""
    rows = session.scalars(select(ModelRecord).where(ModelRecord.discarded_at.is_(None)))
    return [Known(r.file_name, r.fingerprint, r.labels) for r in rows
            if r.fingerprint and (model_dir / r.file_name).is_file()]


def listing(session: Session, model_dir: Path) -> list[Listed]:
    current = serving.read(session)
    active = current.active_model if current else ""
    requested = current.requested_model if current else None
    rows = session.scalars(select(ModelRecord).order_by(ModelRecord.created_at.desc(), ModelRecord.id.desc()))
    return [Listed(r, r.file_name == active, r.file_name == requested, (model_dir / r.file_name).is_file())
            for r in rows]


def activate(session: Session, model_id: int, model_dir: Path, actor: Actor, now: dt.datetime,
             reverts: int | None = None) -> ModelRecord:
    """Ask the supervisor to serve this model (it starts beside the active one and takes
    over when loaded); one audit entry."""
    record = session.get(ModelRecord, model_id)
    if record is None:
        raise NotFound("Modellen finns inte i förteckningen.")
    if record.discarded_at is not None or not (model_dir / record.file_name).is_file():
        refuse("Modellen är slängd och kan inte aktiveras.")
    current = serving.read(session)
    if current is not None and current.requested_model and current.state == serving.STARTING:
        refuse(f"Modellen {current.requested_model} håller redan på att startas. Vänta tills den är klar.")
    if current is not None and current.active_model == record.file_name:
        refuse("Modellen är redan aktiv.")
    serving.request(session, record.file_name, actor.label)
    before = {"model": current.active_model} if current and current.active_model else None
    log(session, actor, now, "model", record.file_name, "activated", before, {"model": record.file_name}, reverts)
    return record


def discard(session: Session, model_id: int, model_dir: Path, actor: Actor, now: dt.datetime) -> ModelRecord:
    """Throw a model away: its file is deleted, its record stays listed as discarded."""
    record = session.get(ModelRecord, model_id)
    if record is None:
        raise NotFound("Modellen finns inte i förteckningen.")
    current = serving.read(session)
    if current is not None and record.file_name in (current.active_model, current.requested_model):
        refuse("Den aktiva modellen (eller den som startas) kan inte slängas. Aktivera en annan först.")
    if record.discarded_at is None:
        record.discarded_at = now
        log(session, actor, now, "model", record.file_name, "deleted", {"model": record.file_name}, None)
    (model_dir / record.file_name).unlink(missing_ok=True)
    return record


def reverter(model_dir: Path) -> Any:
    """The history's handler for "model" entries: reverting an activation activates the
    model that was active before it (a rollback, through the same swap)."""

    def revert(session: Session, entry: AuditEntry, now: dt.datetime) -> tuple[State, State]:
        target = (entry.before or {}).get("model")
        left_active = (entry.after or {}).get("model")
        if entry.action not in ("activated", "reverted") or not target or not left_active:
            refuse("Bara en aktivering kan ångras, och bara om en annan modell var aktiv före den.")
        previous = by_file(session, str(target)) or adopt(session, model_dir, str(target), now)
        if previous is None or previous.discarded_at is not None or not (model_dir / previous.file_name).is_file():
            refuse("Modellen som var aktiv före den här aktiveringen finns inte kvar.")
        current = serving.read(session)
        if current is None or current.active_model != left_active:
            refuse("En annan modell har aktiverats sedan dess. Aktivera den önskade modellen på sidan Modeller.")
        serving.request(session, previous.file_name, "historiken")
        return {"model": current.active_model}, {"model": previous.file_name}

    return revert


def evaluation_of_active(session: Session) -> dict[str, Any] | None:
    current = serving.read(session)
    if current is None or not current.active_model:
        return None
    record = by_file(session, current.active_model)
    return record.evaluation if record is not None else None
