"""Träning and Modeller as an admin uses them without JavaScript (forms, then reading the
page and the job's JSON), with the fake Rasa of tests/training: a training from the page,
its progress and evaluation, activation through the swap request, the rollback from the
history, one training at a time, cancel, and the held-out questions."""

from __future__ import annotations

import asyncio
import sys
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import pytest
from aiohttp.test_utils import TestClient, TestServer

from bot.admin.keys import f1_source_key, training_heldout_key, training_runner_key, training_tools_key
from bot.app import create_app
from core import serving
from core.settings import Settings
from tests.admin.conftest import AdminBrowser
from tests.gateway.conftest import AdvisorAccount, FakeClock
from tests.training.conftest import ACTIVE, FAKE_RASA, exported_domain, sync_session, write_model
from training import evaluation
from training.runner import Tools

FAKE_ENV: dict[str, str] = {}


@pytest.fixture
def model_dir(tmp_path: Path, db_url: str) -> Path:
    folder = tmp_path / "models"
    write_model(folder / ACTIVE, exported_domain(db_url, tmp_path))
    with sync_session(db_url) as session:
        serving.activate(session, ACTIVE, "http://127.0.0.1:5005", None)
    return folder


@pytest.fixture
def heldout(tmp_path: Path) -> Path:
    path = tmp_path / "referrals.yml"
    evaluation.add(path, "Jag behöver låna pengar till en maskin", "financing")
    evaluation.add(path, "Vi vill sälja i Tyskland", "export")
    return path


@pytest.fixture
async def gateway(make_settings: Callable[..., Settings], clock: FakeClock, ui_dirs: tuple[Path, Path],
                  model_dir: Path, heldout: Path, tmp_path: Path,
                  monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[TestClient]:
    """The gateway with the training runner calling the fake Rasa (FAKE_ENV set per test)."""
    FAKE_ENV.clear()
    app = create_app(make_settings(MODEL_DIR=str(model_dir)), clock=clock, static_dir=ui_dirs[0],
                     templates_dir=ui_dirs[1], sweep_interval=3600, nlu_log_interval=3600)
    fake = [sys.executable, str(FAKE_RASA)]
    app[training_tools_key] = Tools(fake, [*fake, "evaluate"], tmp_path, FAKE_ENV, nice=False)
    app[training_heldout_key] = heldout
    client = TestClient(TestServer(app))
    await client.start_server()
    yield client
    await client.close()


def fake(**env: str) -> None:
    FAKE_ENV.update({"PATH": "/usr/bin:/bin", **env})


async def job_state(page: AdminBrowser, job_id: str) -> dict[str, Any]:
    async with page.session.get(f"{page.base}/admin/training/jobs/{job_id}.json") as response:
        assert response.status == 200
        data: dict[str, Any] = await response.json()
        return data


async def until_done(page: AdminBrowser, job_id: str) -> dict[str, Any]:
    for _ in range(600):
        state = await job_state(page, job_id)
        if not state["active"]:
            return state
        await asyncio.sleep(0.05)
    raise AssertionError("the training did not finish")


async def start(page: AdminBrowser) -> str:
    status, html, final = await page.post("/admin/training")
    assert status == 200, html
    assert "Träningen har startat" in html
    return final.split("jobb=")[1].split("&")[0]


async def test_an_admin_trains_sees_progress_and_evaluation_activates_and_rolls_back(
        gateway: TestClient, admin_browser: AdminBrowser, model_dir: Path, db_url: str) -> None:
    fake(FAKE_RASA_EPOCHS="5", FAKE_RASA_EPOCH_SECONDS="0.3", FAKE_RASA_WRONG="Vi vill sälja i Tyskland")
    job_id = await start(admin_browser)
    # While it runs: the stages, the chosen path and the epochs, on the page and in its JSON.
    for _ in range(200):
        state = await job_state(admin_browser, job_id)
        if state["stage"] == "train" and state["epoch"] >= 1:
            break
        await asyncio.sleep(0.05)
    assert [s["status"] for s in state["stages"]] == ["done", "done", "current", "waiting"]
    assert (state["mode_name"], state["component"], state["epochs"]) == ("Snabb (finjustering)", "DIETClassifier", 5)
    _, html = await admin_browser.get("/admin/training")
    assert "Avbryt träningen" in html and "finjusteras" in html and 'data-active="true"' in html
    state = await until_done(admin_browser, job_id)
    assert state["state_name"] == "Klar" and state["model_file"]
    new_model = state["model_file"]
    _, html = await admin_browser.get("/admin/training")
    assert f"Jämför och aktivera modellen {new_model}" in html

    # The registry: the new model beside the active one, with the question whose answer changed.
    _, html = await admin_browser.get("/admin/models")
    assert new_model in html and ACTIVE in html and "50 %" in html
    model_id = html.split(f'">{new_model}</a>')[0].rsplit('href="/admin/models/', 1)[1]
    _, html = await admin_browser.get(f"/admin/models/{model_id}")
    assert "Frågor där svaret ändras (1)" in html
    assert "Vi vill sälja i Tyskland" in html and "sämre" in html

    # Activate: the supervisor is asked for the model (core/serving.py), the history says so.
    status, html, _ = await admin_browser.post(f"/admin/models/{model_id}/activate")
    assert status == 200 and "startas bredvid den aktiva" in html
    with sync_session(db_url) as session:
        current = serving.read(session)
        assert current is not None and current.requested_model == new_model
        serving.activate(session, new_model, "http://127.0.0.1:5006", None)  # the swap finished
    _, html = await admin_browser.get("/admin/history?vad=model")
    assert f"aktiverade modellen {new_model}" in html
    entry_id = html.split("/revert")[0].rsplit("/admin/history/", 1)[1]
    # The intent list's F1 now comes from the active model's evaluation.
    figures = await gateway.app[f1_source_key](gateway.app)
    assert figures == {"financing": 1.0, "export": 0.0}

    # Rollback from the history: the previous model is requested through the same swap.
    status, html, _ = await admin_browser.post(f"/admin/history/{entry_id}/revert")
    assert status == 200, html
    with sync_session(db_url) as session:
        current = serving.read(session)
        assert current is not None and current.requested_model == ACTIVE


async def test_one_training_at_a_time_and_cancel_from_the_page(
        gateway: TestClient, admin_browser: AdminBrowser, model_dir: Path) -> None:
    fake(FAKE_RASA_EPOCHS="300", FAKE_RASA_EPOCH_SECONDS="0.2")
    job_id = await start(admin_browser)
    status, html, _ = await admin_browser.post("/admin/training")
    assert status == 409 and "En träning pågår redan" in html
    status, html, _ = await admin_browser.post(f"/admin/training/jobs/{job_id}/cancel")
    assert status == 200 and "Träningen avbryts" in html
    state = await until_done(admin_browser, job_id)
    assert state["state_name"] == "Avbruten" and "oförändrad" in state["message"]
    assert sorted(p.name for p in model_dir.iterdir()) == [ACTIVE]
    await gateway.app[training_runner_key].close()


async def test_a_held_out_question_is_added_unless_it_is_training_data(
        gateway: TestClient, admin_browser: AdminBrowser, heldout: Path) -> None:
    status, html, _ = await admin_browser.post("/admin/training/questions",
                                               {"text": "lån till företag", "intent": "financing"})
    assert status == 400 and "Frågan är redan ett träningsexempel" in html
    assert 'value="lån till företag"' in html  # what was typed is kept
    status, html, _ = await admin_browser.post("/admin/training/questions",
                                               {"text": "Kan vi låna till en ny ugn?", "intent": "financing"})
    assert status == 200 and "Frågan är tillagd" in html
    assert evaluation.load(heldout)[-1] == evaluation.Question("Kan vi låna till en ny ugn?", "financing")


async def test_an_advisor_cannot_train_or_activate(gateway: TestClient, advisor: AdvisorAccount,
                                                   form_browser: Callable[[], AdminBrowser]) -> None:
    page = form_browser()
    await page.login(advisor)
    for path in ("/admin/training", "/admin/models", "/admin/training/jobs/1.json"):
        assert (await page.get(path))[0] == 403
    status, _, _ = await page.post("/admin/training")
    assert status == 403
