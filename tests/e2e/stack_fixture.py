"""A real Rasa server and action server on free ports, with a fresh seeded database."""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from core.settings import PROJECT_ROOT, Settings, load_settings
from scripts.db import seed, upgrade
from scripts.model import model_path
from scripts.stack import Stack, isolated_settings


def stack_settings(var_dir: Path) -> Settings:
    return isolated_settings(var_dir, {**os.environ, "RASA_TOKEN": "e2e-test-token"})


@pytest.fixture(scope="session")
def rasa_stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Settings]:
    """Rasa, the action server and the gateway, as `make run` starts them, once for the
    whole session (loading the model takes a while). Advisors are always "open" here, so
    a hand-off queues whatever the time of day the tests run."""
    model = model_path()
    if not model.exists():
        pytest.fail(f"No trained model for the current data ({model.name}): run `make model`")
    var_dir = tmp_path_factory.mktemp("stack")
    settings = stack_settings(var_dir)
    upgrade(settings.database_url)
    seed(settings.database_url)
    # The action server reads DATABASE_URL from its environment.
    os.environ["DATABASE_URL"] = settings.database_url
    for key, value in (("VAR_DIR", str(var_dir)), ("RASA_TOKEN", settings.rasa_token),
                       ("RASA_PORT", str(settings.rasa_port)),
                       ("ACTION_SERVER_PORT", str(settings.action_server_port)),
                       ("GATEWAY_PORT", str(settings.gateway_port)),
                       ("OPENING_HOURS", "always"), ("SESSION_SECRET", "e2e-session-secret"),
                       # Training from the admin pages uses a quicker pipeline here (docs/training.md).
                       ("TRAINING_CONFIG", str(PROJECT_ROOT / "tests" / "e2e" / "quick_config.yml"))):
        os.environ[key] = value
    stack = Stack(settings, model, with_gateway=True, log_dir=PROJECT_ROOT / "var" / "test-logs")
    stop_supervising = threading.Event()

    def supervise() -> None:  # what `make run` does: restart the dead, serve requested models
        while not stop_supervising.wait(0.5):
            stack.poll()

    supervisor = threading.Thread(target=supervise, name="supervisor", daemon=True)
    try:
        stack.start(timeout=300)
        supervisor.start()
        yield load_settings(dict(os.environ))
    finally:
        stop_supervising.set()
        if supervisor.is_alive():
            supervisor.join()
        stack.stop()
