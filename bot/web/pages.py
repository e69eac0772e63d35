"""The files of the browser UI: demo host page, console page, widget script, static assets.

They belong to the UI (bot/static, bot/templates) and are served as they are.
"""

from __future__ import annotations

import html
from collections.abc import Awaitable, Callable
from pathlib import Path

from aiohttp import web

from bot import texts
from bot.web.keys import paths_key, settings_key


def _file(path: Path, cache: str) -> web.FileResponse:
    if not path.is_file():
        raise web.HTTPNotFound(text=texts.PAGE_NOT_FOUND)
    return web.FileResponse(path, headers={"Cache-Control": cache})


def _html(path: Path) -> web.FileResponse:
    response = _file(path, "no-cache")
    response.content_type = "text/html"
    response.charset = "utf-8"
    return response


def html_page(name: str) -> Callable[[web.Request], Awaitable[web.FileResponse]]:
    """A handler serving one page of bot/templates as it is."""

    async def page(request: web.Request) -> web.FileResponse:
        return _html(request.app[paths_key].templates_dir / name)

    return page


async def widget_js(request: web.Request) -> web.FileResponse:
    return _file(request.app[paths_key].static_dir / "widget.js", "no-cache")


async def static_file(request: web.Request) -> web.FileResponse:
    root = request.app[paths_key].static_dir.resolve()
    path = (root / request.match_info["path"]).resolve()
    if not path.is_relative_to(root):
        raise web.HTTPNotFound(text=texts.PAGE_NOT_FOUND)
    return _file(path, "no-cache")


async def privacy_page(request: web.Request) -> web.Response:
    """The privacy page the widget links to, with the retention periods in force."""
    path = request.app[paths_key].templates_dir / "integritet.html"
    if not path.is_file():
        raise web.HTTPNotFound(text=texts.PAGE_NOT_FOUND)
    settings = request.app[settings_key]
    page = path.read_text(encoding="utf-8")
    for name, value in (
        ("retention_transcript_days", settings.retention_transcript_days),
        ("retention_ticket_days", settings.retention_ticket_days),
    ):
        page = page.replace("{" + name + "}", html.escape(str(value)))
    return web.Response(text=page, content_type="text/html", charset="utf-8", headers={"Cache-Control": "no-cache"})


async def healthz(request: web.Request) -> web.Response:
    return web.json_response({"status": "ok"})


def setup_pages(app: web.Application) -> None:
    router = app.router
    router.add_get("/", html_page("index.html"), name="index")
    router.add_get("/widget.js", widget_js, name="widget_js")
    router.add_get("/static/{path:.+}", static_file, name="static")
    router.add_get("/healthz", healthz, name="healthz")
    router.add_get("/integritet", privacy_page, name="privacy_page")
