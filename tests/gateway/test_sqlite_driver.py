"""The gateway's SQLite connections (core/db.py): one hand-off to aiosqlite's thread per
statement, BEGIN sent with the first statement, no rollback when no transaction is open.
The transaction semantics must be SQLite's own."""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError

from bench.hot_path import counted_hand_offs
from core.db import AsyncDatabase


@pytest.fixture
async def db(tmp_path: Path) -> AsyncIterator[AsyncDatabase]:
    database = AsyncDatabase(f"sqlite:///{tmp_path / 'driver.db'}")
    async with database.sessions.begin() as s:
        await s.execute(text("CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT UNIQUE)"))
    yield database
    await database.dispose()


async def test_a_transaction_costs_one_hand_off_per_statement_and_one_to_commit(db: AsyncDatabase) -> None:
    async with db.sessions() as s:  # the reader's connection is open (its set-up is not counted)
        await s.execute(text("SELECT 1"))
    with counted_hand_offs() as seen:
        async with db.sessions.begin() as s:
            await s.execute(text("INSERT INTO t (v) VALUES ('a')"))
            assert (await s.execute(text("SELECT v FROM t"))).scalars().all() == ["a"]
    assert len(seen) == 3  # (BEGIN +) INSERT, SELECT, COMMIT; no rollback at check-in
    with counted_hand_offs() as seen:
        async with db.sessions() as s:
            assert (await s.execute(text("SELECT count(*) FROM t"))).scalar_one() == 1
    assert len(seen) == 2  # (BEGIN +) SELECT, ROLLBACK


async def test_a_failed_transaction_is_rolled_back_and_the_connection_is_clean(db: AsyncDatabase) -> None:
    with pytest.raises(IntegrityError):
        async with db.sessions.begin() as s:
            await s.execute(text("INSERT INTO t (v) VALUES ('x')"))
            await s.execute(text("INSERT INTO t (v) VALUES ('x')"))
    async with db.sessions.begin() as s:
        assert (await s.execute(text("SELECT count(*) FROM t"))).scalar_one() == 0
        await s.execute(text("INSERT INTO t (v) VALUES (:v)"), [{"v": "m1"}, {"v": "m2"}])  # executemany
    async with db.sessions() as s:
        assert (await s.execute(text("SELECT v FROM t ORDER BY v"))).scalars().all() == ["m1", "m2"]


async def test_an_empty_transaction_needs_no_database(db: AsyncDatabase) -> None:
    with counted_hand_offs() as seen:
        async with db.sessions.begin():
            pass
    assert seen == []


async def test_a_writer_waits_for_another_process_holding_the_write_lock(db: AsyncDatabase, tmp_path: Path) -> None:
    other = sqlite3.connect(tmp_path / "driver.db", isolation_level=None, check_same_thread=False)
    other.execute("BEGIN IMMEDIATE")
    other.execute("INSERT INTO t (v) VALUES ('first')")
    release = threading.Timer(0.3, lambda: other.execute("COMMIT"))
    release.start()
    try:
        async with db.sessions.begin() as s:  # BEGIN IMMEDIATE waits (busy_timeout), then writes
            await s.execute(text("INSERT INTO t (v) VALUES ('second')"))
    finally:
        release.join()
        other.close()
    async with db.sessions() as s:
        assert (await s.execute(text("SELECT v FROM t ORDER BY id"))).scalars().all() == ["first", "second"]


async def test_a_writing_transaction_holds_the_write_lock_from_its_first_statement(
    db: AsyncDatabase, tmp_path: Path
) -> None:
    # BEGIN IMMEDIATE travels with the first statement, even a read: from then on no other
    # connection can start writing. A reading transaction (deferred BEGIN) takes no lock.
    other = sqlite3.connect(tmp_path / "driver.db", isolation_level=None, timeout=0)
    try:
        async with db.sessions.begin() as s:
            await s.execute(text("SELECT count(*) FROM t"))
            with pytest.raises(sqlite3.OperationalError, match="locked"):
                other.execute("BEGIN IMMEDIATE")
        async with db.sessions() as s:
            await s.execute(text("SELECT count(*) FROM t"))
            other.execute("BEGIN IMMEDIATE")
            other.execute("ROLLBACK")
    finally:
        other.close()
