"""Hot-path transactions in one trip to the database.

The hot path's transactions (a company message stored, the bot's replies stored) are
plain functions of a `Tx`, which runs prebuilt Core statements (`Prepared`) and gives
back their rows. `run_transaction` runs such a function as one transaction:

- On SQLite (the writer's one-hop aiosqlite connection, core/db.py) the whole function
  runs in the connection's thread: BEGIN IMMEDIATE, its statements and COMMIT in a
  single hand-off, where each statement used to cost one, plus SQLAlchemy's own
  machinery around it (about half of the gateway's CPU per turn). A statement is compiled
  once; its parameters and columns go through the same conversions SQLAlchemy applies
  (each column type's bind and result processors for the dialect), so what is stored and
  read back is what the ORM stores and reads.
- Elsewhere (PostgreSQL) it runs through SQLAlchemy on the event loop
  (`AsyncConnection.run_sync`), one round trip per statement.

Errors are SQLAlchemy's on both (`IntegrityError`, `OperationalError`, ...), so callers
handle them the same way.
"""

from __future__ import annotations

import contextlib
import sqlite3
import weakref
from collections.abc import Callable, Mapping, Sequence
from typing import Any, NamedTuple, Protocol, TypeVar

from sqlalchemy import Connection, Dialect, Engine
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlalchemy.sql.base import Executable
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.elements import ColumnElement
from sqlalchemy.util import greenlet_spawn

from core.db import OneHopConnection

T = TypeVar("T")


class Rows(NamedTuple):
    """A statement's rows (converted as SQLAlchemy would) and how many rows it changed."""

    rows: list[tuple[Any, ...]]
    rowcount: int


class Tx(Protocol):
    """One open transaction, as a transaction function sees it."""

    def execute(self, statement: Prepared, params: Mapping[str, Any] | None = None) -> Rows: ...


class _Compiled(NamedTuple):
    sql: str
    names: tuple[str, ...]
    binds: tuple[Callable[[Any], Any] | None, ...]
    # Values bound in the statement itself (`.values(status="done")`), by name.
    fixed: Mapping[str, Any]
    # Each result column that needs converting: its index and its conversion.
    results: tuple[tuple[int, Callable[[Any], Any]], ...]


class Prepared:
    """A Core statement, compiled once per dialect for the one-hop path."""

    def __init__(self, statement: Executable) -> None:
        self.statement = statement
        self._compiled: dict[type[Dialect], _Compiled] = {}

    def for_dialect(self, dialect: Dialect) -> _Compiled:
        compiled = self._compiled.get(type(dialect))
        if compiled is None:
            compiled = self._compiled[type(dialect)] = _compile(self.statement, dialect)
        return compiled


def _compile(statement: Executable, dialect: Dialect) -> _Compiled:
    compiled = statement.compile(dialect=dialect)  # type: ignore[attr-defined]
    assert isinstance(compiled, SQLCompiler)
    sql = compiled.string
    # Parameters rendered at execution (an IN of bound values) would need SQLAlchemy's
    # own execution: the hot path's statements use literal lists instead.
    assert "POSTCOMPILE" not in sql, f"not for the one-hop path: {sql}"
    names = tuple(compiled.positiontup or ())
    params = compiled.binds
    # A value computed at each execution would be frozen here at the first.
    assert all(params[name].callable is None for name in names), "no callable parameters on the one-hop path"
    binds = tuple(params[name].type.dialect_impl(dialect).bind_processor(dialect) for name in names)
    fixed = {name: params[name].effective_value for name in names if not params[name].required}
    columns: Sequence[ColumnElement[Any]] = list(getattr(statement, "exported_columns", None) or ())
    processors = (column.type.dialect_impl(dialect).result_processor(dialect, None) for column in columns)
    results = tuple((i, process) for i, process in enumerate(processors) if process is not None)
    return _Compiled(sql, names, binds, fixed, results)


# Who is told each statement the one-hop path runs (the bench counts them), by engine.
_observers: weakref.WeakKeyDictionary[Engine, list[Callable[[str], None]]] = weakref.WeakKeyDictionary()


def observe(engine: AsyncEngine, observer: Callable[[str], None]) -> None:
    """Call `observer` with the SQL of every statement the one-hop path runs on `engine`
    (BEGIN and COMMIT included); SQLAlchemy's own events see the statements it runs."""
    _observers.setdefault(engine.sync_engine, []).append(observer)


class _SqliteTx:
    """A transaction on a sqlite3 connection, in its thread."""

    def __init__(self, connection: sqlite3.Connection, dialect: Dialect, observers: list[Callable[[str], None]]):
        self._connection = connection
        self._dialect = dialect
        self._observers = observers

    def run(self, sql: str, parameters: Sequence[Any] = ()) -> sqlite3.Cursor:
        for observer in self._observers:
            observer(sql)
        try:
            return self._connection.execute(sql, parameters)
        except sqlite3.Error as exc:
            raise DBAPIError.instance(sql, parameters, exc, sqlite3.Error) from exc

    def execute(self, statement: Prepared, params: Mapping[str, Any] | None = None) -> Rows:
        c = statement.for_dialect(self._dialect)
        given = params or {}
        values = []
        for name, process in zip(c.names, c.binds, strict=True):
            value = given[name] if name in given else c.fixed[name]
            values.append(value if process is None else process(value))
        cursor = self.run(c.sql, values)
        try:
            raw = cursor.fetchall() if cursor.description else []
            # (For a statement with RETURNING, sqlite3 counts the rows as they are fetched.)
            rowcount = cursor.rowcount
        except sqlite3.Error as exc:
            raise DBAPIError.instance(c.sql, values, exc, sqlite3.Error) from exc
        finally:
            cursor.close()
        if not c.results:
            return Rows(raw, rowcount)
        rows = []
        for raw_row in raw:
            converted = list(raw_row)
            for i, process in c.results:
                converted[i] = process(converted[i])
            rows.append(tuple(converted))
        return Rows(rows, rowcount)


class _AlchemyTx:
    """A transaction through SQLAlchemy (in `run_sync`'s greenlet)."""

    def __init__(self, connection: Connection) -> None:
        self._connection = connection

    def execute(self, statement: Prepared, params: Mapping[str, Any] | None = None) -> Rows:
        result = self._connection.execute(statement.statement, dict(params or {}))
        rows = [tuple(row) for row in result.all()] if result.returns_rows else []
        return Rows(rows, result.rowcount)


async def run_transaction(engine: AsyncEngine, work: Callable[[Tx], T], begin: str = "BEGIN IMMEDIATE") -> T:
    """Run `work` as one transaction on `engine` (the writer): committed when it returns,
    rolled back when it raises. `work` runs in another thread on SQLite: it must not touch
    the event loop's objects beyond reading them."""
    if engine.dialect.name == "sqlite":
        # The pool's connection itself, without a SQLAlchemy Connection around it (whose
        # set-up and release were a tenth of a turn's CPU): the pool still hands it to
        # one user at a time, in order.
        pooled = await engine.raw_connection()
        try:
            driver = pooled.driver_connection
            if isinstance(driver, OneHopConnection):
                return await driver.run_in_thread(_in_thread(work, begin, engine))
        finally:
            await greenlet_spawn(pooled.close)
    async with engine.connect() as connection, connection.begin():
        return await connection.run_sync(lambda sync: work(_AlchemyTx(sync)))


def _in_thread(work: Callable[[Tx], T], begin: str, engine: AsyncEngine) -> Callable[[sqlite3.Connection], T]:
    """`work` as one transaction on a sqlite3 connection, to run in its thread."""
    observers = list(_observers.get(engine.sync_engine, ()))
    dialect = engine.dialect

    def run(raw: sqlite3.Connection) -> T:
        tx = _SqliteTx(raw, dialect, observers)
        tx.run(begin)
        try:
            result = work(tx)
            tx.run("COMMIT")
        except BaseException:
            if raw.in_transaction:
                with contextlib.suppress(sqlite3.Error):
                    raw.execute("ROLLBACK")
            raise
        return result

    return run
