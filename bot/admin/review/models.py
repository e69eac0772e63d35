"""Which company messages an admin has reviewed (they leave the to-do list)."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from bot.conversation.models import UTCDateTime
from core.db import Base

FILED = "filed"  # added as an example of `intent`
DISMISSED = "dismissed"  # nothing to learn from it


class ReviewedMessage(Base):
    __tablename__ = "reviewed_messages"

    message_id: Mapped[int] = mapped_column(ForeignKey("messages.id", ondelete="CASCADE"), primary_key=True)
    outcome: Mapped[str] = mapped_column(String(16))
    intent: Mapped[str | None] = mapped_column(String(100))
    reviewed_by: Mapped[int | None] = mapped_column(ForeignKey("advisors.id", ondelete="SET NULL"))
    reviewed_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
