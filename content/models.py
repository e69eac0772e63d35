"""Tables of what the assistant understands and says: intents, examples, responses, and
the dialogue data (rules and stories) kept as written.

Every row an admin edits carries a `version`: SQLAlchemy adds `WHERE version = :seen` to
its UPDATE and DELETE, so of two admins saving the same item only the first wins; the
second is told (optimistic locking, docs/admin.md). `seed_hash` follows the directory's
pattern (directory/seed.py): the hash of what the seeder last wrote, so a re-seed updates
only rows no admin has touched since.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import JSON, Boolean, DateTime, ForeignKey, Integer, String, Text, UniqueConstraint, func
from sqlalchemy.orm import Mapped, mapped_column, relationship

from core.db import Base

REFERRAL = "referral"  # answered by action_referral from the directory topic with the same id
CONVERSATION = "conversation"  # answered by a response (utter_<intent>) or a custom action
RETRIEVAL = "retrieval"  # group/sub-intent (faq/is_it_free), answered by nlu.retrieval_selector
KINDS = (REFERRAL, CONVERSATION, RETRIEVAL)

REFERRAL_ACTION = "action_referral"


class Intent(Base):
    __tablename__ = "intents"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)  # financing, faq/is_it_free
    kind: Mapped[str] = mapped_column(String(16))
    description: Mapped[str] = mapped_column(Text, default="", server_default="")
    # The action a rule answers it with (action_referral, utter_greet, action_handoff,
    # utter_faq for every faq/*); "" when no rule answers it (a story does).
    action: Mapped[str] = mapped_column(String(100), default="", server_default="")
    # The response it is tied to (utter_greet, utter_faq/is_it_free); None for the others.
    response: Mapped[str | None] = mapped_column(String(100))
    # Intents with the same rule title and action share one rule (an `or` of intents).
    rule_title: Mapped[str] = mapped_column(String(200), default="", server_default="")
    nlu_file: Mapped[str] = mapped_column(String(100))  # data/nlu/<nlu_file>.yml
    position: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    retired: Mapped[bool] = mapped_column(Boolean, default=False, server_default="0")
    version: Mapped[int] = mapped_column(Integer, default=1, server_default="1")
    seed_hash: Mapped[str | None] = mapped_column(String(64))
    updated_at: Mapped[dt.datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now(), onupdate=func.now()
    )

    examples: Mapped[list[Example]] = relationship(
        back_populates="intent", cascade="all, delete-orphan", order_by="Example.id"
    )

    __mapper_args__ = {"version_id_col": version}  # noqa: RUF012 (SQLAlchemy's declarative API)

    @property
    def group(self) -> str:
        """The intent Rasa's domain lists: `faq` for `faq/is_it_free`, else the name."""
        return self.name.split("/", 1)[0]


class Example(Base):
    __tablename__ = "examples"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    intent_id: Mapped[int] = mapped_column(ForeignKey("intents.id", ondelete="CASCADE"), index=True)
    text: Mapped[str] = mapped_column(Text)
    # SHA-256 of the normalised text, unique: one example cannot teach two intents.
    key: Mapped[str] = mapped_column(String(64), unique=True)
    source: Mapped[str] = mapped_column(String(16), default="seed", server_default="seed")  # seed | admin | review
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    version: Mapped[int] = mapped_column(Integer, default=1, server_default="1")

    intent: Mapped[Intent] = relationship(back_populates="examples")

    __mapper_args__ = {"version_id_col": version}  # noqa: RUF012


class Response(Base):
    __tablename__ = "responses"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)  # utter_greet, utter_faq/is_it_free
    # [{"text": ..., "buttons": [{"title": ..., "payload": ...}]}, ...]: Rasa picks one.
    variations: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    position: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    version: Mapped[int] = mapped_column(Integer, default=1, server_default="1")
    seed_hash: Mapped[str | None] = mapped_column(String(64))
    updated_at: Mapped[dt.datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now(), onupdate=func.now()
    )

    __mapper_args__ = {"version_id_col": version}  # noqa: RUF012


class DialogueBlock(Base):
    """A rule or story kept exactly as written (multi-step dialogue, rules with
    conditions). One-step rules `intent -> action` are not blocks: they are the intents'
    `action` and `rule_title`, so creating or retiring an intent changes its rule."""

    __tablename__ = "dialogue_blocks"
    __table_args__ = (UniqueConstraint("kind", "name", name="uq_dialogue_blocks_kind_name"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    kind: Mapped[str] = mapped_column(String(16))  # rule | story
    name: Mapped[str] = mapped_column(String(200))
    file: Mapped[str] = mapped_column(String(100))  # data/<kind>s/<file>.yml
    body: Mapped[dict[str, Any]] = mapped_column(JSON)  # the rule or story as Rasa reads it
    position: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    seed_hash: Mapped[str | None] = mapped_column(String(64))
