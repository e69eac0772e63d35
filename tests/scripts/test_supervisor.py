"""The supervisor keeps the processes running and activates a model without downtime.

Real child processes, with small stand-ins for the action server and Rasa
(tests/scripts/fake_process.py), and the real database.
"""

from __future__ import annotations

import asyncio
import os
import signal
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from core import serving
from core.db import make_async_engine, make_async_sessionmaker, make_engine, make_sessionmaker
from scripts.db import upgrade
from scripts.stack import APP_PYTHON, Stack, isolated_settings, rasa_status
from scripts.supervisor import ManagedProcess, restart_delay

FAKE = str(Path(__file__).with_name("fake_process.py"))


class FakeStack(Stack):
    """The real supervisor, starting stand-ins instead of the action server and Rasa."""

    fail_models: frozenset[str] = frozenset()

    def _actions_argv(self) -> list[str]:
        return [str(APP_PYTHON), FAKE, "actions", "--port", str(self.settings.action_server_port)]

    def _rasa_argv(self, model: Path, port: int) -> list[str]:
        argv = [str(APP_PYTHON), FAKE, "rasa", "--port", str(port), "--model", model.name, "--load-seconds", "0.5"]
        return argv + (["--fail"] if model.name in self.fail_models else [])


@pytest.fixture
def make_stack(tmp_path: Path) -> Iterator[Callable[..., FakeStack]]:
    stacks: list[FakeStack] = []
    models = tmp_path / "models"
    models.mkdir()
    for name in ("model-a.tar.gz", "model-b.tar.gz", "model-broken.tar.gz"):
        (models / name).write_bytes(b"not a real model")

    def build(**env: str) -> FakeStack:
        settings = isolated_settings(
            tmp_path / "var", {**os.environ, "MODEL_DIR": str(models), "RASA_TIMEOUT_SECONDS": "1", **env}
        )
        upgrade(settings.database_url)
        stack = FakeStack(settings, models / "model-a.tar.gz", with_gateway=False, log_dir=tmp_path / "logs")
        stack.fail_models = frozenset({"model-broken.tar.gz"})
        stacks.append(stack)
        return stack

    yield build
    for stack in stacks:
        stack.stop()


def read_serving(stack: Stack) -> serving.Serving:
    engine = make_engine(stack.settings.database_url)
    try:
        with make_sessionmaker(engine)() as session:
            current = serving.read(session)
    finally:
        engine.dispose()
    assert current is not None
    return current


def ask_for(stack: Stack, model: str) -> None:
    async def request() -> None:
        engine = make_async_engine(stack.settings.database_url)
        async with make_async_sessionmaker(engine).begin() as session:
            await serving.request_model(session, model, "admin@example.se")
        await engine.dispose()

    asyncio.run(request())


def poll_until(stack: Stack, done: Callable[[], bool], timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while not done():
        assert time.monotonic() < deadline, "the supervisor did not get there in time"
        stack.poll()
        time.sleep(0.1)


def test_restart_delays_double_up_to_thirty_seconds() -> None:
    assert [restart_delay(n) for n in range(7)] == [1, 2, 4, 8, 16, 30, 30]


def test_the_active_server_is_recorded_at_start(make_stack: Callable[..., FakeStack]) -> None:
    stack = make_stack()
    stack.start(timeout=30)
    current = read_serving(stack)
    assert (current.generation, current.active_model, current.state) == (1, "model-a.tar.gz", "ready")
    assert current.active_url == stack.settings.rasa_url


def test_a_killed_process_is_restarted_and_the_others_keep_running(make_stack: Callable[..., FakeStack]) -> None:
    stack = make_stack()
    stack.start(timeout=30)
    actions, rasa = stack.processes["actions"], stack.processes["rasa"]
    old_pid, rasa_pid = actions.pid, rasa.pid
    os.killpg(old_pid, signal.SIGKILL)
    poll_until(stack, lambda: actions.running() and actions.pid != old_pid)
    assert rasa.running() and rasa.pid == rasa_pid
    assert actions.restarts == 1


def test_a_requested_model_is_started_beside_the_active_one_and_switched_to(
    make_stack: Callable[..., FakeStack],
) -> None:
    stack = make_stack()
    stack.start(timeout=30)
    old = stack.processes["rasa"]
    ask_for(stack, "model-b.tar.gz")
    poll_until(stack, lambda: read_serving(stack).generation == 2)

    current = read_serving(stack)
    assert (current.active_model, current.state, current.requested_model) == ("model-b.tar.gz", "ready", None)
    assert current.active_url != stack.settings.rasa_url
    assert old.running(), "the previous server keeps answering the turns already sent to it"
    poll_until(stack, lambda: not old.running(), timeout=15)
    assert stack.processes["rasa"].running()


def test_with_two_rasa_servers_both_are_replaced_together(make_stack: Callable[..., FakeStack]) -> None:
    stack = make_stack()
    stack.replicas = 2
    stack.start(timeout=30)
    before = serving.split_urls(read_serving(stack).active_url)
    assert before == stack.rasa_urls and len(before) == 2
    old = [stack.processes["rasa"], stack.processes["rasa-2"]]
    ask_for(stack, "model-b.tar.gz")
    poll_until(stack, lambda: read_serving(stack).generation == 2)

    after = serving.split_urls(read_serving(stack).active_url)
    assert len(after) == 2 and not set(after) & set(before)
    for url in after:
        status = rasa_status(url, stack.settings.rasa_token)
        assert status is not None and status["model_file"] == "/models/model-b.tar.gz"
    assert [stack.processes[name].running() for name in ("rasa", "rasa-2")] == [True, True]
    assert all(process.running() for process in old), "the old servers finish the turns sent to them"
    poll_until(stack, lambda: not any(process.running() for process in old), timeout=15)


def test_a_model_that_does_not_start_leaves_the_active_one_serving(make_stack: Callable[..., FakeStack]) -> None:
    stack = make_stack()
    stack.start(timeout=30)
    ask_for(stack, "model-broken.tar.gz")
    poll_until(stack, lambda: read_serving(stack).state == "failed")
    current = read_serving(stack)
    assert (current.generation, current.active_model, current.requested_model) == (1, "model-a.tar.gz", None)
    assert current.message == "Den nya modellen kunde inte startas (se rasa-next.log)."
    assert stack.processes["rasa"].running()


def test_an_unknown_model_file_is_refused_in_swedish(make_stack: Callable[..., FakeStack]) -> None:
    stack = make_stack()
    stack.start(timeout=30)
    for name in ("model-x.tar.gz", "../secrets"):
        ask_for(stack, name)
        poll_until(stack, lambda: read_serving(stack).state == "failed")
        assert read_serving(stack).message == f"Modellen {name} finns inte."
        assert read_serving(stack).active_model == "model-a.tar.gz"


def test_the_rasa_token_is_not_on_any_command_line(make_stack: Callable[..., FakeStack]) -> None:
    stack = Stack(make_stack().settings, Path("/models/m.tar.gz"))
    stack._endpoints = Path("/tmp/endpoints.yml")
    argv = stack._rasa_argv(Path("/models/m.tar.gz"), 5005)
    assert stack.settings.rasa_token not in " ".join(argv)
    assert argv[1:3] == ["-m", "scripts.rasa_server"]
    assert stack._rasa_env()["RASA_AUTH_TOKEN"] == stack.settings.rasa_token


def test_a_managed_process_logs_to_its_file_across_restarts(tmp_path: Path) -> None:
    process = ManagedProcess("echo", [str(APP_PYTHON), "-c", "print('hej')"], dict(os.environ), tmp_path, tmp_path)
    process.start()
    assert process.process is not None
    process.process.wait()
    process.restart_at = time.monotonic()
    process.check()
    assert process.process is not None
    process.process.wait()
    process.stop()
    assert (tmp_path / "echo.log").read_text().count("hej") == 2
