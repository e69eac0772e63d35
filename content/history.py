"""Reverting an entry of the audit log: put back what was there before the change.

A revert is itself a change: it writes a new entry (action "reverted", `reverts` = the
undone entry), so the log stays append-only and a revert can be reverted in turn (redo).
It only goes ahead when the item is still exactly as the change left it; if someone
changed it since, the admin is told to revert the later change first, and nothing moves.

Each kind of entry has a handler: `Reverter(session, entry, now) -> (before, after)`
that checks, restores and returns the states for the new entry. This module has the
handlers of the content and the directory; the gateway adds the accounts' (bot/accounts)
and the training helper the model activations' (a rollback).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping
from typing import Any, NoReturn

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from content.models import Example, Intent, Response
from content.seed import intent_fields, response_from_row
from content.validation import MIN_EXAMPLES, example_key
from core.audit import AuditEntry
from core.db import Base
from core.editing import Actor, Invalid, NotFound, Problem, log
from directory import edit as directory_edit
from directory.models import Organisation, Scheme, Topic
from directory.seed import topic_from_row

State = dict[str, Any] | None
Reverter = Callable[[Session, AuditEntry, dt.datetime], tuple[State, State]]

CHANGED_SINCE = (
    "Det här har ändrats igen efter den ändringen, så den kan inte ångras direkt. "
    "Ångra de senare ändringarna först (de står högre upp i historiken)."
)


def refuse(message: str) -> NoReturn:
    raise Invalid([Problem("", message)])


def revert(session: Session, entry_id: int, handlers: Mapping[str, Reverter], actor: Actor,
           now: dt.datetime) -> AuditEntry:
    """Undo entry `entry_id`; returns the new entry. Raises Invalid when it cannot."""
    entry = session.get(AuditEntry, entry_id)
    if entry is None:
        raise NotFound("Den ändringen finns inte i historiken.")
    undone = session.scalar(select(AuditEntry.id).where(AuditEntry.reverts == entry_id).order_by(AuditEntry.id.desc()))
    if undone is not None and _still_undone(session, entry_id, undone):
        refuse(f"Ändringen är redan ångrad (rad {undone} i historiken).")
    handler = handlers.get(entry.entity)
    if handler is None or entry.action == "erased":
        refuse("Den här sortens ändring kan inte ångras här.")
    before, after = handler(session, entry, now)
    log(session, actor, now, entry.entity, entry.entity_id, "reverted", before, after, reverts=entry.id)
    session.flush()
    new = session.scalar(select(AuditEntry).where(AuditEntry.reverts == entry.id).order_by(AuditEntry.id.desc()))
    assert new is not None
    return new


def _still_undone(session: Session, entry_id: int, revert_id: int) -> bool:
    """An entry stays undone unless its revert was itself reverted."""
    return session.scalar(select(AuditEntry.id).where(AuditEntry.reverts == revert_id)) is None


# ---------------------------------------------------------------- state-based handlers


def state_reverter(current: Callable[[Session, str], State],
                   restore: Callable[[Session, str, State, dt.datetime], None]) -> Reverter:
    """For items whose whole state the entries hold: revert = still as `after`? put `before`."""

    def handler(session: Session, entry: AuditEntry, now: dt.datetime) -> tuple[State, State]:
        state = current(session, entry.entity_id)
        if state != entry.after:
            refuse(CHANGED_SINCE)
        restore(session, entry.entity_id, entry.before, now)
        return state, entry.before

    return handler


def _directory(model: type[Base]) -> Reverter:
    return state_reverter(
        lambda s, row_id: directory_edit.current(s, model, row_id),
        lambda s, row_id, state, now: directory_edit.restore(s, model, row_id, state, now),
    )


def _response_state(session: Session, name: str) -> State:
    row = session.scalar(select(Response).where(Response.name == name))
    return response_from_row(row) if row is not None else None


def _restore_response(session: Session, name: str, state: State, now: dt.datetime) -> None:
    row = session.scalar(select(Response).where(Response.name == name))
    if state is None:
        if row is not None:
            session.delete(row)
        return
    if row is None:
        row = Response(name=name, position=0)
        session.add(row)
    row.variations = list(state["variations"])
    session.flush()


# ---------------------------------------------------------------- examples


def revert_examples(session: Session, entry: AuditEntry, now: dt.datetime) -> tuple[State, State]:
    """Examples entries hold {"intent", "texts"}: take `after`'s texts out of its intent,
    put `before`'s back into theirs."""
    after, before = entry.after, entry.before
    if after is not None:
        intent = _intent(session, after["intent"])
        present = {e.key: e for e in intent.examples}
        wanted = [present.get(example_key(t)) for t in after["texts"]]
        if any(e is None or e.text != t for e, t in zip(wanted, after["texts"], strict=True)):
            refuse(CHANGED_SINCE)
        for example in wanted:
            assert example is not None
            intent.examples.remove(example)
        session.flush()
    if before is not None:
        intent = _intent(session, before["intent"])
        if intent.retired:
            refuse(f"Avsikten {intent.name} är avvecklad. Återställ den först.")
        if _taken(session, before["texts"]):
            refuse(CHANGED_SINCE)
        intent.examples.extend(Example(text=t, key=example_key(t), source="admin") for t in before["texts"])
        session.flush()
    for name in {d["intent"] for d in (before, after) if d is not None}:
        intent = _intent(session, name)
        if not intent.retired and len(intent.examples) < MIN_EXAMPLES:
            refuse(f"Avsikten {name} skulle få färre än {MIN_EXAMPLES} exempel.")
    return after, before


def _taken(session: Session, texts: list[str]) -> bool:
    keys = [example_key(t) for t in texts]
    return session.scalar(select(Example.id).where(Example.key.in_(keys)).limit(1)) is not None


def _intent(session: Session, name: str) -> Intent:
    row = session.scalar(select(Intent).where(Intent.name == name))
    if row is None:
        refuse(f"Avsikten {name} finns inte längre.")
    return row


# ---------------------------------------------------------------- intents


def revert_intent(session: Session, entry: AuditEntry, now: dt.datetime) -> tuple[State, State]:
    """Fields (description, retired) go back; a created intent goes away with its examples
    and the topic or response made with it; an undone creation comes back."""
    before, after = entry.before, entry.after
    if before is not None and after is not None:
        row = _intent(session, entry.entity_id)
        if intent_fields(row) != after:
            refuse(CHANGED_SINCE)
        row.description, row.retired = before["description"], before["retired"]
        session.flush()
        return after, before
    if after is not None:  # undo a creation
        row = _intent(session, entry.entity_id)
        state = _created_state(session, row, after)
        if state != after:
            refuse(CHANGED_SINCE)
        session.delete(row)
        if after.get("new_topic"):
            directory_edit.restore(session, Topic, entry.entity_id, None, now)
        if after.get("new_response"):
            _restore_response(session, after["new_response"]["name"], None, now)
        session.flush()
        return after, None
    assert before is not None  # redo a creation
    if session.scalar(select(Intent.id).where(Intent.name == entry.entity_id)) is not None:
        refuse(f"Det finns redan en avsikt som heter {entry.entity_id}.")
    row = Intent(**{k: before[k] for k in ("name", "kind", "description", "action", "response", "rule_title",
                                           "nlu_file", "retired")}, position=_last_position(session))
    if _taken(session, before["examples"]):
        refuse(CHANGED_SINCE)
    row.examples = [Example(text=t, key=example_key(t), source="admin") for t in before["examples"]]
    session.add(row)
    if before.get("new_topic"):
        directory_edit.restore(session, Topic, entry.entity_id, before["new_topic"], now)
    if before.get("new_response"):
        _restore_response(session, before["new_response"]["name"], before["new_response"], now)
    session.flush()
    return None, before


def _created_state(session: Session, row: Intent, after: Mapping[str, Any]) -> dict[str, Any]:
    state: dict[str, Any] = {**intent_fields(row), "examples": [e.text for e in row.examples]}
    if "new_topic" in after:
        topic = session.get(Topic, row.name)
        state["new_topic"] = topic_from_row(topic) if topic is not None else None
    if "new_response" in after:
        state["new_response"] = _response_state(session, after["new_response"]["name"])
    if sorted(state["examples"]) == sorted(after.get("examples") or []):
        state["examples"] = list(after.get("examples") or [])
    return state


def _last_position(session: Session) -> int:
    return int(session.scalar(select(func.max(Intent.position))) or 0) + 1


# ---------------------------------------------------------------- the registry


def content_handlers() -> dict[str, Reverter]:
    return {
        "example": revert_examples,
        "intent": revert_intent,
        "response": state_reverter(_response_state, _restore_response),
        "organisation": _directory(Organisation),
        "scheme": _directory(Scheme),
        "topic": _directory(Topic),
    }
