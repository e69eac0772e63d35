"""Privacy and satisfaction in the widget, in real Chromium against the real gateway (fake
Rasa): the notice before the first message, a personnummer masked, "Radera min chatt", and
a rating after an advisor closes. Screenshots go to test-artifacts/ (docs/screenshots/
holds copies)."""

from __future__ import annotations

import sqlite3
from typing import Any

import pytest
from playwright.sync_api import expect

from bench.fake_rasa import HUMAN_PLEASE
from tests.browser_support import (
    LiveGateway,
    PageProblems,
    console_login,
    open_widget,
    screenshot,
)
from tests.gateway.conftest import AdvisorAccount

pytest_plugins = ["tests.browser_support"]
pytestmark = pytest.mark.browser

PNR = "811218-9876"  # Skatteverket's test personnummer


def stored_texts(db_url: str) -> list[str]:
    with sqlite3.connect(db_url.removeprefix("sqlite:///")) as db:
        return [row[0] or "" for row in db.execute("SELECT text FROM messages")]


def test_the_notice_before_the_first_message_a_masked_number_and_erasing_the_chat(
    live_gateway: LiveGateway, new_context: Any, problems: PageProblems, db_url: str
) -> None:
    company = problems.watch(new_context().new_page(), "company")
    box = open_widget(company, live_gateway.url)
    notice = company.get_by_role("region", name="Om din chatt")
    expect(notice).to_be_visible()
    expect(notice).to_contain_text("90 dagar")
    expect(notice).to_contain_text("rådgivare")
    expect(notice).to_contain_text("id sparas i din webbläsare")
    expect(notice).to_contain_text("Radera min chatt")
    link = notice.get_by_role("link", name="Så hanterar vi personuppgifter")
    assert link.get_attribute("href") == live_gateway.url + "/integritet"
    screenshot(company, "privacy-notice")

    box.fill(f"Hej, mitt personnummer är {PNR}")
    box.press("Enter")
    log = company.get_by_role("log", name="Meddelanden i chatten")
    expect(log.get_by_text("Hej, mitt personnummer är [personnummer borttaget]", exact=True)).to_be_visible()
    expect(log.get_by_text("sparar vi inte personnummer")).to_be_visible()
    expect(notice).to_be_hidden()  # shown before the first message only
    assert not any("9876" in t for t in stored_texts(db_url))
    screenshot(company, "privacy-masked")

    # "Radera min chatt": asked to confirm, cancelled, then confirmed.
    company.get_by_role("button", name="Radera min chatt").click()
    confirm = company.get_by_role("alertdialog")
    expect(confirm).to_contain_text("Det går inte att ångra")
    confirm.get_by_role("button", name="Avbryt").click()
    expect(confirm).to_be_hidden()
    company.get_by_role("button", name="Radera min chatt").click()
    screenshot(company, "privacy-erase-confirm")
    confirm.get_by_role("button", name="Ja, radera chatten").click()
    expect(company.get_by_text("Din chatt är raderad.")).to_be_visible()
    expect(log.get_by_text("[personnummer borttaget]")).to_have_count(0)
    assert not any("personnummer" in t for t in stored_texts(db_url))
    # The browser forgot the id: a reload starts a new chat, with the notice again.
    company.reload()  # the panel stays open across the reload, as before
    expect(company.get_by_role("region", name="Om din chatt")).to_be_visible()
    expect(log.get_by_text("[personnummer borttaget]")).to_have_count(0)
    problems.assert_clean()

    page = new_context().new_page()
    page.goto(live_gateway.url + "/integritet")
    expect(page.get_by_role("heading", name="Så hanterar vi personuppgifter i chatten")).to_be_visible()
    expect(page.get_by_text("Chattar raderas 90 dagar")).to_be_visible()


def test_after_the_advisor_closes_the_company_rates_the_help(
    live_gateway: LiveGateway, advisor: AdvisorAccount, new_context: Any, problems: PageProblems, db_url: str
) -> None:
    company = problems.watch(new_context().new_page(), "company")
    box = open_widget(company, live_gateway.url)
    box.fill(HUMAN_PLEASE)
    box.press("Enter")
    log = company.get_by_role("log", name="Meddelanden i chatten")

    adv = problems.watch(new_context(viewport={"width": 1400, "height": 860}).new_page(), "advisor")
    console_login(adv, live_gateway.url, advisor)
    adv.locator("#queue-list .chat-item").first.click()
    adv.get_by_role("button", name="Ta chatten").click()
    expect(company.get_by_text("Anna Berg har anslutit till chatten.")).to_be_visible()
    adv.get_by_label("Utfall", exact=True).select_option("resolved")
    adv.get_by_role("button", name="Avsluta").click()

    expect(log.get_by_text("Hur nöjd är du med hjälpen")).to_be_visible()
    choices = log.get_by_role("group", name="Svarsalternativ").last
    expect(choices.get_by_role("button")).to_have_count(5)
    screenshot(company, "csat-question")
    choices.get_by_role("button", name="5 – Mycket nöjd").click()
    expect(log.get_by_text("Tack för ditt betyg!")).to_be_visible()
    box.fill("Snabbt och tydligt, tack!")
    box.press("Enter")
    expect(log.get_by_text("Tack för din kommentar!")).to_be_visible()
    screenshot(company, "csat-thanks")

    with sqlite3.connect(db_url.removeprefix("sqlite:///")) as db:
        rows = db.execute("SELECT rating, comment, advisor_id FROM csat_ratings").fetchall()
    assert rows == [(5, "Snabbt och tydligt, tack!", advisor.id)]
    problems.assert_clean()
