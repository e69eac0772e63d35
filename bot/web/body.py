"""JSON request bodies read with bounds: size (413), UTF-8, nesting depth and syntax (400),
each answered in the Swedish JSON error shape by the errors middleware."""

from __future__ import annotations

from typing import Any

from aiohttp import web

from bot import texts
from bot.rules.payload import MAX_DEPTH, PayloadError, parse_json

# Every JSON body the gateway accepts fits in this (aiohttp's client_max_size is the same).
MAX_REQUEST_BYTES = 64 * 1024

PAYLOAD_ERRORS: dict[str, tuple[int, str]] = {
    "too_large": (413, texts.TOO_LARGE),
    "bad_encoding": (400, texts.BAD_ENCODING),
    "too_deep": (400, texts.TOO_DEEP),
    "bad_json": (400, texts.BAD_REQUEST),
}


async def read_body(request: web.Request, max_bytes: int = MAX_REQUEST_BYTES) -> bytes:
    """The raw body, refused (PayloadError too_large) beyond `max_bytes` without reading it all."""
    if request.content_length is not None and request.content_length > max_bytes:
        raise PayloadError("too_large")
    try:
        return await request.clone(client_max_size=max_bytes).read()
    except web.HTTPRequestEntityTooLarge:
        raise PayloadError("too_large") from None


async def read_json(request: web.Request, max_bytes: int = MAX_REQUEST_BYTES, max_depth: int = MAX_DEPTH) -> Any:
    """The body's JSON value; PayloadError (→ 413 or 400) for anything else."""
    return parse_json(await read_body(request, max_bytes), max_bytes, max_depth)


async def read_object(request: web.Request, max_bytes: int = MAX_REQUEST_BYTES) -> dict[str, Any]:
    value = await read_json(request, max_bytes)
    if not isinstance(value, dict):
        raise PayloadError("bad_json")
    return value
