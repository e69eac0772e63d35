"""Bounded JSON: size, encoding and nesting depth are checked before the parser runs.

Python's `json` recurses once per nesting level, so `"[" * 5000 + "]" * 5000` raises
`RecursionError` deep inside the parser. Every JSON body or frame the gateway reads from
outside goes through `parse_json`, which refuses such input with a reason the caller turns
into a status (413 for size, 400 otherwise) or a WebSocket close code.
"""

from __future__ import annotations

import json
import re
from typing import Any

MAX_DEPTH = 32

# A JSON string literal (escapes included); removed before brackets are counted.
_STRING = re.compile(r'"(?:[^"\\]|\\.)*"', re.DOTALL)
_BRACKETS = re.compile(r"[^\[\]{}]+")


class PayloadError(ValueError):
    """Refused input; `reason` is one of too_large, bad_encoding, too_deep, bad_json."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def nesting_depth(text: str) -> int:
    """The deepest nesting of arrays and objects in a JSON text (strings ignored)."""
    brackets = _BRACKETS.sub("", _STRING.sub("", text))
    depth = deepest = 0
    for ch in brackets:
        if ch in "[{":
            depth += 1
            deepest = max(deepest, depth)
        else:
            depth -= 1
    return deepest


def parse_json(raw: bytes | str, max_bytes: int, max_depth: int = MAX_DEPTH) -> Any:
    """The JSON value in `raw`, or PayloadError: size first, then UTF-8, then depth, then syntax."""
    if isinstance(raw, bytes):
        if len(raw) > max_bytes:
            raise PayloadError("too_large")
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise PayloadError("bad_encoding") from exc
    else:
        text = raw
        if len(text) > max_bytes or len(text.encode("utf-8", "surrogatepass")) > max_bytes:
            raise PayloadError("too_large")
    if nesting_depth(text) > max_depth:
        raise PayloadError("too_deep")
    try:
        return json.loads(text)
    except (ValueError, RecursionError) as exc:
        raise PayloadError("bad_json") from exc


def parse_object(raw: bytes | str, max_bytes: int, max_depth: int = MAX_DEPTH) -> dict[str, Any]:
    """Like `parse_json`, for input that must be a JSON object."""
    value = parse_json(raw, max_bytes, max_depth)
    if not isinstance(value, dict):
        raise PayloadError("bad_json")
    return value
