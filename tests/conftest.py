"""Shared fixtures: a migrated SQLite database with the directory seeded, per test (PostgreSQL when asked)."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker

from actions import runtime
from core.db import make_engine, make_sessionmaker
from scripts.db import seed, upgrade

# The real stack (Rasa, actions, gateway), one per test session for every end-to-end test.
pytest_plugins = ["tests.e2e.stack_fixture"]


@pytest.fixture
def database_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'test.db'}"


@pytest.fixture
def seeded_sessions(database_url: str) -> Iterator[sessionmaker[Session]]:
    """The real migrations and the shipped directory, in a fresh database."""
    upgrade(database_url)
    seed(database_url, with_content=False)  # the actions read the directory only
    engine = make_engine(database_url)
    factory = make_sessionmaker(engine)
    runtime.use_sessions(factory)
    yield factory
    runtime.use_sessions(None)
    engine.dispose()


@pytest.fixture
def postgres_url() -> Iterator[str]:
    """A private schema in TEST_DATABASE_URL, dropped afterwards (tests never share tables)."""
    base = os.environ.get("TEST_DATABASE_URL")
    if not base:
        pytest.skip("TEST_DATABASE_URL is not set: PostgreSQL tests skipped (make test in CI sets it)")
    schema = f"test_{uuid.uuid4().hex[:12]}"
    admin = make_engine(base)
    with admin.begin() as conn:
        conn.exec_driver_sql(f'CREATE SCHEMA "{schema}"')
    url = make_url(base).update_query_dict({"options": f"-csearch_path={schema}"})
    try:
        yield url.render_as_string(hide_password=False)
    finally:
        with admin.begin() as conn:
            conn.exec_driver_sql(f'DROP SCHEMA "{schema}" CASCADE')
        admin.dispose()
