"""The OpenAPI 3 document of the gateway's public HTTP API, served at /api/openapi.json:
the REST endpoint for programs and the advisor console's JSON API. (The admin pages are
server-rendered forms, not a JSON API; the WebSockets are described in
docs/gateway-protocol.md.) `tests/gateway/test_openapi.py` runs schemathesis against it."""

from __future__ import annotations

from typing import Any

from aiohttp import web

from bot.accounts import auth
from bot.web.body import MAX_REQUEST_BYTES

OPENAPI_PATH = "/api/openapi.json"

ERROR: dict[str, Any] = {
    "type": "object",
    "required": ["error"],
    "properties": {
        "error": {
            "type": "object",
            "required": ["code", "message"],
            "properties": {
                "code": {"type": "string"},
                "message": {"type": "string", "description": "Swedish, for the person who reads it"},
                "retry_after": {"type": "integer", "minimum": 1},
                "fields": {"type": "object", "additionalProperties": {"type": "string"}},
            },
        }
    },
}

_ERRORS = {
    "400": "Bad input: not JSON, nested deeper than 32, invalid UTF-8, a field that does not fit",
    "401": "Not logged in, or wrong e-mail address or password",
    "403": "Another site's Origin, or a missing or stale CSRF token",
    "404": "No such conversation, ticket or reply",
    "409": "The conversation's state does not allow it (taken by someone else, already closed)",
    "413": "Body larger than 64 KiB",
    "429": "Too many requests; wait Retry-After seconds",
}


def _errors(*codes: str) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for code in codes:
        response: dict[str, Any] = {
            "description": _ERRORS[code],
            "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}},
        }
        if code == "429":
            response["headers"] = {"Retry-After": {"schema": {"type": "integer"}}}
        out[code] = response
    return out


def _ok(description: str, status: str = "200", *more: str) -> dict[str, Any]:
    content: dict[str, Any] = {"application/json": {"schema": {}}}
    out = {status: {"description": description, "content": content}}
    for extra in more:
        out[extra] = {"description": description, "content": content}
    return out


def _json_body(schema: dict[str, Any], required: bool = True) -> dict[str, Any]:
    return {"required": required, "content": {"application/json": {"schema": schema}}}


CSRF: list[dict[str, list[str]]] = [{"session": [], "csrf": []}]
ID = [{"name": "id", "in": "path", "required": True, "schema": {"type": "string", "maxLength": 64}}]
CANNED_ID = [{"name": "canned_id", "in": "path", "required": True, "schema": {"type": "integer"}}]
CONSOLE_ERRORS = ("400", "401", "403", "404", "409", "413")


def _get(summary: str, params: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    return {
        "summary": summary,
        "security": [{"session": []}],
        "parameters": params or [],
        "responses": {**_ok(summary), **_errors("400", "401", "404")},
    }


def _post(summary: str, body: dict[str, Any] | None = None, params: list[dict[str, Any]] | None = None,
          created: bool = False) -> dict[str, Any]:
    operation: dict[str, Any] = {
        "summary": summary,
        "security": CSRF,
        "parameters": params or [],
        "responses": {**_ok(summary, "200", *(["201"] if created else [])), **_errors(*CONSOLE_ERRORS)},
    }
    if body is not None:
        operation["requestBody"] = _json_body(body, required=False)
    return operation


def _text(max_length: int = 2000) -> dict[str, Any]:
    return {"type": "string", "maxLength": max_length}


def document() -> dict[str, Any]:
    rest_message = {
        "type": "object",
        "properties": {
            "recipient_id": {"type": "string"},
            "text": {"type": "string"},
            "buttons": {"type": "array", "items": {"type": "object"}},
            "image": {"type": "string"},
            "custom": {"type": "object"},
        },
    }
    return {
        "openapi": "3.0.3",
        "info": {
            "title": "Västmanlands Företagssupport – gateway",
            "version": "1",
            "description": (
                "The public HTTP API of the gateway. Every error has the shape "
                "{\"error\": {\"code\", \"message\"}} with a Swedish message. Bodies are at most "
                f"{MAX_REQUEST_BYTES} bytes and nested at most 32 deep. Limits: docs/hardening.md."
            ),
        },
        "servers": [{"url": "/"}],
        "paths": {
            "/webhooks/rest/webhook": {
                "post": {
                    "summary": "A program's message (Rasa-REST-compatible); returns what it has not yet seen",
                    "requestBody": _json_body(
                        {
                            "type": "object",
                            "required": ["sender", "message"],
                            "properties": {
                                "sender": {"type": "string", "minLength": 1, "maxLength": 128},
                                "message": _text(),
                                "metadata": {"type": "object"},
                            },
                        }
                    ),
                    "responses": {
                        "200": {
                            "description": "The bot's (or an advisor's) messages",
                            "content": {"application/json": {"schema": {"type": "array", "items": rest_message}}},
                        },
                        **_errors("400", "413", "429"),
                    },
                }
            },
            "/console/api/session": {
                "get": {
                    "summary": "The session: logged in or not, and the CSRF token for POSTs",
                    "responses": _ok("The session"),
                }
            },
            "/console/api/login": {
                "post": {
                    "summary": "An advisor logs in (failed attempts are throttled per account and address)",
                    "security": [{"csrf": []}],
                    "requestBody": _json_body(
                        {
                            "type": "object",
                            "required": ["email", "password"],
                            "properties": {"email": _text(254), "password": _text(1024)},
                        }
                    ),
                    "responses": {**_ok("Logged in"), **_errors("400", "401", "403", "413", "429")},
                }
            },
            "/console/api/logout": {"post": _post("Log out")},
            "/console/api/queue": {"get": _get("Waiting and active chats")},
            "/console/api/conversations": {"get": _get("Conversations of the advisor")},
            "/console/api/conversations/{id}": {"get": _get("One conversation with its transcript", ID)},
            "/console/api/conversations/{id}/claim": {"post": _post("Take a chat", params=ID)},
            "/console/api/conversations/{id}/messages": {
                "post": _post(
                    "An advisor's reply",
                    {"type": "object", "properties": {"text": _text(), "client_id": _text(64)}},
                    ID,
                    created=True,
                )
            },
            "/console/api/conversations/{id}/handback": {"post": _post("Give the chat back to the bot", params=ID)},
            "/console/api/conversations/{id}/release": {"post": _post("Put the chat back in the queue", params=ID)},
            "/console/api/conversations/{id}/close": {
                "post": _post(
                    "Close the chat with an outcome",
                    {"type": "object", "properties": {"outcome": _text(32), "note": _text()}},
                    ID,
                )
            },
            "/console/api/conversations/{id}/notes": {
                "post": _post("An internal note", {"type": "object", "properties": {"text": _text()}}, ID, True)
            },
            "/console/api/tickets": {"get": _get("Questions left outside opening hours")},
            "/console/api/closed": {"get": _get("Closed chats (search)")},
            "/console/api/advisors": {"get": _get("Advisors and their presence")},
            "/console/api/presence": {
                "post": _post("Set one's presence", {"type": "object", "properties": {"presence": _text(16)}})
            },
            "/console/api/canned": {
                "get": _get("Canned replies"),
                "post": _post(
                    "A new canned reply",
                    {"type": "object",
                     "properties": {"title": _text(80), "body": _text(), "shared": {"type": "boolean"}}},
                    created=True,
                ),
            },
            "/console/api/canned/{canned_id}": {
                "delete": {
                    "summary": "Delete a canned reply",
                    "security": CSRF,
                    "parameters": CANNED_ID,
                    "responses": {**_ok("Deleted"), **_errors(*CONSOLE_ERRORS)},
                }
            },
            OPENAPI_PATH: {"get": {"summary": "This document", "responses": _ok("OpenAPI 3")}},
        },
        "components": {
            "schemas": {"Error": ERROR},
            "securitySchemes": {
                "session": {"type": "apiKey", "in": "cookie", "name": auth.COOKIE},
                "csrf": {"type": "apiKey", "in": "header", "name": "X-CSRF-Token"},
            },
        },
    }


async def openapi(request: web.Request) -> web.Response:
    return web.json_response(document())


def setup_openapi(app: web.Application) -> None:
    app.router.add_get(OPENAPI_PATH, openapi, name="openapi")
