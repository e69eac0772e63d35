"""Hot-path transactions (core/transactions.py): on SQLite a whole transaction is one
hand-off to the connection's thread; on every database what it stores and reads back is
exactly what SQLAlchemy's ORM stores and reads, and its errors are SQLAlchemy's."""

from __future__ import annotations

import datetime as dt
from collections.abc import AsyncIterator
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import bindparam, select, update
from sqlalchemy.exc import IntegrityError

from bench.hot_path import counted_hand_offs
from bot.conversation import store
from bot.conversation.models import Conversation, Message
from core.db import AsyncDatabase, writing_engine
from core.transactions import Prepared, Tx, observe, run_transaction

UTC = dt.timezone.utc
MOMENT = dt.datetime(2026, 11, 24, 9, 0, 12, 345678, tzinfo=UTC)

_READ = Prepared(select(*store.MESSAGES.columns).where(store.MESSAGES.c.id == bindparam("b_id")))
_DONE = Prepared(
    update(store.MESSAGES).where(store.MESSAGES.c.conversation_id == bindparam("b_conv")).values(rasa_status="done")
)


@pytest.fixture
async def db(any_db_url: str) -> AsyncIterator[AsyncDatabase]:
    database = AsyncDatabase(any_db_url)
    async with database.sessions.begin() as s:
        s.add(Conversation(id="c1", channel="rest", external_id="k1", state="bot", last_seq=0,
                           created_at=MOMENT, updated_at=MOMENT))
    yield database
    await database.dispose()


def row(seq: int, **fields: Any) -> dict[str, Any]:
    values: dict[str, Any] = {name: None for name in store.MESSAGE_COLUMNS}
    values.update(conversation_id="c1", seq=seq, role="bot", buttons=[], created_at=MOMENT)
    values.update(fields)
    return values


async def test_stored_values_read_back_as_the_orm_reads_them(db: AsyncDatabase) -> None:
    fields = row(
        1, text="Hej – välkommen!", buttons=[{"title": "Ja", "payload": "/affirm"}], custom={"notice": "x", "n": 2},
        rasa_status="processing", rasa_started_at=MOMENT, reply_to=7,
    )

    def work(tx: Tx) -> tuple[int, tuple[Any, ...]]:
        message_id = tx.execute(store.INSERT_MESSAGE, fields).rows[0][0]
        return message_id, tx.execute(_READ, {"b_id": message_id}).rows[0]

    message_id, read = await run_transaction(writing_engine(db.sessions), work)
    async with db.sessions() as s:
        stored = await s.get(Message, message_id)
    assert stored is not None
    assert {name: getattr(stored, name) for name in store.MESSAGE_COLUMNS} == fields
    assert dict(zip(store.MESSAGE_FIELDS, read, strict=True)) == {"id": message_id, **fields}
    assert read[store.MESSAGE_FIELDS.index("created_at")].tzinfo is not None


async def test_values_bound_in_the_statement_itself_are_used(db: AsyncDatabase) -> None:
    def work(tx: Tx) -> int:
        tx.execute(store.INSERT_MESSAGE, row(1, rasa_status="pending"))
        tx.execute(store.INSERT_MESSAGE, row(2, rasa_status="pending"))
        return tx.execute(_DONE, {"b_conv": "c1"}).rowcount

    assert await run_transaction(writing_engine(db.sessions), work) == 2
    async with db.sessions() as s:
        assert set((await s.scalars(select(Message.rasa_status))).all()) == {"done"}


async def test_an_error_is_sqlalchemys_and_nothing_of_the_transaction_stays(db: AsyncDatabase) -> None:
    def work(tx: Tx) -> None:
        tx.execute(store.INSERT_MESSAGE, row(1))
        tx.execute(store.INSERT_MESSAGE, row(1))  # the same number twice

    with pytest.raises(IntegrityError):
        await run_transaction(writing_engine(db.sessions), work)

    def failing(tx: Tx) -> None:
        tx.execute(store.INSERT_MESSAGE, row(2))
        raise RuntimeError("the caller's own error")

    with pytest.raises(RuntimeError):
        await run_transaction(writing_engine(db.sessions), failing)
    async with db.sessions() as s:
        assert (await s.scalars(select(Message.id))).all() == []
    # The connection is clean afterwards: the next transaction commits.
    await run_transaction(writing_engine(db.sessions), lambda tx: tx.execute(store.INSERT_MESSAGE, row(3)))
    async with db.sessions.begin() as s:  # and the ORM's own transactions still work on it
        assert (await s.scalars(select(Message.seq))).all() == [3]


async def test_on_sqlite_a_transaction_is_one_hand_off_to_the_connections_thread(db: AsyncDatabase) -> None:
    engine = writing_engine(db.sessions)
    if engine.dialect.name != "sqlite":
        pytest.skip("SQLite's one-hop path")
    await run_transaction(engine, lambda tx: None)  # the connection is open (its set-up is not counted)
    statements: list[str] = []
    observe(engine, statements.append)

    def work(tx: Tx) -> None:
        tx.execute(store.INSERT_MESSAGE, row(1))
        tx.execute(store.INSERT_MESSAGE, row(2))
        tx.execute(_DONE, {"b_conv": "c1"})

    with counted_hand_offs() as hand_offs:
        await run_transaction(engine, work)
    assert len(hand_offs) == 1
    assert [sql.split()[0] for sql in statements] == ["BEGIN", "INSERT", "INSERT", "UPDATE", "COMMIT"]
    assert statements[0] == "BEGIN IMMEDIATE"  # the write lock from the start, as every writer here


texts = st.text(st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"), max_size=40)
json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**53), 2**53) | texts,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(texts, inner, max_size=3),
    max_leaves=8,
)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    text=st.none() | texts,
    custom=st.none() | st.dictionaries(texts, json_values, max_size=3),
    moment=st.datetimes(dt.datetime(2000, 1, 1), dt.datetime(2100, 1, 1), timezones=st.just(UTC)),
)
async def test_any_message_reads_back_as_the_orm_stored_it(
    db: AsyncDatabase, text: str | None, custom: dict[str, Any] | None, moment: dt.datetime
) -> None:
    async with db.sessions.begin() as s:
        seq = await store.next_seq(s, "c1")
        message = store.new_message("c1", "bot", text, moment, seq=seq, custom=custom)
        s.add(message)
        await s.flush()
        expected = {name: getattr(message, name) for name in store.MESSAGE_FIELDS}
    read = await run_transaction(
        writing_engine(db.sessions), lambda tx: tx.execute(_READ, {"b_id": expected["id"]}).rows[0]
    )
    assert dict(zip(store.MESSAGE_FIELDS, read, strict=True)) == expected
