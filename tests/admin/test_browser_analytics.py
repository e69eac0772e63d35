"""The analytics page and the lägesbild in a real browser (Debian's Chromium): the charts
render (inline SVG, no CSP complaint), the pages pass the accessibility checks, the
lägesbild is made on demand and prints. Screenshots go to docs/screenshots/ (README) and
test-artifacts/."""

from __future__ import annotations

import random
import re
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import expect

from bench.analytics import seed
from core.settings import PROJECT_ROOT
from tests.admin.conftest import ADMIN_MOMENT
from tests.admin.test_browser_admin import accessible
from tests.browser_support import LiveGateway, PageProblems, screenshot, start_gateway, stop_gateway

pytest_plugins = ["tests.browser_support"]
pytestmark = pytest.mark.browser

DOCS = PROJECT_ROOT / "docs" / "screenshots"
PERIOD = "fran=2026-09-15&till=2026-12-08"


@pytest.fixture
def seeded_live(db_url: str, tmp_path: Path) -> Iterator[tuple[LiveGateway, dict[str, Any]]]:
    """Twelve weeks of 3,000 generated conversations (the bench's generator), a gateway on them."""
    accounts = seed(db_url, 3000, random.Random(4))
    gateway = start_gateway(db_url, tmp_path / "var", ADMIN_MOMENT)
    try:
        yield gateway, accounts
    finally:
        stop_gateway(gateway)


def log_in(page: Any, url: str, email: str, password: str) -> None:
    page.goto(url + "/admin/login")
    page.get_by_label("E-postadress").fill(email)
    page.get_by_label("Lösenord").fill(password)
    page.get_by_role("button", name="Logga in").click()


def keep(page: Any, name: str) -> None:
    """A full-page screenshot in test-artifacts/ and docs/screenshots/."""
    page.screenshot(path=str(screenshot(page, name)), full_page=True)
    DOCS.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(PROJECT_ROOT / "test-artifacts" / f"{name}.png", DOCS / f"{name}.png")


def test_the_analytics_page_draws_its_charts(
    seeded_live: tuple[LiveGateway, dict[str, Any]], new_context: Any, problems: PageProblems
) -> None:
    live, accounts = seeded_live
    page = problems.watch(new_context(viewport={"width": 1280, "height": 900}).new_page(), "admin")
    log_in(page, live.url, accounts["email"], accounts["password"])
    page.goto(f"{live.url}/admin/analytics?{PERIOD}")
    expect(page.get_by_role("heading", level=1)).to_have_text("Statistik för hela regionen")
    charts = page.locator("svg.svg-chart")
    expect(charts).to_have_count(8)
    expect(page.get_by_role("group", name=re.compile("Vanligaste obesvarade frågor"))).to_be_visible()
    for name in ("Samtal per dag och kanal", "Överlämningar efter orsak",
                 "Hänvisningar per mottagare och vecka", "Kötid och tid till första svar",
                 "Nöjdhet (CSAT) per rådgivare"):
        chart = page.get_by_role("img", name=re.compile(re.escape(name)))
        expect(chart).to_be_visible()
        box = chart.bounding_box()
        assert box is not None and box["width"] > 300 and box["height"] > 40, name
    assert page.locator("svg.svg-chart rect.series-0").count() > 20  # bars were drawn
    # the data behind a chart, as a table
    page.locator("#diagram-utfall summary").click()
    expect(page.locator("#diagram-utfall table")).to_contain_text("Utan människa")
    accessible(page, "/admin/analytics")
    keep(page, "analytics")
    # one click from an unanswered question to the review list
    page.locator("#diagram-obesvarade svg a").first.click()
    expect(page).to_have_url(re.compile(r"/admin/review\?fallback=1&fran=2026-09-15&till=2026-12-08"))
    problems.assert_clean()


def test_an_advisor_sees_their_own_figures(
    seeded_live: tuple[LiveGateway, dict[str, Any]], new_context: Any, problems: PageProblems
) -> None:
    live, accounts = seeded_live
    page = problems.watch(new_context(viewport={"width": 1280, "height": 900}).new_page(), "advisor")
    log_in(page, live.url, accounts["advisor_email"], accounts["password"])
    page.goto(f"{live.url}/statistik?{PERIOD}")
    expect(page.get_by_role("heading", level=1)).to_have_text("Min statistik")
    expect(page.locator("svg.svg-chart")).to_have_count(5)
    expect(page.get_by_role("link", name="Statistik", exact=True)).to_have_count(0)
    accessible(page, "/statistik")
    keep(page, "analytics-advisor")
    problems.assert_clean()


def test_a_lagesbild_is_made_on_demand_and_prints(
    seeded_live: tuple[LiveGateway, dict[str, Any]], new_context: Any, problems: PageProblems
) -> None:
    live, accounts = seeded_live
    page = problems.watch(new_context(viewport={"width": 1280, "height": 900}).new_page(), "admin")
    log_in(page, live.url, accounts["email"], accounts["password"])
    page.goto(f"{live.url}/admin/lagesbild")
    expect(page.get_by_label("En dag i veckan")).to_have_value("2026-11-30")
    page.get_by_role("button", name="Skapa lägesbild").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Lägesbild v. 49 2026")
    expect(page.locator("svg.svg-chart")).to_have_count(4)
    expect(page.get_by_role("img", name=re.compile("Vad företagen frågade om"))).to_be_visible()
    expect(page.locator(".quotes blockquote").first).to_be_visible()
    accessible(page, "lägesbild")
    keep(page, "lagesbild")
    page.get_by_role("link", name="Utskriftsvänlig version").click()
    page.emulate_media(media="print")
    expect(page.locator(".topbar")).to_have_count(0)
    expect(page.locator(".no-print")).to_be_hidden()
    keep(page, "lagesbild-print")
    pdf = page.pdf(format="A4", print_background=True)
    assert pdf.startswith(b"%PDF") and len(pdf) > 10_000
    page.goto(f"{live.url}/admin/lagesbild")
    expect(page.locator("table")).to_contain_text("v. 49 2026")
    problems.assert_clean()
