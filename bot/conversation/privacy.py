"""A person's data: finding it, exporting it (GDPR art. 15) and erasing it (art. 17).

An admin finds a person by a conversation id, an e-mail address or a phone number given
in a ticket (or to an advisor), a Slack user or a Teams user. What belongs to the person:
those conversations with everything hanging off them (messages, notes, events, queue
entries, deliveries, what the bot understood, ratings, transcript mails; the database
deletes them with the conversation), their tickets, training examples an admin filed
from their messages (and the audit entries quoting them), and their events in Rasa's
tracker store. The erasure itself is recorded in the audit log with counts only.
"""

from __future__ import annotations

import datetime as dt
import json
import re
import secrets
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import delete, func, or_, select
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from bot.conversation import store, tracker_store
from bot.conversation.copies import CompanyWordsCopy
from bot.conversation.models import (
    Conversation,
    ConversationEvent,
    CsatRating,
    Message,
    MessageNlu,
    Ticket,
    TranscriptEmail,
)
from content.models import Example
from content.validation import example_key
from core.audit import AuditEntry, Change, record_async

KINDS = ("conversation", "email", "phone", "slack", "teams")
ERASED = {"erased": True}


@dataclass(frozen=True)
class Lookup:
    kind: str  # one of KINDS
    value: str


@dataclass
class Found:
    conversation_ids: list[str] = field(default_factory=list)
    ticket_ids: list[int] = field(default_factory=list)

    @property
    def empty(self) -> bool:
        return not self.conversation_ids and not self.ticket_ids


def digits(phone: str) -> str:
    """A phone number compared by its digits, +46 / 0046 read as a leading 0."""
    only = re.sub(r"\D", "", phone)
    for prefix in ("0046", "46"):
        if only.startswith(prefix) and len(only) > 9:
            return "0" + only[len(prefix):]
    return only


async def find(s: AsyncSession, lookup: Lookup) -> Found:
    value = lookup.value.strip()
    found = Found()
    if not value:
        return found
    if lookup.kind == "conversation":
        if await s.get(Conversation, value) is not None:
            found.conversation_ids.append(value)
        found.ticket_ids += list(await s.scalars(select(Ticket.id).where(Ticket.conversation_id == value)))
    elif lookup.kind == "email":
        email = value.lower()
        by_email = select(Ticket.id, Ticket.conversation_id).where(func.lower(Ticket.email) == email)
        tickets = list(await s.execute(by_email))
        found.ticket_ids += [int(t.id) for t in tickets]
        found.conversation_ids += [str(t.conversation_id) for t in tickets if t.conversation_id]
        found.conversation_ids += list(
            await s.scalars(select(Conversation.id).where(func.lower(Conversation.company_email) == email))
        )
        found.conversation_ids += list(
            await s.scalars(
                select(TranscriptEmail.conversation_id).where(func.lower(TranscriptEmail.recipient) == email)
            )
        )
    elif lookup.kind == "phone":
        wanted = digits(value)
        if len(wanted) >= 6:
            rows = await s.execute(select(Ticket.id, Ticket.conversation_id, Ticket.phone).where(Ticket.phone != ""))
            for row in rows:
                if digits(str(row.phone)) == wanted:
                    found.ticket_ids.append(int(row.id))
                    if row.conversation_id:
                        found.conversation_ids.append(str(row.conversation_id))
    elif lookup.kind in ("slack", "teams"):
        rows = await s.execute(
            select(Conversation.id, Conversation.external_id, Conversation.display_name, Conversation.address).where(
                Conversation.channel == lookup.kind
            )
        )
        for row in rows:
            if _channel_user_matches(lookup.kind, value, row.external_id, row.display_name, row.address):
                found.conversation_ids.append(str(row.id))
        if found.conversation_ids:
            found.ticket_ids += list(
                await s.scalars(select(Ticket.id).where(Ticket.conversation_id.in_(found.conversation_ids)))
            )
    found.conversation_ids = sorted(set(found.conversation_ids))
    found.ticket_ids = sorted(set(found.ticket_ids))
    return found


def _channel_user_matches(
    kind: str, value: str, external_id: str | None, display_name: str | None, address: dict[str, Any] | None
) -> bool:
    """A Slack user by display name, DM channel id or a thread's key (`C…:ts`; never a
    whole public channel, which many people share); a Teams user by name or user id."""
    folded = value.casefold()
    if display_name and display_name.casefold() == folded:
        return True
    if kind == "slack":
        return external_id is not None and external_id == value
    return isinstance(address, dict) and value in (address.get("user_id"), address.get("user_name"))


async def export(s: AsyncSession, tracker: AsyncEngine, found: Found, now: dt.datetime) -> dict[str, Any]:
    """Everything stored about the person, as JSON (art. 15)."""
    conversations = []
    for conversation_id in found.conversation_ids:
        conv = await s.get(Conversation, conversation_id)
        if conv is None:
            continue
        messages = await store.messages_after(s, conversation_id, 0, limit=100_000)
        events = await s.scalars(
            select(ConversationEvent)
            .where(ConversationEvent.conversation_id == conversation_id)
            .order_by(ConversationEvent.id)
        )
        nlu = await s.scalars(select(MessageNlu).where(MessageNlu.conversation_id == conversation_id))
        rating = await s.get(CsatRating, conversation_id)
        mails = await s.scalars(select(TranscriptEmail).where(TranscriptEmail.conversation_id == conversation_id))
        conversations.append({
            **store.conversation_json(conv, None),
            "external_id": conv.external_id,
            "address": conv.address,
            "messages": [
                {**store.message_json(m), "internal_note": store.is_internal(m), "payload": m.payload} for m in messages
            ],
            "events": [
                {"kind": e.kind, "at": store.iso(e.at), "channel": e.channel, "data": e.data} for e in events
            ],
            "understood": [
                {"seq": n.seq, "intent": n.intent, "confidence": n.confidence, "entities": n.entities,
                 "referral": n.referral_target}
                for n in nlu
            ],
            "satisfaction": (
                {"rating": rating.rating, "comment": rating.comment, "asked_at": store.iso(rating.asked_at),
                 "rated_at": store.iso(rating.rated_at)}
                if rating else None
            ),
            "transcript_emails": [
                {"recipient": m.recipient, "status": m.status, "created_at": store.iso(m.created_at),
                 "sent_at": store.iso(m.sent_at)}
                for m in mails
            ],
        })
    tickets = []
    for ticket_id in found.ticket_ids:
        ticket = await s.get(Ticket, ticket_id)
        if ticket is not None:
            tickets.append(store.ticket_json(ticket, None))
    return {
        "exported_at": store.iso(now),
        "conversations": conversations,
        "tickets": tickets,
        "rasa_tracker_events": await tracker_store.events_of(tracker, found.conversation_ids),
    }


async def erase(
    sessions: async_sessionmaker[AsyncSession],
    tracker: AsyncEngine,
    found: Found,
    actor_id: int | None,
    actor: str,
    now: dt.datetime,
    reason: str,
    copies: Sequence[CompanyWordsCopy] = (),
) -> dict[str, int]:
    """Delete the person's data everywhere, the `copies` of their words kept elsewhere
    included; returns the counts (also in the audit log)."""
    counts: dict[str, int] = {}
    async with sessions.begin() as s:
        ids = found.conversation_ids
        typed = [
            str(t)
            for t in await s.scalars(
                select(Message.text).where(Message.conversation_id.in_(ids), Message.text.is_not(None))
            )
        ]
        tickets = list(await s.scalars(select(Ticket.question).where(Ticket.id.in_(found.ticket_ids))))
        counts["examples"], counts["audit_entries_scrubbed"] = await _erase_filed_examples(s, [*typed, *tickets])
        for copy in copies:
            counts[copy.name] = await copy.forget_texts(s, [*typed, *tickets])
        messages = select(func.count()).select_from(Message).where(Message.conversation_id.in_(ids))
        counts["messages"] = int(await s.scalar(messages) or 0)
        counts["tickets"] = await store.updated(
            s, delete(Ticket).where(or_(Ticket.id.in_(found.ticket_ids), Ticket.conversation_id.in_(ids)))
        )
        # Everything else hangs off the conversation and goes with it (ON DELETE CASCADE).
        counts["conversations"] = await store.updated(s, delete(Conversation).where(Conversation.id.in_(ids)))
        erasure_id = secrets.token_hex(8)
        await record_async(
            s,
            Change("personal_data", erasure_id, "erased", None, {"reason": reason, **counts}),
            actor_id,
            actor,
            now,
        )
    counts["tracker_events"] = await tracker_store.delete_senders(tracker, found.conversation_ids)
    async with sessions.begin() as s:
        entry = await s.scalar(
            select(AuditEntry).where(AuditEntry.entity == "personal_data", AuditEntry.entity_id == erasure_id)
        )
        if entry is not None:
            entry.after = {"reason": reason, **counts}
    return counts


async def _erase_filed_examples(s: AsyncSession, texts: list[str]) -> tuple[int, int]:
    """Training examples an admin filed from these texts, and the audit entries quoting them."""
    if not texts:
        return 0, 0
    keys = {example_key(t) for t in texts}
    rows = list(await s.scalars(select(Example).where(Example.key.in_(keys), Example.source == "review")))
    for row in rows:
        await s.delete(row)
    scrubbed = 0
    wanted = [t for t in texts if t.strip()]
    entries = await s.scalars(select(AuditEntry).where(AuditEntry.entity == "example"))
    for entry in entries:
        quoted = json.dumps([entry.before, entry.after], ensure_ascii=False)
        if any(t in quoted or json.dumps(t, ensure_ascii=False)[1:-1] in quoted for t in wanted):
            entry.before = ERASED if entry.before is not None else None
            entry.after = ERASED if entry.after is not None else None
            scrubbed += 1
    return len(rows), scrubbed
