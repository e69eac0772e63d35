"""The advisor's inbox end to end on the real stack: real Rasa and actions, a gateway
process, Debian's Chromium, a local mail server.

A company asks the real assistant for a loan and then for a person; an advisor claims the
chat from the queue, greets with a canned reply ("/" and its placeholders), leaves an
internal note (never delivered), inserts the assistant's suggested referral, and transfers
the chat with a note to a colleague, who closes it with the transcript e-mailed to the
company (aiosmtpd) and finds it again among the closed chats. Screenshots go to
test-artifacts/ (the README's are copied to docs/screenshots/inbox-*.png)."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from bot.accounts.manage import create_advisor
from core.db import make_engine, make_sessionmaker
from core.settings import PROJECT_ROOT, Settings
from scripts.stack import APP_PYTHON, free_port, wait_http
from tests.browser_support import SPY_SCRIPT, console_login, open_widget, screenshot
from tests.gateway.conftest import AdvisorAccount
from tests.smtp_support import SmtpServer, smtp_server

pytest_plugins = ["tests.browser_support"]
pytestmark = [pytest.mark.e2e, pytest.mark.browser]

QUESTION = "vi har inga pengar kvar i kassan, kan vi få lån någonstans?"
NOTE = "Internt: banken har sagt nej, de behöver Almi snabbt."
TRANSFER_NOTE = "Du har kontakten med Almi, kan du ta den?"
SCREENSHOTS = PROJECT_ROOT / "docs" / "screenshots"


@dataclass
class InboxGateway:
    url: str
    smtp: SmtpServer


@pytest.fixture
def inbox_gateway(rasa_stack: Settings, tmp_path: Path) -> Iterator[InboxGateway]:
    """A second gateway process on the shared stack's database and Rasa, with a mail
    server for transcripts (the shared stack is left as it is)."""
    with smtp_server() as smtp:
        port = free_port()
        env = {**os.environ, **smtp.env(), "GATEWAY_PORT": str(port), "OPENING_HOURS": "always",
               "VAR_DIR": str(tmp_path / "var"), "AUTO_ASSIGN": "false"}
        log = (PROJECT_ROOT / "var" / "test-logs")
        log.mkdir(parents=True, exist_ok=True)
        with (log / "inbox-gateway.log").open("wb") as out:
            process = subprocess.Popen([str(APP_PYTHON), "-m", "bot", "serve"], cwd=PROJECT_ROOT, env=env,
                                       stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
            try:
                wait_http(f"http://127.0.0.1:{port}/healthz", 60, process)
                yield InboxGateway(f"http://127.0.0.1:{port}", smtp)
            finally:
                process.terminate()
                process.wait(15)


def account(settings: Settings, email: str, name: str) -> AdvisorAccount:
    engine = make_engine(settings.database_url)
    try:
        row = create_advisor(make_sessionmaker(engine), email, name, "ett-långt-lösenord", update=True)
    finally:
        engine.dispose()
    return AdvisorAccount(row.id, email, name, "ett-långt-lösenord")


def advisor_page(new_context: Any, url: str, who: AdvisorAccount) -> Any:
    context = new_context(viewport={"width": 1440, "height": 900})
    context.add_init_script(SPY_SCRIPT)
    page = context.new_page()
    console_login(page, url, who)
    return page


def keep(page: Any, name: str) -> None:
    """A screenshot for the README: test-artifacts/ and docs/screenshots/."""
    path = screenshot(page, name)
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(path, SCREENSHOTS / f"{name}.png")


def test_an_advisor_works_a_chat_through_the_inbox_on_the_real_stack(
    rasa_stack: Settings, inbox_gateway: InboxGateway, new_context: Any
) -> None:
    from playwright.sync_api import expect

    url = inbox_gateway.url
    karin = account(rasa_stack, "karin.inbox@example.se", "Karin Lund")
    olle = account(rasa_stack, "olle.inbox@example.se", "Olle Berg")

    # The company asks the real assistant, then for a person with the bot's own button.
    company = new_context().new_page()
    box = open_widget(company, url)
    log = company.get_by_role("log", name="Meddelanden i chatten")
    box.fill(QUESTION)
    box.press("Enter")
    expect(log.get_by_text(re.compile("Vänd dig till Almi Företagspartner Mälardalen"))).to_be_visible(timeout=30_000)
    box.fill("hur kontaktar jag er?")
    box.press("Enter")
    expect(log.locator(".msg-bot")).to_have_count(2, timeout=30_000)
    log.get_by_role("button", name="Prata med en rådgivare").first.click()
    expect(company.get_by_text("Du står i kö till en rådgivare.")).to_be_visible(timeout=30_000)

    # Karin sees the company's question in the queue (not the click) and claims the chat.
    adv = advisor_page(new_context, url, karin)
    item = adv.locator("#queue-list .chat-item").filter(has_text=QUESTION)
    expect(item).to_be_visible(timeout=15_000)
    expect(item.locator(".chat-item-who")).to_have_text("Webb")
    item.click()
    summary = adv.get_by_role("complementary", name="Botens sammanfattning")
    expect(summary).to_contain_text("Almi Företagspartner Mälardalen")
    adv.get_by_role("button", name="Ta chatten").click()
    expect(company.get_by_text("Karin Lund har anslutit till chatten.")).to_be_visible()
    reply = adv.get_by_role("textbox", name="Svar till företaget")

    # A canned greeting with "/", the advisor's name filled in.
    reply.press_sequentially("/häls")
    expect(adv.get_by_role("listbox", name="Snabbsvar").get_by_role("option").first).to_contain_text("Hälsning")
    keep(adv, "inbox-canned-replies")
    reply.press("Enter")
    expect(reply).to_have_value(re.compile("^Hej! Jag heter Karin Lund och är rådgivare"))
    reply.press("Enter")
    expect(log.get_by_text(re.compile("Jag heter Karin Lund och är rådgivare"))).to_be_visible()

    # An internal note: in the transcript, never in the company's chat.
    adv.get_by_role("radio", name="Intern anteckning").check()
    note_box = adv.get_by_role("textbox", name="Intern anteckning (syns inte för företaget)")
    note_box.fill(NOTE)
    note_box.press("Enter")
    transcript = adv.get_by_role("log", name="Samtalet med företaget")
    expect(transcript.get_by_text(NOTE)).to_be_visible()
    adv.get_by_role("radio", name="Svar till företaget").check()

    # The assistant's suggested referral for the company's question, inserted and sent.
    expect(adv.locator("#suggestion-for")).to_have_text(f"Utifrån: ”{QUESTION}”", timeout=15_000)
    expect(adv.locator("#suggestion-text")).to_contain_text("Almi Företagspartner Mälardalen")
    adv.get_by_role("button", name="Infoga förslaget").click()
    expect(reply).to_have_value(re.compile("Almi Företagspartner Mälardalen"))
    keep(adv, "inbox-suggestion-and-note")
    reply.press("Enter")
    expect(log.locator(".msg-advisor").filter(has_text="Almi Företagspartner Mälardalen")).to_be_visible()
    expect(company.get_by_text(NOTE)).to_have_count(0)

    # Transfer to a colleague with a note.
    colleague = advisor_page(new_context, url, olle)
    adv.get_by_role("button", name="Lämna över").click()
    expect(adv.get_by_label("Kollega", exact=True)).to_contain_text("Olle Berg – 0 av 3 chattar")
    adv.get_by_label("Kollega", exact=True).select_option(label="Olle Berg – 0 av 3 chattar")
    adv.get_by_label("Anteckning till kollegan (syns inte för företaget)").fill(TRANSFER_NOTE)
    keep(adv, "inbox-transfer")
    adv.get_by_role("button", name="Lämna över chatten").click()
    expect(company.get_by_text("Olle Berg har anslutit till chatten.")).to_be_visible()
    expect(company.get_by_text(TRANSFER_NOTE)).to_have_count(0)
    colleague.wait_for_function("() => window.__spy.notifications.some(n => n.title.includes('lämnat över'))")
    colleague.locator("#mine-list .chat-item").click()
    expect(colleague.get_by_role("log", name="Samtalet med företaget").get_by_text(TRANSFER_NOTE)).to_be_visible()

    # Olle closes with the transcript e-mailed to the company.
    colleague.get_by_label("Utfall", exact=True).select_option("referred")
    colleague.get_by_label("Skicka samtalet till").fill("eva@ekbygg.se")
    colleague.get_by_role("button", name="Avsluta").click()
    expect(company.get_by_text("Rådgivaren har avslutat chatten.")).to_be_visible()
    colleague.wait_for_timeout(500)
    deadline_ms = 15_000
    while not inbox_gateway.smtp.inbox.messages and deadline_ms > 0:
        colleague.wait_for_timeout(250)
        deadline_ms -= 250
    assert len(inbox_gateway.smtp.inbox.messages) == 1
    mail = inbox_gateway.smtp.inbox.messages[0]
    assert mail["To"] == "eva@ekbygg.se"
    text = mail.get_content()
    assert QUESTION in text
    assert "Karin Lund, rådgivare: Hej! Jag heter Karin Lund" in text
    assert "Almi Företagspartner Mälardalen" in text
    assert NOTE not in text and TRANSFER_NOTE not in text

    # The closed chat is found again by a word the company wrote.
    colleague.get_by_role("tab", name="Avslutade").click()
    search = colleague.get_by_role("searchbox", name="Sök")
    search.fill("kassan")
    search.press("Enter")
    found = colleague.locator("#closed-list .chat-item")
    expect(found).to_have_count(1)
    expect(found).to_contain_text("Hänvisad vidare · Olle Berg")
    found.click()
    expect(colleague.get_by_role("log", name="Samtalet med företaget").get_by_text(QUESTION)).to_be_visible()
    keep(colleague, "inbox-closed-search")
    screenshot(company, "inbox-real-widget")
