"""The widget's rough edges, fixed (each a regression test in a real browser), and the
accessibility audit (axe-core) of the widget, the console and the login page."""

from __future__ import annotations

import re
from typing import Any

import pytest
from playwright.sync_api import expect

from bench.fake_rasa import HUMAN_PLEASE
from tests.axe_support import blocking_violations
from tests.browser_support import (
    SPY_SCRIPT,
    LiveGateway,
    PageProblems,
    console_login,
    open_widget,
    screenshot,
)
from tests.gateway.conftest import AdvisorAccount

pytest_plugins = ["tests.browser_support"]
pytestmark = pytest.mark.browser

LOAN = "Vi behöver ett lån"


@pytest.fixture
def db_url(seeded_db_url: str) -> str:
    return seeded_db_url


def company_page(new_context: Any, problems: PageProblems) -> Any:
    return problems.watch(new_context().new_page(), "company")


def advisor_page(new_context: Any, problems: PageProblems) -> Any:
    context = new_context(viewport={"width": 1400, "height": 900})
    context.add_init_script(SPY_SCRIPT)
    return problems.watch(context.new_page(), "advisor")


def test_a_paste_over_the_limit_is_kept_and_the_company_is_told(
    live_gateway: LiveGateway, new_context: Any, problems: PageProblems
) -> None:
    company = company_page(new_context, problems)
    box = open_widget(company, live_gateway.url)
    pasted = ("Vi har en lång fråga. " * 110).strip()  # 2 419 characters, the limit is 2 000
    box.focus()
    company.keyboard.insert_text(pasted)  # what a paste does: maxlength would cut it here

    expect(box).to_have_value(pasted)  # nothing cut
    note = company.locator("#vfs-limit")
    expect(note).to_be_visible()
    expect(note).to_contain_text("Meddelandet är för långt: 2419 tecken, du kan skriva högst 2000.")
    expect(box).to_have_attribute("aria-invalid", "true")
    box.press("Enter")  # refused on the spot, the text stays
    expect(box).to_have_value(pasted)
    assert company.locator(".msg-user").count() == 0
    screenshot(company, "widget-too-long")

    box.fill("Vi behöver ett lån")  # shortened: sendable again, and the note goes away
    expect(note).to_be_hidden()
    box.press("Enter")
    expect(company.locator(".msg-user")).to_have_count(1)
    problems.assert_clean()


def test_while_reconnecting_the_header_does_not_promise_an_answer(
    live_gateway: LiveGateway, new_context: Any, problems: PageProblems
) -> None:
    company = company_page(new_context, problems)
    open_widget(company, live_gateway.url)
    subtitle = company.locator(".subtitle-text")
    expect(subtitle).to_have_text("Digital assistent – svarar direkt")

    def while_down() -> None:
        expect(subtitle).to_have_text("Återansluter …")
        expect(company.get_by_text("svarar direkt")).to_have_count(0)
        screenshot(company, "widget-reconnecting")

    live_gateway.restart(downtime=while_down)
    expect(subtitle).to_have_text("Digital assistent – svarar direkt", timeout=20_000)
    problems.assert_clean(allow=("WebSocket", "ERR_CONNECTION_REFUSED"))


def test_the_queue_shows_the_companys_question_not_the_button(
    live_gateway: LiveGateway, advisor: AdvisorAccount, new_context: Any, problems: PageProblems
) -> None:
    company = company_page(new_context, problems)
    box = open_widget(company, live_gateway.url)
    box.fill(LOAN)
    box.press("Enter")
    log = company.get_by_role("log", name="Meddelanden i chatten")
    log.get_by_role("button", name="Prata med en rådgivare").first.click()
    expect(company.get_by_text("Du står i kö till en rådgivare.")).to_be_visible()

    adv = advisor_page(new_context, problems)
    console_login(adv, live_gateway.url, advisor)
    item = adv.locator("#queue-list .chat-item")
    expect(item).to_have_count(1)
    expect(item.locator(".chat-item-text")).to_have_text(LOAN)
    expect(item).not_to_contain_text("Prata med en rådgivare")
    expect(item.locator(".chat-item-who")).to_have_text("Webb")  # the channel's label
    problems.assert_clean()


# ---------------------------------------------------------------- axe-core


def test_axe_finds_nothing_serious_on_the_login_page_the_console_and_the_widget(
    live_gateway: LiveGateway, advisor: AdvisorAccount, new_context: Any, problems: PageProblems
) -> None:
    url = live_gateway.url
    adv = advisor_page(new_context, problems)
    adv.goto(url + "/console")
    expect(adv.get_by_role("button", name="Logga in")).to_be_visible()
    assert blocking_violations(adv) == [], "login page"

    company = company_page(new_context, problems)
    box = open_widget(company, url)
    assert blocking_violations(company) == [], "widget, open"
    box.fill(LOAN)
    box.press("Enter")
    expect(company.get_by_role("log").get_by_role("button", name="Kontaktuppgifter")).to_be_visible()
    box.fill(HUMAN_PLEASE)
    box.press("Enter")
    expect(company.get_by_text("Du står i kö till en rådgivare.")).to_be_visible()
    assert blocking_violations(company) == [], "widget, queued"

    console_login(adv, url, advisor)
    adv.get_by_role("button", name=re.compile("Bad om en rådgivare")).click()
    adv.get_by_role("button", name="Ta chatten").click()
    reply = adv.get_by_role("textbox", name="Svar till företaget")
    expect(reply).to_be_focused()
    expect(adv.get_by_text("Utifrån: ”Vi behöver ett lån”")).to_be_visible()
    assert blocking_violations(adv) == [], "console with a claimed chat"

    reply.press_sequentially("/")  # the canned replies' list
    expect(adv.get_by_role("listbox", name="Snabbsvar")).to_be_visible()
    assert blocking_violations(adv) == [], "console, canned replies open"
    reply.press("Escape")
    adv.get_by_role("button", name="Lämna över").click()
    adv.get_by_role("tab", name="Avslutade").click()
    expect(adv.get_by_role("status").filter(has_text="avslutade chattar")).to_be_visible()
    assert blocking_violations(adv) == [], "console, transfer form and closed chats"
    for opener, dialog in (("Aviseringar", "Aviseringar"), ("Kortkommandon", "Kortkommandon"),
                           ("Snabbsvar", "Snabbsvar")):
        adv.get_by_role("button", name=opener, exact=True).first.click()
        modal = adv.get_by_role("dialog", name=dialog)
        expect(modal).to_be_visible()
        assert blocking_violations(adv) == [], f"console, dialog {dialog}"
        adv.keyboard.press("Escape")
        expect(modal).to_be_hidden()
    screenshot(adv, "console-axe-checked")
    problems.assert_clean()


def test_axe_finds_nothing_serious_in_the_offline_form(
    closed_gateway: LiveGateway, new_context: Any, problems: PageProblems
) -> None:
    company = company_page(new_context, problems)
    box = open_widget(company, closed_gateway.url)
    box.fill(HUMAN_PLEASE)
    box.press("Enter")
    expect(company.get_by_role("region", name="Lämna din fråga")).to_be_visible()
    assert blocking_violations(company) == []
    problems.assert_clean()
