"""The whole product in a real browser: real Rasa and actions, the real gateway process,
Debian's Chromium. Screenshots of both sides are saved to test-artifacts/."""

from __future__ import annotations

import re
from typing import Any

import pytest

from bot.accounts.manage import create_advisor
from core.db import make_engine, make_sessionmaker
from core.settings import Settings
from tests.browser_support import (
    SPY_SCRIPT,
    console_login,
    open_widget,
    screenshot,
)
from tests.gateway.conftest import AdvisorAccount

pytest_plugins = ["tests.browser_support"]
pytestmark = [pytest.mark.e2e, pytest.mark.browser]

QUESTION = "vi har inga pengar kvar i kassan, kan vi få lån någonstans?"
ADVISOR_REPLY = "Hej! Jag heter Karin och är rådgivare. Hur mycket behöver ni låna?"


@pytest.fixture
def real_advisor(rasa_stack: Settings) -> AdvisorAccount:
    engine = make_engine(rasa_stack.database_url)
    try:
        advisor = create_advisor(make_sessionmaker(engine), "karin@example.se", "Karin Lund",
                                 "ett-långt-lösenord", update=True)
    finally:
        engine.dispose()
    return AdvisorAccount(advisor.id, "karin@example.se", "Karin Lund", "ett-långt-lösenord")


def test_referral_handoff_advisor_and_back_to_the_bot_with_context(
    rasa_stack: Settings, real_advisor: AdvisorAccount, new_context: Any,
) -> None:
    from playwright.sync_api import expect

    url = f"http://{rasa_stack.gateway_host}:{rasa_stack.gateway_port}"
    company = new_context().new_page()
    box = open_widget(company, url)
    log = company.get_by_role("log", name="Meddelanden i chatten")

    # The real assistant answers with a referral composed from the directory.
    box.fill(QUESTION)
    box.press("Enter")
    expect(log.get_by_text(re.compile("Vänd dig till Almi Företagspartner Mälardalen"))).to_be_visible(
        timeout=30_000)

    # The company asks for a human with the bot's own button: the hand-off queues the chat.
    log.get_by_role("button", name="Prata med en rådgivare").first.click()
    banner = company.get_by_role("status").filter(has_text="Du står i kö till en rådgivare.")
    expect(banner).to_contain_text("Du är nummer 1 i kön.", timeout=30_000)

    # An advisor sees it, reads the bot's summary, claims it and answers.
    context = new_context(viewport={"width": 1400, "height": 860})
    context.add_init_script(SPY_SCRIPT)
    adv = context.new_page()
    console_login(adv, url, real_advisor)
    adv.get_by_role("button", name=re.compile("Bad om en rådgivare")).first.click()
    summary = adv.get_by_role("complementary", name="Botens sammanfattning")
    expect(summary).to_contain_text("Lån och finansiering")
    expect(summary).to_contain_text("Almi Företagspartner Mälardalen")
    adv.get_by_role("button", name="Ta chatten").click()
    expect(company.get_by_text("Karin Lund har anslutit till chatten.")).to_be_visible()
    reply = adv.get_by_role("textbox", name="Svar till företaget")
    reply.fill(ADVISOR_REPLY)
    reply.press("Enter")
    expect(log.get_by_text(ADVISOR_REPLY)).to_be_visible()
    box.fill("Ungefär 300 000 kronor till lagret.")
    box.press("Enter")
    transcript = adv.get_by_role("log", name="Samtalet med företaget")
    expect(transcript.get_by_text("Ungefär 300 000 kronor till lagret.")).to_be_visible()
    screenshot(company, "real-widget-with-advisor")
    screenshot(adv, "real-console-claimed-chat")

    # Hand back: the bot answers again, and still knows who it referred to.
    adv.get_by_role("button", name="Lämna tillbaka till boten").click()
    expect(company.get_by_text("Du chattar nu med den digitala assistenten igen.")).to_be_visible()
    box.fill("hur kontaktar jag dem?")
    box.press("Enter")
    expect(log.get_by_text(re.compile("Så här når du Almi Företagspartner Mälardalen"))).to_be_visible(
        timeout=30_000)

    # A reload keeps the whole history.
    company.reload()
    log = company.get_by_role("log", name="Meddelanden i chatten")
    expect(log.get_by_text(ADVISOR_REPLY)).to_have_count(1)
    expect(log.get_by_text(re.compile("Så här når du Almi"))).to_be_visible()
    screenshot(company, "real-widget-after-reload")
