"""Tables of the referral directory: organisations, their contacts, schemes and topics."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import JSON, Boolean, Date, DateTime, ForeignKey, Integer, String, Text, func
from sqlalchemy.orm import Mapped, declared_attr, mapped_column, relationship

from core.db import Base


class DirectoryRow:
    """Provenance every directory row carries, so admins know what to re-check."""

    source: Mapped[str] = mapped_column(Text, default="")
    # The page the facts were checked against, and what could not be confirmed there
    # (for an admin to check; an unconfirmed fact is left out of the answers).
    source_url: Mapped[str] = mapped_column(Text, default="", server_default="")
    to_check: Mapped[str] = mapped_column(Text, default="", server_default="")
    reviewed: Mapped[dt.date | None] = mapped_column(Date)
    updated_at: Mapped[dt.datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now(), onupdate=func.now()
    )
    # Hash of the seed content this row was last written from. When the row's current
    # content hashes differently, an admin edited it and the seeder leaves it alone.
    seed_hash: Mapped[str | None] = mapped_column(String(64))
    # Optimistic locking for the admin's editor: each class maps it as its version_id_col,
    # so an UPDATE only succeeds on the version the admin's form was rendered from.
    version: Mapped[int] = mapped_column(Integer, default=1, server_default="1")

    @declared_attr.directive
    def __mapper_args__(cls) -> dict[str, Any]:
        return {"version_id_col": cls.__table__.c.version}  # type: ignore[attr-defined]


class Organisation(DirectoryRow, Base):
    __tablename__ = "organisations"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    aliases: Mapped[list[str]] = mapped_column(JSON, default=list)
    kind: Mapped[str] = mapped_column(String(32), default="organisation")
    region: Mapped[str] = mapped_column(String(64), default="national")
    reached_through: Mapped[str | None] = mapped_column(
        ForeignKey("organisations.id", ondelete="SET NULL")
    )
    summary: Mapped[str] = mapped_column(Text, default="")
    # Whether the organisation publishes a phone number: True (then the contacts hold it),
    # False (it does not, e.g. Almi), None (not known yet: to_check says so).
    publishes_phone: Mapped[bool | None] = mapped_column(Boolean)

    contacts: Mapped[list[Contact]] = relationship(
        back_populates="organisation",
        cascade="all, delete-orphan",
        order_by="Contact.position",
    )


class Contact(Base):
    __tablename__ = "contacts"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    organisation_id: Mapped[str] = mapped_column(
        ForeignKey("organisations.id", ondelete="CASCADE"), index=True
    )
    position: Mapped[int] = mapped_column(Integer, default=0)
    kind: Mapped[str] = mapped_column(String(16))  # web | phone | email | address | hours
    value: Mapped[str] = mapped_column(Text)
    label: Mapped[str] = mapped_column(String(200), default="")

    organisation: Mapped[Organisation] = relationship(back_populates="contacts")


class Scheme(DirectoryRow, Base):
    __tablename__ = "schemes"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    aliases: Mapped[list[str]] = mapped_column(JSON, default=list)
    organisation_id: Mapped[str] = mapped_column(ForeignKey("organisations.id"), index=True)
    status: Mapped[str] = mapped_column(String(16), default="active")  # active | ended
    start_date: Mapped[dt.date | None] = mapped_column(Date)
    end_date: Mapped[dt.date | None] = mapped_column(Date)
    summary: Mapped[str] = mapped_column(Text, default="")
    now_applies: Mapped[str] = mapped_column(Text, default="")
    now_targets: Mapped[list[str]] = mapped_column(JSON, default=list)


class Topic(DirectoryRow, Base):
    __tablename__ = "topics"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)  # = the Rasa intent
    name: Mapped[str] = mapped_column(String(200))

    targets: Mapped[list[TopicTarget]] = relationship(
        back_populates="topic",
        cascade="all, delete-orphan",
        order_by="TopicTarget.rank",
    )


class TopicTarget(Base):
    __tablename__ = "topic_targets"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    topic_id: Mapped[str] = mapped_column(ForeignKey("topics.id", ondelete="CASCADE"), index=True)
    organisation_id: Mapped[str] = mapped_column(ForeignKey("organisations.id"), index=True)
    rank: Mapped[int] = mapped_column(Integer, default=0)
    audience: Mapped[str] = mapped_column(String(16), default="any")  # company | municipality | any
    min_employees: Mapped[int | None] = mapped_column(Integer)
    max_employees: Mapped[int | None] = mapped_column(Integer)
    pitch: Mapped[str] = mapped_column(Text, default="")

    topic: Mapped[Topic] = relationship(back_populates="targets")
