"""Faster equivalents of two Rasa 3.6 internals, applied inside the Rasa process.

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
"""

from __future__ import annotations

from typing import Any


def apply() -> None:
    _validate_answers_with_one_validator()
    _remember_event_classes()


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
