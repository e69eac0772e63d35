"""What the console shows: the queue, my chats, a conversation, tickets."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlalchemy.orm import load_only

from bot import texts
from bot.conversation import events, store
from bot.conversation.errors import NotFound
from bot.conversation.models import Advisor, Conversation, Ticket
from bot.conversation.presence import ONLINE_WINDOW
from bot.rules import hours as opening
from bot.rules import queue as rules
from bot.rules.assignment import limit_of
from bot.rules.personal_numbers import mask_optional

# Conversations the bot handled this recently are offered for taking over.
RECENT_WINDOW = dt.timedelta(minutes=30)


async def queue_snapshot(
    sessions: async_sessionmaker[AsyncSession],
    advisor_id: int,
    now: dt.datetime,
    hours: opening.OpeningHours,
    default_limit: int = 3,
) -> dict[str, Any]:
    async with sessions() as s:
        waiting = await store.waiting_entries(s)
        # Only what a queue item shows: the queue goes to every console at every change.
        shown = load_only(
            Conversation.id, Conversation.channel, Conversation.display_name, Conversation.page,
            Conversation.question, Conversation.company_name,
        )
        conversations = {
            c.id: c
            for c in await s.scalars(
                select(Conversation).options(shown).where(Conversation.id.in_([e.conversation_id for e in waiting]))
            )
        }
        mine = list(
            await s.scalars(
                select(Conversation)
                .where(Conversation.state == rules.ADVISOR, Conversation.advisor_id == advisor_id)
                .order_by(Conversation.claimed_at)
            )
        )
        ids = [e.conversation_id for e in waiting if not conversations[e.conversation_id].question]
        previews = await store.previews(s, ids + [c.id for c in mine if not c.question])
        names = await store.advisor_names(s, {advisor_id})
        online = await store.advisors_online(s, now - ONLINE_WINDOW)
        available = await store.advisors_online(s, now - ONLINE_WINDOW, available_only=True)
        open_tickets = await store.open_ticket_count(s)
        me = await s.get(Advisor, advisor_id)
    queue = []
    for position, entry in enumerate(waiting, start=1):
        conv = conversations[entry.conversation_id]
        queue.append(
            {
                "conversation_id": entry.conversation_id,
                "position": position,
                "enqueued_at": store.iso(entry.enqueued_at),
                "waited_seconds": max(0, int((now - entry.enqueued_at).total_seconds())),
                "reason": entry.reason,
                "reason_text": rules.HANDOFF_REASONS.get(entry.reason, entry.reason),
                "returned": entry.returned,
                "channel": conv.channel,
                "display_name": conv.display_name,
                "page": conv.page,
                "question": conv.question,
                "preview": (conv.question or previews.get(conv.id, ""))[:200],
                "company_name": conv.company_name,
            }
        )
    is_open = opening.is_open(hours, now)
    opens = None if is_open else opening.next_opening(hours, now)
    return {
        "queue": queue,
        "mine": [summary_json(c, names.get(advisor_id), previews.get(c.id, "")) for c in mine],
        "advisors_online": len(online),
        "advisors_available": len(available),
        "me": {
            "presence": me.presence if me else "available",
            "chats": len(mine),
            "max_chats": limit_of(me.max_chats if me else None, default_limit),
        },
        "open_tickets": open_tickets,
        "opening": {
            "open": is_open,
            "opens_at": opens.isoformat() if opens else None,
            "opens_text": opening.format_moment_sv(opens, now) if opens else None,
        },
    }


def summary_json(conv: Conversation, advisor_name: str | None, preview: str) -> dict[str, Any]:
    return {
        "conversation_id": conv.id,
        "state": conv.state,
        "advisor": ({"id": conv.advisor_id, "name": advisor_name} if conv.advisor_id is not None else None),
        "channel": conv.channel,
        "display_name": conv.display_name,
        "company_name": conv.company_name,
        "claimed_at": store.iso(conv.claimed_at),
        "updated_at": store.iso(conv.updated_at),
        "last_seq": conv.last_seq,
        "question": conv.question,
        "preview": (conv.question or preview)[:200],
        "summary": conv.summary,
    }


async def bot_conversations(sessions: async_sessionmaker[AsyncSession], now: dt.datetime) -> list[dict[str, Any]]:
    async with sessions() as s:
        rows = list(
            await s.scalars(
                select(Conversation)
                .where(
                    Conversation.state.in_((rules.BOT, rules.OFFLINE)),
                    Conversation.updated_at >= now - RECENT_WINDOW,
                    Conversation.last_seq > 1,
                )
                .order_by(Conversation.updated_at.desc())
                .limit(100)
            )
        )
        previews = await store.previews(s, [c.id for c in rows])
    return [summary_json(c, None, previews.get(c.id, "")) for c in rows]


async def conversation_json(sessions: async_sessionmaker[AsyncSession], conversation_id: str) -> dict[str, Any]:
    async with sessions() as s:
        conv = await s.get(Conversation, conversation_id)
        if conv is None:
            raise NotFound()
        names = await store.advisor_names(s, {conv.advisor_id} if conv.advisor_id else set())
        return store.conversation_json(conv, names.get(conv.advisor_id or 0))


async def conversation_detail(sessions: async_sessionmaker[AsyncSession], conversation_id: str) -> dict[str, Any]:
    """The conversation, its whole transcript, and its timeline from the event log."""
    conversation = await conversation_json(sessions, conversation_id)
    async with sessions() as s:
        messages = await store.messages_after(s, conversation_id, 0, limit=5000)
        timeline = await events.timeline(s, conversation_id)
    return {
        "conversation": conversation,
        "messages": [store.message_json(m) for m in messages],
        "events": [e.json() for e in timeline],
    }


async def messages_after(
    sessions: async_sessionmaker[AsyncSession], conversation_id: str, seq: int
) -> list[dict[str, Any]]:
    async with sessions() as s:
        if await s.get(Conversation, conversation_id) is None:
            raise NotFound()
        return [store.message_json(m) for m in await store.messages_after(s, conversation_id, seq)]


async def tickets(sessions: async_sessionmaker[AsyncSession], status: str) -> list[dict[str, Any]]:
    order = Ticket.created_at.asc() if status == "open" else Ticket.created_at.desc()
    async with sessions() as s:
        rows = list(
            await s.scalars(select(Ticket).where(Ticket.status == status).order_by(order, Ticket.id).limit(200))
        )
        names = await store.advisor_names(s, {t.handled_by for t in rows if t.handled_by})
    return [store.ticket_json(t, names.get(t.handled_by or 0)) for t in rows]


async def mark_ticket_done(
    sessions: async_sessionmaker[AsyncSession],
    ticket_id: int,
    advisor_id: int,
    note: str | None,
    now: dt.datetime,
) -> tuple[dict[str, Any], int]:
    async with sessions.begin() as s:
        ticket = await s.get(Ticket, ticket_id)
        if ticket is None:
            raise NotFound(texts.TICKET_NOT_FOUND)
        if ticket.status != "done":
            ticket.status = "done"
            ticket.handled_by = advisor_id
            ticket.handled_at = now
            ticket.note = mask_optional(note)
        await s.flush()
        names = await store.advisor_names(s, {ticket.handled_by or 0})
        data = store.ticket_json(ticket, names.get(ticket.handled_by or 0))
        open_count = await store.open_ticket_count(s)
    return data, open_count
