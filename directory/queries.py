"""Read the directory from the database into plain views (one short session per call)."""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from directory.mentions import UNNAMED_KINDS
from directory.models import Organisation, Scheme, Topic
from directory.views import (
    ContactView,
    OrganisationView,
    SchemeView,
    TopicTargetView,
    TopicView,
)


def organisation_view(row: Organisation) -> OrganisationView:
    return OrganisationView(
        id=row.id,
        name=row.name,
        summary=row.summary,
        aliases=tuple(row.aliases),
        kind=row.kind,
        reached_through=row.reached_through,
        contacts=tuple(ContactView(c.kind, c.value, c.label) for c in row.contacts),
    )


def scheme_view(row: Scheme) -> SchemeView:
    return SchemeView(
        id=row.id, name=row.name, organisation_id=row.organisation_id, status=row.status,
        summary=row.summary, aliases=tuple(row.aliases), start_date=row.start_date,
        end_date=row.end_date, now_applies=row.now_applies, now_targets=tuple(row.now_targets),
    )


def topic_view(row: Topic) -> TopicView:
    return TopicView(
        id=row.id,
        name=row.name,
        targets=tuple(
            TopicTargetView(
                organisation_id=t.organisation_id, rank=t.rank, pitch=t.pitch,
                audience=t.audience,  # type: ignore[arg-type]
                min_employees=t.min_employees, max_employees=t.max_employees,
            )
            for t in row.targets
        ),
    )


def topics(session: Session, ids: Iterable[str]) -> dict[str, TopicView]:
    wanted = list(dict.fromkeys(ids))
    if not wanted:
        return {}
    rows = session.scalars(
        select(Topic).where(Topic.id.in_(wanted)).options(selectinload(Topic.targets))
    )
    return {row.id: topic_view(row) for row in rows}


def organisations(session: Session, ids: Iterable[str] | None = None) -> dict[str, OrganisationView]:
    query = select(Organisation).options(selectinload(Organisation.contacts))
    if ids is not None:
        query = query.where(Organisation.id.in_(list(ids)))
    return {row.id: organisation_view(row) for row in session.scalars(query)}


def schemes(session: Session) -> dict[str, SchemeView]:
    return {row.id: scheme_view(row) for row in session.scalars(select(Scheme))}


def organisation_names(session: Session) -> dict[str, list[str]]:
    """Every organisation's canonical name and aliases, for resolving entity values."""
    return {
        org_id: [name, *aliases]
        for org_id, name, aliases in session.execute(
            select(Organisation.id, Organisation.name, Organisation.aliases)
        )
    }


def recognisable_names(session: Session) -> dict[str, list[str]]:
    """The organisation names and aliases a company may use, as the database holds them
    now. Partners are reached through Företagssupporten and not named by companies."""
    return {
        org_id: [name, *aliases]
        for org_id, name, aliases, kind in session.execute(
            select(Organisation.id, Organisation.name, Organisation.aliases, Organisation.kind)
        )
        if kind not in UNNAMED_KINDS
    }
