"""The one database module: the declarative base shared by every table, and the engine
and session factories, synchronous (actions, scripts, migrations) and asyncio (gateway).

One Base (and one Alembic history in `migrations/`) for the directory and the gateway's
conversations: they live in the same database (SQLite in var/ or PostgreSQL).
"""

from __future__ import annotations

import sqlite3
from collections import deque
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TypeVar, cast

import aiosqlite
from sqlalchemy import Engine, MetaData, create_engine, event
from sqlalchemy.engine import URL, make_url
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)
from sqlalchemy.orm import DeclarativeBase, Session, sessionmaker
from sqlalchemy.pool import AsyncAdaptedQueuePool

T = TypeVar("T")

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


def sync_url(url: str) -> str:
    """The URL for a synchronous driver (psycopg for PostgreSQL, pysqlite for SQLite)."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "postgresql":
        parsed = parsed.set(drivername="postgresql+psycopg")
    elif parsed.get_backend_name() == "sqlite":
        parsed = parsed.set(drivername="sqlite")
    return parsed.render_as_string(hide_password=False)


def make_engine(url: str) -> Engine:
    url = sync_url(url)
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite" and parsed.database:
        Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
    engine = create_engine(url, pool_pre_ping=True)
    if parsed.get_backend_name() == "sqlite":
        event.listen(engine, "connect", _sqlite_pragmas)
    return engine


def _sqlite_pragmas(dbapi_connection: object, _record: object) -> None:
    # WAL lets the action server read while the gateway writes; foreign keys are off by default.
    cursor = dbapi_connection.cursor()  # type: ignore[attr-defined]
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=15000")
    cursor.close()


def make_sessionmaker(engine: Engine) -> sessionmaker[Session]:
    return sessionmaker(engine, expire_on_commit=False)


@contextmanager
def transaction(factory: sessionmaker[Session]) -> Iterator[Session]:
    """The one transaction boundary: commit on success, roll back on error."""
    with factory.begin() as session:
        yield session


# ---------------------------------------------------------------- asyncio (the gateway)


def async_url(url: str) -> str:
    """The URL for an asyncio driver (asyncpg for PostgreSQL, aiosqlite for SQLite)."""
    parsed = make_url(url)
    backend = parsed.get_backend_name()
    if backend == "postgresql":
        parsed = parsed.set(drivername="postgresql+asyncpg")
    elif backend == "sqlite":
        parsed = parsed.set(drivername="sqlite+aiosqlite")
    return parsed.render_as_string(hide_password=False)


def make_async_engine(url: str) -> AsyncEngine:
    """The engine that writes: for SQLite, one connection whose transactions take the
    write lock at BEGIN."""
    parsed = make_url(async_url(url))
    if parsed.get_backend_name() == "postgresql":
        return _postgres_engine(parsed)
    if parsed.database:
        Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
    # SQLite has one writer, and every transaction here takes the write lock (BEGIN
    # IMMEDIATE). With a pool of connections they competed through SQLite's busy handler,
    # which is not fair: under load some waited past busy_timeout and failed with
    # "database is locked". One connection makes them queue in order in the pool instead.
    engine = create_async_engine(
        parsed, poolclass=AsyncAdaptedQueuePool, pool_size=1, max_overflow=0, pool_timeout=60,
        connect_args={"async_creator_fn": _one_hop_connect},
    )
    event.listen(engine.sync_engine, "connect", _sqlite_connect)
    event.listen(engine.sync_engine, "connect", _sqlite_writer_durability)
    event.listen(engine.sync_engine, "begin", _sqlite_begin)
    return engine


def make_async_reader(url: str, pool_size: int = 1) -> AsyncEngine:
    """An engine that only reads (our database's readers, Rasa's tracker store): with
    SQLite its transactions are deferred, so in WAL mode they read a snapshot and never
    take the write lock; writers never wait for them."""
    parsed = make_url(async_url(url))
    if parsed.get_backend_name() == "postgresql":
        return _postgres_engine(parsed)
    if parsed.database:
        Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
    engine = create_async_engine(
        parsed, poolclass=AsyncAdaptedQueuePool, pool_size=pool_size, max_overflow=0, pool_timeout=60,
        connect_args={"async_creator_fn": _one_hop_connect},
    )
    event.listen(engine.sync_engine, "connect", _sqlite_connect)
    event.listen(engine.sync_engine, "begin", _sqlite_begin_deferred)
    return engine


class AsyncDatabase:
    """The gateway's database: `sessions()` for reading, `sessions.begin()` for a writing
    transaction.

    On SQLite the two go to different connections: reads to a small pool of readers that
    never take the write lock, writes to the one writer connection (see make_async_engine).
    A reader that took the write lock at BEGIN, as before, starved the writers of other
    processes (the action server, the CLI) under load. On PostgreSQL both use one pool.
    """

    def __init__(self, url: str, readers: int = 4) -> None:
        self.writer = make_async_engine(url)
        self.reader = (
            make_async_reader(url, readers) if make_url(url).get_backend_name() == "sqlite" else self.writer
        )
        self.sessions: async_sessionmaker[AsyncSession] = _SplitSessions(self.reader, self.writer)

    async def dispose(self) -> None:
        await self.writer.dispose()
        if self.reader is not self.writer:
            await self.reader.dispose()


def writing_engine(sessions: async_sessionmaker[AsyncSession]) -> AsyncEngine:
    """The engine `sessions.begin()` writes through (the writer of `AsyncDatabase`)."""
    target = sessions._writing if isinstance(sessions, _SplitSessions) else sessions
    engine = target.kw["bind"]
    assert isinstance(engine, AsyncEngine), "the sessions are bound to one engine"
    return engine


class _SplitSessions(async_sessionmaker[AsyncSession]):
    def __init__(self, reader: AsyncEngine, writer: AsyncEngine) -> None:
        super().__init__(reader, expire_on_commit=False)
        self._writing = async_sessionmaker(writer, expire_on_commit=False)

    def begin(self) -> Any:
        return self._writing.begin()


def _postgres_engine(parsed: URL) -> AsyncEngine:
    # libpq's `options=-csearch_path=...` (used by the tests' private schemas) means
    # nothing to asyncpg; it takes server settings as a connect argument instead.
    server_settings: dict[str, str] = {}
    options = parsed.query.get("options")
    if isinstance(options, str):
        for option in options.split():
            name, _, value = option.removeprefix("-c").partition("=")
            if value:
                server_settings[name.replace("-", "_")] = value
        parsed = parsed.difference_update_query(["options"])
    connect_args = {"server_settings": server_settings} if server_settings else {}
    return create_async_engine(parsed, pool_pre_ping=True, connect_args=connect_args)


def _sqlite_connect(dbapi_connection: Any, _record: object) -> None:
    # Let SQLAlchemy, not the driver, open transactions (see _sqlite_begin).
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    # Other processes (the action server, migrations) may hold the lock briefly.
    cursor.execute("PRAGMA busy_timeout=15000")
    cursor.close()


def _sqlite_writer_durability(dbapi_connection: Any, _record: object) -> None:
    # In WAL mode NORMAL syncs the log at checkpoints, not at every commit: a commit that
    # returned survives any crash of a process (ours, Rasa's, the supervisor's), but the
    # last commits before a power cut or a kernel crash may be lost (the database stays
    # consistent). It halves what a write transaction costs; PostgreSQL is the choice for
    # a deployment that must keep every reply through a power cut.
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


def _sqlite_begin(connection: Any) -> None:
    # Take the write lock at BEGIN: a deferred transaction that reads and then writes can
    # fail with SQLITE_BUSY instead of waiting; IMMEDIATE makes concurrent writers queue.
    _send_begin(connection, "BEGIN IMMEDIATE")


def _sqlite_begin_deferred(connection: Any) -> None:
    _send_begin(connection, "BEGIN")


def _send_begin(connection: Any, sql: str) -> None:
    """Our aiosqlite connection sends `BEGIN` with the transaction's first statement: it is
    told so directly, without a statement's way through SQLAlchemy (a few percent of a
    turn's CPU)."""
    driver = connection.connection.driver_connection
    if isinstance(driver, OneHopConnection):
        driver.begin_with_next(sql)
    else:
        connection.exec_driver_sql(sql)


class _OneHopCursor:
    """An aiosqlite cursor that runs a statement and fetches its rows in one trip to the
    connection's thread.

    SQLAlchemy's aiosqlite adapter awaits four calls for each statement (open a cursor,
    execute, fetch all, close), and each is a hand-off to aiosqlite's thread and back
    (0.2–0.3 ms on a busy two-core machine, mostly waiting for the other thread to
    wake): most of a turn's database time was spent in hand-offs. Rows are buffered, as
    the adapter's own cursor does."""

    def __init__(self, connection: OneHopConnection) -> None:
        self._connection = connection
        self.description: Any = None
        self.rowcount = -1
        self.lastrowid: int | None = None
        self._rows: deque[Any] = deque()

    def _run(self, method: str, sql: str, parameters: Any) -> None:
        cursor = self._connection._conn.cursor()
        try:
            getattr(cursor, method)(sql, parameters)
            self.description = cursor.description
            self.rowcount = cursor.rowcount
            self.lastrowid = cursor.lastrowid
            self._rows = deque(cursor.fetchall()) if cursor.description else deque()
        finally:
            cursor.close()

    async def execute(self, sql: str, parameters: Any = None) -> _OneHopCursor:
        if not parameters and sql in _BEGINS:
            # Sent with the transaction's first statement (see OneHopConnection).
            self._connection.begin_with_next(sql)
            self.description, self.rowcount, self.lastrowid = None, -1, None
            self._rows = deque()
            return self
        await self._connection._execute(self._run, "execute", sql, [] if parameters is None else parameters)
        return self

    async def executemany(self, sql: str, parameters: Any) -> _OneHopCursor:
        await self._connection._execute(self._run, "executemany", sql, parameters)
        return self

    async def fetchone(self) -> Any:
        return self._rows.popleft() if self._rows else None

    async def fetchmany(self, size: int | None = None) -> list[Any]:
        return [self._rows.popleft() for _ in range(min(size or 1, len(self._rows)))]

    async def fetchall(self) -> list[Any]:
        rows = list(self._rows)
        self._rows.clear()
        return rows

    async def close(self) -> None:
        self._rows.clear()


_BEGINS = ("BEGIN", "BEGIN IMMEDIATE")


class OneHopConnection(aiosqlite.Connection):
    """aiosqlite's connection with fewer hand-offs to its thread: a statement and its
    rows in one (`_OneHopCursor`); `BEGIN` travels with the transaction's first
    statement; a commit or rollback with no transaction open (the pool's reset after
    a session that already ended its transaction, an empty transaction) costs none.
    Whether a transaction is open is read in the thread after every call, so it is
    SQLite's own word, errors that end a transaction included."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._begin: str | None = None
        self._in_transaction = False

    async def run_in_thread(self, fn: Callable[[sqlite3.Connection], T]) -> T:
        """Run `fn` with the sqlite3 connection, in the connection's thread (one hand-off):
        a whole transaction of core/transactions.py."""
        if self._begin is not None or self._in_transaction:
            raise RuntimeError("a transaction is already open on this connection")
        return cast(T, await self._execute(lambda: fn(self._conn)))

    def begin_with_next(self, sql: str) -> None:
        """Open a transaction (`sql` is one of `_BEGINS`) with the next statement."""
        self._begin = sql

    async def cursor(self) -> _OneHopCursor:  # type: ignore[override]
        return _OneHopCursor(self)

    async def _execute(self, fn: Any, *args: Any, **kwargs: Any) -> Any:
        begin, self._begin = self._begin, None

        def run() -> Any:
            try:
                if begin is not None:
                    self._conn.execute(begin)
                return fn(*args, **kwargs)
            finally:
                try:
                    self._in_transaction = self._connection is not None and self._connection.in_transaction
                except sqlite3.ProgrammingError:  # closed
                    self._in_transaction = False

        return await super()._execute(run)  # type: ignore[no-untyped-call]

    async def commit(self) -> None:
        if self._begin is not None or not self._in_transaction:
            self._begin = None  # an empty transaction: nothing to do
            return
        await super().commit()

    async def rollback(self) -> None:
        if self._begin is not None or not self._in_transaction:
            self._begin = None
            return
        await super().rollback()


def _one_hop_connect(database: str, **kwargs: Any) -> OneHopConnection:
    """`aiosqlite.connect`, with cursors that take one hand-off per statement."""
    connection = OneHopConnection(lambda: sqlite3.connect(database, **kwargs), iter_chunk_size=64)
    connection._thread.daemon = True  # as SQLAlchemy does for aiosqlite's own connections
    return connection


def make_async_sessionmaker(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return async_sessionmaker(engine, expire_on_commit=False)
