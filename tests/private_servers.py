"""A private PostgreSQL cluster and a private Redis on free ports in a temporary directory,
which a fault test may stop, kill and restart without disturbing anyone else's.

PostgreSQL comes from the machine's `initdb`/`pg_ctl` (Debian keeps them in
/usr/lib/postgresql/<version>/bin); as root they run as the `postgres` user, since
PostgreSQL refuses to run as root. Tests skip (with the reason) when a binary is missing.
"""

from __future__ import annotations

import contextlib
import glob
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from scripts.stack import free_port


def _binary(name: str) -> str | None:
    found = shutil.which(name)
    if found:
        return found
    candidates = sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"))
    return candidates[-1] if candidates else None


def wait_port(port: int, up: bool, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with socket.socket() as sock:
            sock.settimeout(0.5)
            listening = sock.connect_ex(("127.0.0.1", port)) == 0
        if listening == up:
            return
        time.sleep(0.1)
    raise TimeoutError(f"port {port} did not {'open' if up else 'close'} within {timeout:.0f} s")


@dataclass
class PrivatePostgres:
    directory: Path
    port: int
    as_user: list[str] = field(default_factory=list)

    @property
    def url(self) -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/postgres"

    def database_url(self, name: str) -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/{name}"

    def _ctl(self, *args: str) -> None:
        pg_ctl = _binary("pg_ctl")
        assert pg_ctl is not None
        subprocess.run([*self.as_user, pg_ctl, "-D", str(self.directory / "data"), "-w", "-t", "60",
                        "-l", str(self.directory / "postgres.log"), *args],
                       check=True, stdout=subprocess.DEVNULL)

    def start(self) -> None:
        self._ctl("-o", f"-p {self.port} -k {self.directory} -c listen_addresses=127.0.0.1 -c fsync=off", "start")
        wait_port(self.port, up=True)

    def stop(self, mode: str = "fast") -> None:
        self._ctl("-m", mode, "stop")

    def restart(self) -> None:
        """Stop (every connection is cut) and start again on the same port."""
        self.stop()
        wait_port(self.port, up=False)
        self.start()

    def create_database(self, name: str) -> str:
        psql = _binary("psql")
        assert psql is not None
        subprocess.run([psql, "-h", "127.0.0.1", "-p", str(self.port), "-U", "postgres", "-q", "-c",
                        f'CREATE DATABASE "{name}"'], check=True, stdout=subprocess.DEVNULL)
        return self.database_url(name)


@contextlib.contextmanager
def private_postgres(directory: Path) -> Iterator[PrivatePostgres]:
    initdb = _binary("initdb")
    if initdb is None or _binary("pg_ctl") is None or _binary("psql") is None:
        pytest.skip("PostgreSQL's initdb/pg_ctl/psql are not installed: the PostgreSQL fault test is skipped")
    as_user: list[str] = []
    own_directory = None
    if os.geteuid() == 0:
        # PostgreSQL refuses to run as root: as `postgres`, in a directory it can reach
        # (pytest's temporary directories are private to root).
        as_user = ["runuser", "-u", "postgres", "--"]
        own_directory = Path(tempfile.mkdtemp(prefix="private-pg-"))
        own_directory.chmod(0o755)
        shutil.chown(own_directory, "postgres")
        directory = own_directory
    server = PrivatePostgres(directory, free_port(), as_user)
    subprocess.run([*as_user, initdb, "-D", str(directory / "data"), "-U", "postgres", "-A", "trust",
                    "-E", "UTF8", "--no-sync"], check=True, stdout=subprocess.DEVNULL)
    server.start()
    try:
        yield server
    finally:
        with contextlib.suppress(subprocess.CalledProcessError):
            server.stop("immediate")
        if own_directory is not None:
            shutil.rmtree(own_directory, ignore_errors=True)


@dataclass
class PrivateRedis:
    directory: Path
    port: int
    process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        server = shutil.which("redis-server")
        assert server is not None
        self.process = subprocess.Popen(
            [server, "--port", str(self.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
             "--dir", str(self.directory)],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True,
        )
        wait_port(self.port, up=True)

    def kill(self) -> None:
        """An outage: SIGKILL, nothing flushed."""
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGKILL)
            self.process.wait()
        wait_port(self.port, up=False)


@contextlib.contextmanager
def private_redis(directory: Path) -> Iterator[PrivateRedis]:
    if shutil.which("redis-server") is None:
        pytest.skip("redis-server is not installed: the Redis fault test is skipped")
    directory.mkdir(parents=True, exist_ok=True)
    server = PrivateRedis(directory, free_port())
    server.start()
    try:
        yield server
    finally:
        server.kill()
