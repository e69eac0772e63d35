"""The admin role is enforced on the server for every admin URL: an advisor gets 403 on
each one (read from the app's router, so a new route cannot be forgotten), and a visitor
without a session is sent to the login."""

from __future__ import annotations

import re
from collections.abc import Callable

from aiohttp.test_utils import TestClient

from tests.admin.conftest import AdminBrowser
from tests.gateway.conftest import AdvisorAccount

# Open to everyone: the login form itself and logging out.
PUBLIC = {"/admin/login", "/admin/logout"}
# Values to try for each path parameter: the first that the route's pattern accepts is used.
SAMPLES = {"name": ["financing", "utter_greet"], "id": ["1", "almi", "financing"]}


def admin_routes(client: TestClient) -> list[tuple[str, str]]:
    """(method, concrete path) of every /admin route the app has."""
    found = []
    for route in client.app.router.routes():
        info = route.resource.get_info() if route.resource is not None else {}
        template = info.get("path") or info.get("formatter") or ""
        if not template.startswith("/admin") or template in PUBLIC or route.method == "HEAD":
            continue
        found.append((route.method, concrete(template, info.get("pattern"))))
    return found


def concrete(template: str, pattern: re.Pattern[str] | None) -> str:
    """A path the route answers: each parameter filled with a sample its pattern accepts."""
    names = re.findall(r"\{(\w+)(?::[^}]*)?\}", template)
    if not names:
        return template
    candidates = [""]
    for name in names:
        candidates = [c + "|" + v for c in candidates for v in SAMPLES[name]]
    for combination in candidates:
        values = combination.split("|")[1:]
        path = template
        for value in values:
            path = re.sub(r"\{(\w+)(?::[^}]*)?\}", value, path, count=1)
        if pattern is None or pattern.fullmatch(path):
            return path
    raise AssertionError(f"no sample path for {template}")


def test_the_admin_has_the_routes_of_every_area(gateway: TestClient) -> None:
    paths = {path for _, path in admin_routes(gateway)}
    for area in ("/admin/intents", "/admin/responses", "/admin/directory", "/admin/review", "/admin/history",
                 "/admin/accounts"):
        assert area in paths


async def test_an_advisor_gets_403_on_every_admin_url(
    gateway: TestClient, form_browser: Callable[[], AdminBrowser], advisor: AdvisorAccount
) -> None:
    page = form_browser()
    assert await page.login(advisor) == 303
    routes = admin_routes(gateway)
    assert len(routes) >= 20
    for method, path in routes:
        if method == "GET":
            status, html = await page.get(path)
        else:
            status, html, _ = await page.post(path, {"do": "retire", "name": "x"}, follow=False)
        assert status == 403, f"{method} {path} answered {status}"
        assert "bara för administratörer" in html, f"{method} {path}"


async def test_without_a_session_every_admin_url_leads_to_the_login(
    gateway: TestClient, form_browser: Callable[[], AdminBrowser]
) -> None:
    page = form_browser()
    for method, path in admin_routes(gateway):
        if method == "GET":
            status, _ = await page.get(path)
            async with page.session.get(f"{page.base}{path}", allow_redirects=False) as response:
                location = response.headers.get("Location", "")
        else:
            status, _, location = await page.post(path, {}, follow=False)
        assert status == 303 and location.startswith("/admin/login"), f"{method} {path}: {status} {location}"


async def test_every_admin_post_needs_the_forms_csrf_token(gateway: TestClient, admin_browser: AdminBrowser) -> None:
    posts = [path for method, path in admin_routes(gateway) if method == "POST"]
    assert len(posts) >= 10
    for path in posts:
        admin_browser.csrf = "fel"
        status, _, _ = await admin_browser.post(path, {"do": "retire"}, follow=False)
        assert status == 403, path
