"""Träning and Modeller in a real browser (Debian's Chromium) with the fake Rasa of
tests/training: the progress updates in place (training.js, no reload) until the job
ends, the evaluation beside the active model, activation; each page named, readable and
free of CSP errors. Screenshots: test-artifacts/admin-training*.png, admin-model*.png."""

from __future__ import annotations

import re
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import expect

from bot.admin.keys import training_heldout_key, training_tools_key
from core import serving
from tests.admin.conftest import ADMIN_MOMENT
from tests.admin.test_browser_admin import accessible, log_in
from tests.browser_support import LiveGateway, PageProblems, screenshot, start_gateway, stop_gateway
from tests.gateway.conftest import AdvisorAccount
from tests.training.conftest import ACTIVE, FAKE_RASA, exported_domain, sync_session, write_model
from training import evaluation
from training.runner import Tools

pytest_plugins = ["tests.browser_support"]
pytestmark = pytest.mark.browser

WRONG = "Vi vill sälja i Tyskland"


@pytest.fixture
def training_live(db_url: str, tmp_path: Path) -> Iterator[LiveGateway]:
    model_dir = tmp_path / "models"
    write_model(model_dir / ACTIVE, exported_domain(db_url, tmp_path))
    with sync_session(db_url) as session:
        serving.activate(session, ACTIVE, "http://127.0.0.1:5005", None)
    heldout = tmp_path / "referrals.yml"
    for text, intent in (("Jag behöver låna pengar till en maskin", "financing"), (WRONG, "export"),
                         ("Hej hej!", "greet")):
        evaluation.add(heldout, text, intent)
    fake = [sys.executable, str(FAKE_RASA)]
    tools = Tools(fake, [*fake, "evaluate"], tmp_path, {
        "PATH": "/usr/bin:/bin", "FAKE_RASA_EPOCHS": "8", "FAKE_RASA_EPOCH_SECONDS": "0.6",
        "FAKE_RASA_WRONG": WRONG}, nice=False)
    gateway = start_gateway(db_url, tmp_path / "var", ADMIN_MOMENT, MODEL_DIR=str(model_dir))
    # The same gateway, restarted with the fake Rasa for training.
    gateway.server.stop()
    build = gateway.server.app_factory

    def with_fake_training() -> Any:
        app = build()
        app[training_tools_key] = tools
        app[training_heldout_key] = heldout
        return app

    gateway.server.app_factory = with_fake_training
    gateway.server.start()
    try:
        yield gateway
    finally:
        stop_gateway(gateway)


def test_an_admin_follows_a_training_live_compares_and_activates(
    training_live: LiveGateway, admin: AdvisorAccount, new_context: Any, problems: PageProblems, db_url: str
) -> None:
    url = training_live.url
    page = problems.watch(new_context().new_page(), "admin")
    log_in(page, url, admin)
    page.goto(url + "/admin/training")
    expect(page.get_by_role("heading", level=1)).to_have_text("Träning")
    accessible(page, "/admin/training")
    page.get_by_role("button", name="Träna en ny modell").click()
    expect(page.get_by_role("status").first).to_contain_text("Träningen har startat")

    # The figures change in place: the script polls, the page is not reloaded meanwhile.
    page.evaluate("window.stillTheSamePage = true")
    job = page.locator(".training-job")
    expect(job.locator("[data-field='epoch']")).to_have_text(re.compile("^[3-7]$"), timeout=20_000)
    assert page.evaluate("window.stillTheSamePage === true")
    expect(job.locator("[data-field='mode_name']")).to_have_text("Snabb (finjustering)")
    expect(job.locator("[data-field='component']")).to_have_text("DIETClassifier")
    expect(job.locator("[data-stage='train']")).to_have_class(re.compile("stage-current"))
    expect(job.locator("[data-stage='validate']")).to_have_class(re.compile("stage-done"))
    screenshot(page, "admin-training-progress")

    # When the job ends the page reloads itself with the result.
    compare = page.get_by_role("link", name=re.compile("^Jämför och aktivera modellen"))
    expect(compare).to_be_visible(timeout=30_000)
    expect(job.locator("[data-field='state_name']")).to_have_text("Klar")
    accessible(page, "/admin/training (klar)")
    screenshot(page, "admin-training")

    compare.click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Modeller")
    accessible(page, "/admin/models")
    screenshot(page, "admin-models")
    page.locator("table.models tbody tr").first.locator("th a").click()
    expect(page.get_by_role("heading", name="Frågor där svaret ändras (1)")).to_be_visible()
    expect(page.get_by_role("row").filter(has_text=WRONG)).to_contain_text("sämre")
    accessible(page, "/admin/models/<id>")
    screenshot(page, "admin-model")
    page.get_by_role("button", name="Aktivera den här modellen").click()
    expect(page.get_by_role("status").first).to_contain_text("startas bredvid den aktiva")
    expect(page.locator("table.models tbody tr").first).to_contain_text("startas")
    with sync_session(db_url) as session:
        current = serving.read(session)
        assert current is not None and current.requested_model and current.requested_model != ACTIVE
    problems.assert_clean()
