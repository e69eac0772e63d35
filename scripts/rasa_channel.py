"""Rasa's REST channel, answering only callers that know the Rasa API token.

Rasa's stock `rest` channel answers anyone who reaches its port; on a shared machine every
local user could talk to the bot as any conversation (and read its answers). This channel
is the same channel under the same URL (`/webhooks/rest/webhook`) with one check first:
the token in the `X-Rasa-Token` header (or `?token=`, like the rest of Rasa's API), compared
in constant time; anything else gets 401. `scripts/rasa_server.py` hands it the token from
the environment before Rasa starts. Runs inside Rasa (.venv-rasa): Rasa and the standard
library only.
"""

from __future__ import annotations

import hmac
import os
from collections.abc import Awaitable, Callable
from typing import Any

from rasa.core.channels.channel import UserMessage
from rasa.core.channels.rest import RestInput
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse

HEADER = "X-Rasa-Token"
TOKEN = ""  # set by scripts/rasa_server.py; RASA_CHANNEL_TOKEN is read when it is empty


def token_ok(presented: str | None, expected: str) -> bool:
    return bool(expected) and presented is not None and hmac.compare_digest(presented.encode(), expected.encode())


class TokenRestInput(RestInput):
    @classmethod
    def name(cls) -> str:
        return "rest"

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        blueprint = super().blueprint(on_new_message)

        @blueprint.middleware("request")
        async def check_token(request: Request) -> HTTPResponse | None:
            expected = TOKEN or os.environ.get("RASA_CHANNEL_TOKEN", "")
            presented = request.headers.get(HEADER) or request.args.get("token")
            if token_ok(presented, expected):
                return None
            return response.json({"error": "unauthorized"}, status=401)

        return blueprint
