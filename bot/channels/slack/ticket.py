"""Outside opening hours the company may leave a question (a ticket). The widget shows a
form; in Slack the offline notice carries a button that opens this modal (plain data).

The modal's `private_metadata` holds the Slack conversation's key, so the submission
(`view_submission`, signed by Slack like every request) is filed on that conversation.
Field errors go back to the modal in Swedish (`response_action: errors`).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from bot.channels.slack import texts

CALLBACK_ID = "fs_ticket_form"
FIELDS = ("question", "name", "company", "email", "phone")
ACTION = "value"


def _input(field: str, label: str, *, multiline: bool = False, optional: bool = True,
           initial: str | None = None, max_length: int = 200) -> dict[str, Any]:
    element: dict[str, Any] = {"type": "plain_text_input", "action_id": ACTION, "max_length": max_length}
    if multiline:
        element["multiline"] = True
    if initial:
        element["initial_value"] = initial[:max_length]
    return {
        "type": "input",
        "block_id": field,
        "optional": optional,
        "label": {"type": "plain_text", "text": label},
        "element": element,
    }


def ticket_view(external_id: str, max_chars: int, name: str | None = None) -> dict[str, Any]:
    return {
        "type": "modal",
        "callback_id": CALLBACK_ID,
        "private_metadata": external_id,
        "title": {"type": "plain_text", "text": texts.TICKET_TITLE},
        "submit": {"type": "plain_text", "text": texts.TICKET_SUBMIT},
        "close": {"type": "plain_text", "text": texts.TICKET_CLOSE},
        "blocks": [
            {"type": "section", "text": {"type": "plain_text", "text": texts.TICKET_INTRO}},
            _input("question", texts.TICKET_QUESTION, multiline=True, optional=False, max_length=min(max_chars, 3000)),
            _input("name", texts.TICKET_NAME, initial=name),
            _input("company", texts.TICKET_COMPANY),
            _input("email", texts.TICKET_EMAIL, max_length=254),
            _input("phone", texts.TICKET_PHONE, max_length=32),
        ],
    }


def submitted(payload: Mapping[str, Any]) -> tuple[str, str, dict[str, object]] | None:
    """(view id, conversation key, field values) of a submitted question form."""
    view = payload.get("view")
    if payload.get("type") != "view_submission" or not isinstance(view, Mapping):
        return None
    if view.get("callback_id") != CALLBACK_ID:
        return None
    view_id, key = view.get("id"), view.get("private_metadata")
    if not isinstance(view_id, str) or not isinstance(key, str) or not key:
        return None
    state = view.get("state")
    values = state.get("values") if isinstance(state, Mapping) else None
    data: dict[str, object] = {}
    for field in FIELDS:
        block = values.get(field) if isinstance(values, Mapping) else None
        entry = block.get(ACTION) if isinstance(block, Mapping) else None
        value = entry.get("value") if isinstance(entry, Mapping) else None
        data[field] = value if isinstance(value, str) else ""
    return view_id[:64], key, data


def field_errors(fields: Mapping[str, str], fallback: str) -> dict[str, Any]:
    """The answer that shows the form's errors next to its fields."""
    errors = {field: message for field, message in fields.items() if field in FIELDS}
    if not errors:
        errors = {"question": fallback}
    return {"response_action": "errors", "errors": errors}
