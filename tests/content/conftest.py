"""A migrated database with the shipped directory and content, copied for each test."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy.orm import Session, sessionmaker

from core.db import make_engine, make_sessionmaker
from scripts.db import seed, upgrade


@pytest.fixture(scope="session")
def seeded_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("content") / "seeded.db"
    upgrade(f"sqlite:///{path}")
    seed(f"sqlite:///{path}")
    return path


@pytest.fixture
def content_url(tmp_path: Path, seeded_template: Path) -> str:
    path = tmp_path / "content.db"
    shutil.copyfile(seeded_template, path)
    return f"sqlite:///{path}"


@pytest.fixture
def factory(content_url: str) -> Iterator[sessionmaker[Session]]:
    engine = make_engine(content_url)
    yield make_sessionmaker(engine)
    engine.dispose()
