"""The admin pages in a real browser (Debian's Chromium): every screen, keyboard filing in
the review list, a stale save, a revert, an advisor refused everywhere; the pages' names,
contrast and CSP checked on each. Screenshots go to test-artifacts/admin-*.png."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from bot.app import create_app
from content.models import Example, Intent
from core.db import make_engine, make_sessionmaker
from core.settings import PROJECT_ROOT
from tests.admin.conftest import ADMIN_MOMENT
from tests.admin.review_data import write_conversations, write_tracker
from tests.admin.test_roles import concrete
from tests.browser_support import (
    LiveGateway,
    PageProblems,
    contrast_failures,
    screenshot,
    start_gateway,
    stop_gateway,
    unnamed_controls,
)
from tests.gateway.conftest import AdvisorAccount

pytest_plugins = ["tests.browser_support"]
pytestmark = pytest.mark.browser

AXE = PROJECT_ROOT / "tests" / "vendor" / "axe.min.js"
SCREENS = [
    ("/admin/intents", "Avsikter", "admin-intents"),
    ("/admin/intents/financing", "financing", "admin-intent"),
    ("/admin/intents/new", "Ny avsikt", "admin-new-intent"),
    ("/admin/responses", "Svar", "admin-responses"),
    ("/admin/responses/utter_no_referral", "utter_no_referral", "admin-response"),
    ("/admin/directory", "Katalogen", "admin-directory"),
    ("/admin/directory/organisations/almi", "Almi Företagspartner Mälardalen", "admin-organisation"),
    ("/admin/directory/topics/financing", "Ämne: Lån och finansiering", "admin-topic"),
    ("/admin/review", "Granska samtal", "admin-review"),
    ("/admin/history", "Historik", "admin-history"),
    ("/admin/accounts", "Konton", "admin-accounts"),
]


@pytest.fixture
def admin_live(db_url: str, tmp_path: Path) -> Iterator[LiveGateway]:
    write_conversations(db_url)
    gateway = start_gateway(db_url, tmp_path / "var", ADMIN_MOMENT,
                            RASA_TRACKER_URL=write_tracker(tmp_path / "tracker.db"))
    try:
        yield gateway
    finally:
        stop_gateway(gateway)


def log_in(page: Any, url: str, account: AdvisorAccount) -> None:
    page.goto(url + "/admin/login")
    page.get_by_label("E-postadress").fill(account.email)
    page.get_by_label("Lösenord").fill(account.password)
    page.get_by_role("button", name="Logga in").click()


def accessible(page: Any, label: str) -> None:
    expect(page.locator("html")).to_have_attribute("lang", "sv")
    assert unnamed_controls(page) == [], label
    checked, failures = contrast_failures(page)
    assert checked > 10 and failures == [], f"{label}: {failures}"
    if AXE.exists():  # vendored on the inbox branch; bypasses the CSP only for the check itself
        page.evaluate(AXE.read_text(encoding="utf-8"))
        violations = page.evaluate(
            "async () => (await axe.run(document, {runOnly: ['wcag2a', 'wcag2aa']})).violations"
            ".map(v => v.id + ': ' + v.nodes.length)")
        assert violations == [], f"{label}: {violations}"


def test_every_admin_screen_is_named_readable_and_keyboard_ready(
    admin_live: LiveGateway, admin: AdvisorAccount, new_context: Any, problems: PageProblems
) -> None:
    page = problems.watch(new_context().new_page(), "admin")
    log_in(page, admin_live.url, admin)
    expect(page.get_by_role("heading", name="Översikt")).to_be_visible()
    for path, heading, name in SCREENS:
        page.goto(admin_live.url + path)
        expect(page.get_by_role("heading", level=1)).to_contain_text(heading)
        expect(page.get_by_role("navigation", name="Administration")).to_be_visible()
        accessible(page, path)
        screenshot(page, name)
    # The skip link and the first control are reachable by keyboard.
    page.goto(admin_live.url + "/admin/intents")
    page.keyboard.press("Tab")
    expect(page.get_by_role("link", name="Hoppa till innehållet")).to_be_focused()
    problems.assert_clean()


def test_an_admin_creates_an_intent_and_files_a_conversation_with_the_keyboard(
    admin_live: LiveGateway, admin: AdvisorAccount, new_context: Any, problems: PageProblems, db_url: str
) -> None:
    page = problems.watch(new_context().new_page(), "admin")
    log_in(page, admin_live.url, admin)
    page.goto(admin_live.url + "/admin/intents/new")
    page.get_by_label("Namn", exact=True).fill("energy_support")
    page.get_by_role("radio", name=re.compile("^Hänvisning")).check()
    page.get_by_label("Exempel, ett per rad").fill("stöd för höga elpriser\nhjälp med energikostnaderna\n")
    page.get_by_label("Ämnets namn").fill("Energistöd")
    page.get_by_label("Organisation som nämns först").select_option("foretagssupport")
    page.get_by_role("button", name="Skapa avsikten").click()
    expect(page.get_by_role("status")).to_have_text("Skapad.")
    expect(page.get_by_role("heading", level=1)).to_have_text("energy_support")
    expect(page.get_by_text("stöd för höga elpriser")).to_be_visible()

    page.goto(admin_live.url + "/admin/review?fallback=1")
    item = page.locator("article.review-item")
    expect(item).to_have_count(1)
    expect(item).to_contain_text("vi har problem med kassaflödet efter en stor kundförlust")
    expect(item).to_contain_text(re.compile(r"Tolkades som\s*nlu_fallback"))
    page.keyboard.press("j")  # to the first message
    expect(item).to_be_focused()
    screenshot(page, "admin-review-keyboard")
    page.keyboard.press("a")  # file it under the best guess (economy_advice)
    expect(page.get_by_role("status")).to_have_text("Meddelandet är inlagt som exempel.")
    expect(page.locator("article.review-item")).to_have_count(0)
    engine = make_engine(db_url)
    with make_sessionmaker(engine)() as session:
        intent = session.scalar(select(Intent.name).join(Example).where(
            Example.text == "vi har problem med kassaflödet efter en stor kundförlust"))
    engine.dispose()
    assert intent == "economy_advice"
    problems.assert_clean()


def test_a_stale_save_is_told_and_a_change_is_reverted_from_the_history(
    admin_live: LiveGateway, admin: AdvisorAccount, make_admin: Any, new_context: Any, problems: PageProblems
) -> None:
    other_account = make_admin("olle.ek@foretagssupport.se", "Olle Ek")
    first = problems.watch(new_context().new_page(), "eva")
    second = problems.watch(new_context().new_page(), "olle")
    log_in(first, admin_live.url, admin)
    log_in(second, admin_live.url, other_account)
    for page in (first, second):
        page.goto(admin_live.url + "/admin/directory/organisations/almi")
    first.get_by_label("Andra namn, ett per rad").fill("Almi\nLånebolaget")
    first.get_by_role("button", name="Spara").click()
    expect(first.get_by_role("status")).to_have_text("Ändringen är sparad.")
    second.get_by_label("Vad de gör (assistenten säger det)").fill("Almi lånar ut pengar till företag.")
    second.get_by_role("button", name="Spara").click()
    alert = second.get_by_role("alert")
    expect(alert).to_contain_text("Någon annan har ändrat det här medan du redigerade.")
    expect(alert.get_by_role("textbox", name="Beskrivning")).to_have_value("Almi lånar ut pengar till företag.")
    expect(second.get_by_label("Andra namn, ett per rad")).to_have_value("Almi\nLånebolaget")
    screenshot(second, "admin-conflict")

    first.goto(admin_live.url + "/admin/history")
    latest = first.locator("ol.history > li").first
    expect(latest).to_contain_text("ändrade organisationen almi")
    expect(latest.locator("ins")).to_contain_text("Lånebolaget")
    screenshot(first, "admin-history-diff")
    latest.get_by_role("button", name="Ångra den här ändringen").click()
    expect(first.get_by_role("status")).to_have_text("Ändringen är ångrad.")
    first.goto(admin_live.url + "/admin/directory/organisations/almi")
    expect(first.get_by_label("Andra namn, ett per rad")).to_have_value("Almi")
    problems.assert_clean(allow=("status of 409",))  # the stale save's answer, shown as a page


def test_an_advisor_gets_403_on_every_admin_page(
    admin_live: LiveGateway, advisor: AdvisorAccount, new_context: Any
) -> None:
    page = new_context().new_page()
    log_in(page, admin_live.url, advisor)
    expect(page).to_have_url(re.compile("/console$"))
    app = create_app(admin_live.settings)
    paths = []
    for route in app.router.routes():
        info = route.resource.get_info() if route.resource is not None else {}
        template = info.get("path") or info.get("formatter") or ""
        if route.method == "GET" and template.startswith("/admin") and template != "/admin/login":
            paths.append(concrete(template, info.get("pattern")))
    assert len(paths) >= 12
    for path in paths:
        response = page.goto(admin_live.url + path)
        assert response is not None and response.status == 403, path
        expect(page.get_by_role("heading", name="Ingen behörighet")).to_be_visible()
    screenshot(page, "admin-forbidden")
