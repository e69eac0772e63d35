"""The chat as a company and an advisor see it: real Chromium, real gateway, fake Rasa.

The company uses the widget on the demo page; the advisor uses the console in a second
browser profile. Screenshots of both sides go to test-artifacts/.
"""

from __future__ import annotations

import json
import re
from typing import Any

import pytest
from playwright.sync_api import expect

from bench.fake_rasa import HUMAN_PLEASE
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


@pytest.fixture
def db_url(seeded_db_url: str) -> str:
    """The directory's topics let the gateway tell the company's question from a follow-up."""
    return seeded_db_url

LOAN = "Vi behöver ett lån"
ALMI_REPLY = "Almi Mälardalen kan hjälpa er med lån."
CONTACT_REPLY = "Almi Mälardalen: 010-123 45 00."
HELLO_REPLY = "Hej! Vad kan jag hjälpa till med?"
ADVISOR_REPLY = "Hej, jag heter Anna och är rådgivare. Hur stort lån behöver ni ungefär?"
COMPANY_ANSWER = "Ungefär 500 000 kr, till en ny maskin."


def widget_messages(page: Any) -> Any:
    return page.get_by_role("log", name="Meddelanden i chatten").locator(".msg")


def company_page(new_context: Any, problems: PageProblems) -> Any:
    return problems.watch(new_context().new_page(), "company")


def advisor_page(new_context: Any, problems: PageProblems) -> Any:
    context = new_context(viewport={"width": 1400, "height": 860})
    context.add_init_script(SPY_SCRIPT)
    return problems.watch(context.new_page(), "advisor")


def test_referral_handoff_advisor_reply_handback_and_reload(
    live_gateway: LiveGateway,
    advisor: AdvisorAccount,
    new_context: Any,
    problems: PageProblems,
) -> None:
    url = live_gateway.url
    company = company_page(new_context, problems)
    box = open_widget(company, url)
    log = company.get_by_role("log", name="Meddelanden i chatten")

    # A question: the bot refers to Almi, with buttons.
    box.fill(LOAN)
    box.press("Enter")
    expect(log.get_by_text(ALMI_REPLY)).to_be_visible()
    expect(box).to_have_value("")
    log.get_by_role("button", name="Kontaktuppgifter").click()
    expect(log.get_by_text(CONTACT_REPLY)).to_be_visible()

    # The advisor logs in from another browser; the queue is empty.
    adv = advisor_page(new_context, problems)
    console_login(adv, url, advisor)
    expect(adv.get_by_text("Ingen väntar just nu.")).to_be_visible()

    # The company asks for a human with the bot's button: queued, position and wait shown.
    log.get_by_role("button", name="Prata med en rådgivare").first.click()
    banner = company.get_by_role("status").filter(has_text="Du står i kö till en rådgivare.")
    expect(banner).to_contain_text("Du är nummer 1 i kön.")
    expect(banner).to_contain_text("Beräknad väntetid")
    expect(company.get_by_role("button", name="Lämna kön")).to_be_visible()

    # The chat appears in the advisor's queue, with a beep and a desktop notification.
    item = adv.get_by_role("button", name=re.compile("Bad om en rådgivare"))
    expect(item).to_be_visible()
    expect(adv.locator("#queue-count")).to_have_text("1")
    adv.wait_for_function("window.__spy.notifications.length > 0")
    spy = adv.evaluate("window.__spy")
    assert spy["notifications"][0]["title"] == "Ny chatt i kön"
    assert spy["beeps"] > 0

    # The advisor opens it: the whole transcript and the bot's summary.
    item.click()
    transcript = adv.get_by_role("log", name="Samtalet med företaget")
    expect(transcript.get_by_text(LOAN, exact=True)).to_be_visible()
    expect(transcript.get_by_text(ALMI_REPLY)).to_be_visible()
    summary = adv.get_by_role("complementary", name="Botens sammanfattning")
    expect(summary).to_contain_text("Finansiering")
    expect(summary).to_contain_text("Almi Mälardalen")
    expect(summary).to_contain_text("Vi behöver ett lån")

    adv.get_by_role("button", name="Ta chatten").click()
    expect(company.get_by_text("Anna Berg har anslutit till chatten.")).to_be_visible()
    expect(company.get_by_text("Anna Berg, rådgivare").first).to_be_visible()
    expect(banner).to_be_hidden()
    expect(adv.get_by_role("button", name="Lämna tillbaka till boten")).to_be_visible()
    mine = adv.get_by_role("navigation", name="Chattar och ärenden")
    expect(mine.locator("#mine-count")).to_have_text("1")

    # Typing indicators, both ways.
    reply = adv.get_by_role("textbox", name="Svar till företaget")
    reply.press_sequentially("Hej, jag", delay=20)
    expect(company.get_by_text("Anna Berg skriver")).to_be_visible()
    reply.fill(ADVISOR_REPLY)
    reply.press("Enter")
    expect(log.get_by_text(ADVISOR_REPLY)).to_be_visible()
    expect(company.get_by_text("Anna Berg skriver")).to_be_hidden()

    box.press_sequentially("Ungefär", delay=20)
    expect(adv.get_by_text("Företaget skriver …")).to_be_visible()
    box.fill(COMPANY_ANSWER)
    box.press("Enter")
    expect(transcript.get_by_text(COMPANY_ANSWER)).to_be_visible()
    expect(adv.get_by_text("Företaget skriver …")).to_be_hidden()
    screenshot(company, "widget-with-advisor")
    screenshot(adv, "console-claimed-chat")

    # Hand back: the bot answers again.
    adv.get_by_role("button", name="Lämna tillbaka till boten").click()
    expect(company.get_by_text("Du chattar nu med den digitala assistenten igen.")).to_be_visible()
    expect(adv.get_by_role("button", name="Ta över chatten")).to_be_visible()
    box.fill("hej")
    box.press("Enter")
    expect(log.get_by_text(HELLO_REPLY)).to_be_visible()

    # A reload keeps the whole history, once and in order.
    before = widget_messages(company).all_inner_texts()
    company.reload()
    log = company.get_by_role("log", name="Meddelanden i chatten")
    expect(log.get_by_text(HELLO_REPLY)).to_be_visible()
    expect(widget_messages(company)).to_have_count(len(before))
    after = widget_messages(company).all_inner_texts()
    assert [t.split("\n")[-2:] for t in after] == [t.split("\n")[-2:] for t in before]
    expect(log.get_by_text(ADVISOR_REPLY)).to_have_count(1)
    expect(company.get_by_role("textbox", name="Meddelande", exact=True)).to_be_visible()
    screenshot(company, "widget-after-reload")
    problems.assert_clean()


def test_advisor_closes_with_outcome_then_bot_answers_again(
    live_gateway: LiveGateway,
    advisor: AdvisorAccount,
    new_context: Any,
    problems: PageProblems,
) -> None:
    url = live_gateway.url
    company = company_page(new_context, problems)
    box = open_widget(company, url)
    adv = advisor_page(new_context, problems)
    console_login(adv, url, advisor)

    box.fill(HUMAN_PLEASE)
    box.press("Enter")
    expect(company.get_by_text("Du står i kö till en rådgivare.")).to_be_visible()
    adv.get_by_role("button", name=re.compile("Bad om en rådgivare")).click()
    adv.get_by_role("button", name="Ta chatten").click()
    expect(company.get_by_text("Anna Berg har anslutit till chatten.")).to_be_visible()

    outcome = adv.get_by_role("combobox", name="Utfall")
    expect(outcome.locator("option")).to_have_count(5)
    outcome.select_option(label="Hänvisad vidare")
    adv.get_by_role("button", name="Avsluta").click()
    expect(company.get_by_text("Rådgivaren har avslutat chatten.")).to_be_visible()
    expect(company.get_by_text("Chatten är avslutad")).to_be_visible()
    expect(adv.locator("#chat-meta")).to_contain_text("Avslutad")
    expect(adv.get_by_role("textbox", name="Svar till företaget")).to_be_hidden()
    expect(adv.locator("#mine-count")).to_have_text("0")

    # The company may write again: the bot answers.
    box.fill("hej")
    box.press("Enter")
    expect(company.get_by_text(HELLO_REPLY)).to_be_visible()
    problems.assert_clean()


def test_leave_queue(
    live_gateway: LiveGateway, new_context: Any, problems: PageProblems
) -> None:
    company = company_page(new_context, problems)
    box = open_widget(company, live_gateway.url)
    company.get_by_role("button", name="Prata med en rådgivare").click()
    expect(company.get_by_text("Du står i kö till en rådgivare.")).to_be_visible()
    company.get_by_role("button", name="Lämna kön").click()
    expect(company.get_by_text("Du står i kö till en rådgivare.")).to_be_hidden()
    expect(company.get_by_text("Du har lämnat kön.")).to_be_visible()
    box.fill("hej")
    box.press("Enter")
    expect(company.get_by_text(HELLO_REPLY)).to_be_visible()
    problems.assert_clean()


def test_outside_opening_hours_the_question_becomes_a_ticket(
    closed_gateway: LiveGateway,
    advisor: AdvisorAccount,
    new_context: Any,
    problems: PageProblems,
) -> None:
    url = closed_gateway.url
    company = company_page(new_context, problems)
    box = open_widget(company, url)
    box.fill(LOAN)
    box.press("Enter")
    expect(company.get_by_text(ALMI_REPLY)).to_be_visible()
    box.fill("hur kontaktar jag er?")
    box.press("Enter")
    box.fill(HUMAN_PLEASE)
    box.press("Enter")

    form = company.get_by_role("region", name="Lämna din fråga")
    expect(form).to_be_visible()
    expect(company.get_by_text("Rådgivarna är inte på plats just nu")).to_be_visible()
    question = form.get_by_role("textbox", name="Din fråga")
    # Prefilled with the company's question: not its last message, nor the follow-up.
    expect(question).to_have_value(LOAN)
    question.fill("Vi har tappat hälften av orderingången. Vilket stöd finns för oss?")
    form.get_by_role("textbox", name="Namn").fill("Eva Ek")
    form.get_by_role("textbox", name="Företag").fill("Ek Bygg AB")
    form.get_by_role("textbox", name="E-postadress").fill("inte-en-adress")
    form.get_by_role("button", name="Lämna frågan").click()
    expect(form.get_by_text("Ange en giltig e-postadress.")).to_be_visible()
    expect(form.get_by_role("textbox", name="E-postadress")).to_be_focused()
    form.get_by_role("textbox", name="E-postadress").fill("eva@ekbygg.se")
    form.get_by_role("textbox", name="Telefonnummer").fill("070-123 45 67")
    screenshot(company, "widget-offline-form")
    form.get_by_role("button", name="Lämna frågan").click()
    thanks = "Tack! Vi har tagit emot din fråga"
    expect(company.get_by_role("log").get_by_text(thanks)).to_be_visible()
    expect(form).to_be_hidden()
    expect(company.get_by_text(thanks)).to_have_count(1)  # said once, in the conversation

    # The advisor finds it among the tickets and marks it handled.
    adv = advisor_page(new_context, problems)
    console_login(adv, url, advisor)
    adv.get_by_role("tab", name=re.compile("Ärenden")).click()
    tickets = adv.locator("#tickets-list")
    expect(tickets).to_contain_text("Eva Ek, Ek Bygg AB")
    expect(tickets).to_contain_text("Vi har tappat hälften av orderingången.")
    expect(tickets.get_by_role("link", name="eva@ekbygg.se")).to_be_visible()
    expect(adv.locator("#tickets-count")).to_have_text("1")
    screenshot(adv, "console-tickets")
    adv.get_by_role("button", name=re.compile(r"Markera ärende \d+ som hanterat")).click()
    expect(adv.get_by_text("Inga lämnade frågor.")).to_be_visible()
    problems.assert_clean()


def test_unsent_message_survives_a_gateway_restart_and_arrives_once(
    live_gateway: LiveGateway, new_context: Any, problems: PageProblems
) -> None:
    company = company_page(new_context, problems)
    box = open_widget(company, live_gateway.url)
    box.fill("hej")
    box.press("Enter")
    expect(company.get_by_text(HELLO_REPLY)).to_be_visible()

    def type_while_down() -> None:
        expect(company.get_by_text("Anslutningen bröts")).to_be_visible()
        box.fill(LOAN)
        box.press("Enter")
        pending = company.locator(".msg-pending")
        expect(pending).to_have_count(1)
        expect(pending).to_contain_text(LOAN)
        assert company.evaluate("window.VfsChat.state().outbox") == 1

    live_gateway.restart(downtime=type_while_down)

    log = company.get_by_role("log", name="Meddelanden i chatten")
    expect(log.get_by_text(ALMI_REPLY)).to_be_visible(timeout=20_000)
    expect(company.locator(".msg-pending")).to_have_count(0)
    expect(company.get_by_text("Anslutningen bröts")).to_be_hidden()
    expect(log.get_by_text(LOAN, exact=True)).to_have_count(1)
    assert company.evaluate("window.VfsChat.state().outbox") == 0
    rasa_texts = [t for c in live_gateway.fake_rasa.conversations.values() for t in c.messages]
    assert rasa_texts.count(LOAN.lower()) + rasa_texts.count(LOAN) == 1
    problems.assert_clean(allow=("WebSocket connection to", "ERR_CONNECTION_REFUSED"))


def test_lost_ack_is_resent_with_the_same_client_id_and_stored_once(
    live_gateway: LiveGateway, new_context: Any, problems: PageProblems
) -> None:
    """The server stored the message but the connection died before the ack: the widget
    resends it with the same client_id after reconnecting; the server does not store it
    twice and the bot does not answer twice."""
    company = company_page(new_context, problems)
    sent: list[dict[str, Any]] = []
    state = {"cut": False}

    def route(ws: Any) -> None:
        server = ws.connect_to_server()

        def from_page(message: str | bytes) -> None:
            frame = json.loads(message)
            if frame.get("type") == "message":
                sent.append(frame)
            server.send(message)

        def from_server(message: str | bytes) -> None:
            frame = json.loads(message)
            if not state["cut"] and sent and frame.get("type") in {"message", "ack"}:
                if frame.get("type") == "ack":  # drop the ack (and the echo before it), then cut
                    state["cut"] = True
                    ws.close()
                    server.close()
                return
            ws.send(message)

        ws.on_message(from_page)
        server.on_message(from_server)

    company.route_web_socket(re.compile(r".*/widget/ws$"), route)
    box = open_widget(company, live_gateway.url)
    box.fill(LOAN)
    box.press("Enter")
    log = company.get_by_role("log", name="Meddelanden i chatten")
    expect(log.get_by_text(ALMI_REPLY)).to_be_visible(timeout=20_000)
    expect(log.get_by_text(LOAN, exact=True)).to_have_count(1)
    expect(log.get_by_text(ALMI_REPLY)).to_have_count(1)
    expect(company.locator(".msg-pending")).to_have_count(0)
    assert state["cut"]
    loan_frames = [f for f in sent if f["text"] == LOAN]
    assert len(loan_frames) >= 2, "the widget should have sent the message again"
    assert len({f["client_id"] for f in loan_frames}) == 1
    rasa_texts = [t for c in live_gateway.fake_rasa.conversations.values() for t in c.messages]
    assert rasa_texts.count(LOAN.lower()) + rasa_texts.count(LOAN) == 1
    problems.assert_clean()


HOST_PAGE = """<!doctype html>
<html lang="sv"><head><meta charset="utf-8"><title>Kundens webbplats</title>
<link rel="icon" href="data:,">
<style>
  * { color: #ff00ff !important; font-family: serif !important; }
  button { background: red !important; font-size: 40px !important; }
  textarea { display: none !important; }
</style>
<script src="{gateway}/widget.js" defer></script>
</head><body><h1>Bygg &amp; Montage i Sala AB</h1><p>Vår egen sida.</p></body></html>
"""


def test_widget_embeds_on_another_site_with_one_script_tag(
    db_url: str, tmp_path: Any, new_context: Any, problems: PageProblems
) -> None:
    """The widget runs on a customer's site (another origin) with hostile CSS: it talks to
    the gateway named by its script URL and its own styles are untouched."""
    from aiohttp import web

    from scripts.stack import free_port
    from tests.browser_support import (
        OPEN_MOMENT,
        LiveServer,
        start_gateway,
        stop_gateway,
    )

    site_port = free_port()
    site_origin = f"http://127.0.0.1:{site_port}"
    gateway = start_gateway(
        db_url, tmp_path / "var", OPEN_MOMENT, GATEWAY_ALLOWED_ORIGINS=site_origin
    )

    def site() -> web.Application:
        async def page(request: web.Request) -> web.Response:
            html = HOST_PAGE.replace("{gateway}", gateway.url)
            return web.Response(text=html, content_type="text/html")

        app = web.Application()
        app.router.add_get("/", page)
        return app

    host = LiveServer(site, site_port)
    try:
        host.start()
        page = problems.watch(new_context().new_page(), "customer-site")
        page.goto(site_origin + "/")
        launcher = page.get_by_role("button", name="Öppna chatten")
        launcher.click()
        box = page.get_by_role("textbox", name="Meddelande", exact=True)
        expect(box).to_be_visible()
        box.fill(LOAN)
        box.press("Enter")
        expect(page.get_by_role("log").get_by_text(ALMI_REPLY)).to_be_visible()
        send = page.get_by_role("button", name="Skicka", exact=True)
        assert send.evaluate("el => getComputedStyle(el).backgroundColor") == "rgb(13, 79, 139)"
        assert send.evaluate("el => getComputedStyle(el).color") == "rgb(255, 255, 255)"
        assert send.evaluate("el => getComputedStyle(el).fontFamily") != "serif"
        # The page's own CSS still applies to the page.
        heading = page.get_by_role("heading", name="Bygg & Montage i Sala AB")
        assert heading.evaluate("el => getComputedStyle(el).color") == "rgb(255, 0, 255)"
        screenshot(page, "widget-on-customer-site")
        problems.assert_clean()
    finally:
        host.close()
        stop_gateway(gateway)


def test_offline_form_can_be_declined(
    closed_gateway: LiveGateway, new_context: Any, problems: PageProblems
) -> None:
    company = company_page(new_context, problems)
    box = open_widget(company, closed_gateway.url)
    company.locator(".fineprint").get_by_role("button", name="Prata med en rådgivare").click()
    form = company.get_by_role("region", name="Lämna din fråga")
    expect(form).to_be_visible()
    form.get_by_role("button", name="Nej tack").click()
    expect(form).to_be_hidden()
    expect(box).to_be_focused()
    expect(company.get_by_text("Digital assistent – svarar direkt")).to_be_visible()
    box.fill("hej")
    box.press("Enter")
    expect(company.get_by_text(HELLO_REPLY)).to_be_visible()
    problems.assert_clean()


def test_browser_support_uses_the_gateway_fixtures_moments() -> None:
    from tests import browser_support
    from tests.gateway import conftest

    assert browser_support.OPEN_MOMENT == conftest.OPEN_MOMENT
    assert browser_support.CLOSED_MOMENT == conftest.CLOSED_MOMENT
