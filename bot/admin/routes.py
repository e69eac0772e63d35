"""The admin's URLs, and the template engine its pages are rendered with."""

from __future__ import annotations

from pathlib import Path

import aiohttp_jinja2
import jinja2
from aiohttp import web

from bot.admin.keys import bench_f1_source, f1_source_key
from bot.admin.sockets import accounts_listener
from bot.admin.views import accounts, analytics, directory, history, intents, privacy, responses, review, session

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
    # The content, the directory, the review of conversations, the history and the
    # accounts (issue 8, part A).
    app[f1_source_key] = bench_f1_source
    intents.setup(router)
    responses.setup(router)
    directory.setup(router)
    review.setup(app)
    history.setup(router)
    accounts.setup(router)
    # Personal data: access and erasure (issue 9).
    privacy.setup(router)
    analytics.setup(router)  # the analytics page, an advisor's own figures, the lägesbild (issue 9)
    app.cleanup_ctx.append(accounts_listener)
