"""One supervised child process: started with its log file, restarted with backoff when it
dies, stopped with SIGTERM (then SIGKILL) with everything it started."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

# A process that stayed up this long counts as healthy again: its backoff starts over.
HEALTHY_AFTER_SECONDS = 60.0
MAX_BACKOFF_SECONDS = 30.0


def restart_delay(restarts: int) -> float:
    """1, 2, 4 ... seconds before the next restart, at most 30."""
    return min(MAX_BACKOFF_SECONDS, float(2 ** max(0, restarts)))


def say(text: str) -> None:
    """The supervisor's own log line (stderr, so that `make run` shows it)."""
    stamp = time.strftime("%Y-%m-%d %H:%M:%S")
    print(f"{stamp} [supervisor] {text}", file=sys.stderr, flush=True)


@dataclass
class ManagedProcess:
    name: str
    argv: list[str]
    env: dict[str, str]
    cwd: Path
    log_dir: Path | None = None
    process: subprocess.Popen[bytes] | None = None
    started_at: float = 0.0
    restarts: int = 0  # consecutive restarts without a healthy minute in between
    restart_at: float | None = None
    _log: IO[bytes] | None = field(default=None, repr=False)

    def start(self) -> subprocess.Popen[bytes]:
        out: IO[bytes] | None = None
        if self.log_dir is not None:
            self.log_dir.mkdir(parents=True, exist_ok=True)
            if self._log is None:
                self._log = (self.log_dir / f"{self.name}.log").open("ab")
            out = self._log
        self.process = subprocess.Popen(
            self.argv, cwd=self.cwd, env=self.env, stdout=out,
            stderr=subprocess.STDOUT if out else None, start_new_session=True,
        )
        self.started_at = time.monotonic()
        self.restart_at = None
        return self.process

    @property
    def pid(self) -> int:
        assert self.process is not None
        return self.process.pid

    def running(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def check(self, on_restart: Callable[[ManagedProcess], None] | None = None) -> None:
        """If the process died, schedule its restart; when the time has come, restart it."""
        now = time.monotonic()
        if self.process is None:
            return
        if self.restart_at is None and self.process.poll() is not None:
            if now - self.started_at > HEALTHY_AFTER_SECONDS:
                self.restarts = 0
            delay = restart_delay(self.restarts)
            say(f"{self.name} exited with code {self.process.returncode}; restarting in {delay:.0f} s")
            self.restart_at = now + delay
            self.restarts += 1
        if self.restart_at is not None and now >= self.restart_at:
            self.start()
            say(f"{self.name} restarted (pid {self.pid})")
            if on_restart is not None:
                on_restart(self)

    def stop(self, timeout: float = 15) -> None:
        process = self.process
        if process is not None:
            if process.poll() is None:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(process.pid, signal.SIGTERM)
            try:
                process.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(process.pid, signal.SIGKILL)
                process.wait()
        self.restart_at = None
        if self._log is not None:
            self._log.close()
            self._log = None
