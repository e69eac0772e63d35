"""The training jobs and the model registry, as tables.

A job is a row from the moment an admin asks for it, so a gateway restart shows it as
interrupted rather than losing it. `slot` is 1 while a job is queued or running and NULL
afterwards; its unique constraint lets only one job hold it (one training at a time, on
every gateway replica, SQLite and PostgreSQL alike: both allow many NULLs).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import JSON, DateTime, Float, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from core.db import Base

# Job states.
QUEUED = "queued"
RUNNING = "running"
SUCCEEDED = "succeeded"
FAILED = "failed"
CANCELLED = "cancelled"
INTERRUPTED = "interrupted"
ACTIVE_STATES = (QUEUED, RUNNING)

# Stages, in order.
EXPORT = "export"
VALIDATE = "validate"
TRAIN = "train"
EVALUATE = "evaluate"
DONE = "done"
STAGES = (EXPORT, VALIDATE, TRAIN, EVALUATE)


class TrainingJob(Base):
    __tablename__ = "training_jobs"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    slot: Mapped[int | None] = mapped_column(Integer, unique=True)  # 1 while queued or running
    state: Mapped[str] = mapped_column(String(16), default=QUEUED)
    stage: Mapped[str] = mapped_column(String(16), default=EXPORT)
    mode: Mapped[str] = mapped_column(String(16), default="")  # full | finetune | unchanged
    mode_reason: Mapped[str] = mapped_column(Text, default="")
    epoch: Mapped[int] = mapped_column(Integer, default=0)
    epochs: Mapped[int] = mapped_column(Integer, default=0)
    component: Mapped[str] = mapped_column(String(64), default="")
    estimate_seconds: Mapped[float | None] = mapped_column(Float)
    requested_by: Mapped[str] = mapped_column(String(254), default="")
    requested_by_id: Mapped[int | None] = mapped_column(Integer)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    started_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    finished_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    heartbeat_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    cancel_requested: Mapped[bool] = mapped_column(default=False)
    message: Mapped[str] = mapped_column(Text, default="")  # Swedish, for the admin
    problems: Mapped[list[str] | None] = mapped_column(JSON)  # validation problems, Swedish
    log_tail: Mapped[str] = mapped_column(Text, default="")
    model_file: Mapped[str | None] = mapped_column(String(255))


class ModelRecord(Base):
    """A trained model in MODEL_DIR with what it was trained from and how well it did."""

    __tablename__ = "model_registry"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    file_name: Mapped[str] = mapped_column(String(255), unique=True)
    fingerprint: Mapped[str] = mapped_column(String(64), default="")  # the exported project
    labels: Mapped[str] = mapped_column(String(64), default="")  # fingerprint of the label set
    dialogue: Mapped[str] = mapped_column(String(64), default="")  # fingerprint of config, domain, rules, stories
    mode: Mapped[str] = mapped_column(String(16), default="")
    base_model: Mapped[str | None] = mapped_column(String(255))
    created_by: Mapped[str] = mapped_column(String(254), default="")
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    training_seconds: Mapped[float | None] = mapped_column(Float)
    job_id: Mapped[int | None] = mapped_column(Integer)
    evaluation: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    discarded_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
