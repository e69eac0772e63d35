"""Faster equivalents of three Rasa 3.6 internals, applied inside the Rasa process.

`scripts/rasa_server.py` calls `apply()` before Rasa starts. Runs in `.venv-rasa`.

**The action server's answers.** Rasa checks every answer of the action server against a JSON schema with
`jsonschema.validate(result, schema)`, which first validates the schema itself against
its meta-schema, on every call. With jsonschema 4.17 (Rasa's pin) that check was 56 % of
the Rasa server's CPU time per turn under load (py-spy on `bench.run`'s ten clients,
docs/operations.md "A faster turn"). Here the schema is checked once and its validator
kept; each answer is validated exactly as before (the same validator class, the same
error chosen by `best_match`, the same message added).

**Events read back from the tracker store.** Every turn rebuilds the conversation from its
stored events, and each event's class is found by `Event.resolve_by_type`, which lists
every subclass of `Event` (recursively, skipping abstract ones) for each event: 8 % of the
Rasa server's CPU under ten clients (py-spy). Here a name's class is kept once found; the
same search runs for a name not found yet, so the answer and the errors are Rasa's.

**The SQL tracker store.** Every turn reads the conversation's events (`_retrieve`) and,
to save, counts those already stored (`_additional_events`) and adds the new ones (`save`).
Rasa builds each query anew with the sender id inside, so SQLAlchemy computes its cache
key every time, loads an ORM object per event to read one column, and stores the new
events through the ORM's unit of work: together about a quarter of the Rasa server's CPU
under ten clients (py-spy, the fifth round). Here the same queries are built once per
store with the sender id as a parameter, only the `data` column is read, and the new
events go in one `INSERT` of the same columns. The rows, their order and the count are
Rasa's; a probe compares both on conversations of several sessions, saved by turns.
"""

from __future__ import annotations

import itertools
from typing import Any, NamedTuple


def apply() -> None:
    _validate_answers_with_one_validator()
    _remember_event_classes()
    _tracker_store_with_prepared_statements()


def _tracker_store_with_prepared_statements() -> None:
    import json
    import logging

    import sqlalchemy as sa
    from rasa.core.tracker_store import SQLTrackerStore
    from rasa.shared.core.events import SessionStarted
    from rasa.shared.core.trackers import DialogueStateTracker
    from rasa.shared.nlu.constants import INTENT_NAME_KEY

    log = logging.getLogger("rasa.core.tracker_store")
    class Statements(NamedTuple):
        of_latest: Any
        of_all: Any
        count: Any
        insert: Any

    prepared: dict[type, Statements] = {}

    def queries(store: SQLTrackerStore) -> Statements:
        """The events of the latest session and of all sessions, the latest session's
        count (as `SQLTrackerStore._event_query` selects them), and the events' INSERT."""
        event = store.SQLEvent
        found = prepared.get(event)
        if found is None:
            sender: Any = sa.bindparam("sender_id")
            session_start = (
                sa.select(sa.func.max(event.timestamp).label("session_start"))
                .where(event.sender_id == sender, event.type_name == SessionStarted.type_name)
                .subquery()
            )
            latest = sa.or_(
                event.timestamp >= session_start.c.session_start, session_start.c.session_start.is_(None)
            )
            of_latest = sa.select(event.data).where(event.sender_id == sender, latest).order_by(event.id)
            of_all = sa.select(event.data).where(event.sender_id == sender).order_by(event.id)
            count = sa.select(sa.func.count()).select_from(of_latest.subquery())
            found = prepared[event] = Statements(of_latest, of_all, count, sa.insert(event.__table__))
        return found

    async def _retrieve(
        self: SQLTrackerStore, sender_id: str, fetch_events_from_all_sessions: bool
    ) -> DialogueStateTracker | None:
        statements = queries(self)
        with self.session_scope() as session:
            rows = session.execute(
                statements.of_all if fetch_events_from_all_sessions else statements.of_latest,
                {"sender_id": sender_id},
            ).scalars().all()
            events = [json.loads(data) for data in rows]
            if self.domain and len(events) > 0:
                log.debug(f"Recreating tracker from sender id '{sender_id}'")
                return DialogueStateTracker.from_dict(sender_id, events, self.domain.slots)
            log.debug(
                f"Can't retrieve tracker matching sender id '{sender_id}' from SQL storage. "
                f"Returning `None` instead."
            )
            return None

    def _additional_events(self: SQLTrackerStore, session: Any, tracker: DialogueStateTracker) -> Any:
        stored = session.execute(queries(self).count, {"sender_id": tracker.sender_id}).scalar()
        return itertools.islice(tracker.events, stored, len(tracker.events))

    async def save(self: SQLTrackerStore, tracker: DialogueStateTracker) -> None:
        await self.stream_events(tracker)
        with self.session_scope() as session:
            rows = []
            for event in self._additional_events(session, tracker):
                data = event.as_dict()
                rows.append({
                    "sender_id": tracker.sender_id,
                    "type_name": event.type_name,
                    "timestamp": data.get("timestamp"),
                    "intent_name": data.get("parse_data", {}).get("intent", {}).get(INTENT_NAME_KEY),
                    "action_name": data.get("name"),
                    "data": json.dumps(data),
                })
            if rows:
                session.execute(queries(self).insert, rows)
            session.commit()
        log.debug(f"Tracker with sender_id '{tracker.sender_id}' stored to database")

    SQLTrackerStore._retrieve = _retrieve
    SQLTrackerStore._additional_events = _additional_events
    SQLTrackerStore.save = save


def _remember_event_classes() -> None:
    from rasa.shared.core.events import Event

    search = Event.resolve_by_type
    found: dict[str, type[Event]] = {}

    def resolve_by_type(type_name: str, default: type[Event] | None = None) -> type[Event] | None:
        cls = found.get(type_name)
        if cls is None:
            cls = search(type_name, default)
            # Only a class whose own name matched: never a default or an old "topic".
            if cls is not None and cls.type_name == type_name:
                found[type_name] = cls
        return cls

    Event.resolve_by_type = staticmethod(resolve_by_type)


def _validate_answers_with_one_validator() -> None:
    from jsonschema import ValidationError, exceptions, validators
    from rasa.core.actions.action import RemoteAction
    from rasa.shared.constants import DOCS_BASE_URL

    schema = RemoteAction.action_response_format_spec()
    validator_class = validators.validator_for(schema)
    validator_class.check_schema(schema)
    validator = validator_class(schema)

    def validate_action_result(self: Any, result: dict[str, Any]) -> bool:
        error = exceptions.best_match(validator.iter_errors(result))
        if error is None:
            return True
        if isinstance(error, ValidationError):
            error.message += (
                ". Failed to validate Action server response from API, "
                "make sure your response from the Action endpoint is valid. "
                f"For more information about the format visit {DOCS_BASE_URL}/custom-actions"
            )
        raise error

    RemoteAction._validate_action_result = validate_action_result
