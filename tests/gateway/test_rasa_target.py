"""The gateway follows the serving row: new turns go to the Rasa server it names."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from aiohttp.test_utils import TestClient, TestServer

from bench.fake_rasa import FakeRasa
from core import serving
from core.db import make_engine, make_sessionmaker, transaction
from tests.gateway.conftest import Widget, core_of


async def test_new_turns_go_to_the_server_the_serving_row_names(
    make_gateway: Callable[..., Awaitable[TestClient]],
    widget: Callable[..., Widget],
    fake_rasa: FakeRasa,
    aiohttp_server: Callable[..., Awaitable[TestServer]],
    db_url: str,
) -> None:
    gateway = await make_gateway()
    company = widget(gateway)
    await company.connect()
    await company.say("hej")
    await company.wait_message("bot", "Hej!")
    assert fake_rasa.webhook_calls == 1

    second = FakeRasa()
    server = await aiohttp_server(second.app())
    engine = make_engine(db_url)
    with transaction(make_sessionmaker(engine)) as session:
        serving.activate(session, "model-b.tar.gz", str(server.make_url("")).rstrip("/"), None)
    engine.dispose()
    target = core_of(gateway).rasa_target
    await target.refresh()  # what the gateway does every second

    await company.say("hej igen")
    await company.wait_message("bot", "Du skrev: hej igen")
    assert (fake_rasa.webhook_calls, second.webhook_calls) == (1, 1)
    assert target.generation == 1


async def test_a_row_naming_several_servers_spreads_new_conversations_over_them(
    make_gateway: Callable[..., Awaitable[TestClient]],
    aiohttp_server: Callable[..., Awaitable[TestServer]],
    db_url: str,
) -> None:
    gateway = await make_gateway()
    first, second = FakeRasa(), FakeRasa()
    urls = [str((await aiohttp_server(fake.app())).make_url("")).rstrip("/") for fake in (first, second)]
    engine = make_engine(db_url)
    with transaction(make_sessionmaker(engine)) as session:
        serving.activate(session, "model-b.tar.gz", serving.join_urls(urls), None)
    engine.dispose()
    await core_of(gateway).rasa_target.refresh()

    client = core_of(gateway).rasa_target.rasa
    assert not client.pooled, "a pool named by the row is followed, not fixed"
    homes = {client.servers_for(f"conv-{i}")[0] for i in range(12)}
    assert homes == set(urls)
    assert sorted(client.servers_for("conv-1")) == sorted(urls), "the other server is the way on"
