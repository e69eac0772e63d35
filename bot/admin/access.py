"""Who may use the admin pages, and the CSRF token of their forms.

The admin shares the console's session cookie (one login for both). Every admin route
asks for `require_admin`: no session → the login page; an advisor → 403, on the server,
whatever the page shows. Every POST carries the session's CSRF token in the form (or the
X-CSRF-Token header) and comes from this gateway's own origin.
"""

from __future__ import annotations

from urllib.parse import quote

import aiohttp_jinja2
from aiohttp import web
from multidict import MultiDict, MultiDictProxy

from bot import texts
from bot.accounts import auth
from bot.conversation.context import AdvisorRef
from bot.rules.validation import neutralize
from bot.web.keys import clock_key, db_key, settings_key
from bot.web.security import console_origin_ok
from bot.web.session_cookie import session_token

LOGIN_PATH = "/admin/login"
# The gateway's bodies are small (64 KiB); an admin's form may carry a long text, and a
# text that is too long must come back with a Swedish message, not a bare 413.
ADMIN_MAX_BODY = 2 * 1024 * 1024
TOO_LARGE = "Det du skickade är för stort (mer än 2 MB). Inget är sparat; korta ner texten och försök igen."


async def require_admin(request: web.Request) -> AdvisorRef:
    account = await auth.session_advisor(request.app[db_key], session_token(request), request.app[clock_key]())
    if account is None:
        raise web.HTTPSeeOther(f"{LOGIN_PATH}?next={quote(request.path_qs, safe='')}")
    if not account.is_admin:
        raise forbidden(request)
    return account


def forbidden(request: web.Request) -> web.HTTPForbidden:
    html = aiohttp_jinja2.render_string("forbidden.html", request, {"message": texts.ADMIN_ONLY})
    return web.HTTPForbidden(text=html, content_type="text/html")


def csrf_token(request: web.Request) -> str:
    token = session_token(request) or ""
    return auth.csrf_for(request.app[settings_key].session_secret, token) if token else ""


async def post_form(request: web.Request) -> MultiDictProxy[str]:
    """Every field of a POST (repeated names too), after the origin and CSRF checks (403
    otherwise). Files are ignored."""
    try:
        raw = await request.clone(client_max_size=ADMIN_MAX_BODY).post()
    except web.HTTPRequestEntityTooLarge:
        html = aiohttp_jinja2.render_string("forbidden.html", request, {"message": TOO_LARGE})
        raise web.HTTPRequestEntityTooLarge(
            max_size=ADMIN_MAX_BODY, actual_size=request.content_length or 0, text=html, content_type="text/html"
        ) from None
    # Hidden characters (bidi overrides, zero-width, NUL) are removed from every admin
    # field before anything reads it, as from every company's and advisor's text.
    form: MultiDict[str] = MultiDict(
        (key, value if "password" in key else neutralize(value))
        for key, value in raw.items()
        if isinstance(value, str)
    )
    candidate = form.get("csrf_token") or request.headers.get("X-CSRF-Token")
    secret = request.app[settings_key].session_secret
    if not console_origin_ok(request) or not auth.csrf_ok(secret, session_token(request), candidate):
        raise web.HTTPForbidden(text=texts.CSRF_FAILED)
    return MultiDictProxy(form)


async def check_post(request: web.Request) -> dict[str, str]:
    """The form of a POST as a dict (the last value of a repeated name), after the checks."""
    return dict((await post_form(request)).items())
