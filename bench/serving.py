"""What the view benchmarks share: serving an aiohttp app on a free loopback port for the
length of a block, and printing a report's view timings."""

from __future__ import annotations

import contextlib
import json
import sys
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

from aiohttp import web


@contextlib.asynccontextmanager
async def serve(app: web.Application, port: int | None = None) -> AsyncIterator[str]:
    """Serve `app` on 127.0.0.1 and `port` (default: a free one); yields its base URL."""
    from scripts.stack import free_port

    port = port or free_port()
    runner = web.AppRunner(app, access_log=None, shutdown_timeout=1)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        await runner.cleanup()


def print_report(report: dict[str, Any], output: Path | None) -> None:
    """The whole report as JSON (also into `output`), then one line per view on stderr."""
    text = json.dumps(report, indent=2, ensure_ascii=False)
    if output:
        output.write_text(text + "\n")
    print(text)
    width = max(len(k) for k in report["views_ms"])
    for name, figures in report["views_ms"].items():
        print(f"{name:<{width}}  p50 {figures['p50']:>9.1f} ms  p95 {figures['p95']:>9.1f} ms", file=sys.stderr)
