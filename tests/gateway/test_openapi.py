"""The gateway's OpenAPI document (GET /api/openapi.json) and a schemathesis run against a
served gateway (with the fake Rasa): for generated requests to every documented operation,
logged in and not, no server error, only documented statuses and JSON error bodies."""

from __future__ import annotations

import asyncio
import json
import threading
import urllib.request
from collections.abc import Iterator
from http.cookiejar import CookieJar
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from aiohttp import web
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import content_type_conformance, status_code_conformance

from bench.fake_rasa import TOKEN, FakeRasa
from bot.accounts.manage import create_advisor
from bot.app import create_app
from bot.web.openapi import OPENAPI_PATH, document
from core.db import make_engine, make_sessionmaker
from core.settings import load_settings
from scripts.db import upgrade

EMAIL, PASSWORD = "schema.test@foretagssupport.se", "ett-långt-testlösen-1"


class ServedGateway:
    """The gateway and the fake Rasa on their own event loop in a thread, so that
    schemathesis's synchronous client can call them."""

    def __init__(self, tmp: Path) -> None:
        self.tmp = tmp
        self.loop = asyncio.new_event_loop()
        self.ready = threading.Event()
        self.base = ""
        self._runners: list[web.AppRunner] = []
        self._thread = threading.Thread(target=self._run, daemon=True)

    def start(self) -> None:
        database = f"sqlite:///{self.tmp / 'api.db'}"
        upgrade(database)
        engine = make_engine(database)
        create_advisor(make_sessionmaker(engine), EMAIL, "Schema Test", PASSWORD)
        engine.dispose()
        self.database = database
        self._thread.start()
        assert self.ready.wait(30), "the gateway did not start"

    def _run(self) -> None:
        asyncio.set_event_loop(self.loop)
        self.loop.run_until_complete(self._serve())
        self.ready.set()
        self.loop.run_forever()

    async def _site(self, app: web.Application) -> int:
        runner = web.AppRunner(app)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        self._runners.append(runner)
        return int(site._server.sockets[0].getsockname()[1])  # type: ignore[union-attr]

    async def _serve(self) -> None:
        rasa_port = await self._site(FakeRasa().app())
        settings = load_settings({
            "DATABASE_URL": self.database, "VAR_DIR": str(self.tmp / "var"), "RASA_PORT": str(rasa_port),
            "RASA_TOKEN": TOKEN, "SESSION_SECRET": "schema-secret", "RASA_TIMEOUT_SECONDS": "3",
            "RATE_LIMIT_ADDRESS_MESSAGES": "100000", "RATE_LIMIT_MESSAGES": "100000",
            "RATE_LIMIT_GLOBAL_MESSAGES": "100000",
        })
        port = await self._site(create_app(settings, sweep_interval=3600, nlu_log_interval=3600))
        self.base = f"http://127.0.0.1:{port}"

    def stop(self) -> None:
        async def cleanup() -> None:
            for runner in reversed(self._runners):
                await runner.cleanup()

        asyncio.run_coroutine_threadsafe(cleanup(), self.loop).result(30)
        self.loop.call_soon_threadsafe(self.loop.stop)
        self._thread.join(10)
        self.loop.close()  # an unclosed loop leaks its self-pipe sockets into a later test

    def logged_in_headers(self) -> dict[str, str]:
        """A console session: its cookie, CSRF token and Origin, for the fuzzed calls."""
        jar = CookieJar()
        opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
        with opener.open(f"{self.base}/console/api/session") as response:
            csrf = json.load(response)["csrf_token"]
        login = urllib.request.Request(
            f"{self.base}/console/api/login", data=json.dumps({"email": EMAIL, "password": PASSWORD}).encode(),
            headers={"Content-Type": "application/json", "X-CSRF-Token": csrf, "Origin": self.base}, method="POST",
        )
        with opener.open(login) as response:
            csrf = json.load(response)["csrf_token"]
        cookie = "; ".join(f"{c.name}={c.value}" for c in jar)
        return {"Cookie": cookie, "X-CSRF-Token": csrf, "Origin": self.base}


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServedGateway]:
    gateway = ServedGateway(tmp_path_factory.mktemp("openapi"))
    gateway.start()
    yield gateway
    gateway.stop()


@pytest.fixture(scope="module")
def auth_headers(served: ServedGateway) -> dict[str, str]:
    return served.logged_in_headers()


def test_the_document_is_served_and_names_every_public_json_route(served: ServedGateway) -> None:
    with urllib.request.urlopen(f"{served.base}{OPENAPI_PATH}") as response:
        served_doc = json.load(response)
    assert served_doc == document()
    assert served_doc["openapi"].startswith("3.")
    for path in ("/webhooks/rest/webhook", "/console/api/login", "/console/api/queue"):
        assert path in served_doc["paths"]


# The document is static: loaded here, and the served copy is checked to be the same
# (schemathesis's lazy fixture loader does not work with pytest 9).
schema = schemathesis.openapi.from_dict(document())
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance]


@schema.parametrize()
@settings(max_examples=8, deadline=None, suppress_health_check=list(HealthCheck))
def test_the_api_answers_every_generated_request_as_documented_logged_out(case: Any, served: ServedGateway) -> None:
    case.call_and_validate(base_url=served.base, checks=CHECKS)


@schema.parametrize()
@settings(max_examples=8, deadline=None, suppress_health_check=list(HealthCheck))
def test_the_api_answers_every_generated_request_as_documented_logged_in(
    case: Any, served: ServedGateway, auth_headers: dict[str, str]
) -> None:
    if case.path == "/console/api/logout":
        return  # would end the session the other calls use
    case.call_and_validate(base_url=served.base, headers=auth_headers, checks=CHECKS)
