"""Start the product's processes, keep them running, and stop them together.

- the action server (`actions/`, app environment), bound to 127.0.0.1
- the Rasa server (Rasa environment), bound to 127.0.0.1, API token required (passed in its
  environment, never on the command line), and a second one while a model is activated
- the gateway (`bot/`), the only public face

A process that dies is restarted with backoff while the others keep running. `make run`
calls `python -m scripts.stack`; the end-to-end tests and the bench use `Stack` directly.
"""

from __future__ import annotations

import argparse
import contextlib
import json
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

from sqlalchemy import Engine
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker

from core import serving
from core.db import make_engine, make_sessionmaker, transaction
from core.settings import PROJECT_ROOT, Settings, load_settings
from scripts.model import RASA_PYTHON, rasa_env
from scripts.supervisor import ManagedProcess, say

APP_PYTHON = PROJECT_ROOT / ".venv" / "bin" / "python"
# How long a second Rasa server may take to load a requested model.
SWAP_TIMEOUT_SECONDS = 600.0


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


# Replicas take the ports after their first (RASA_PORT + 1 ...); a private stack keeps
# this many free for each of its port ranges.
ISOLATED_PORTS_PER_RANGE = 4


def free_port_ranges(count: int, size: int) -> list[int]:
    """The first ports of `count` ranges of `size` consecutive ports, none of which anything
    listens on now, and no two overlapping (each port is held until all are chosen: a port
    the kernel hands out for one range is not handed out for the next)."""
    held: list[socket.socket] = []
    starts: list[int] = []
    try:
        while len(starts) < count:
            first = socket.socket()
            held.append(first)
            first.bind(("127.0.0.1", 0))
            start = int(first.getsockname()[1])
            try:
                for port in range(start + 1, start + size):
                    extra = socket.socket()
                    held.append(extra)
                    extra.bind(("127.0.0.1", port))
            except OSError:  # taken, or past the last port: another start
                continue
            starts.append(start)
    finally:
        for sock in held:
            sock.close()
    return starts


def isolated_settings(var_dir: Path, env: dict[str, str] | None = None) -> Settings:
    """Settings for a private copy of the whole stack (tests, bench): its own var/ (so
    its own SQLite databases) and free ports, the rest from the environment."""
    values = {k: v for k, v in (env if env is not None else os.environ).items()
              if k not in ("DATABASE_URL", "RASA_TRACKER_URL")}
    rasa, actions, gateway = free_port_ranges(3, ISOLATED_PORTS_PER_RANGE)
    values.update({
        "VAR_DIR": str(var_dir),
        "RASA_TOKEN": values.get("RASA_TOKEN") or "isolated-stack-token",
        "RASA_PORT": str(rasa),
        "ACTION_SERVER_PORT": str(actions),
        "GATEWAY_PORT": str(gateway),
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


def rasa_status(url: str, token: str) -> dict[str, object] | None:
    """Rasa's /status, or None while it does not answer."""
    with contextlib.suppress(urllib.error.URLError, ConnectionError, TimeoutError, ValueError), \
            urllib.request.urlopen(f"{url}/status?token={token}", timeout=2) as response:
        data = json.loads(response.read())
        return data if isinstance(data, dict) else None
    return None


@dataclass
class Swap:
    """A requested model being started by a second set of Rasa servers (as many as serve)."""

    model: str
    urls: list[str]
    processes: list[ManagedProcess]
    generation: int
    deadline: float

    def stop(self) -> None:
        for process in self.processes:
            process.stop()


@dataclass
class Stack:
    """The product's processes, supervised: the action server, the active Rasa server (and
    the next one while a model is being activated), and the gateway.

    A process that dies is restarted with backoff (the others keep running); a model that an
    admin activates is started beside the active one and switched to without downtime (see
    core/serving.py)."""

    settings: Settings
    model: Path
    with_gateway: bool = True
    log_dir: Path | None = None
    # Gateways and Rasa servers on this machine (REPLICAS / --replicas): ports counted up
    # from GATEWAY_PORT and RASA_PORT; every gateway spreads turns over every Rasa server.
    replicas: int = 1
    # Rasa servers, when not as many as the gateways (the fault tests start one).
    rasa_replicas: int | None = None
    processes: dict[str, ManagedProcess] = field(default_factory=dict)
    swap: Swap | None = None
    retiring: list[tuple[ManagedProcess, float]] = field(default_factory=list)
    _endpoints: Path | None = None
    _sessions: sessionmaker[Session] | None = None
    _engine: Engine | None = None

    # ------------------------------------------------------------------ start and stop

    def start(self, timeout: float = 240) -> None:
        s = self.settings
        self._engine = make_engine(s.database_url)
        self._sessions = make_sessionmaker(self._engine)
        actions = self._spawn("actions", self._actions_argv(), self._actions_env())
        self._endpoints = write_endpoints(s)
        rasas = [self._spawn(replica_name("rasa", i), self._rasa_argv(self.model, s.rasa_port + i), self._rasa_env())
                 for i in range(self.rasa_count)]
        wait_http(f"http://{s.action_server_host}:{s.action_server_port}/health", timeout, actions.process)
        for i, rasa in enumerate(rasas):
            wait_http(f"http://{s.rasa_host}:{s.rasa_port + i}/status?token={s.rasa_token}", timeout, rasa.process)
        with transaction(self._sessions) as session:
            serving.activate(session, self.model.name, serving.join_urls(self.rasa_urls), None)
        if self.with_gateway:
            gateways = [self._spawn(replica_name("gateway", i), [str(APP_PYTHON), "-m", "bot", "serve"],
                                    self._gateway_env(i)) for i in range(self.replicas)]
            for i, gateway in enumerate(gateways):
                wait_http(f"http://{s.gateway_host}:{s.gateway_port + i}/healthz", timeout, gateway.process)

    @property
    def rasa_urls(self) -> list[str]:
        """The Rasa servers the gateways use: RASA_URLS, or those started here."""
        s = self.settings
        if s.rasa_urls:
            return list(s.rasa_urls)
        return [f"http://{s.rasa_host}:{s.rasa_port + i}" for i in range(self.rasa_count)]

    @property
    def rasa_count(self) -> int:
        return self.replicas if self.rasa_replicas is None else self.rasa_replicas

    @property
    def gateway_urls(self) -> list[str]:
        s = self.settings
        return [f"http://{s.gateway_host}:{s.gateway_port + i}" for i in range(self.replicas)]

    def _gateway_env(self, index: int) -> dict[str, str]:
        env = dict(os.environ)
        env["GATEWAY_PORT"] = str(self.settings.gateway_port + index)
        # The servers started here are named by the serving row, which a swap switches;
        # servers on other machines (RASA_URLS) are a fixed pool.
        env.pop("RASA_URLS", None)
        if self.settings.rasa_urls:
            env["RASA_URLS"] = ",".join(self.rasa_urls)
        return env

    def stop(self) -> None:
        if self.swap is not None:
            self.swap.stop()
            self.swap = None
        for process, _ in self.retiring:
            process.stop()
        self.retiring.clear()
        for process in reversed(list(self.processes.values())):
            process.stop()
        self.processes.clear()
        if self._engine is not None:
            self._engine.dispose()
            self._engine = None

    # ------------------------------------------------------------------ supervision

    def poll(self) -> None:
        """One round of supervision: restart what died, serve a requested model, and stop
        the servers whose grace period is over."""
        for process in self.processes.values():
            process.check()
        now = time.monotonic()
        for process, until in list(self.retiring):
            if now >= until:
                process.stop()
                self.retiring.remove((process, until))
                say(f"{process.name} (the previous model) stopped")
        try:
            self._serve_request()
        except Exception as exc:  # the database may be restarting: try again next round
            say(f"could not read the serving state: {exc}")

    def _serve_request(self) -> None:
        assert self._sessions is not None
        if self.swap is not None:
            self._continue_swap()
            return
        with transaction(self._sessions) as session:
            current = serving.read(session)
            if current is None or not current.requested_model or current.requested_model == current.active_model:
                if current is not None and current.requested_model == current.active_model:
                    serving.mark(session, serving.READY, "", clear_request=True)
                return
            if self.settings.rasa_urls:
                serving.mark(session, serving.FAILED,
                             "Med Rasa-servrar på andra maskiner (RASA_URLS) byts modellen genom en omstart "
                             "av tjänsten.", clear_request=True)
                return
            path = self.settings.model_dir / current.requested_model
            if "/" in current.requested_model or not path.is_file():
                serving.mark(session, serving.FAILED, f"Modellen {current.requested_model} finns inte.",
                             clear_request=True)
                return
            serving.mark(session, serving.STARTING, "Den nya modellen startar.")
            generation = current.generation
        ports = free_port_ranges(self.rasa_count, 1)  # distinct: each is held until all are chosen
        processes = [self._managed(replica_name("rasa-next", i), self._rasa_argv(path, port), self._rasa_env())
                     for i, port in enumerate(ports)]
        for process in processes:
            process.start()
        say(f"starting {path.name} on port(s) {', '.join(map(str, ports))} beside the active model")
        self.swap = Swap(path.name, [f"http://{self.settings.rasa_host}:{port}" for port in ports], processes,
                         generation, time.monotonic() + SWAP_TIMEOUT_SECONDS)

    def _continue_swap(self) -> None:
        swap = self.swap
        assert swap is not None and self._sessions is not None
        failure = None
        if not all(process.running() for process in swap.processes):
            failure = "Den nya modellen kunde inte startas (se rasa-next.log)."
        elif time.monotonic() > swap.deadline:
            failure = "Den nya modellen startade inte i tid."
        if failure is not None:
            swap.stop()
            self.swap = None
            with transaction(self._sessions) as session:
                serving.mark(session, serving.FAILED, failure, clear_request=True)
            say(failure)
            return
        for url in swap.urls:
            status = rasa_status(url, self.settings.rasa_token)
            if status is None or Path(str(status.get("model_file") or "")).name != swap.model:
                return
        with transaction(self._sessions) as session:
            switched = serving.activate(session, swap.model, serving.join_urls(swap.urls), swap.generation)
        self.swap = None
        if not switched:  # someone else switched meanwhile: these servers are not needed
            swap.stop()
            return
        # Gateways switch within a second; turns already sent finish within Rasa's timeout.
        retire_at = time.monotonic() + self.settings.rasa_timeout_seconds + 5
        for i, process in enumerate(swap.processes):
            name = replica_name("rasa", i)
            old = self.processes.get(name)
            process.name = name
            self.processes[name] = process
            if old is not None:
                old.name = replica_name("rasa-previous", i)
                self.retiring.append((old, retire_at))
        say(f"{swap.model} is active at {', '.join(swap.urls)}")

    # ------------------------------------------------------------------ processes

    def _managed(self, name: str, argv: list[str], env: dict[str, str]) -> ManagedProcess:
        return ManagedProcess(name, argv, env, PROJECT_ROOT, self.log_dir)

    def _spawn(self, name: str, argv: list[str], env: dict[str, str]) -> ManagedProcess:
        process = self._managed(name, argv, env)
        process.start()
        self.processes[name] = process
        return process

    def _actions_argv(self) -> list[str]:
        return [str(APP_PYTHON), "-m", "rasa_sdk", "--actions", "actions",
                "--port", str(self.settings.action_server_port)]

    def _actions_env(self) -> dict[str, str]:
        env = rasa_env()
        env["SANIC_HOST"] = self.settings.action_server_host
        return env

    def _rasa_argv(self, model: Path, port: int) -> list[str]:
        assert self._endpoints is not None
        return [str(RASA_PYTHON), "-m", "scripts.rasa_server", "run", "--model", str(model), "--enable-api",
                "--interface", self.settings.rasa_host, "--port", str(port),
                "--endpoints", str(self._endpoints), "--credentials", "credentials.yml"]

    def _rasa_env(self) -> dict[str, str]:
        env = rasa_env()
        env["RASA_AUTH_TOKEN"] = self.settings.rasa_token
        env.update(rasa_tuning(self.settings))
        return env


def replica_name(base: str, index: int) -> str:
    """`rasa`, `rasa-2`, `rasa-3` ...: the first keeps the name a single stack uses."""
    return base if index == 0 else f"{base}-{index + 1}"


def rasa_tuning(settings: Settings) -> dict[str, str]:
    """The Rasa process's thread and memory environment (docs/operations.md, "A leaner
    Rasa"): TensorFlow's thread pools, the BLAS threads, and glibc's malloc arenas."""
    env: dict[str, str] = {}
    if settings.rasa_tf_threads > 0:
        threads = str(settings.rasa_tf_threads)
        for name in ("TF_INTER_OP_PARALLELISM_THREADS", "TF_INTRA_OP_PARALLELISM_THREADS",
                     "TF_NUM_INTEROP_THREADS", "TF_NUM_INTRAOP_THREADS", "OMP_NUM_THREADS",
                     "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
            env[name] = threads
    if settings.rasa_malloc_arena_max > 0:
        env["MALLOC_ARENA_MAX"] = str(settings.rasa_malloc_arena_max)
    return env


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--model", type=Path, help="model file (default: the one for the current data)")
    parser.add_argument("--no-gateway", action="store_true")
    parser.add_argument("--replicas", type=int, help="gateways and Rasa servers to start (default: REPLICAS)")
    args = parser.parse_args(argv)
    settings = load_settings()
    replicas = args.replicas or settings.replicas
    if replicas > 1 and not settings.redis_url:
        print("Several replicas need REDIS_URL (live events between gateways, Rasa's lock store).",
              file=sys.stderr)
        return 1
    from scripts.model import model_path

    model = args.model or model_path(settings.model_dir)
    if not model.exists():
        print(f"No trained model at {model}; run `make model` first.", file=sys.stderr)
        return 1
    stack = Stack(settings, model, with_gateway=not args.no_gateway, log_dir=settings.var_dir / "logs",
                  replicas=replicas)
    stopping = False

    def request_stop(*_: object) -> None:
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGINT, request_stop)
    signal.signal(signal.SIGTERM, request_stop)
    try:
        stack.start()
        print("\nAll processes are up (logs in var/logs/):")
        if "gateway" in stack.processes:
            print(f"  Website with chat:   {'  '.join(stack.gateway_urls)}")
            base = f"http://{settings.gateway_host}:{settings.gateway_port}"
            print(f"  Advisor console:     {base}/console")
            print(f"  Admin pages:         {base}/admin")
            if settings.slack_enabled:
                print(f"  Slack events:        {base}/webhooks/slack/events  (public https address in the app)")
                print(f"  Slack interactivity: {base}/webhooks/slack/interactive")
            if settings.teams_enabled:
                print(f"  Teams messages:      {base}/webhooks/teams/messages  (the bot's messaging endpoint)")
        print(f"  Rasa (local only):   {'  '.join(stack.rasa_urls)}  (API token: RASA_TOKEN or var/rasa_token)")
        print(f"  Action server:       http://{settings.action_server_host}:{settings.action_server_port}/health")
        print("A process that stops is restarted. Press Ctrl-C to stop everything.\n", flush=True)
        while not stopping:
            stack.poll()
            time.sleep(0.5)
        return 0
    finally:
        print("Stopping all processes ...", flush=True)
        stack.stop()


if __name__ == "__main__":
    sys.exit(main())
