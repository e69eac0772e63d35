"""Accessibility (WCAG 2.1 AA), keyboard use, inert user text and the CSP, in a real browser."""

from __future__ import annotations

import re
from typing import Any

import pytest
from playwright.sync_api import expect

from bench.fake_rasa import HUMAN_PLEASE
from tests.browser_support import (
    LiveGateway,
    PageProblems,
    console_login,
    contrast_failures,
    is_focused,
    open_widget,
    screenshot,
    tab_until,
    unnamed_controls,
)
from tests.gateway.conftest import AdvisorAccount

pytest_plugins = ["tests.browser_support"]
pytestmark = pytest.mark.browser

XSS = "<img src=x onerror=alert(1)>"
XSS_ADVISOR = "<b>fet</b><script>alert(2)</script><a href=javascript:alert(3)>länk</a>"


def focus_ring(locator: Any) -> str:
    return str(
        locator.evaluate("el => { const s = getComputedStyle(el); return s.outlineStyle; }")
    )


def test_widget_roles_and_swedish_names(
    live_gateway: LiveGateway, new_context: Any, problems: PageProblems
) -> None:
    page = problems.watch(new_context().new_page(), "company")
    page.goto(live_gateway.url + "/")
    expect(page.locator("html")).to_have_attribute("lang", "sv")
    launcher = page.get_by_role("button", name="Öppna chatten", exact=True)
    expect(launcher).to_have_attribute("aria-expanded", "false")
    launcher.click()

    dialog = page.get_by_role("dialog", name="Västmanlands Företagssupport")
    expect(dialog).to_be_visible()
    box = dialog.get_by_role("textbox", name="Meddelande", exact=True)
    send = dialog.get_by_role("button", name="Skicka", exact=True)
    expect(box).to_be_focused()
    expect(send).to_be_visible()
    expect(dialog.get_by_role("button", name="Stäng chatten")).to_be_visible()
    log = dialog.get_by_role("log", name="Meddelanden i chatten")
    expect(log).to_have_attribute("aria-live", "polite")
    expect(log.get_by_text("digitala assistent")).to_be_visible()

    box.fill("Vi behöver ett lån")
    send.click()
    expect(log.get_by_role("button", name="Kontaktuppgifter")).to_be_visible()
    assert unnamed_controls(page) == []

    # Escape closes the panel and gives focus back to the launcher.
    box.press("Escape")
    expect(dialog).to_be_hidden()
    expect(launcher).to_be_visible()
    assert is_focused(launcher)
    problems.assert_clean()


def test_company_uses_the_widget_with_the_keyboard_only(
    live_gateway: LiveGateway, new_context: Any, problems: PageProblems
) -> None:
    page = problems.watch(new_context().new_page(), "company")
    page.goto(live_gateway.url + "/")
    launcher = page.get_by_role("button", name="Öppna chatten")
    expect(launcher).to_be_visible()
    tab_until(page, launcher)
    assert focus_ring(launcher) != "none"
    page.keyboard.press("Enter")

    box = page.get_by_role("textbox", name="Meddelande", exact=True)
    expect(box).to_be_focused()
    page.keyboard.type("Vi behöver ett lån")
    page.keyboard.press("Enter")
    log = page.get_by_role("log", name="Meddelanden i chatten")
    expect(log.get_by_text("Almi Mälardalen kan hjälpa er med lån.")).to_be_visible()
    expect(box).to_be_focused()

    # Shift+Enter makes a new line instead of sending.
    page.keyboard.type("rad ett")
    page.keyboard.press("Shift+Enter")
    page.keyboard.type("rad två")
    expect(box).to_have_value("rad ett\nrad två")
    page.keyboard.press("Control+A")
    page.keyboard.press("Delete")

    # The bot's buttons are reachable backwards from the message box and work with Enter.
    contact = log.get_by_role("button", name="Kontaktuppgifter")
    tab_until(page, contact, key="Shift+Tab")
    assert focus_ring(contact) != "none"
    page.keyboard.press("Enter")
    expect(log.get_by_text("Almi Mälardalen: 010-123 45 00.")).to_be_visible()

    # The send button is reachable with Tab from the message box and sends with Space.
    box.focus()
    page.keyboard.type("hej")
    send = page.get_by_role("button", name="Skicka", exact=True)
    page.keyboard.press("Tab")
    assert is_focused(send)
    page.keyboard.press("Space")
    expect(log.get_by_text("Hej! Vad kan jag hjälpa till med?")).to_be_visible()

    page.keyboard.press("Escape")
    expect(page.get_by_role("dialog")).to_be_hidden()
    assert is_focused(launcher)
    problems.assert_clean()


def test_advisor_uses_the_console_with_the_keyboard_only(
    live_gateway: LiveGateway,
    advisor: AdvisorAccount,
    new_context: Any,
    problems: PageProblems,
) -> None:
    url = live_gateway.url
    company = problems.watch(new_context().new_page(), "company")
    box = open_widget(company, url)
    box.fill(HUMAN_PLEASE)
    box.press("Enter")
    expect(company.get_by_text("Du står i kö till en rådgivare.")).to_be_visible()

    adv = problems.watch(new_context(viewport={"width": 1400, "height": 860}).new_page(), "adv")
    adv.goto(url + "/console")
    expect(adv.locator("html")).to_have_attribute("lang", "sv")
    email = adv.get_by_role("textbox", name="E-postadress")
    expect(email).to_be_visible()
    assert unnamed_controls(adv) == []
    tab_until(adv, email)
    adv.keyboard.type(advisor.email)
    adv.keyboard.press("Tab")
    assert is_focused(adv.get_by_label("Lösenord"))
    adv.keyboard.type(advisor.password)
    adv.keyboard.press("Enter")
    expect(adv.get_by_text("Inloggad som")).to_contain_text(advisor.name)

    item = adv.get_by_role("button", name=re.compile("Bad om en rådgivare"))
    expect(item).to_be_visible()
    tab_until(adv, item)
    assert focus_ring(item) != "none"
    adv.keyboard.press("Enter")
    claim = adv.get_by_role("button", name="Ta chatten")
    expect(claim).to_be_visible()
    tab_until(adv, claim)
    adv.keyboard.press("Enter")
    reply = adv.get_by_role("textbox", name="Svar till företaget")
    expect(reply).to_be_focused()
    adv.keyboard.type("Hej! Jag hjälper dig gärna.")
    adv.keyboard.press("Enter")
    expect(company.get_by_text("Hej! Jag hjälper dig gärna.")).to_be_visible()

    # Every control of the workspace is reachable with Tab and has a Swedish name.
    for name in ("Lämna tillbaka till boten", "Avsluta", "Skicka", "Logga ut"):
        tab_until(adv, adv.get_by_role("button", name=name, exact=True))
    tab_until(adv, adv.get_by_role("combobox", name="Utfall"))
    assert unnamed_controls(adv) == []
    problems.assert_clean()


def test_user_text_renders_as_text_in_widget_and_console(
    live_gateway: LiveGateway,
    advisor: AdvisorAccount,
    new_context: Any,
    problems: PageProblems,
) -> None:
    url = live_gateway.url
    company = problems.watch(new_context().new_page(), "company")
    box = open_widget(company, url)
    box.fill(XSS)
    box.press("Enter")
    log = company.get_by_role("log", name="Meddelanden i chatten")
    expect(log.get_by_text(XSS, exact=True)).to_be_visible()
    expect(log.get_by_text("Du skrev: " + XSS)).to_be_visible()  # the fake bot echoes it
    expect(log.locator("img")).to_have_count(0)

    box.fill(HUMAN_PLEASE)
    box.press("Enter")
    adv = problems.watch(new_context(viewport={"width": 1400, "height": 860}).new_page(), "adv")
    console_login(adv, url, advisor)
    queued = adv.get_by_role("button", name=re.compile("Bad om en rådgivare"))
    expect(queued).to_be_visible()
    queued.click()
    transcript = adv.get_by_role("log", name="Samtalet med företaget")
    expect(transcript.get_by_text(XSS, exact=True)).to_be_visible()
    expect(transcript.locator("img")).to_have_count(0)

    adv.get_by_role("button", name="Ta chatten").click()
    reply = adv.get_by_role("textbox", name="Svar till företaget")
    reply.fill(XSS_ADVISOR)
    reply.press("Enter")
    expect(log.get_by_text(XSS_ADVISOR, exact=True)).to_be_visible()
    expect(transcript.get_by_text(XSS_ADVISOR, exact=True)).to_be_visible()
    for page in (company, adv):
        assert page.locator("b, script:not([src]), a[href^='javascript']").count() == 0
    screenshot(adv, "console-inert-text")
    problems.assert_clean()  # also: no alert() dialog opened


def test_contrast_meets_wcag_aa(
    live_gateway: LiveGateway,
    advisor: AdvisorAccount,
    new_context: Any,
    problems: PageProblems,
) -> None:
    url = live_gateway.url
    company = problems.watch(new_context().new_page(), "company")
    box = open_widget(company, url)
    box.fill("Vi behöver ett lån")
    box.press("Enter")
    expect(company.get_by_text("Almi Mälardalen kan hjälpa er med lån.")).to_be_visible()
    box.fill(HUMAN_PLEASE)
    box.press("Enter")
    expect(company.get_by_text("Du står i kö till en rådgivare.")).to_be_visible()
    checked, failures = contrast_failures(company, "#vfs-chat-widget")
    assert checked > 10
    assert failures == []
    checked, failures = contrast_failures(company, "main")
    assert failures == []

    adv = problems.watch(new_context(viewport={"width": 1400, "height": 860}).new_page(), "adv")
    adv.goto(url + "/console")
    expect(adv.get_by_role("button", name="Logga in")).to_be_visible()
    assert contrast_failures(adv)[1] == []
    console_login(adv, url, advisor)
    adv.get_by_role("button", name=re.compile("Bad om en rådgivare")).click()
    adv.get_by_role("button", name="Ta chatten").click()
    expect(adv.get_by_role("button", name="Avsluta")).to_be_visible()
    checked, failures = contrast_failures(adv)
    assert checked > 20
    assert failures == []
    problems.assert_clean()


def test_pages_are_served_with_the_strict_csp_and_break_none_of_it(
    live_gateway: LiveGateway, new_context: Any, problems: PageProblems
) -> None:
    page = problems.watch(new_context().new_page(), "page")
    for path in ("/", "/console"):
        response = page.goto(live_gateway.url + path)
        assert response is not None
        policy = response.headers.get("content-security-policy", "")
        assert "script-src 'self'" in policy
        assert "style-src 'self'" in policy
        # No inline script, inline handler or style attribute in the shipped markup.
        html = response.text()
        assert not re.search(r"<script(?![^>]*\bsrc=)", html)
        assert not re.search(r"\son[a-z]+\s*=", html)
        assert not re.search(r"\sstyle\s*=", html)
        assert "<style" not in html
    open_widget(page, live_gateway.url)
    problems.assert_clean()  # a CSP violation is reported as a console error


def test_console_login_error_is_announced_and_logout_works(
    live_gateway: LiveGateway,
    advisor: AdvisorAccount,
    new_context: Any,
    problems: PageProblems,
) -> None:
    adv = problems.watch(new_context().new_page(), "adv")
    adv.goto(live_gateway.url + "/console")
    adv.get_by_label("E-postadress").fill(advisor.email)
    adv.get_by_label("Lösenord").fill("fel-lösenord")
    adv.get_by_role("button", name="Logga in").click()
    expect(adv.get_by_role("alert")).to_have_text("Fel e-postadress eller lösenord.")
    expect(adv.get_by_label("Lösenord")).to_be_focused()

    console_login(adv, live_gateway.url, advisor)
    adv.reload()  # the session survives a reload
    expect(adv.get_by_text("Inloggad som")).to_contain_text(advisor.name)
    adv.get_by_role("button", name="Logga ut").click()
    expect(adv.get_by_role("button", name="Logga in")).to_be_visible()
    adv.reload()
    expect(adv.get_by_role("button", name="Logga in")).to_be_visible()
    # The failed login is answered 401, which Chromium logs as a failed resource.
    problems.assert_clean(allow=("status of 401",))
