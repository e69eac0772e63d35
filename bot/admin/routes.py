"""The admin's URLs, and the template engine its pages are rendered with."""

from __future__ import annotations

from pathlib import Path

import aiohttp_jinja2
import jinja2
from aiohttp import web

from bot.admin.views import session

TEMPLATES = Path(__file__).resolve().parent / "templates"


def setup_admin(app: web.Application) -> None:
    aiohttp_jinja2.setup(
        app,
        loader=jinja2.FileSystemLoader(TEMPLATES),
        autoescape=jinja2.select_autoescape(["html"]),
        undefined=jinja2.StrictUndefined,
    )
    router = app.router
    router.add_get("/admin", session.home, name="admin_home")
    router.add_get("/admin/login", session.login_page, name="admin_login_page")
    router.add_post("/admin/login", session.login, name="admin_login")
    router.add_post("/admin/logout", session.logout, name="admin_logout")
