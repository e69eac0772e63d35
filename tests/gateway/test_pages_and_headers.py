"""The UI's files are served with a strict Content-Security-Policy and safe headers."""

from __future__ import annotations

from aiohttp.test_utils import TestClient


async def test_the_demo_page_and_console_are_html_with_a_strict_csp(gateway: TestClient) -> None:
    for path, title in (("/", "Demo"), ("/console", "Rådgivare")):
        response = await gateway.get(path)
        assert response.status == 200
        assert response.content_type == "text/html"
        assert title in await response.text()
        csp = response.headers["Content-Security-Policy"]
        assert "script-src 'self';" in csp
        assert "'unsafe-inline'" not in csp
        assert "frame-ancestors 'none'" in csp
        assert "object-src 'none'" in csp
        assert f"ws://{gateway.host}:{gateway.port}" in csp
        assert response.headers["X-Frame-Options"] == "DENY"
        assert response.headers["X-Content-Type-Options"] == "nosniff"
        assert response.headers["Referrer-Policy"] == "strict-origin-when-cross-origin"


async def test_the_widget_script_may_be_embedded_by_other_sites(gateway: TestClient) -> None:
    response = await gateway.get("/widget.js")
    assert response.status == 200
    assert response.headers["Cross-Origin-Resource-Policy"] == "cross-origin"
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert "javascript" in response.content_type
    css = await gateway.get("/static/console.css")
    assert css.status == 200 and css.content_type == "text/css"


async def test_static_files_cannot_escape_their_folder(gateway: TestClient) -> None:
    for path in ("/static/../secret.txt", "/static/%2e%2e/secret.txt", "/static/nothing.js"):
        response = await gateway.get(path)
        assert response.status == 404, path


async def test_api_answers_are_never_cached_and_carry_the_csp(gateway: TestClient) -> None:
    response = await gateway.get("/console/api/session")
    assert response.headers["Cache-Control"] == "no-store"
    assert "default-src 'self'" in response.headers["Content-Security-Policy"]


async def test_errors_carry_the_security_headers_too(gateway: TestClient) -> None:
    response = await gateway.get("/no/such/page")
    assert response.status == 404
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert "Content-Security-Policy" in response.headers


async def test_health_says_little(gateway: TestClient) -> None:
    response = await gateway.get("/healthz")
    assert await response.json() == {"status": "ok"}


async def test_rasa_is_not_reachable_through_the_gateway(gateway: TestClient) -> None:
    for path in ("/conversations/x/tracker", "/model/parse", "/status", "/webhooks/rest/"):
        response = await gateway.get(path)
        assert response.status in {404, 405}, path
