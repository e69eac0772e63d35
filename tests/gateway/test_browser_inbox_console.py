"""The advisor's inbox in a real browser (fake Rasa, real gateway, Debian's Chromium):
working tools, presence and transfer, the views, notifications and the keyboard."""

from __future__ import annotations

import datetime as dt
import re
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import expect

from bench.fake_rasa import HUMAN_PLEASE
from bot.rules.validation import TicketForm
from bot.web.keys import core_key
from tests.browser_support import (
    OPEN_MOMENT,
    SPY_SCRIPT,
    LiveGateway,
    PageProblems,
    console_login,
    open_widget,
    screenshot,
    start_gateway,
    stop_gateway,
)
from tests.gateway.conftest import AdvisorAccount

pytest_plugins = ["tests.browser_support"]
pytestmark = pytest.mark.browser

LOAN = "Vi behöver ett lån"
ALMI_REPLY = "Almi Mälardalen kan hjälpa er med lån."
NOTE = "Internt: de har fått nej av banken i förra veckan."
LONG_WAIT = 8  # seconds: QUEUE_WAIT_ALERT_SECONDS of the notification test

# Lets a test say that the tab is in the background (document.hidden), as when the
# advisor works in another window.
HIDDEN_SCRIPT = """
(() => {
  let hidden = false;
  Object.defineProperty(document, "hidden", { configurable: true, get: () => hidden });
  window.__setHidden = (value) => { hidden = value; document.dispatchEvent(new Event("visibilitychange")); };
})();
"""


@pytest.fixture
def db_url(seeded_db_url: str) -> str:
    return seeded_db_url


@pytest.fixture
def gateway_with(db_url: str, tmp_path: Path) -> Iterator[Callable[..., LiveGateway]]:
    """Gateways with settings of a test's own (inside opening hours)."""
    started: list[LiveGateway] = []

    def start(**env: str) -> LiveGateway:
        gw = start_gateway(db_url, tmp_path / f"var{len(started)}", OPEN_MOMENT, **env)
        started.append(gw)
        return gw

    yield start
    for gw in started:
        stop_gateway(gw)


def company_page(new_context: Any, problems: PageProblems, label: str = "company") -> Any:
    return problems.watch(new_context().new_page(), label)


def advisor_page(new_context: Any, problems: PageProblems, label: str = "advisor") -> Any:
    context = new_context(viewport={"width": 1400, "height": 900})
    context.add_init_script(SPY_SCRIPT)
    context.add_init_script(HIDDEN_SCRIPT)
    return problems.watch(context.new_page(), label)


def queued_company(new_context: Any, problems: PageProblems, url: str, question: str | None = LOAN,
                   label: str = "company", banner: bool = True) -> tuple[Any, Any]:
    """A company whose chat waits for an advisor (`banner`: wait until the widget shows
    the queue; without it, until the queued notice is in the conversation)."""
    company = company_page(new_context, problems, label)
    box = open_widget(company, url)
    if question:
        box.fill(question)
        box.press("Enter")
        expect(company.get_by_role("log").locator(".msg-bot").last).to_be_visible()
    box.fill(HUMAN_PLEASE)
    box.press("Enter")
    if banner:
        expect(company.get_by_text("Du står i kö till en rådgivare.")).to_be_visible()
    else:
        expect(company.get_by_text("Du är nu i kö för att chatta med en rådgivare.")).to_be_visible()
    return company, box


def claim_first(adv: Any) -> None:
    adv.locator("#queue-list .chat-item").first.click()
    adv.get_by_role("button", name="Ta chatten").click()
    expect(adv.get_by_role("button", name="Lämna tillbaka till boten")).to_be_visible()


def spy(page: Any) -> dict[str, Any]:
    return dict(page.evaluate("({notifications: window.__spy.notifications, beeps: window.__spy.beeps})"))


# ---------------------------------------------------------------- working tools


def test_notes_canned_replies_with_placeholders_and_the_suggested_referral(
    live_gateway: LiveGateway, advisor: AdvisorAccount, new_context: Any, problems: PageProblems
) -> None:
    url = live_gateway.url
    company, _ = queued_company(new_context, problems, url)
    log = company.get_by_role("log", name="Meddelanden i chatten")
    adv = advisor_page(new_context, problems)
    console_login(adv, url, advisor)
    claim_first(adv)
    transcript = adv.get_by_role("log", name="Samtalet med företaget")
    reply = adv.get_by_role("textbox", name="Svar till företaget")

    # An internal note: in the transcript for advisors, never in the company's chat.
    adv.get_by_role("radio", name="Intern anteckning").check()
    note_box = adv.get_by_role("textbox", name="Intern anteckning (syns inte för företaget)")
    note_box.fill(NOTE)
    note_box.press("Enter")
    expect(transcript.get_by_text(NOTE)).to_be_visible()
    expect(transcript.get_by_text("Intern anteckning – Anna Berg")).to_be_visible()
    adv.get_by_role("radio", name="Svar till företaget").check()

    # A canned reply with "/": the advisor's name is filled in; the company's is not known.
    reply.press_sequentially("/återk")
    options = adv.get_by_role("listbox", name="Snabbsvar").get_by_role("option")
    expect(options).to_have_count(1)
    expect(options.first).to_contain_text("Återkommer")
    reply.press("Enter")
    expect(reply).to_have_value("Tack! Jag tar reda på det och återkommer till {företag} senast nästa arbetsdag.")
    warning = adv.locator("#reply-warning")
    expect(warning).to_have_text("Fyll i {företag} (företagets namn) innan du skickar.")
    reply.press("Enter")  # refused while a placeholder is left
    expect(reply).not_to_have_value("")
    # The selected placeholder is typed over.
    adv.keyboard.type("Ek Bygg AB")
    expect(warning).to_have_text("")
    reply.press("Enter")
    expect(log.get_by_text("återkommer till Ek Bygg AB senast nästa arbetsdag")).to_be_visible()

    # With the company's name saved, "/" fills it in at once; "{rådgivare}" too.
    adv.get_by_label("Företagets namn").fill("Ek Bygg AB")
    adv.get_by_role("button", name="Spara uppgifterna").click()
    expect(adv.get_by_text("Uppgifterna är sparade.")).to_be_visible()
    reply.press_sequentially("/hälsning")
    reply.press("Enter")
    expect(reply).to_have_value(re.compile("^Hej! Jag heter Anna Berg och är rådgivare"))
    reply.press("Enter")
    expect(log.get_by_text(re.compile("Jag heter Anna Berg och är rådgivare"))).to_be_visible()

    # The assistant's suggestion for the company's question, inserted with one click.
    expect(adv.get_by_text("Utifrån: ”Vi behöver ett lån”")).to_be_visible()
    adv.get_by_role("button", name="Infoga förslaget").click()
    expect(reply).to_have_value(re.compile("^Vänd dig till Almi Företagspartner Mälardalen"))
    screenshot(adv, "inbox-tools")
    reply.press("Enter")
    expect(log.get_by_text(re.compile("^Vänd dig till Almi Företagspartner Mälardalen"))).to_be_visible()

    expect(company.get_by_text(NOTE)).to_have_count(0)
    expect(company.get_by_text("Intern anteckning")).to_have_count(0)
    problems.assert_clean()


# ---------------------------------------------------------------- presence, cap, transfer


def test_presence_the_cap_and_a_transfer_to_a_colleague(
    live_gateway: LiveGateway, advisor: AdvisorAccount, make_advisor: Callable[[str, str], AdvisorAccount],
    new_context: Any, problems: PageProblems,
) -> None:
    url = live_gateway.url
    bo_account = make_advisor("bo.ek@foretagssupport.se", "Bo Ek")
    company, _ = queued_company(new_context, problems, url)
    anna = advisor_page(new_context, problems, "anna")
    bo = advisor_page(new_context, problems, "bo")
    console_login(anna, url, advisor)
    console_login(bo, url, bo_account)
    bo.get_by_label("Max chattar").select_option("1")
    expect(bo.locator("#my-load")).to_have_text("0 av 1 chattar")
    claim_first(anna)

    anna.get_by_role("button", name="Lämna över").click()
    colleague = anna.get_by_label("Kollega", exact=True)
    expect(colleague.locator("option")).to_have_count(1)
    expect(colleague).to_contain_text("Bo Ek – 0 av 1 chattar")
    anna.get_by_label("Anteckning till kollegan (syns inte för företaget)").fill("Lån till maskin, du kan Almi bäst.")
    screenshot(anna, "inbox-transfer")
    anna.get_by_role("button", name="Lämna över chatten").click()

    expect(company.get_by_text("Bo Ek har anslutit till chatten.")).to_be_visible()
    expect(company.get_by_text("Lån till maskin")).to_have_count(0)
    mine = bo.locator("#mine-list .chat-item")
    expect(mine).to_have_count(1)
    bo.wait_for_function("() => window.__spy.notifications.some(n => n.title.includes('lämnat över en chatt'))")
    assert any(n["title"] == "Anna Berg har lämnat över en chatt till dig" for n in spy(bo)["notifications"])
    mine.click()
    transcript = bo.get_by_role("log", name="Samtalet med företaget")
    expect(transcript.get_by_text("Anna Berg lämnade över chatten till Bo Ek.")).to_be_visible()
    expect(transcript.get_by_text("Lån till maskin, du kan Almi bäst.")).to_be_visible()
    expect(anna.locator("#mine-list .chat-item")).to_have_count(0)

    # Bo is at his cap of one chat: a second one is refused in Swedish.
    queued_company(new_context, problems, url, question=None, label="company2")
    bo.locator("#queue-list .chat-item").first.click()
    bo.get_by_role("button", name="Ta chatten").click()
    expect(bo.get_by_role("alert").filter(has_text="Du har redan en chatt")).to_be_visible()

    # Away: colleagues see it, and the transfer list offers nobody who is away.
    anna.get_by_label("Status", exact=True).select_option("away")
    expect(anna.locator("#my-load")).to_have_text("0 av 3 chattar")
    mine.click()
    bo.get_by_role("button", name="Lämna över").click()
    expect(bo.get_by_label("Kollega", exact=True)).to_contain_text("Anna Berg – borta")
    expect(bo.get_by_label("Kollega", exact=True).locator("option:not([disabled])")).to_have_count(0)
    anna.reload()
    expect(anna.get_by_label("Status", exact=True)).to_have_value("away")  # kept on the server
    problems.assert_clean(allow=("status of 409",))


# ---------------------------------------------------------------- the views


def test_bot_chats_closed_search_and_a_ticket_with_its_transcript(
    live_gateway: LiveGateway, advisor: AdvisorAccount, new_context: Any, problems: PageProblems
) -> None:
    url = live_gateway.url
    talking = company_page(new_context, problems)
    box = open_widget(talking, url)
    box.fill(LOAN)
    box.press("Enter")
    expect(talking.get_by_text(ALMI_REPLY)).to_be_visible()
    adv = advisor_page(new_context, problems)
    console_login(adv, url, advisor)

    # A chat the bot is having now, offered for taking over.
    bot_tab = adv.get_by_role("tab", name=re.compile("Hos boten"))
    bot_tab.click()
    item = adv.locator("#bot-list .chat-item")
    expect(item).to_have_count(1)
    expect(item).to_contain_text(LOAN)
    expect(item.locator(".chat-item-who")).to_have_text("Webb")
    item.click()
    adv.get_by_role("button", name="Ta över chatten").click()
    expect(talking.get_by_text("Anna Berg har anslutit till chatten.")).to_be_visible()
    reply = adv.get_by_role("textbox", name="Svar till företaget")
    reply.fill("Hej! Vilken sorts maskin gäller det?")
    reply.press("Enter")
    adv.get_by_label("Utfall", exact=True).select_option("referred")
    adv.get_by_role("button", name="Avsluta").click()
    expect(talking.get_by_text("Rådgivaren har avslutat chatten.")).to_be_visible()

    # Closed chats: found by a word of the conversation, and opened with their transcript.
    adv.get_by_role("tab", name="Avslutade").click()
    adv.get_by_role("searchbox", name="Sök").fill("maskin")
    adv.get_by_role("searchbox", name="Sök").press("Enter")
    found = adv.locator("#closed-list .chat-item")
    expect(found).to_have_count(1)
    expect(found).to_contain_text("Hänvisad vidare · Anna Berg")
    adv.get_by_role("searchbox", name="Sök").fill("finns-inte-alls")
    adv.get_by_role("searchbox", name="Sök").press("Enter")
    expect(adv.get_by_text("Inga avslutade chattar matchar.")).to_be_visible()
    adv.get_by_role("searchbox", name="Sök").fill("")
    adv.get_by_text("Filter").click()
    adv.get_by_label("Filtrera på utfall").select_option("referred")
    adv.get_by_role("button", name="Sök", exact=True).click()
    expect(found).to_have_count(1)
    found.click()
    transcript = adv.get_by_role("log", name="Samtalet med företaget")
    expect(transcript.get_by_text("Hej! Vilken sorts maskin gäller det?")).to_be_visible()
    screenshot(adv, "inbox-closed-search")

    # A ticket left in a conversation opens with that conversation's transcript.
    conversation_id = talking.evaluate("window.VfsChat.state().conversationId")
    app = live_gateway.server._runner.app
    form = TicketForm("Eva Ek", "Ek Bygg AB", "eva@ekbygg.se", "", "Kan ni ringa mig om lånet?")
    live_gateway.server.call(lambda: app[core_key].intake.create_ticket(conversation_id, "ticket-0001-abc", form))
    adv.get_by_role("tab", name=re.compile("Ärenden")).click()
    adv.get_by_role("button", name=re.compile(r"Visa samtalet för ärende \d+")).click()
    expect(transcript.get_by_text(LOAN, exact=True)).to_be_visible()
    expect(adv.locator("#ticket-card")).to_contain_text("Kan ni ringa mig om lånet?")
    expect(adv.get_by_label("Företagets e-post")).to_have_value("eva@ekbygg.se")
    problems.assert_clean()


# ---------------------------------------------------------------- notifications


def test_notifications_for_each_kind_each_switchable(
    gateway_with: Callable[..., LiveGateway], advisor: AdvisorAccount, new_context: Any, problems: PageProblems
) -> None:
    gateway = gateway_with(QUEUE_WAIT_ALERT_SECONDS=str(LONG_WAIT))
    url = gateway.url
    adv = advisor_page(new_context, problems)
    console_login(adv, url, advisor)

    # A new chat: sound, desktop notification.
    _, first_box = queued_company(new_context, problems, url, label="first")
    queued_at = time.monotonic()
    adv.wait_for_function("() => window.__spy.notifications.some(n => n.title === 'Ny chatt i kön')")
    beeps = spy(adv)["beeps"]
    assert beeps > 0

    # Switch the sound off for new chats: the next one is only a desktop notification.
    adv.get_by_role("button", name="Aviseringar").click()
    dialog = adv.get_by_role("dialog", name="Aviseringar")
    dialog.get_by_role("checkbox", name="Ljud vid ny chatt i kön").uncheck()
    screenshot(adv, "inbox-notification-settings")
    dialog.get_by_role("button", name="Stäng").click()
    adv.evaluate("window.__setHidden(true)")  # the advisor works in another window
    queued_company(new_context, problems, url, label="second")
    adv.wait_for_function("() => window.__spy.notifications.filter(n => n.title === 'Ny chatt i kön').length === 2")
    assert spy(adv)["beeps"] == beeps
    expect(adv).to_have_title(re.compile(r"^\(1\) Rådgivarkonsolen"))  # the tab's count
    adv.evaluate("window.__setHidden(false)")
    expect(adv).to_have_title(re.compile(r"^Rådgivarkonsolen"))

    # A chat that waits longer than QUEUE_WAIT_ALERT_SECONDS: noticed once.
    adv.wait_for_timeout(max(0.0, queued_at + LONG_WAIT + 0.2 - time.monotonic()) * 1000)
    queued_company(new_context, problems, url, label="third")  # a queue event brings fresh wait times
    adv.wait_for_function("() => window.__spy.notifications.some(n => n.title.startsWith('En chatt har väntat'))")
    expect(adv.locator("#queue-list .chat-item.is-late").first).to_be_visible()

    # A reply in my chat while I look at another one.
    claim_first(adv)
    # Another chat: the queue list may not yet have dropped the one just claimed (it is open).
    adv.locator("#queue-list .chat-item:not([aria-current='true'])").first.click()
    first_box.fill("Är ni kvar?")
    first_box.press("Enter")
    adv.wait_for_function("() => window.__spy.notifications.some(n => n.title === 'Nytt svar i din chatt')")
    body = next(n["body"] for n in spy(adv)["notifications"] if n["title"] == "Nytt svar i din chatt")
    assert body == "Är ni kvar?"
    problems.assert_clean()


# ---------------------------------------------------------------- the keyboard


def test_keyboard_first_next_chat_claim_canned_and_close(
    live_gateway: LiveGateway, advisor: AdvisorAccount, new_context: Any, problems: PageProblems
) -> None:
    url = live_gateway.url
    company, _ = queued_company(new_context, problems, url)
    adv = advisor_page(new_context, problems)
    console_login(adv, url, advisor)
    expect(adv.locator("#queue-list .chat-item")).to_have_count(1)
    adv.locator("body").click(position={"x": 5, "y": 300})

    adv.keyboard.press("?")
    help_dialog = adv.get_by_role("dialog", name="Kortkommandon")
    expect(help_dialog).to_be_visible()
    expect(help_dialog).to_contain_text("Nästa chatt")
    adv.keyboard.press("Escape")

    adv.keyboard.press("j")  # next chat: the only one, in the queue
    expect(adv.get_by_role("heading", name=re.compile("^Chatt "))).to_be_visible()
    # "t" works like the button it stands for, so it waits until the chat shows that button
    expect(adv.get_by_role("button", name="Ta chatten")).to_be_visible()
    adv.keyboard.press("t")  # take it
    reply = adv.get_by_role("textbox", name="Svar till företaget")
    expect(reply).to_be_focused()
    reply.press("Escape")  # leave the box: the one-key shortcuts work again
    adv.keyboard.press("/")  # canned replies
    expect(adv.get_by_role("listbox", name="Snabbsvar")).to_be_visible()
    expect(reply).to_be_focused()
    adv.keyboard.type("ögonbl")
    adv.keyboard.press("Enter")
    expect(reply).to_have_value("Ett ögonblick, jag tar reda på det åt dig.")
    adv.keyboard.press("Enter")
    expect(company.get_by_text("Ett ögonblick, jag tar reda på det åt dig.")).to_be_visible()
    reply.press("Escape")
    adv.keyboard.press("a")  # close: choose the outcome
    expect(adv.get_by_role("combobox", name="Utfall")).to_be_focused()

    # Shortcuts can be switched off (WCAG 2.1.4).
    adv.get_by_role("button", name="Kortkommandon").click()
    adv.get_by_role("checkbox", name=re.compile("Kortkommandon med en tangent")).uncheck()
    adv.get_by_role("button", name="Stäng").click()
    adv.locator("body").click(position={"x": 5, "y": 300})
    heading = adv.get_by_role("heading", name=re.compile("^Chatt ")).text_content()
    adv.keyboard.press("j")
    adv.keyboard.press("?")  # "?" still opens the help, so the setting can be found again
    expect(adv.get_by_role("dialog", name="Kortkommandon")).to_be_visible()
    adv.keyboard.press("Escape")
    assert adv.get_by_role("heading", name=re.compile("^Chatt ")).text_content() == heading
    problems.assert_clean()
    _ = dt


def test_automatic_assignment_gives_a_waiting_chat_to_an_available_advisor(
    gateway_with: Callable[..., LiveGateway], advisor: AdvisorAccount, new_context: Any, problems: PageProblems
) -> None:
    gateway = gateway_with(AUTO_ASSIGN="true")
    adv = advisor_page(new_context, problems)
    console_login(adv, gateway.url, advisor)
    company, _ = queued_company(new_context, problems, gateway.url, banner=False)

    # No claim: the chat is Anna's at once, and the company is told who answers.
    expect(company.get_by_text("Anna Berg har anslutit till chatten.")).to_be_visible()
    expect(adv.locator("#mine-list .chat-item")).to_have_count(1)
    expect(adv.locator("#my-load")).to_have_text("1 av 3 chattar")
    expect(adv.get_by_text("Ingen väntar just nu.")).to_be_visible()

    # Away: the next chat waits in the queue for someone available.
    adv.get_by_label("Status", exact=True).select_option("away")
    expect(adv.locator("#user-bar")).to_have_class(re.compile("is-away"))
    queued_company(new_context, problems, gateway.url, label="second")
    expect(adv.locator("#queue-list .chat-item")).to_have_count(1)
    adv.wait_for_timeout(1500)
    expect(adv.locator("#mine-list .chat-item")).to_have_count(1)
    adv.get_by_label("Status", exact=True).select_option("available")
    expect(adv.locator("#mine-list .chat-item")).to_have_count(2)
    problems.assert_clean()
