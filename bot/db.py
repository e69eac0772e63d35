"""The gateway's async engine over the shared database (SQLite or PostgreSQL)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import URL, make_url
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)
from sqlalchemy.pool import AsyncAdaptedQueuePool


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
        parsed, poolclass=AsyncAdaptedQueuePool, pool_size=1, max_overflow=0, pool_timeout=60
    )
    event.listen(engine.sync_engine, "connect", _sqlite_connect)
    event.listen(engine.sync_engine, "begin", _sqlite_begin)
    return engine


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


def _sqlite_begin(connection: Any) -> None:
    # Take the write lock at BEGIN: a deferred transaction that reads and then writes can
    # fail with SQLITE_BUSY instead of waiting; IMMEDIATE makes concurrent writers queue.
    connection.exec_driver_sql("BEGIN IMMEDIATE")


def make_async_sessionmaker(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return async_sessionmaker(engine, expire_on_commit=False)
