"""The login session's cookie, shared by the console and the admin pages: HttpOnly,
SameSite=Strict, Secure when GATEWAY_SECURE_COOKIES is set."""

from __future__ import annotations

from aiohttp import web

from bot.accounts import auth
from bot.web.keys import settings_key


def session_token(request: web.Request) -> str | None:
    token = request.cookies.get(auth.COOKIE)
    return token if token and len(token) <= 128 else None


def set_session_cookie(request: web.Request, response: web.StreamResponse, token: str, persistent: bool) -> None:
    settings = request.app[settings_key]
    response.set_cookie(
        auth.COOKIE,
        token,
        httponly=True,
        samesite="Strict",
        secure=settings.gateway_secure_cookies,
        path="/",
        max_age=settings.session_max_age_hours * 3600 if persistent else None,
    )
