"""Fixtures for the training tests: a seeded database, a model directory whose active
model was "trained" (by tests/training/fake_rasa.py) on the current content, and a job
runner that calls the fake Rasa instead of the real one."""

from __future__ import annotations

import datetime as dt
import io
import json
import shutil
import sys
import tarfile
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import pytest
import yaml

from core import serving
from core.db import AsyncDatabase, make_engine, make_sessionmaker, transaction
from scripts.db import seed, upgrade
from training import evaluation
from training.runner import Runner, Tools

FAKE_RASA = Path(__file__).with_name("fake_rasa.py")
ACTIVE = "model-active.tar.gz"
NOW = dt.datetime(2026, 12, 8, 9, 0, tzinfo=dt.timezone.utc)


@pytest.fixture(scope="session")
def seeded_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("training-template") / "gateway.db"
    upgrade(f"sqlite:///{path}")
    seed(f"sqlite:///{path}")
    return path


@pytest.fixture
def db_url(tmp_path: Path, seeded_template: Path) -> str:
    path = tmp_path / "gateway.db"
    shutil.copyfile(seeded_template, path)
    return f"sqlite:///{path}"


def write_model(path: Path, domain: dict[str, Any]) -> Path:
    """A model file as the registry reads it: a tar.gz with Rasa's metadata.json."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with tarfile.open(path, "w:gz") as archive:
        body = json.dumps({"domain": domain}).encode()
        info = tarfile.TarInfo("metadata.json")
        info.size = len(body)
        archive.addfile(info, io.BytesIO(body))
    return path


def exported_domain(db_url: str, tmp_path: Path) -> dict[str, Any]:
    from content.export import write_rasa_project

    engine = make_engine(db_url)
    with transaction(make_sessionmaker(engine)) as session:
        write_rasa_project(session, tmp_path / "exported")
    engine.dispose()
    data: dict[str, Any] = yaml.safe_load((tmp_path / "exported" / "domain.yml").read_text(encoding="utf-8"))
    return data


def sync_session(db_url: str) -> Any:
    return transaction(make_sessionmaker(make_engine(db_url)))


@pytest.fixture
def model_dir(tmp_path: Path, db_url: str) -> Path:
    """MODEL_DIR with the active model, trained on the current content, being served."""
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
    evaluation.add(path, "Hej hej!", "greet")
    return path


@pytest.fixture
def calls(tmp_path: Path) -> Path:
    return tmp_path / "calls.jsonl"


def called(calls: Path) -> list[list[str]]:
    if not calls.exists():
        return []
    return [json.loads(line) for line in calls.read_text(encoding="utf-8").splitlines()]


@pytest.fixture
async def database(db_url: str) -> AsyncIterator[AsyncDatabase]:
    database = AsyncDatabase(db_url)
    yield database
    await database.dispose()


@pytest.fixture
def make_runner(database: AsyncDatabase, db_url: str, model_dir: Path, tmp_path: Path, heldout: Path,
                calls: Path) -> Callable[..., Runner]:
    def build(**env: str) -> Runner:
        environment = {"PATH": "/usr/bin:/bin", "FAKE_RASA_CALLS": str(calls), **env}
        fake = [sys.executable, str(FAKE_RASA)]
        tools = Tools(fake, [*fake, "evaluate"], tmp_path, environment, nice=False)
        # The export runs in a thread with its own connection, as in the gateway.
        return Runner(database.sessions, model_dir, tmp_path / "work", tools, heldout, database_url=db_url)

    return build
