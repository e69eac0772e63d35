"""A faster equivalent of one Rasa 3.6 internal, applied inside the Rasa process.

`scripts/rasa_server.py` calls `apply()` before Rasa starts. Runs in `.venv-rasa`.

Rasa checks every answer of the action server against a JSON schema with
`jsonschema.validate(result, schema)`, which first validates the schema itself against
its meta-schema, on every call. With jsonschema 4.17 (Rasa's pin) that check was 56 % of
the Rasa server's CPU time per turn under load (py-spy on `bench.run`'s ten clients,
docs/operations.md "A faster turn"). Here the schema is checked once and its validator
kept; each answer is validated exactly as before (the same validator class, the same
error chosen by `best_match`, the same message added).
"""

from __future__ import annotations

from typing import Any


def apply() -> None:
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
