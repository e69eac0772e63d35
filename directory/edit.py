"""An admin's edits of the directory: checked (directory/validation.py), saved with
optimistic locking, and logged in the audit log in the same transaction.

The answers are composed from these rows at every turn, so a saved edit is in the next
answer without retraining. Entries are the canonical dicts of directory/seed.py; the audit
entries hold them whole (before/after), which is what a revert puts back.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping
from typing import Any, NoReturn, TypeVar

from sqlalchemy import select
from sqlalchemy.orm import Session

from core.db import Base
from core.editing import Actor, Invalid, NotFound, Problem, check, expect_version, log
from directory.models import Organisation, Scheme, Topic, TopicTarget
from directory.seed import (
    apply_organisation,
    apply_scheme,
    apply_topic,
    organisation_from_row,
    scheme_from_row,
    topic_from_row,
)
from directory.validation import new_id_problems, organisation_problems, scheme_problems, topic_problems

Row = TypeVar("Row", Organisation, Scheme, Topic)

ENTITY = {Organisation: "organisation", Scheme: "scheme", Topic: "topic"}


def other_names(session: Session, exclude: tuple[str, str] | None) -> dict[str, str]:
    """Every name and alias in the directory (casefolded) → the entry's name, except the
    entry `exclude` = (kind, id) being edited."""
    names: dict[str, str] = {}
    for kind, model in (("organisation", Organisation), ("scheme", Scheme)):
        for row_id, name, aliases in session.execute(select(model.id, model.name, model.aliases)):
            if exclude == (kind, row_id):
                continue
            for value in [name, *aliases]:
                names.setdefault(value.casefold().strip(), name)
    return names


def organisation_ids(session: Session) -> set[str]:
    return set(session.scalars(select(Organisation.id)))


def save_organisation(session: Session, actor: Actor, now: dt.datetime, org_id: str, version: int | None,
                      data: Mapping[str, Any], *, create: bool = False) -> Organisation:
    problems = organisation_problems(
        {**data, "id": org_id}, other_names(session, ("organisation", org_id)), organisation_ids(session), now.date()
    )
    return _save(session, actor, now, Organisation, org_id, version, data, create, problems,
                 organisation_from_row, apply_organisation)


def save_scheme(session: Session, actor: Actor, now: dt.datetime, scheme_id: str, version: int | None,
                data: Mapping[str, Any], *, create: bool = False) -> Scheme:
    problems = scheme_problems(data, other_names(session, ("scheme", scheme_id)), organisation_ids(session), now.date())
    return _save(session, actor, now, Scheme, scheme_id, version, data, create, problems, scheme_from_row, apply_scheme)


def save_topic(session: Session, actor: Actor, now: dt.datetime, topic_id: str, version: int | None,
               data: Mapping[str, Any]) -> Topic:
    problems = topic_problems(data, organisation_ids(session), now.date())
    return _save(session, actor, now, Topic, topic_id, version, data, False, problems, topic_from_row, apply_topic)


def _save(
    session: Session, actor: Actor, now: dt.datetime, model: type[Row], row_id: str, version: int | None,
    data: Mapping[str, Any], create: bool, problems: list[Problem],
    to_canonical: Callable[[Row], dict[str, Any]], apply: Callable[[Row, Mapping[str, Any]], None],
) -> Row:
    entity = ENTITY[model]
    row = session.get(model, row_id)
    if create:
        taken = set(session.scalars(select(model.id)))
        problems = new_id_problems(row_id, taken) + problems
        check(problems)
        row = model(id=row_id)
        apply(row, {**data, "id": row_id})
        session.add(row)
        session.flush()
        log(session, actor, now, entity, row_id, "created", None, to_canonical(row))
        return row
    if row is None:
        raise NotFound()
    expect_version(row.version, version)
    check(problems)
    before = to_canonical(row)
    apply(row, {**data, "id": row_id})
    # Touch the row itself, so that a change of its contacts or targets alone also bumps
    # its version (and meets the version check of a concurrent save).
    row.updated_at = now
    session.flush()
    after = to_canonical(row)
    if after != before:
        log(session, actor, now, entity, row_id, "updated", before, after)
    return row


# ---------------------------------------------------------------- reverting


def restore(session: Session, model: type[Base], row_id: str, state: Mapping[str, Any] | None,
            now: dt.datetime) -> None:
    """Put an entry back as `state` (None: remove it). Used by the audit log's revert."""
    apply: dict[type[Base], Callable[[Any, Mapping[str, Any]], None]] = {
        Organisation: apply_organisation, Scheme: apply_scheme, Topic: apply_topic,
    }
    row: Any = session.get(model, row_id)
    if state is None:
        if row is None:
            return
        if model is Organisation:
            used = session.scalar(select(TopicTarget.id).where(TopicTarget.organisation_id == row_id).limit(1)) or \
                session.scalar(select(Scheme.id).where(Scheme.organisation_id == row_id).limit(1))
            if used:
                raise_problem("Organisationen används av ett ämne eller ett stöd och kan inte tas bort.")
        session.delete(row)
        session.flush()
        return
    if row is None:
        row = model(id=row_id)
        session.add(row)
    apply[model](row, state)
    row.updated_at = now
    session.flush()


def raise_problem(message: str) -> NoReturn:
    raise Invalid([Problem("", message)])


def current(session: Session, model: type[Base], row_id: str) -> dict[str, Any] | None:
    """The entry as its audit entries show it, or None when it does not exist."""
    row: Any = session.get(model, row_id)
    if row is None:
        return None
    canonical: dict[type[Base], Callable[[Any], dict[str, Any]]] = {
        Organisation: organisation_from_row, Scheme: scheme_from_row, Topic: topic_from_row,
    }
    return canonical[model](row)
