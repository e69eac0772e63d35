"""The stored lägesbild reports: one row per generation (on demand or the Monday run)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import JSON, Date, ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from bot.conversation.models import UTCDateTime
from core.db import Base


class LagesbildReport(Base):
    """A week's lägesbild as computed when it was generated (figures and masked quotes,
    as JSON): a report once generated does not change when later data arrives."""

    __tablename__ = "lagesbild_reports"
    __table_args__ = (
        Index("ix_lagesbild_reports_week", "week_start"),
        # The Monday run writes at most one report a week, even with several gateways.
        Index("uq_lagesbild_reports_scheduled_week", "scheduled_week", unique=True),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    week_start: Mapped[dt.date] = mapped_column(Date)
    # Set (= week_start) only for the Monday run's report; NULL for reports made on demand.
    scheduled_week: Mapped[dt.date | None] = mapped_column(Date)
    generated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    generated_by: Mapped[int | None] = mapped_column(ForeignKey("advisors.id", ondelete="SET NULL"))
    kind: Mapped[str] = mapped_column(String(16))  # scheduled | on_demand
    data: Mapped[dict[str, Any]] = mapped_column(JSON)
