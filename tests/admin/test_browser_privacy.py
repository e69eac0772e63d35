"""The personal-data page in Chromium: search, the confirmation, the erasure's counts; named,
readable and accessible like every admin screen (screenshot in docs/screenshots/)."""

from __future__ import annotations

from typing import Any

import pytest
from playwright.sync_api import expect

from tests.admin.review_data import CONVERSATIONS
from tests.admin.test_browser_admin import accessible, admin_live, log_in
from tests.browser_support import LiveGateway, PageProblems, screenshot
from tests.gateway.conftest import AdvisorAccount

pytest_plugins = ["tests.browser_support"]
pytestmark = pytest.mark.browser
__all__ = ["admin_live"]


def test_an_admin_finds_a_conversation_and_erases_it_after_confirming(
    admin_live: LiveGateway, admin: AdvisorAccount, new_context: Any, problems: PageProblems
) -> None:
    conversation_id = CONVERSATIONS[0][0]
    page = problems.watch(new_context().new_page(), "admin")
    log_in(page, admin_live.url, admin)
    page.get_by_role("link", name="Personuppgifter").click()
    expect(page.get_by_role("heading", name="Personuppgifter", level=1)).to_be_visible()
    page.get_by_label("Sök på").select_option("conversation")
    page.get_by_label("Uppgift").fill(conversation_id)
    page.get_by_role("button", name="Sök").click()
    found = page.get_by_role("region", name="Hittat")
    expect(found.get_by_text(conversation_id)).to_be_visible()
    accessible(page, "admin-privacy")
    screenshot(page, "admin-privacy")

    page.get_by_role("button", name="Radera allt om personen").click()
    expect(page.get_by_role("alert")).to_contain_text("Kryssa i rutan")
    page.get_by_label("Jag förstår att allt ovan raderas").check()
    page.get_by_role("button", name="Radera allt om personen").click()
    expect(page.get_by_role("status").filter(has_text="Uppgifterna är raderade")).to_contain_text("Samtal: 1")
    page.goto(admin_live.url + "/admin/history")
    expect(page.get_by_text("raderade personuppgifter").first).to_be_visible()
    problems.assert_clean(allow=("status of 400",))  # the unconfirmed erasure is refused with 400
