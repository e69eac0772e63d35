"""Support for the browser tests: Debian's Chromium driven by Playwright, and a live gateway.

Playwright cannot download its own browser here, so the tests launch the system Chromium
(`scripts/install_browser.sh` installs Debian's package). The gateway runs for real on a
loopback port in a background thread (Playwright needs a real socket), with its own event
loop, so the synchronous Playwright API can drive it from the test thread.

Test modules load the fixtures below with `pytest_plugins = ["tests.browser_support"]`
after importing helpers from here; PYTEST_DONT_REWRITE (this marker) keeps pytest from
warning that the module was imported before it became a plugin.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import os
import shutil
import subprocess
import threading
import time
from collections.abc import Awaitable, Callable, Iterator
from concurrent.futures import Future
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from scripts.stack import free_port

PROJECT_ROOT = Path(__file__).resolve().parent.parent
ARTIFACTS = PROJECT_ROOT / "test-artifacts"

CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
]

_chromium_cache: dict[str, str | None] = {}


def find_chromium() -> str | None:
    """The Chromium binary to drive: $CHROMIUM, else chromium on PATH."""
    candidates = (os.environ.get("CHROMIUM"), "chromium", "/usr/bin/chromium", "chromium-browser")
    for candidate in candidates:
        if not candidate:
            continue
        path = shutil.which(candidate)
        if path:
            return path
    return None


def chromium_or_skip() -> str:
    """The Chromium path; installs it once when missing, or skips with the reason why not."""
    if "path" in _chromium_cache:
        path = _chromium_cache["path"]
        if path is None:
            if os.environ.get("CI"):
                pytest.fail(_chromium_cache.get("reason") or "Chromium is missing", pytrace=False)
            pytest.skip(_chromium_cache.get("reason") or "Chromium is not available")
        return path
    path = find_chromium()
    reason = None
    if path is None:
        script = PROJECT_ROOT / "scripts" / "install_browser.sh"
        result = subprocess.run(
            ["bash", str(script)], capture_output=True, text=True, timeout=900, check=False
        )
        path = find_chromium()
        if path is None:
            reason = (
                "Chromium is not installed and scripts/install_browser.sh could not install it: "
                + (result.stderr.strip() or result.stdout.strip() or f"exit {result.returncode}")
            )
    _chromium_cache["path"] = path
    _chromium_cache["reason"] = reason
    if path is None:
        if os.environ.get("CI"):
            # CI installs Chromium (scripts/install_browser.sh): a skip there would hide it.
            pytest.fail(reason or "Chromium is not available", pytrace=False)
        pytest.skip(reason or "Chromium is not available")
    return path


class LiveServer:
    """Runs aiohttp applications on a fixed loopback port in a background event loop.

    `start()` builds a fresh application with `app_factory` (an aiohttp Application cannot
    be started again after its runner was cleaned up), so `stop()` + `start()` is a restart
    on the same port, like a deployment restarting the gateway.
    """

    def __init__(self, app_factory: Callable[[], Any], port: int | None = None) -> None:
        self.app_factory = app_factory
        self.port = port or free_port()
        self.loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._run, name=f"live-{self.port}", daemon=True)
        self._thread.start()
        self._runner: Any = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def _run(self) -> None:
        asyncio.set_event_loop(self.loop)
        self.loop.run_forever()

    def call(self, coro_factory: Callable[[], Awaitable[Any]], timeout: float = 30) -> Any:
        """Runs a coroutine on the server's loop and returns its result."""

        async def runner() -> Any:
            return await coro_factory()

        future: Future[Any] = asyncio.run_coroutine_threadsafe(runner(), self.loop)
        return future.result(timeout)

    def start(self) -> None:
        from aiohttp import web

        async def start() -> None:
            app = self.app_factory()
            if asyncio.iscoroutine(app):
                app = await app
            runner = web.AppRunner(app, handle_signals=False, access_log=None, shutdown_timeout=1)
            await runner.setup()
            site = web.TCPSite(runner, "127.0.0.1", self.port, reuse_address=True)
            await site.start()
            self._runner = runner

        self.call(start)

    def stop(self) -> None:
        runner = self._runner
        self._runner = None
        if runner is not None:
            self.call(runner.cleanup)

    def close(self) -> None:
        try:
            self.stop()
        finally:
            self.loop.call_soon_threadsafe(self.loop.stop)
            self._thread.join(10)
            self.loop.close()


@contextmanager
def live_server(app_factory: Callable[[], Any], port: int | None = None) -> Iterator[LiveServer]:
    server = LiveServer(app_factory, port)
    try:
        server.start()
        yield server
    finally:
        server.close()


def screenshot(page: Any, name: str) -> Path:
    """Saves a screenshot under test-artifacts/ (gitignored) and returns its path."""
    ARTIFACTS.mkdir(exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    page.screenshot(path=str(path))
    return path


class PageProblems:
    """Collects what a page reports that a test should fail on: uncaught errors, CSP
    violations and console errors, and any JavaScript dialog (alert) that opens."""

    def __init__(self) -> None:
        self.errors: list[str] = []
        self.dialogs: list[str] = []

    def watch(self, page: Any, label: str) -> Any:
        page.on("pageerror", lambda exc: self.errors.append(f"{label}: uncaught {exc}"))

        def on_console(msg: Any) -> None:
            if msg.type == "error":
                self.errors.append(f"{label}: console error: {msg.text}")

        page.on("console", on_console)

        def on_dialog(dialog: Any) -> None:
            self.dialogs.append(f"{label}: {dialog.type} {dialog.message}")
            dialog.dismiss()

        page.on("dialog", on_dialog)
        return page

    def assert_clean(self, allow: tuple[str, ...] = ()) -> None:
        errors = [e for e in self.errors if not any(a in e for a in allow)]
        assert not self.dialogs, f"a dialog opened (script ran?): {self.dialogs}"
        assert not errors, "the pages reported errors:\n" + "\n".join(errors)


# ---------------------------------------------------------------------------- fixtures
#
# Test modules load these with `pytest_plugins = ["tests.browser_support"]`. They build on
# the gateway engineer's plain building blocks (tests/gateway/conftest.py, fake_rasa.py):
# the migrated database (`db_url`), advisor accounts (`advisor`), the fake Rasa and the app
# factory. The gateway runs for real on a loopback port; its clock runs from a moment the
# test chooses (inside or outside opening hours).

STOCKHOLM = "Europe/Stockholm"


class RunningClock:
    """A clock that starts at a chosen moment and then runs with real time."""

    def __init__(self, start: dt.datetime) -> None:
        self.start = start
        self._t0 = time.monotonic()

    def __call__(self) -> dt.datetime:
        return self.start + dt.timedelta(seconds=time.monotonic() - self._t0)


@dataclass
class LiveGateway:
    """A started gateway with its fake Rasa, restartable on the same port."""

    server: LiveServer
    rasa_server: LiveServer
    fake_rasa: Any
    settings: Any
    clock: RunningClock

    @property
    def url(self) -> str:
        return self.server.url

    def restart(self, downtime: Callable[[], None] | None = None) -> None:
        """Stops the gateway, runs `downtime()` while it is down, and starts it again."""
        self.server.stop()
        if downtime is not None:
            downtime()
        self.server.start()


def start_gateway(
    db_url: str, var_dir: Path, start: dt.datetime, rasa: Any = None, **env: str
) -> LiveGateway:
    """Fake Rasa (`rasa`, default bench.fake_rasa.FakeRasa()) + the real gateway
    app, each on its own loopback port."""
    from bench.fake_rasa import TOKEN, FakeRasa
    from bot.app import create_app
    from core.settings import load_settings

    fake = rasa if rasa is not None else FakeRasa()
    rasa_server = LiveServer(fake.app)
    rasa_server.start()
    port = free_port()
    settings = load_settings(
        {
            "DATABASE_URL": db_url,
            "VAR_DIR": str(var_dir),
            "GATEWAY_HOST": "127.0.0.1",
            "GATEWAY_PORT": str(port),
            "RASA_HOST": "127.0.0.1",
            "RASA_PORT": str(rasa_server.port),
            "RASA_TOKEN": TOKEN,
            "SESSION_SECRET": "browser-test-secret",
            "RASA_TIMEOUT_SECONDS": "5",
            **env,
        }
    )
    clock = RunningClock(start)
    server = LiveServer(lambda: create_app(settings, clock=clock), port)
    try:
        server.start()
    except BaseException:
        rasa_server.close()
        server.close()
        raise
    return LiveGateway(server, rasa_server, fake, settings, clock)


def stop_gateway(gw: LiveGateway) -> None:
    try:
        gw.server.close()
    finally:
        gw.rasa_server.close()


@pytest.fixture(scope="session")
def chromium_path() -> str:
    return chromium_or_skip()


@pytest.fixture
def browser(chromium_path: str) -> Iterator[Any]:
    """A fresh Chromium per test. Not shared across tests: while the synchronous Playwright
    API is active it keeps an event loop marked as running in the main thread, which would
    break the asyncio tests (pytest-asyncio) that run after the browser tests."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        chromium = pw.chromium.launch(
            executable_path=chromium_path, headless=True, args=CHROMIUM_ARGS
        )
        try:
            yield chromium
        finally:
            chromium.close()


@pytest.fixture
def new_context(browser: Any) -> Iterator[Callable[..., Any]]:
    """Independent browser profiles (own cookies and localStorage), closed afterwards."""
    contexts: list[Any] = []

    def build(**options: Any) -> Any:
        settings: dict[str, Any] = {
            "viewport": {"width": 1280, "height": 800},
            "locale": "sv-SE",
            "timezone_id": STOCKHOLM,
        }
        settings.update(options)
        context = browser.new_context(**settings)
        context.set_default_timeout(10_000)
        contexts.append(context)
        return context

    yield build
    for context in contexts:
        context.close()


@pytest.fixture
def problems() -> PageProblems:
    return PageProblems()


# The same moments as tests/gateway/conftest.py (not imported from there: this module is
# also a plugin of browser tests outside tests/gateway).
# Tuesday 24 November 2026 at 10:00 in Stockholm: advisors are at work.
OPEN_MOMENT = dt.datetime(2026, 11, 24, 9, 0, tzinfo=dt.timezone.utc)
# The same Tuesday at 20:00: closed.
CLOSED_MOMENT = dt.datetime(2026, 11, 24, 19, 0, tzinfo=dt.timezone.utc)


@pytest.fixture
def live_gateway(db_url: str, tmp_path: Path) -> Iterator[LiveGateway]:
    """The gateway inside opening hours (a Tuesday morning in Stockholm)."""
    gw = start_gateway(db_url, tmp_path / "var", OPEN_MOMENT)
    try:
        yield gw
    finally:
        stop_gateway(gw)


@pytest.fixture
def closed_gateway(db_url: str, tmp_path: Path) -> Iterator[LiveGateway]:
    """The gateway outside opening hours (the same Tuesday evening)."""
    gw = start_gateway(db_url, tmp_path / "var", CLOSED_MOMENT)
    try:
        yield gw
    finally:
        stop_gateway(gw)


# ---------------------------------------------------------------------------- page helpers

# Records desktop notifications and WebAudio beeps (installed before any page script runs;
# Playwright injects it through the DevTools protocol, so the page's CSP does not apply).
SPY_SCRIPT = """
(() => {
  const spy = { notifications: [], beeps: 0 };
  Object.defineProperty(window, "__spy", { value: spy });
  class FakeNotification {
    constructor(title, options) {
      spy.notifications.push({ title, body: options && options.body });
    }
    close() {}
  }
  FakeNotification.permission = "granted";
  FakeNotification.requestPermission = () => Promise.resolve("granted");
  window.Notification = FakeNotification;
  const Ctx = window.AudioContext;
  if (Ctx) {
    const create = Ctx.prototype.createOscillator;
    Ctx.prototype.createOscillator = function () { spy.beeps += 1; return create.call(this); };
  }
})();
"""


def is_focused(locator: Any) -> bool:
    """True when the element has focus (also inside the widget's shadow root)."""
    return bool(locator.evaluate("el => el === el.getRootNode().activeElement"))


def tab_until(page: Any, locator: Any, limit: int = 60, key: str = "Tab") -> int:
    """Presses Tab until `locator` has focus; returns how many presses it took."""
    for presses in range(1, limit + 1):
        page.keyboard.press(key)
        if is_focused(locator):
            return presses
    raise AssertionError(f"{locator} never got focus in {limit} presses of {key}")


def open_widget(page: Any, base_url: str) -> Any:
    """Loads the demo page, opens the chat and waits for the greeting; returns the textbox."""
    from playwright.sync_api import expect

    page.goto(base_url + "/")
    page.get_by_role("button", name="Öppna chatten").click()
    box = page.get_by_role("textbox", name="Meddelande", exact=True)
    expect(box).to_be_focused()
    expect(page.get_by_role("log").get_by_text("digitala assistent").first).to_be_visible()
    return box


def console_login(page: Any, base_url: str, account: Any) -> None:
    from playwright.sync_api import expect

    page.goto(base_url + "/console")
    page.get_by_label("E-postadress").fill(account.email)
    page.get_by_label("Lösenord").fill(account.password)
    page.get_by_role("button", name="Logga in").click()
    expect(page.get_by_text("Inloggad som")).to_contain_text(account.name)
    expect(page.get_by_role("status").filter(has_text="Ansluten")).to_be_visible()


# WCAG 2.1 contrast of every visible text under `root` (shadow roots included), against
# the composited background colours of its ancestors. Returns the failures.
CONTRAST_SCRIPT = """
(root) => {
  const parse = (c) => {
    const m = /rgba?\\(([^)]+)\\)/.exec(c || "");
    if (!m) return null;
    const p = m[1].split(",").map((s) => parseFloat(s));
    return { r: p[0], g: p[1], b: p[2], a: p.length > 3 ? p[3] : 1 };
  };
  const over = (top, under) => ({
    r: top.r * top.a + under.r * (1 - top.a),
    g: top.g * top.a + under.g * (1 - top.a),
    b: top.b * top.a + under.b * (1 - top.a),
    a: 1,
  });
  const lum = (c) => {
    const f = (v) => {
      v /= 255;
      return v <= 0.03928 ? v / 12.92 : Math.pow((v + 0.055) / 1.055, 2.4);
    };
    return 0.2126 * f(c.r) + 0.7152 * f(c.g) + 0.0722 * f(c.b);
  };
  const parentOf = (n) =>
    n.parentNode && n.parentNode.nodeType === 11 ? n.parentNode.host : n.parentNode;
  const background = (el) => {
    const layers = [];
    for (let n = el; n && n.nodeType === 1; n = parentOf(n)) {
      const cs = getComputedStyle(n);
      if (cs.backgroundImage && cs.backgroundImage !== "none") return null;  // gradients: skip
      const c = parse(cs.backgroundColor);
      if (c && c.a > 0) { layers.push(c); if (c.a >= 1) break; }
    }
    let out = { r: 255, g: 255, b: 255, a: 1 };
    for (let i = layers.length - 1; i >= 0; i--) out = over(layers[i], out);
    return out;
  };
  const failures = [];
  let checked = 0;
  const visit = (node) => {
    if (node.shadowRoot) visit(node.shadowRoot);
    for (const el of node.querySelectorAll("*")) {
      if (el.shadowRoot) visit(el.shadowRoot);
      const text = Array.from(el.childNodes)
        .filter((c) => c.nodeType === 3).map((c) => c.textContent).join("").trim();
      if (!text || !el.getClientRects().length) continue;
      if (el.closest("[disabled]") || el.closest(".sr-only")) continue;
      const cs = getComputedStyle(el);
      if (cs.visibility === "hidden" || parseFloat(cs.opacity) === 0) continue;
      const bg = background(el);
      if (!bg) continue;
      const fg = over(parse(cs.color), bg);
      const l1 = lum(fg), l2 = lum(bg);
      const ratio = (Math.max(l1, l2) + 0.05) / (Math.min(l1, l2) + 0.05);
      const size = parseFloat(cs.fontSize), weight = parseInt(cs.fontWeight, 10);
      const large = size >= 24 || (size >= 18.66 && weight >= 700);
      checked += 1;
      if (ratio < (large ? 3 : 4.5)) {
        const back = [bg.r, bg.g, bg.b].map(Math.round).join(",");
        failures.push(`${ratio.toFixed(2)}:1 "${text.slice(0, 40)}" (${cs.color} on rgb(${back}))`);
      }
    }
  };
  visit(root);
  return { checked, failures };
}
"""


def contrast_failures(page: Any, selector: str = "body") -> tuple[int, list[str]]:
    result = page.locator(selector).first.evaluate(CONTRAST_SCRIPT)
    return int(result["checked"]), list(result["failures"])


INTERACTIVE_ROLES = {
    "button",
    "link",
    "textbox",
    "combobox",
    "checkbox",
    "radio",
    "listbox",
    "searchbox",
    "menuitem",
    "tab",
    "switch",
    "slider",
    "spinbutton",
    "dialog",
    "log",
}


def unnamed_controls(page: Any) -> list[str]:
    """Interactive nodes of the page's accessibility tree (as Chromium computes it, shadow
    DOM included) that have no accessible name."""
    cdp = page.context.new_cdp_session(page)
    try:
        tree = cdp.send("Accessibility.getFullAXTree")
    finally:
        cdp.detach()
    missing = []
    for node in tree["nodes"]:
        if node.get("ignored"):
            continue
        role = (node.get("role") or {}).get("value")
        name = ((node.get("name") or {}).get("value") or "").strip()
        if role in INTERACTIVE_ROLES and not name:
            missing.append(f"{role} (backend node {node.get('backendDOMNodeId')})")
    return missing
