"""The admin's loop against the real stack (Rasa, actions, the gateway process, Chromium):
a directory edit is in the next bot answer without training; a message from the review
list, with the intent Rasa really predicted, is filed as an example. Each test puts the
directory back as it was (the stack is shared with the answer-quality tests)."""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import select

from bot.accounts.manage import create_advisor
from content.models import Example, Intent
from core.db import make_engine, make_sessionmaker, transaction
from core.settings import Settings
from directory.models import Organisation, Topic
from directory.seed import apply_organisation, apply_topic, organisation_from_row, topic_from_row
from tests.browser_support import open_widget, screenshot
from tests.gateway.conftest import AdvisorAccount

pytest_plugins = ["tests.browser_support"]
pytestmark = [pytest.mark.e2e, pytest.mark.browser]

QUESTION = "vi har inga pengar kvar i kassan, kan vi få lån någonstans?"
NEW_PITCH = "Just nu har Almi extra rådgivning om lån varje tisdag, utan att du behöver boka."
ALIAS = "Pengabolaget"


def url_of(stack: Settings) -> str:
    return f"http://{stack.gateway_host}:{stack.gateway_port}"


@pytest.fixture
def real_admin(rasa_stack: Settings) -> AdvisorAccount:
    engine = make_engine(rasa_stack.database_url)
    try:
        account = create_advisor(make_sessionmaker(engine), "vera@example.se", "Vera Admin", "ett-långt-lösenord",
                                 update=True, role="admin")
    finally:
        engine.dispose()
    return AdvisorAccount(account.id, "vera@example.se", "Vera Admin", "ett-långt-lösenord")


@pytest.fixture
def directory_restored(rasa_stack: Settings) -> Iterator[None]:
    """Whatever a test changes in Almi and the financing topic is put back afterwards."""
    engine = make_engine(rasa_stack.database_url)
    factory = make_sessionmaker(engine)
    with factory() as session:
        almi, topic = session.get(Organisation, "almi"), session.get(Topic, "financing")
        assert almi is not None and topic is not None
        saved = organisation_from_row(almi), topic_from_row(topic)
    try:
        yield
    finally:
        with transaction(factory) as session:
            almi, topic = session.get(Organisation, "almi"), session.get(Topic, "financing")
            apply_organisation(almi, saved[0])  # type: ignore[arg-type]
            apply_topic(topic, saved[1])  # type: ignore[arg-type]
        engine.dispose()


def admin_login(page: Any, url: str, account: AdvisorAccount) -> None:
    from playwright.sync_api import expect

    page.goto(url + "/admin/login")
    page.get_by_label("E-postadress").fill(account.email)
    page.get_by_label("Lösenord").fill(account.password)
    page.get_by_role("button", name="Logga in").click()
    expect(page.get_by_role("heading", name="Översikt")).to_be_visible()


def ask(company: Any, url: str, text: str) -> Any:
    box = open_widget(company, url)
    box.fill(text)
    box.press("Enter")
    return company.get_by_role("log", name="Meddelanden i chatten")


def test_a_directory_edit_is_in_the_next_answer_without_training(
    rasa_stack: Settings, real_admin: AdvisorAccount, new_context: Any, directory_restored: None
) -> None:
    from playwright.sync_api import expect

    url = url_of(rasa_stack)
    admin = new_context().new_page()
    admin_login(admin, url, real_admin)
    admin.goto(url + "/admin/directory/topics/financing")
    pitch = admin.get_by_label("Vad assistenten säger om dem här").first
    pitch.fill(NEW_PITCH)
    admin.get_by_role("button", name="Spara").click()
    expect(admin.get_by_role("status")).to_have_text("Ändringen är sparad.")

    log = ask(new_context().new_page(), url, QUESTION)
    expect(log.get_by_text(re.compile(re.escape(NEW_PITCH)))).to_be_visible(timeout=30_000)
    screenshot(admin, "admin-real-topic-saved")


def test_an_alias_added_in_the_editor_is_recognised_in_the_next_answer(
    rasa_stack: Settings, real_admin: AdvisorAccount, new_context: Any, directory_restored: None
) -> None:
    from playwright.sync_api import expect

    url = url_of(rasa_stack)
    admin = new_context().new_page()
    admin_login(admin, url, real_admin)
    admin.goto(url + "/admin/directory/organisations/almi")
    aliases = admin.get_by_label("Andra namn, ett per rad")
    aliases.fill(aliases.input_value() + f"\n{ALIAS}")
    admin.get_by_role("button", name="Spara").click()
    expect(admin.get_by_role("status")).to_have_text("Ändringen är sparad.")

    # A fresh conversation: nothing named before, so only the new alias can say who is meant.
    log = ask(new_context().new_page(), url, f"hur kontaktar jag {ALIAS}?")
    expect(log.get_by_text(re.compile("Så här når du Almi Företagspartner Mälardalen"))).to_be_visible(
        timeout=30_000)


def test_a_message_from_the_review_list_is_filed_under_an_intent(
    rasa_stack: Settings, real_admin: AdvisorAccount, new_context: Any
) -> None:
    from playwright.sync_api import expect

    url = url_of(rasa_stack)
    question = "vår kund i Norge betalar inte och vi behöver pengar till löner"
    ask(new_context().new_page(), url, question)

    admin = new_context().new_page()
    admin_login(admin, url, real_admin)
    item = admin.locator("article.review-item").filter(has_text=question)
    deadline = time.monotonic() + 30
    while True:  # listed once Rasa has answered it
        admin.goto(url + "/admin/review")
        if item.count() == 1 or time.monotonic() > deadline:
            break
        time.sleep(0.5)
    expect(item).to_have_count(1)
    # What Rasa predicted, read from its tracker store, and the referral the bot gave.
    predicted = item.locator("dt", has_text="Tolkades som").locator("xpath=following-sibling::dd")
    expect(predicted).not_to_have_text("okänt")
    expect(item.locator("dt", has_text="Säkerhet").locator("xpath=following-sibling::dd")).to_have_text(
        re.compile(r"^\d+ %$"))
    expect(item.locator("dt", has_text="Hänvisade till").locator("xpath=following-sibling::dd")).not_to_have_text("–")
    item.scroll_into_view_if_needed()
    admin.evaluate("window.scrollBy(0, -24)")
    screenshot(admin, "admin-real-review")
    item.get_by_label("Annan avsikt").select_option("financing")
    item.get_by_role("button", name="Lägg in").click()
    expect(admin.get_by_role("status")).to_have_text("Meddelandet är inlagt som exempel.")
    expect(admin.locator("article.review-item").filter(has_text=question)).to_have_count(0)

    engine = make_engine(rasa_stack.database_url)
    with make_sessionmaker(engine)() as session:
        filed = session.scalar(select(Intent.name).join(Example).where(Example.text == question))
    engine.dispose()
    assert filed == "financing"
