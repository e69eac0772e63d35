"""Train, evaluate, activate and roll back against the real stack (Rasa, actions, the
gateway process, the supervisor's swap, Chromium).

An admin creates an intent with examples and an answer, trains (a new intent: the full
path, with the quicker pipeline of tests/e2e/quick_config.yml so the test stays within a
few minutes; docs/training.md), follows the progress, reads the evaluation, activates the
model; a company in the widget gets the new answer. Reverting the activation in the
history restores the old model, and the old answer with it. The new model is thrown away
at the end and the intent retired, so the shared stack is as it was."""

from __future__ import annotations

import re
import time
from typing import Any

import pytest

from core import serving
from core.db import make_engine, make_sessionmaker
from core.settings import Settings
from tests.browser_support import open_widget, screenshot
from tests.e2e.test_admin_real_stack import admin_login, real_admin, url_of
from tests.gateway.conftest import AdvisorAccount

pytest_plugins = ["tests.browser_support"]
pytestmark = [pytest.mark.e2e, pytest.mark.browser, pytest.mark.timeout(3600)]

INTENT = "ask_visitor_parking"
EXAMPLES = [
    "var kan jag parkera när jag besöker er",
    "finns det parkering vid ert kontor",
    "kan jag ställa bilen utanför era lokaler",
    "var parkerar besökare hos företagssupport",
    "finns det gästparkering hos er",
    "parkering vid mötet hos er",
]
ANSWER = "Besöksparkering finns på gården bakom huset. Anmäl dig i receptionen när du kommer."
QUESTION = "finns det någon parkering för besökare hos er?"

__all__ = ["real_admin"]


def active_model(stack: Settings) -> str:
    engine = make_engine(stack.database_url)
    try:
        with make_sessionmaker(engine)() as session:
            current = serving.read(session)
            return current.active_model if current else ""
    finally:
        engine.dispose()


# Every gateway reads the serving row once a second and moves new turns to the server it
# names (bot/conversation/rasa_target.py): a turn sent within that second may still get the
# previous model.
GATEWAY_FOLLOWS_SECONDS = 1.0


def wait_active(stack: Settings, model: str, timeout: float = 600) -> None:
    """Until the serving row names `model` and the gateway has had time to follow it."""
    deadline = time.monotonic() + timeout
    while active_model(stack) != model:
        assert time.monotonic() < deadline, f"{model} was not active within {timeout:.0f} s"
        time.sleep(1)
    time.sleep(GATEWAY_FOLLOWS_SECONDS + 1.0)


def ask(page: Any, url: str) -> Any:
    box = open_widget(page, url)
    box.fill(QUESTION)
    box.press("Enter")
    return page.get_by_role("log", name="Meddelanden i chatten")


def test_an_admin_trains_a_new_intent_activates_it_and_rolls_back(
    rasa_stack: Settings, real_admin: AdvisorAccount, new_context: Any
) -> None:
    from playwright.sync_api import expect

    url = url_of(rasa_stack)
    original = active_model(rasa_stack)
    admin = new_context().new_page()
    admin_login(admin, url, real_admin)

    # 1. A new intent with its examples and answer.
    admin.goto(url + "/admin/intents/new")
    admin.get_by_label("Namn", exact=True).fill(INTENT)
    admin.get_by_role("radio", name=re.compile("^Samtal")).check()
    admin.get_by_label("Exempel, ett per rad").fill("\n".join(EXAMPLES))
    admin.get_by_label("Svaret").fill(ANSWER)
    admin.get_by_role("button", name="Skapa avsikten").click()
    expect(admin.get_by_role("status")).to_have_text("Skapad.")

    # 2. Train: the page says a new intent needs the full training, and shows the progress.
    admin.goto(url + "/admin/training")
    admin.get_by_role("button", name="Träna en ny modell").click()
    expect(admin.get_by_role("status").first).to_contain_text("Träningen har startat")
    job = admin.locator(".training-job")
    expect(job.locator("[data-field='mode_name']")).to_have_text("Full träning", timeout=120_000)
    expect(job.locator("[data-field='mode_reason']")).to_contain_text("hela träningen")
    expect(job.locator("[data-stage='train']")).to_have_class(re.compile("stage-current"), timeout=300_000)
    # (No epoch is asserted: when Rasa's cache holds every component, none is trained.)
    screenshot(admin, "admin-training-progress")
    compare = admin.get_by_role("link", name=re.compile("^Jämför och aktivera modellen"))
    expect(compare).to_be_visible(timeout=1_800_000)  # the script reloads the page when the job ends
    screenshot(admin, "admin-training-done")

    # 3. The evaluation beside the active model, then activation through the swap.
    compare.click()
    expect(admin.get_by_role("heading", name="Modeller")).to_be_visible()
    new_model = admin.locator("table.models tbody tr").first.locator("th a")
    name = new_model.inner_text()
    assert name != original
    screenshot(admin, "admin-models")
    new_model.click()
    expect(admin.get_by_role("heading", name=f"Modellen {name}")).to_be_visible()
    expect(admin.get_by_role("heading", name=re.compile("^Utvärdering"))).to_be_visible()
    screenshot(admin, "admin-model-evaluation")
    admin.get_by_role("button", name="Aktivera den här modellen").click()
    expect(admin.get_by_role("status").first).to_contain_text("startas bredvid den aktiva")
    wait_active(rasa_stack, name)

    # 4. A company gets the new answer.
    company = new_context().new_page()
    log = ask(company, url)
    expect(log.get_by_text(ANSWER)).to_be_visible(timeout=30_000)
    screenshot(company, "widget-new-answer")

    # 5. Rollback from the history: the old model, and the old answer, are back.
    admin.goto(url + "/admin/history?vad=model")
    entry = admin.locator("ol.history > li").filter(has_text=f"aktiverade modellen {name}").first
    entry.get_by_role("button", name="Ångra den här ändringen").click()
    expect(admin.get_by_role("status").first).to_have_text("Ändringen är ångrad.")
    wait_active(rasa_stack, original)
    again = new_context().new_page()
    log = ask(again, url)
    expect(log.locator(".msg-bot").first).to_be_visible(timeout=30_000)  # the greeting is a system message
    expect(log.get_by_text(ANSWER)).to_have_count(0)

    # 6. Leave the shared stack as it was: throw the model away, retire the intent.
    admin.goto(url + "/admin/models")
    row = admin.locator("table.models tbody tr").filter(has_text=name)
    row.get_by_role("button", name=re.compile("^Släng")).click()
    expect(admin.get_by_role("status").first).to_have_text("Modellen är slängd.")
    admin.goto(url + f"/admin/intents/{INTENT}")
    retire = admin.get_by_role("button", name=re.compile("^Avveckla"))
    if retire.count():
        retire.first.click()
