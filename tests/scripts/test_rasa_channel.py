"""Rasa's REST channel on its loopback port answers only with the API token (issue 11:
"Rasa's own REST channel on its loopback port answers without the token").

The channel (scripts/rasa_channel.py) is loaded the way `rasa run` loads it, from
credentials.yml, into Rasa's own Sanic in the Rasa environment; a stand-in agent answers
instead of a trained model, so no model is needed."""

from __future__ import annotations

import socket
import subprocess
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Iterator

import pytest

from core.settings import PROJECT_ROOT, RASA_CHANNEL_HEADER
from scripts.model import RASA_PYTHON

TOKEN = "channel-test-token"

SERVE = """
import sys
from sanic import Sanic
from rasa.core.channels.channel import register
from rasa.core.run import create_http_input_channels
from scripts import rasa_channel

class Agent:
    async def handle_message(self, message):
        await message.output_channel.send_text_message(message.sender_id, "svar: " + (message.text or ""))

rasa_channel.TOKEN = sys.argv[2]
app = Sanic("channel_test")
app.ctx.agent = Agent()
register(create_http_input_channels(None, "credentials.yml"), app, route="/webhooks/")
app.run(host="127.0.0.1", port=int(sys.argv[1]), access_log=False, motd=False)
"""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="module")
def rasa_channel_url() -> Iterator[str]:
    if not RASA_PYTHON.exists():
        pytest.skip("the Rasa environment (.venv-rasa) is not installed")
    port = free_port()
    with tempfile.TemporaryFile() as log:
        process = subprocess.Popen([str(RASA_PYTHON), "-c", SERVE, str(port), TOKEN], cwd=PROJECT_ROOT,
                                   stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT)
        url = f"http://127.0.0.1:{port}/webhooks/rest/webhook"
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            if process.poll() is not None:
                log.seek(0)
                pytest.fail(f"the channel server stopped: {log.read().decode()[-2000:]}")
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=1):
                    break
            except OSError:
                time.sleep(0.3)
        yield url
        process.terminate()
        process.wait(10)


def post(url: str, headers: dict[str, str]) -> tuple[int, bytes]:
    request = urllib.request.Request(url, data=b'{"sender": "s1", "message": "hej"}', method="POST",
                                     headers={"Content-Type": "application/json", **headers})
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read()


def test_without_the_token_the_channel_answers_401(rasa_channel_url: str) -> None:
    assert post(rasa_channel_url, {})[0] == 401
    assert post(rasa_channel_url, {RASA_CHANNEL_HEADER: "wrong"})[0] == 401
    assert post(rasa_channel_url + "?token=wrong", {})[0] == 401


def test_with_the_token_the_channel_answers_as_rasas_rest_channel(rasa_channel_url: str) -> None:
    status, body = post(rasa_channel_url, {RASA_CHANNEL_HEADER: TOKEN})
    assert status == 200
    assert b"svar: hej" in body
    assert post(rasa_channel_url + f"?token={TOKEN}", {})[0] == 200


def test_the_token_is_not_on_rasas_command_line() -> None:
    from core.settings import load_settings
    from scripts.stack import Stack

    settings = load_settings({"RASA_TOKEN": "secret-token-xyz", "VAR_DIR": "/tmp/unused-var"})
    stack = Stack.__new__(Stack)
    stack.settings = settings
    stack._endpoints = PROJECT_ROOT / "endpoints.yml"  # type: ignore[attr-defined]
    argv = stack._rasa_argv(PROJECT_ROOT / "models" / "m.tar.gz", 5005)
    assert not any("secret-token-xyz" in arg for arg in argv)
    assert stack._rasa_env()["RASA_AUTH_TOKEN"] == "secret-token-xyz"
