"""Read the content for the admin pages, as plain rows (one short session per call)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from content.models import Example, Intent, Response
from content.validation import normalise

KIND_LABELS = {"referral": "Hänvisning", "conversation": "Samtal", "retrieval": "Fråga och svar"}


@dataclass(frozen=True)
class IntentRow:
    name: str
    kind: str
    description: str
    examples: int
    retired: bool
    action: str
    response: str | None
    version: int

    @property
    def kind_label(self) -> str:
        return KIND_LABELS.get(self.kind, self.kind)


@dataclass(frozen=True)
class ExampleRow:
    id: int
    text: str
    version: int
    source: str
    intent: str


@dataclass(frozen=True)
class IntentPage:
    intent: IntentRow
    examples: list[ExampleRow]
    matching: int  # examples matching the search (all when none)
    page: int
    pages: int


def _row(intent: Intent, count: int) -> IntentRow:
    return IntentRow(intent.name, intent.kind, intent.description, count, intent.retired, intent.action,
                     intent.response, intent.version)


def intent_rows(session: Session) -> list[IntentRow]:
    counts = dict(session.execute(select(Example.intent_id, func.count()).group_by(Example.intent_id)).tuples().all())
    return [_row(i, counts.get(i.id, 0)) for i in session.scalars(select(Intent).order_by(Intent.position, Intent.id))]


def intent_names(session: Session, *, active_only: bool = True) -> list[str]:
    query = select(Intent.name).order_by(Intent.name)
    if active_only:
        query = query.where(Intent.retired.is_(False))
    return list(session.scalars(query))


def intent_page(session: Session, name: str, search: str = "", page: int = 1, per_page: int = 100) -> IntentPage | None:
    intent = session.scalar(select(Intent).where(Intent.name == name))
    if intent is None:
        return None
    rows = list(session.scalars(select(Example).where(Example.intent_id == intent.id).order_by(Example.id)))
    needle = normalise(search)
    matching = [r for r in rows if needle in normalise(r.text)] if needle else rows
    pages = max(1, -(-len(matching) // per_page))
    page = min(max(1, page), pages)
    shown = matching[(page - 1) * per_page: page * per_page]
    return IntentPage(
        _row(intent, len(rows)),
        [ExampleRow(r.id, r.text, r.version, r.source, name) for r in shown],
        len(matching), page, pages,
    )


def example(session: Session, example_id: int) -> ExampleRow | None:
    row = session.get(Example, example_id)
    if row is None:
        return None
    return ExampleRow(row.id, row.text, row.version, row.source, row.intent.name)


@dataclass(frozen=True)
class ResponseRow:
    name: str
    variations: list[dict[str, Any]]
    version: int


def response_rows(session: Session) -> list[ResponseRow]:
    return [ResponseRow(r.name, list(r.variations), r.version)
            for r in session.scalars(select(Response).order_by(Response.position, Response.id))]


def response(session: Session, name: str) -> ResponseRow | None:
    row = session.scalar(select(Response).where(Response.name == name))
    return ResponseRow(row.name, list(row.variations), row.version) if row is not None else None
