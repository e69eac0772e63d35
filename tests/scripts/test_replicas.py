"""Several replicas from settings alone: the stack's ports and environments, and how a
gateway spreads conversations over a pool of Rasa servers."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from pathlib import Path

import aiohttp
from aiohttp import web
from aiohttp.test_utils import TestServer

from bot.conversation.rasa_client import RasaClient
from core.settings import load_settings
from scripts.stack import Stack, free_port, rasa_tuning, replica_name


def settings(tmp_path: Path, **env: str):  # type: ignore[no-untyped-def]
    return load_settings({"VAR_DIR": str(tmp_path), "RASA_TOKEN": "t", "GATEWAY_PORT": "8080",
                          "RASA_PORT": "5005", **env})


def test_two_replicas_get_consecutive_ports_and_every_gateway_knows_every_rasa(tmp_path: Path) -> None:
    stack = Stack(settings(tmp_path), tmp_path / "model.tar.gz", replicas=2)
    assert [replica_name("rasa", i) for i in range(3)] == ["rasa", "rasa-2", "rasa-3"]
    assert stack.gateway_urls == ["http://127.0.0.1:8080", "http://127.0.0.1:8081"]
    assert stack.rasa_urls == ["http://127.0.0.1:5005", "http://127.0.0.1:5006"]
    env = stack._gateway_env(1)
    assert env["GATEWAY_PORT"] == "8081"
    # The serving row names them (so that a model swap can replace them): not a fixed pool.
    assert "RASA_URLS" not in env


def test_across_machines_the_rasa_pool_comes_from_the_settings(tmp_path: Path) -> None:
    s = settings(tmp_path, RASA_URLS="http://10.0.0.11:5005/, http://10.0.0.12:5005", REPLICAS="1")
    stack = Stack(s, tmp_path / "model.tar.gz", replicas=s.replicas)
    assert stack.rasa_urls == ["http://10.0.0.11:5005", "http://10.0.0.12:5005"]
    assert stack._gateway_env(0)["RASA_URLS"] == "http://10.0.0.11:5005,http://10.0.0.12:5005"


def test_rasa_runs_with_few_threads_and_malloc_arenas_unless_told_otherwise(tmp_path: Path) -> None:
    tuned = rasa_tuning(settings(tmp_path))
    assert tuned["TF_INTRA_OP_PARALLELISM_THREADS"] == tuned["OMP_NUM_THREADS"] == "1"
    assert tuned["MALLOC_ARENA_MAX"] == "2"
    assert rasa_tuning(settings(tmp_path, RASA_TF_THREADS="0", RASA_MALLOC_ARENA_MAX="0")) == {}


async def test_a_conversation_has_a_home_rasa_and_moves_on_when_it_is_gone(
    aiohttp_server: Callable[..., Awaitable[TestServer]],
) -> None:
    seen: list[str] = []

    async def webhook(request: web.Request) -> web.Response:
        body = await request.json()
        seen.append(f"{request.url.port}:{body['sender']}")
        return web.json_response([{"text": "ok"}])

    app = web.Application()
    app.router.add_post("/webhooks/rest/webhook", webhook)
    alive = await aiohttp_server(app)
    dead = f"http://127.0.0.1:{free_port()}"
    async with aiohttp.ClientSession() as http:
        client = RasaClient(http, dead, "t", 3, pool=[dead, str(alive.make_url("")).rstrip("/")])
        assert client.pooled
        senders = [f"conv-{i}" for i in range(6)]
        homes = {client.servers_for(s)[0] for s in senders}
        assert len(homes) == 2  # conversations are spread over both servers
        for sender in senders:
            assert await client.send(sender, "hej") == [{"text": "ok"}]
    assert sorted(seen) == sorted(f"{alive.port}:{s}" for s in senders)
