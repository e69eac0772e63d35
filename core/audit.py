"""The audit log: who changed what, and when, with the state before and after.

Every change an admin makes (training examples, answers, the directory, accounts, model
activations) writes one row in the same transaction as the change. The admin pages show a
row as a diff and can revert it (writing a new row: the log is append-only). An erasure
records that it happened and by whom, never the erased content (`before`/`after` empty).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from sqlalchemy import JSON, DateTime, Index, Integer, String, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, Session, mapped_column

from core.db import Base


class AuditEntry(Base):
    __tablename__ = "audit_log"
    __table_args__ = (Index("ix_audit_log_entity", "entity", "entity_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), index=True)
    actor_id: Mapped[int | None] = mapped_column(Integer)  # the account; None for the system
    actor: Mapped[str] = mapped_column(String(254))  # name or e-mail at the time (kept if the account goes)
    entity: Mapped[str] = mapped_column(String(32))  # example | intent | response | organisation | ... | model
    entity_id: Mapped[str] = mapped_column(String(255))
    action: Mapped[str] = mapped_column(String(32))  # created | updated | deleted | activated | reverted | erased
    before: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    after: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    reverts: Mapped[int | None] = mapped_column(Integer)  # the entry this one undid


@dataclass(frozen=True)
class Change:
    entity: str
    entity_id: str
    action: str
    before: dict[str, Any] | None = None
    after: dict[str, Any] | None = None
    reverts: int | None = None


def _row(change: Change, actor_id: int | None, actor: str, at: dt.datetime) -> AuditEntry:
    return AuditEntry(
        at=at, actor_id=actor_id, actor=actor[:254], entity=change.entity, entity_id=change.entity_id[:255],
        action=change.action, before=change.before, after=change.after, reverts=change.reverts,
    )


def record(session: Session, change: Change, actor_id: int | None, actor: str, at: dt.datetime) -> None:
    """Append one entry in the caller's transaction (synchronous sessions: CLI, seeding)."""
    session.add(_row(change, actor_id, actor, at))


async def record_async(
    session: AsyncSession, change: Change, actor_id: int | None, actor: str, at: dt.datetime
) -> None:
    """Append one entry in the caller's transaction (the gateway's admin pages)."""
    session.add(_row(change, actor_id, actor, at))


async def recent(session: AsyncSession, limit: int = 100, entity: str | None = None) -> list[AuditEntry]:
    query = select(AuditEntry).order_by(AuditEntry.id.desc()).limit(limit)
    if entity is not None:
        query = query.where(AuditEntry.entity == entity)
    return list(await session.scalars(query))
