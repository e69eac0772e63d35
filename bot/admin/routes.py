"""The admin's URLs, and the template engine its pages are rendered with."""

from __future__ import annotations

from pathlib import Path

import aiohttp_jinja2
import jinja2
from aiohttp import web

from bot.admin.keys import f1_source_key, training_f1_source
from bot.admin.sockets import accounts_listener
from bot.admin.training_context import training_runner
from bot.admin.views import (
    accounts,
    analytics,
    directory,
    history,
    intents,
    models,
    privacy,
    responses,
    review,
    session,
    training,
)

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
    # Per-intent F1 from the active model's evaluation (training/), else the last bench.
    app[f1_source_key] = training_f1_source
    intents.setup(router)
    responses.setup(router)
    directory.setup(router)
    review.setup(app)
    history.setup(router)
    accounts.setup(router)
    # Personal data: access and erasure (issue 9).
    privacy.setup(router)
    analytics.setup(router)  # the analytics page, an advisor's own figures, the lägesbild (issue 9)
    # Train, evaluate, activate and roll back (issue 8, the training part).
    training.setup(router)
    models.setup(router)
    app.cleanup_ctx.append(accounts_listener)
    app.cleanup_ctx.append(training_runner)
