"""The gateway's tables in the shared Alembic history, and the advisor CLI."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect, select

import bot.conversation.models  # noqa: F401
import directory.models  # noqa: F401
from bot.__main__ import main
from bot.accounts.auth import verify_password
from bot.conversation.models import Advisor
from core.db import Base, make_engine, make_sessionmaker
from scripts.db import alembic_config

GATEWAY_TABLES = {
    "advisors",
    "advisor_sessions",
    "conversations",
    "messages",
    "participants",
    "queue_entries",
    "tickets",
    "conversation_events",
    "deliveries",
    "delivery_receipts",
    "inbound_receipts",
}


@pytest.fixture
def db_url(any_db_url: str) -> str:
    return any_db_url


def test_the_migrations_create_exactly_the_models(db_url: str) -> None:
    engine = make_engine(db_url)
    with engine.connect() as connection:
        tables = set(inspect(connection).get_table_names())
        diff = compare_metadata(
            MigrationContext.configure(connection, opts={"compare_type": True}), Base.metadata
        )
    engine.dispose()
    assert tables >= GATEWAY_TABLES
    assert diff == []


def test_the_gateway_migration_can_be_undone_and_redone(db_url: str) -> None:
    command.downgrade(alembic_config(db_url), "0001")
    engine = make_engine(db_url)
    with engine.connect() as connection:
        assert not GATEWAY_TABLES & set(inspect(connection).get_table_names())
    engine.dispose()
    command.upgrade(alembic_config(db_url), "head")


def run_cli(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, db_url: str, args: list[str], stdin: str
) -> int:
    monkeypatch.setenv("DATABASE_URL", db_url)
    monkeypatch.setenv("VAR_DIR", str(tmp_path / "var"))
    monkeypatch.setattr("sys.stdin", io.StringIO(stdin))
    return main(args)


def test_an_advisor_account_is_created_from_the_command_line(
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    db_url: str,
    capsys: pytest.CaptureFixture[str],
) -> None:
    args = ["create-advisor", "--email", "Eva.Ek@Foretagssupport.se", "--name", "Eva Ek"]
    code = run_cli(monkeypatch, tmp_path, db_url, [*args, "--password-stdin"], "långt-lösenord\n")

    assert code == 0
    assert "Rådgivaren Eva Ek <eva.ek@foretagssupport.se> är skapad." in capsys.readouterr().out
    engine = make_engine(db_url)
    with make_sessionmaker(engine)() as session:
        advisor = session.scalar(select(Advisor))
    engine.dispose()
    assert advisor is not None
    assert advisor.email == "eva.ek@foretagssupport.se"
    assert verify_password(advisor.password_hash, "långt-lösenord")


def test_the_cli_refuses_short_passwords_and_duplicates(
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    db_url: str,
    capsys: pytest.CaptureFixture[str],
) -> None:
    args = ["create-advisor", "--email", "eva@x.se", "--name", "Eva", "--password-stdin"]
    assert run_cli(monkeypatch, tmp_path, db_url, args, "kort\n") == 1
    assert "minst 10 tecken" in capsys.readouterr().err
    assert run_cli(monkeypatch, tmp_path, db_url, args, "tillräckligt-långt\n") == 0
    assert run_cli(monkeypatch, tmp_path, db_url, args, "tillräckligt-långt\n") == 1
    assert "finns redan" in capsys.readouterr().err
    assert run_cli(monkeypatch, tmp_path, db_url, [*args, "--update"], "ett-nytt-lösenord\n") == 0


def test_the_password_prompt_asks_twice(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, db_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    answers = iter(["första-lösenordet", "andra-lösenordet"])
    monkeypatch.setattr("getpass.getpass", lambda prompt="": next(answers))
    args = ["create-advisor", "--email", "eva@x.se", "--name", "Eva"]
    assert run_cli(monkeypatch, tmp_path, db_url, args, "") == 1
    assert "stämmer inte överens" in capsys.readouterr().err
