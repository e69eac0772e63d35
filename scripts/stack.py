"""Start the product's processes together and stop them together.

- the action server (`actions/`, app environment), bound to 127.0.0.1
- the Rasa server (Rasa environment), bound to 127.0.0.1, API token required
- the gateway (`bot/`), the only public face, when it is installed

`make run` calls `python -m scripts.stack`; the end-to-end tests use `Stack` directly.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

from sqlalchemy.engine import make_url

from core.settings import PROJECT_ROOT, Settings, load_settings
from scripts.model import RASA, rasa_env

APP_PYTHON = PROJECT_ROOT / ".venv" / "bin" / "python"


def tracker_store_config(url: str) -> str:
    """Rasa's SQL tracker store section, from a SQLAlchemy URL."""
    parsed = make_url(url)
    dialect = parsed.get_backend_name()
    lines = ["tracker_store:", "  type: SQL", f"  dialect: {'postgresql' if dialect == 'postgresql' else 'sqlite'}"]
    if dialect == "sqlite":
        Path(parsed.database or "").parent.mkdir(parents=True, exist_ok=True)
        lines.append(f"  db: {parsed.database}")
    else:
        lines += [f"  url: {parsed.host or '127.0.0.1'}", f"  port: {parsed.port or 5432}",
                  f"  db: {parsed.database}"]
        if parsed.username:
            lines.append(f"  username: {parsed.username}")
        if parsed.password:
            lines.append(f"  password: {parsed.password}")
    return "\n".join(lines)


def lock_store_config(redis_url: str | None) -> str:
    if not redis_url:
        return "lock_store:\n  type: in_memory"
    parsed = make_url(redis_url)
    lines = ["lock_store:", "  type: redis", f"  url: {parsed.host or '127.0.0.1'}",
             f"  port: {parsed.port or 6379}", f"  db: {parsed.database or 0}"]
    if parsed.password:
        lines.append(f"  password: {parsed.password}")
    return "\n".join(lines)


def write_endpoints(settings: Settings) -> Path:
    path = settings.var_dir / "rasa" / "endpoints.yml"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(
        "# Written by scripts/stack.py from the settings; edit .env instead.\n"
        f"action_endpoint:\n  url: \"{settings.action_server_url}\"\n"
        f"{tracker_store_config(settings.rasa_tracker_url)}\n"
        f"{lock_store_config(settings.redis_url)}\n"
    )
    return path


def free_port() -> int:
    """A TCP port on the loopback interface that nothing listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def isolated_settings(var_dir: Path, env: dict[str, str] | None = None) -> Settings:
    """Settings for a private copy of the whole stack (tests, bench): its own var/ (so
    its own SQLite databases) and free ports, the rest from the environment."""
    values = {k: v for k, v in (env if env is not None else os.environ).items()
              if k not in ("DATABASE_URL", "RASA_TRACKER_URL")}
    values.update({
        "VAR_DIR": str(var_dir),
        "RASA_TOKEN": values.get("RASA_TOKEN") or "isolated-stack-token",
        "RASA_PORT": str(free_port()),
        "ACTION_SERVER_PORT": str(free_port()),
        "GATEWAY_PORT": str(free_port()),
    })
    return load_settings(values)


def wait_http(url: str, timeout: float, process: subprocess.Popen[bytes] | None = None) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process is not None and process.poll() is not None:
            raise RuntimeError(f"{url}: the process exited with code {process.returncode}")
        with contextlib.suppress(urllib.error.URLError, ConnectionError, TimeoutError), \
                urllib.request.urlopen(url, timeout=2) as response:
            if response.status < 500:
                return
        time.sleep(0.5)
    raise TimeoutError(f"{url} did not answer within {timeout:.0f} s")


@dataclass
class Stack:
    settings: Settings
    model: Path
    with_gateway: bool = True
    log_dir: Path | None = None
    processes: dict[str, subprocess.Popen[bytes]] = field(default_factory=dict)
    _logs: list[IO[bytes]] = field(default_factory=list)

    def _spawn(self, name: str, argv: list[str], env: dict[str, str]) -> subprocess.Popen[bytes]:
        out: IO[bytes] | None = None
        if self.log_dir is not None:
            self.log_dir.mkdir(parents=True, exist_ok=True)
            out = (self.log_dir / f"{name}.log").open("wb")
            self._logs.append(out)
        process = subprocess.Popen(argv, cwd=PROJECT_ROOT, env=env, stdout=out,
                                   stderr=subprocess.STDOUT if out else None,
                                   start_new_session=True)
        self.processes[name] = process
        return process

    def start(self, timeout: float = 240) -> None:
        s = self.settings
        env = rasa_env()
        env["SANIC_HOST"] = s.action_server_host
        actions = self._spawn(
            "actions",
            [str(APP_PYTHON), "-m", "rasa_sdk", "--actions", "actions",
             "--port", str(s.action_server_port)],
            env,
        )
        endpoints = write_endpoints(s)
        rasa = self._spawn(
            "rasa",
            [str(RASA), "run", "--model", str(self.model), "--enable-api",
             "--auth-token", s.rasa_token, "--interface", s.rasa_host, "--port", str(s.rasa_port),
             "--endpoints", str(endpoints), "--credentials", "credentials.yml"],
            env,
        )
        wait_http(f"http://{s.action_server_host}:{s.action_server_port}/health", timeout, actions)
        wait_http(f"{s.rasa_url}/status?token={s.rasa_token}", timeout, rasa)
        if self.with_gateway and (PROJECT_ROOT / "bot" / "__main__.py").exists():
            gateway = self._spawn("gateway", [str(APP_PYTHON), "-m", "bot", "serve"], dict(os.environ))
            wait_http(f"http://{s.gateway_host}:{s.gateway_port}/healthz", timeout, gateway)

    def stop(self) -> None:
        for process in reversed(list(self.processes.values())):
            if process.poll() is None:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(process.pid, signal.SIGTERM)
        for process in self.processes.values():
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(process.pid, signal.SIGKILL)
                process.wait()
        for log in self._logs:
            log.close()
        self.processes.clear()

    def exited(self) -> str | None:
        for name, process in self.processes.items():
            if process.poll() is not None:
                return f"{name} exited with code {process.returncode}"
        return None


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--model", type=Path, help="model file (default: the one for the current data)")
    parser.add_argument("--no-gateway", action="store_true")
    args = parser.parse_args(argv)
    settings = load_settings()
    from scripts.model import model_path

    model = args.model or model_path(settings.model_dir)
    if not model.exists():
        print(f"No trained model at {model}; run `make model` first.", file=sys.stderr)
        return 1
    stack = Stack(settings, model, with_gateway=not args.no_gateway)
    stopping = False

    def request_stop(*_: object) -> None:
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGINT, request_stop)
    signal.signal(signal.SIGTERM, request_stop)
    try:
        stack.start()
        print("\nAll processes are up:")
        if "gateway" in stack.processes:
            print(f"  Website with chat:   http://{settings.gateway_host}:{settings.gateway_port}/")
            print(f"  Advisor console:     http://{settings.gateway_host}:{settings.gateway_port}/console")
        print(f"  Rasa (local only):   {settings.rasa_url}/webhooks/rest/webhook"
              "  (API token: RASA_TOKEN or var/rasa_token)")
        print(f"  Action server:       http://{settings.action_server_host}:{settings.action_server_port}/health")
        print("Press Ctrl-C to stop everything.\n", flush=True)
        while not stopping:
            problem = stack.exited()
            if problem:
                print(f"Stopping: {problem}", file=sys.stderr)
                return 1
            time.sleep(0.5)
        return 0
    finally:
        print("Stopping all processes ...", flush=True)
        stack.stop()


if __name__ == "__main__":
    sys.exit(main())
