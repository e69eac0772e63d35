"""Tables of the conversation core: conversations, their messages, participants and event
log, the advisor queue, advisors and their console sessions, offline tickets, and the
outbox's delivery cursors and receipts.

They share the directory's Base, database and Alembic history (`migrations/`).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import Mapped, mapped_column
from sqlalchemy.types import TypeDecorator

from core.db import Base


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc)


class UTCDateTime(TypeDecorator[dt.datetime]):
    """A timezone-aware UTC datetime on every backend (SQLite returns naive values)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: dt.datetime | None, dialect: Dialect) -> Any:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTCDateTime column")
        return value.astimezone(dt.timezone.utc)

    def process_result_value(self, value: Any, dialect: Dialect) -> dt.datetime | None:
        if value is None:
            return None
        assert isinstance(value, dt.datetime)
        if value.tzinfo is None:
            return value.replace(tzinfo=dt.timezone.utc)
        return value.astimezone(dt.timezone.utc)


class Advisor(Base):
    __tablename__ = "advisors"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    email: Mapped[str] = mapped_column(String(254), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    password_hash: Mapped[str] = mapped_column(String(255))
    # advisor: takes chats in the console; admin: also edits the assistant (/admin).
    role: Mapped[str] = mapped_column(String(16), default="advisor")
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_seen_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    # The advisor's own choice in the console: "available" (takes chats) or "away".
    presence: Mapped[str] = mapped_column(String(16), default="available", server_default="available")
    # Most chats the advisor holds at once; NULL: the CONSOLE_MAX_CHATS_DEFAULT setting.
    max_chats: Mapped[int | None] = mapped_column(Integer)
    # When a chat was last given to the advisor (a claim, a transfer, automatic assignment).
    last_assigned_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)


class AdvisorSession(Base):
    """A logged-in console session; the cookie holds a token whose SHA-256 is the id."""

    __tablename__ = "advisor_sessions"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    advisor_id: Mapped[int] = mapped_column(ForeignKey("advisors.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)


class Conversation(Base):
    __tablename__ = "conversations"
    __table_args__ = (
        UniqueConstraint("channel", "external_id", name="uq_conversations_channel_external"),
        Index("ix_conversations_state_closed_at", "state", "closed_at"),
        # analytics: the period's conversations, read from the index alone
        Index("ix_conversations_created_at", "created_at", "channel", "id"),
    )

    # Random and unguessable: for the widget it is the only credential. Also Rasa's sender id.
    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    channel: Mapped[str] = mapped_column(String(16))  # the channel's name: widget | rest | slack | teams
    # The channel's own key for the conversation (REST sender, Slack channel and thread, ...).
    external_id: Mapped[str | None] = mapped_column(String(255))
    # Where the channel delivers replies (opaque to the core: Slack channel/thread, Teams serviceUrl ...).
    address: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    # The person writing, as the channel knows them (Slack or Teams display name).
    display_name: Mapped[str | None] = mapped_column(String(200))
    state: Mapped[str] = mapped_column(String(16), default="bot", index=True)
    advisor_id: Mapped[int | None] = mapped_column(ForeignKey("advisors.id", ondelete="SET NULL"), index=True)
    last_seq: Mapped[int] = mapped_column(Integer, default=0)
    rasa_paused: Mapped[bool] = mapped_column(Boolean, default=False)
    handoff_reason: Mapped[str | None] = mapped_column(String(32))
    summary: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    page: Mapped[str | None] = mapped_column(String(500))
    outcome: Mapped[str | None] = mapped_column(String(32))
    outcome_note: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    claimed_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    closed_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    # The advisor who closed it (advisor_id is cleared at close).
    closed_by: Mapped[int | None] = mapped_column(ForeignKey("advisors.id", ondelete="SET NULL"))
    # What the company asked: its latest typed message the NLU took for a situation the
    # directory knows (not a click, a greeting or "hur kontaktar jag er?").
    question: Mapped[str | None] = mapped_column(Text)
    # The company as the advisor knows it: for canned replies and the transcript e-mail.
    company_name: Mapped[str | None] = mapped_column(String(200))
    company_email: Mapped[str | None] = mapped_column(String(254))
    # When an open widget socket last said its company is there (refreshed while the chat is
    # queued). A queued chat whose company is neither there nor writing leaves the queue.
    company_seen_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)


class Message(Base):
    __tablename__ = "messages"
    __table_args__ = (
        UniqueConstraint("conversation_id", "seq", name="uq_messages_conversation_seq"),
        UniqueConstraint("conversation_id", "client_id", name="uq_messages_conversation_client"),
        Index("ix_messages_rasa_status", "conversation_id", "rasa_status"),
        # analytics: an advisor's first reply after a claim
        Index("ix_messages_conversation_role_created", "conversation_id", "role", "created_at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    conversation_id: Mapped[str] = mapped_column(ForeignKey("conversations.id", ondelete="CASCADE"))
    seq: Mapped[int] = mapped_column(Integer)
    role: Mapped[str] = mapped_column(String(16))  # user | bot | advisor | system | note (internal)
    text: Mapped[str | None] = mapped_column(Text)
    buttons: Mapped[list[dict[str, str]]] = mapped_column(JSON, default=list)
    image: Mapped[str | None] = mapped_column(Text)
    custom: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    payload: Mapped[str | None] = mapped_column(Text)  # what was sent to Rasa, if not text
    author: Mapped[str | None] = mapped_column(String(200))
    advisor_id: Mapped[int | None] = mapped_column(ForeignKey("advisors.id", ondelete="SET NULL"))
    # The sender's idempotency key: the widget's message id, Slack's ts, Teams' activity id.
    client_id: Mapped[str | None] = mapped_column(String(128))
    # For a bot reply: the seq of the company message it answers (Teams replies to it).
    reply_to: Mapped[int | None] = mapped_column(Integer)
    # The outbox towards Rasa's tracker (user and advisor messages only):
    # pending -> processing -> done | failed; NULL for messages Rasa need not see.
    rasa_status: Mapped[str | None] = mapped_column(String(16))
    rasa_started_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)


class Participant(Base):
    """Who took part in a conversation, and when (the company, the bot, each advisor)."""

    __tablename__ = "participants"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    conversation_id: Mapped[str] = mapped_column(ForeignKey("conversations.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(16))  # company | bot | advisor
    advisor_id: Mapped[int | None] = mapped_column(ForeignKey("advisors.id", ondelete="SET NULL"))
    joined_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    left_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    left_reason: Mapped[str | None] = mapped_column(String(32))


class QueueEntry(Base):
    """One wait for an advisor. Waiting entries are served by (enqueued_at, id)."""

    __tablename__ = "queue_entries"
    # analytics: the period's waits with their claims, read from the index alone
    __table_args__ = (
        Index("ix_queue_entries_enqueued_claimed", "enqueued_at", "claimed_at", "claimed_by", "conversation_id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    conversation_id: Mapped[str] = mapped_column(ForeignKey("conversations.id", ondelete="CASCADE"), index=True)
    status: Mapped[str] = mapped_column(String(16), default="waiting", index=True)
    reason: Mapped[str] = mapped_column(String(32))
    returned: Mapped[bool] = mapped_column(Boolean, default=False)
    enqueued_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    claimed_by: Mapped[int | None] = mapped_column(ForeignKey("advisors.id", ondelete="SET NULL"))
    claimed_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    ended_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)


class Ticket(Base):
    """A question left outside opening hours, for advisors to answer later."""

    __tablename__ = "tickets"
    __table_args__ = (UniqueConstraint("conversation_id", "client_id", name="uq_tickets_conversation_client"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    conversation_id: Mapped[str | None] = mapped_column(ForeignKey("conversations.id", ondelete="SET NULL"), index=True)
    client_id: Mapped[str | None] = mapped_column(String(64))
    status: Mapped[str] = mapped_column(String(16), default="open", index=True)
    name: Mapped[str] = mapped_column(String(200), default="")
    company: Mapped[str] = mapped_column(String(200), default="")
    email: Mapped[str] = mapped_column(String(254), default="")
    phone: Mapped[str] = mapped_column(String(32), default="")
    question: Mapped[str] = mapped_column(Text)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    handled_by: Mapped[int | None] = mapped_column(ForeignKey("advisors.id", ondelete="SET NULL"))
    handled_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    note: Mapped[str | None] = mapped_column(Text)


class ConversationEvent(Base):
    """The append-only log of a conversation's state changes (see `events.EventKind`).

    Rows are only ever inserted: analytics, the audit log and satisfaction surveys read
    it, and the console shows it as the conversation's timeline.
    """

    __tablename__ = "conversation_events"
    __table_args__ = (
        Index("ix_conversation_events_kind_at", "kind", "at"),
        # analytics: which conversations were handed off or claimed (by whom), from the index alone
        Index("ix_conversation_events_kind_conversation", "kind", "advisor_id", "conversation_id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    conversation_id: Mapped[str] = mapped_column(ForeignKey("conversations.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(32))
    at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    channel: Mapped[str] = mapped_column(String(16))
    advisor_id: Mapped[int | None] = mapped_column(ForeignKey("advisors.id", ondelete="SET NULL"))
    data: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)


class Delivery(Base):
    """A conversation's delivery cursor in its channel: every message up to `delivered_seq`
    has been delivered (or needed no delivery). Retries back off through `next_attempt_at`;
    `lease_until` keeps two relays (replicas) off the same conversation."""

    __tablename__ = "deliveries"
    __table_args__ = (Index("ix_deliveries_channel_next", "channel", "next_attempt_at"),)

    conversation_id: Mapped[str] = mapped_column(
        ForeignKey("conversations.id", ondelete="CASCADE"), primary_key=True
    )
    channel: Mapped[str] = mapped_column(String(16))
    delivered_seq: Mapped[int] = mapped_column(Integer, default=0)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    lease_until: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    last_error: Mapped[str | None] = mapped_column(Text)


class DeliveryReceipt(Base):
    """One outgoing message's delivery: `sending` while the platform call is under way,
    `sent` with the platform's id, or `failed` when the platform refused it for good.
    A message with a receipt is never posted again without first asking the platform."""

    __tablename__ = "delivery_receipts"

    message_id: Mapped[int] = mapped_column(ForeignKey("messages.id", ondelete="CASCADE"), primary_key=True)
    status: Mapped[str] = mapped_column(String(16))  # sending | sent | failed
    external_id: Mapped[str | None] = mapped_column(String(255))
    started_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    finished_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    error: Mapped[str | None] = mapped_column(Text)


class InboundReceipt(Base):
    """A platform event already taken in (Slack's event_id ...): a retry, even after a
    restart, is recognised and answered without being processed again."""

    __tablename__ = "inbound_receipts"

    source: Mapped[str] = mapped_column(String(32), primary_key=True)
    key: Mapped[str] = mapped_column(String(255), primary_key=True)
    received_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)


class MessageNlu(Base):
    """What the bot understood of one company message, and whom it referred to: copied
    from Rasa's tracker store by `nlu_log.NluLog` (analytics, the review list)."""

    __tablename__ = "message_nlu"
    __table_args__ = (
        Index("ix_message_nlu_at", "at"),
        Index("ix_message_nlu_intent", "intent"),
        # analytics (each read from the index alone): a period's messages, a conversation's
        # messages, the conversations that named a municipality or a size
        Index("ix_message_nlu_at_intent", "at", "intent", "referral_target", "conversation_id"),
        Index("ix_message_nlu_conversation_intent", "conversation_id", "intent", "referral_target", "at"),
        Index("ix_message_nlu_municipality", "municipality", "conversation_id"),
        Index("ix_message_nlu_company_size", "company_size", "conversation_id"),
    )

    conversation_id: Mapped[str] = mapped_column(
        ForeignKey("conversations.id", ondelete="CASCADE"), primary_key=True
    )
    seq: Mapped[int] = mapped_column(Integer, primary_key=True)
    at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    intent: Mapped[str | None] = mapped_column(String(64))
    confidence: Mapped[float | None] = mapped_column(Float)
    entities: Mapped[list[dict[str, str]]] = mapped_column(JSON, default=list)
    referral_target: Mapped[str | None] = mapped_column(String(64))
    # The company as this message describes it (its municipality and entity values, by
    # bot.rules.analytics.company_facets): the analytics page's filters.
    municipality: Mapped[str | None] = mapped_column(String(64))
    company_size: Mapped[str | None] = mapped_column(String(16))


class SyncCursor(Base):
    """How far a background copy has read another store (e.g. Rasa's tracker events)."""

    __tablename__ = "sync_cursors"

    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    position: Mapped[int] = mapped_column(Integer, default=0)


class CannedReply(Base):
    """A shared, ready-made advisor reply; `{företag}`, `{rådgivare}` ... are filled in
    for the chat it is used in (`bot.rules.canned`)."""

    __tablename__ = "canned_replies"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    title: Mapped[str] = mapped_column(String(200))
    body: Mapped[str] = mapped_column(Text)
    created_by: Mapped[int | None] = mapped_column(ForeignKey("advisors.id", ondelete="SET NULL"))
    updated_by: Mapped[int | None] = mapped_column(ForeignKey("advisors.id", ondelete="SET NULL"))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)


class TranscriptEmail(Base):
    """A closed chat's transcript, to be sent to the company by e-mail: stored first,
    then sent (and retried) so that a mail server being down loses nothing."""

    __tablename__ = "transcript_emails"
    __table_args__ = (Index("ix_transcript_emails_status_next", "status", "next_attempt_at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    conversation_id: Mapped[str] = mapped_column(ForeignKey("conversations.id", ondelete="CASCADE"), index=True)
    recipient: Mapped[str] = mapped_column(String(254))
    status: Mapped[str] = mapped_column(String(16), default="pending")  # pending | sent | failed
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    requested_by: Mapped[int | None] = mapped_column(ForeignKey("advisors.id", ondelete="SET NULL"))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    sent_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    error: Mapped[str | None] = mapped_column(Text)


class CsatRating(Base):
    """One conversation's satisfaction survey after an advisor closed it (`bot.rules.csat`):
    asked once, answered at most once (a rating 1-5, then an optional comment)."""

    __tablename__ = "csat_ratings"
    __table_args__ = (Index("ix_csat_ratings_advisor_rated", "advisor_id", "rated_at"),)

    conversation_id: Mapped[str] = mapped_column(
        ForeignKey("conversations.id", ondelete="CASCADE"), primary_key=True
    )
    # The advisor who closed the chat: the help being rated.
    advisor_id: Mapped[int | None] = mapped_column(ForeignKey("advisors.id", ondelete="SET NULL"))
    channel: Mapped[str] = mapped_column(String(16))
    asked_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    rating: Mapped[int | None] = mapped_column(Integer)
    rated_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    comment: Mapped[str | None] = mapped_column(Text)
    commented_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
