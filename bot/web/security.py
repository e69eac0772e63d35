"""Origin checks, security headers and JSON errors."""

from __future__ import annotations

import json
import re
from collections.abc import Awaitable, Callable
from typing import Any
from urllib.parse import urlsplit

from aiohttp import web

from bot import texts
from bot.conversation.errors import DomainError
from bot.rules.payload import PayloadError
from bot.rules.ratelimit import retry_after
from bot.rules.validation import Invalid
from bot.web.body import PAYLOAD_ERRORS
from bot.web.keys import settings_key
from core.settings import Settings

_SAFE_HOST = re.compile(r"^[A-Za-z0-9.\-\[\]:]{1,255}$")
# Paths other sites may load (the widget script and its assets).
EMBEDDABLE_PREFIXES = ("/widget.js", "/static/")

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def own_origins(settings: Settings) -> set[str]:
    port = settings.gateway_port
    hosts = {settings.gateway_host}
    if settings.gateway_host in {"127.0.0.1", "0.0.0.0", "::", "localhost"}:
        hosts |= {"127.0.0.1", "localhost"}
    return {f"{scheme}://{host}:{port}" for host in hosts for scheme in ("http", "https")}


def _origin_host(origin: str) -> str | None:
    parts = urlsplit(origin)
    if parts.scheme not in {"http", "https"} or not parts.netloc:
        return None
    return parts.netloc.lower()


def is_same_origin(request: web.Request, origin: str | None) -> bool:
    """The Origin is this gateway (as addressed by the browser, or as configured)."""
    if not origin:
        return False
    if origin.rstrip("/") in own_origins(request.app[settings_key]):
        return True
    host = _origin_host(origin)
    return host is not None and host == (request.host or "").lower()


def console_origin_ok(request: web.Request) -> bool:
    """Console requests come from the console page itself (browsers send Origin on POST)."""
    origin = request.headers.get("Origin")
    return origin is None or is_same_origin(request, origin)


def csp(request: web.Request) -> str:
    host = request.host if _SAFE_HOST.match(request.host or "") else ""
    connect = "'self'" + (f" ws://{host} wss://{host}" if host else "")
    return (
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
        "font-src 'self'; media-src 'self' data:; "
        f"connect-src {connect}; object-src 'none'; base-uri 'none'; "
        "form-action 'self'; frame-ancestors 'none'"
    )


async def add_security_headers(request: web.Request, response: web.StreamResponse) -> None:
    """on_response_prepare: every response, including errors and WebSocket handshakes."""
    headers = response.headers
    headers.setdefault("X-Content-Type-Options", "nosniff")
    headers.setdefault("Referrer-Policy", "strict-origin-when-cross-origin")
    if request.path.startswith(EMBEDDABLE_PREFIXES):
        headers.setdefault("Cross-Origin-Resource-Policy", "cross-origin")
        return
    headers.setdefault("Content-Security-Policy", csp(request))
    headers.setdefault("X-Frame-Options", "DENY")
    headers.setdefault("Cross-Origin-Opener-Policy", "same-origin")
    headers.setdefault("Cross-Origin-Resource-Policy", "same-origin")
    if request.path.startswith(("/console", "/admin", "/webhooks")):
        headers.setdefault("Cache-Control", "no-store")


def json_exception(exc_class: type[web.HTTPException], code: str, message: str) -> web.HTTPException:
    """An HTTP exception whose body is our JSON error shape (raise it from a view)."""
    body = json.dumps({"error": {"code": code, "message": message}}, ensure_ascii=False)
    return exc_class(text=body, content_type="application/json")


def json_error(status: int, code: str, message: str, **extra: Any) -> web.Response:
    return web.json_response({"error": {"code": code, "message": message, **extra}}, status=status)


def rate_limited(wait: float, code: str = "rate_limited", message: str = texts.RATE_LIMITED) -> web.Response:
    """429 with Retry-After (header and body), in the JSON error shape."""
    seconds = retry_after(wait)
    response = json_error(429, code, message, retry_after=seconds)
    response.headers["Retry-After"] = str(seconds)
    return response


def payload_error(reason: str) -> tuple[int, str]:
    """The status and Swedish message for refused input (bot/rules/payload.py)."""
    return PAYLOAD_ERRORS.get(reason, (400, texts.BAD_REQUEST))


@web.middleware
async def errors_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Domain errors become JSON errors; nothing unexpected leaks a traceback."""
    try:
        return await handler(request)
    except DomainError as exc:
        return json_error(exc.status, exc.code, exc.message)
    except Invalid as exc:
        extra = {"fields": exc.fields} if exc.fields else {}
        return json_error(400, exc.code, exc.message, **extra)
    except PayloadError as exc:
        status, message = payload_error(exc.reason)
        return json_error(status, exc.reason, message)
    except web.HTTPRequestEntityTooLarge as exc:
        if exc.content_type == "text/html":  # a page's own answer (the admin's forms)
            raise
        return json_error(413, "too_large", texts.TOO_LARGE)
    except web.HTTPException:
        raise
    except RecursionError:
        return json_error(400, "too_deep", texts.TOO_DEEP)
    except Exception:
        request.app.logger.exception("unhandled error on %s %s", request.method, request.path)
        return json_error(500, "server_error", texts.SERVER_ERROR)
