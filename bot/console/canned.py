"""Shared canned replies: list (filled in for a chat), add, change, remove."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.console import texts
from bot.conversation import store
from bot.conversation.errors import NotFound
from bot.conversation.models import CannedReply
from bot.rules import canned as rules
from bot.rules import validation
from bot.rules.validation import Invalid


def clean(body: Mapping[str, Any]) -> tuple[str, str]:
    """A canned reply's title and body from a request, or a Swedish Invalid."""
    try:
        title = validation.clean_line(body.get("title"), rules.MAX_TITLE)
    except Invalid as exc:
        raise Invalid("invalid_canned", exc.message, {"title": exc.message}) from exc
    if not title:
        raise Invalid("invalid_canned", texts.CANNED_TITLE_MISSING, {"title": texts.CANNED_TITLE_MISSING})
    try:
        text = validation.clean_text(body.get("body"), rules.MAX_BODY)
    except Invalid as exc:
        message = texts.CANNED_BODY_MISSING if exc.code == "empty_message" else exc.message
        raise Invalid("invalid_canned", message, {"body": message}) from exc
    unknown = rules.unknown_placeholders(text)
    if unknown:
        message = texts.unknown_placeholders(unknown, rules.PLACEHOLDERS)
        raise Invalid("invalid_canned", message, {"body": message})
    return title, text


def canned_json(row: CannedReply, values: Mapping[str, str] | None, names: Mapping[int, str]) -> dict[str, Any]:
    data: dict[str, Any] = {
        "id": row.id,
        "title": row.title,
        "body": row.body,
        "updated_at": store.iso(row.updated_at),
        "updated_by": ({"id": row.updated_by, "name": names.get(row.updated_by)} if row.updated_by else None),
    }
    if values is not None:
        rendered = rules.render(row.body, values)
        data["text"] = rendered.text
        data["missing"] = list(rendered.missing)
    return data


async def listing(
    sessions: async_sessionmaker[AsyncSession], values: Mapping[str, str] | None
) -> list[dict[str, Any]]:
    async with sessions() as s:
        rows = list(await s.scalars(select(CannedReply).order_by(CannedReply.title, CannedReply.id)))
        names = await store.advisor_names(s, {r.updated_by for r in rows if r.updated_by})
    return [canned_json(r, values, names) for r in rows]


async def save(
    sessions: async_sessionmaker[AsyncSession],
    canned_id: int | None,
    title: str,
    body: str,
    advisor_id: int,
    now: dt.datetime,
) -> dict[str, Any]:
    async with sessions.begin() as s:
        if canned_id is None:
            row = CannedReply(title=title, body=body, created_by=advisor_id, updated_by=advisor_id,
                              created_at=now, updated_at=now)
            s.add(row)
        else:
            found = await s.get(CannedReply, canned_id)
            if found is None:
                raise NotFound(texts.CANNED_NOT_FOUND)
            row = found
            row.title, row.body, row.updated_by, row.updated_at = title, body, advisor_id, now
        await s.flush()
        names = await store.advisor_names(s, {advisor_id})
        return canned_json(row, None, names)


async def remove(sessions: async_sessionmaker[AsyncSession], canned_id: int) -> None:
    async with sessions.begin() as s:
        if not await store.updated(s, delete(CannedReply).where(CannedReply.id == canned_id)):
            raise NotFound(texts.CANNED_NOT_FOUND)
