"""Stand-ins for the action server and a Rasa server, as real processes, for the
supervisor's tests: `python tests/scripts/fake_process.py actions|rasa --port P [--model M]`.

The fake Rasa answers /status with its model file and every turn with "svar från <model>",
so a test sees which server answered. `--fail` exits at once (a model that cannot load);
`--load-seconds` delays readiness like a real model load.
"""

from __future__ import annotations

import argparse
import asyncio
import sys

from aiohttp import web


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("role", choices=["actions", "rasa"])
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--model", default="")
    parser.add_argument("--fail", action="store_true")
    parser.add_argument("--load-seconds", type=float, default=0.0)
    args = parser.parse_args()
    if args.fail:
        print("cannot load the model", file=sys.stderr)
        return 3

    async def health(request: web.Request) -> web.Response:
        return web.json_response({"status": "ok"})

    async def status(request: web.Request) -> web.Response:
        return web.json_response({"model_file": f"/models/{args.model}", "num_active_training_jobs": 0})

    async def turn(request: web.Request) -> web.Response:
        body = await request.json()
        return web.json_response([{"recipient_id": body["sender"], "text": f"svar från {args.model}"}])

    async def events(request: web.Request) -> web.Response:
        return web.json_response({})

    async def serve() -> None:
        await asyncio.sleep(args.load_seconds)
        app = web.Application()
        app.router.add_get("/health", health)
        app.router.add_get("/status", status)
        app.router.add_post("/webhooks/rest/webhook", turn)
        app.router.add_post("/conversations/{sender}/tracker/events", events)
        runner = web.AppRunner(app, access_log=None)
        await runner.setup()
        await web.TCPSite(runner, "127.0.0.1", args.port).start()
        await asyncio.Event().wait()

    asyncio.run(serve())
    return 0


if __name__ == "__main__":
    sys.exit(main())
