"""Logging in to and out of the admin pages (the same session as the console)."""

from __future__ import annotations

import datetime as dt
from typing import Any

import aiohttp_jinja2
from aiohttp import web

from bot import texts
from bot.accounts import auth
from bot.admin.access import LOGIN_PATH, check_post, csrf_token, require_admin
from bot.rules.ratelimit import retry_after
from bot.web.keys import clock_key, core_key, db_key, limits_key, settings_key
from bot.web.session_cookie import session_token, set_session_cookie


def _safe_next(raw: str | None) -> str:
    """Only a path on this site (never //other.example or a scheme)."""
    if raw and raw.startswith("/admin") and not raw.startswith("//"):
        return raw
    return "/admin"


async def login_page(request: web.Request) -> web.StreamResponse:
    token = session_token(request)
    fresh = token is None
    token = token or auth.new_token()
    context: dict[str, Any] = {
        "csrf_token": auth.csrf_for(request.app[settings_key].session_secret, token),
        "next": _safe_next(request.query.get("next")),
        "error": None,
    }
    response = aiohttp_jinja2.render_template("login.html", request, context)
    if fresh:
        set_session_cookie(request, response, token, persistent=False)
    return response


async def login(request: web.Request) -> web.StreamResponse:
    form = await check_post(request)
    next_path = _safe_next(form.get("next"))
    email = form.get("email", "")
    limits = request.app[limits_key]
    address = limits.address(request)
    wait = await limits.login_wait(email, address)
    error = None
    account = None
    if wait > 0:
        error = texts.login_throttled(retry_after(wait))
        status = 429
    else:
        account = await auth.authenticate(request.app[db_key], email, form.get("password", "")[:1024])
        status = 401
        if account is None:
            error = texts.INVALID_CREDENTIALS
            await limits.login_failed(email, address)
        else:
            await limits.login_succeeded(email, address)
    if account is None:
        context = {"csrf_token": csrf_token(request), "next": next_path, "error": error,
                   "email": email[:254], "retry_after": retry_after(wait) if wait > 0 else None}
        response = aiohttp_jinja2.render_template("login.html", request, context, status=status)
        if wait > 0:
            response.headers["Retry-After"] = str(retry_after(wait))
        return response
    old = session_token(request)
    if old:
        await auth.end_session(request.app[db_key], old)
    settings = request.app[settings_key]
    token = await auth.start_session(
        request.app[db_key], account.id, request.app[clock_key](), dt.timedelta(hours=settings.session_max_age_hours)
    )
    await request.app[core_key].presence.touch(account.id, force=True)
    response = web.HTTPSeeOther(next_path if account.is_admin else "/console")
    set_session_cookie(request, response, token, persistent=True)
    raise response


async def logout(request: web.Request) -> web.StreamResponse:
    await check_post(request)
    old = session_token(request)
    if old:
        await auth.end_session(request.app[db_key], old)
    response = web.HTTPSeeOther(LOGIN_PATH)
    set_session_cookie(request, response, auth.new_token(), persistent=False)
    raise response


async def home(request: web.Request) -> web.StreamResponse:
    account = await require_admin(request)
    return aiohttp_jinja2.render_template("home.html", request, {"account": account, "csrf_token": csrf_token(request)})
