"""A PostgreSQL restart while a company chats (a private cluster, restarted for real): the
widget sends again what was not acknowledged, with the same id; at the end every message
sent is stored once and answered once."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Iterator
from pathlib import Path

import pytest
from aiohttp.test_utils import TestClient
from sqlalchemy import select

from bench.fake_rasa import FakeRasa
from bot.conversation.models import Message
from scripts.db import upgrade
from tests.gateway.conftest import Widget, core_of
from tests.private_servers import PrivatePostgres, private_postgres


@pytest.fixture
def postgres(tmp_path: Path) -> Iterator[PrivatePostgres]:
    with private_postgres(tmp_path / "pg") as server:
        yield server


@pytest.fixture
def db_url(postgres: PrivatePostgres) -> str:
    url = postgres.create_database("gateway")
    upgrade(url)
    return url


async def say_until_acknowledged(company: Widget, text: str, client_id: str, attempts: int = 30) -> None:
    """What the widget does: no ack, reconnect and send the same message again."""
    for _ in range(attempts):
        try:
            if company.frames is None or company.frames.ws.closed:
                await company.connect()
            reply = await company.say(text, client_id=client_id)
            if reply.get("type") == "ack":
                return
        except (AssertionError, OSError, RuntimeError):
            pass
        await asyncio.sleep(0.5)
    raise AssertionError(f"{text!r} was never acknowledged")


async def test_a_postgresql_restart_mid_chat_loses_nothing_and_answers_each_message_once(
    postgres: PrivatePostgres,
    make_gateway: Callable[..., Awaitable[TestClient]],
    widget: Callable[..., Widget],
    fake_rasa: FakeRasa,
) -> None:
    gateway = await make_gateway()
    company = widget(gateway)
    await company.connect()
    sent = ["hej", "vi behöver ett lån", "tack"]
    await say_until_acknowledged(company, sent[0], "pg-restart-0001")
    await company.wait_message("bot", "Hej!")

    restart = asyncio.create_task(asyncio.to_thread(postgres.restart))
    await asyncio.sleep(0.05)
    await say_until_acknowledged(company, sent[1], "pg-restart-0002")  # during the restart
    await restart
    await say_until_acknowledged(company, sent[2], "pg-restart-0003")
    assert company.conversation_id is not None
    await core_of(gateway).rasa.kick_forgotten()
    for _ in range(100):
        async with core_of(gateway).ctx.sessions() as s:
            rows = list(await s.scalars(select(Message).where(Message.conversation_id == company.conversation_id)))
        if sum(1 for m in rows if m.role == "bot") >= len(sent):
            break
        await core_of(gateway).rasa.kick_forgotten()
        await asyncio.sleep(0.2)

    users = [m for m in rows if m.role == "user"]
    bot = [m for m in rows if m.role == "bot"]
    assert [m.text for m in users] == sent  # stored once each, in order
    assert sorted(m.reply_to for m in bot) == [m.seq for m in users]  # answered once each
    assert fake_rasa.conversation(company.conversation_id).messages == sent  # Rasa saw each once
