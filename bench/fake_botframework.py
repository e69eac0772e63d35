"""A local Bot Framework that speaks the real protocols and checks what it receives
(used by the Teams channel's tests, tests/channels/teams/, and by `bench.teams`).

One aiohttp application plays every Microsoft side the Teams channel talks to:

* `GET  /v1/.well-known/openidconfiguration` — OpenID metadata (issuer, `jwks_uri`, RS256)
* `GET  /v1/.well-known/keys` — a JWKS with `endorsements`, from an RSA key made here
* `POST /{tenant}/oauth2/v2.0/token` — OAuth client credentials: checks grant type, client
  id and secret and the Bot Framework scope, and issues an opaque access token
* `POST /teams/v3/conversations/{id}/activities[/{replyToId}]` — the Connector (its
  serviceUrl is `/teams/`): checks the bearer
  token is one it issued, the Activity's shape (type, from = the bot, conversation id
  equal to the path's), records it and answers `{"id": ...}`; or answers with the statuses
  a test queued (429, 500, 404 ...)

And the other direction: `sign()` makes the JWT the Bot Connector would send (claims and
header can be bent for the negative tests), `message()` / `added()` build Teams Activities,
and `post_activity()` sends them to a gateway like Teams does.
"""

from __future__ import annotations

import base64
import datetime as dt
import itertools
import json
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import aiohttp
import jwt
from aiohttp import web
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

ISSUER = "https://api.botframework.com"
SCOPE = "https://api.botframework.com/.default"
APP_ID = "3f2504e0-4f89-41d3-9a0c-0305e82c3301"
APP_PASSWORD = "fake-client-secret-for-tests"
TENANT_ID = "9b1deb4d-3b7d-4bad-9bdd-2b0d7b3dcb6d"
BOT_ID = f"28:{APP_ID}"
BOT_NAME = "Företagssupporten"


def new_rsa_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def public_jwk(key: rsa.RSAPrivateKey, kid: str, endorsements: list[str]) -> dict[str, Any]:
    jwk: dict[str, Any] = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(key.public_key()))
    der = key.public_key().public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    jwk.update({"kid": kid, "use": "sig", "x5c": [base64.b64encode(der).decode()], "endorsements": endorsements})
    return jwk


@dataclass
class Post:
    """One activity the Connector received."""

    conversation_id: str
    reply_to: str | None
    activity: dict[str, Any]
    id: str
    at: float = field(default_factory=time.perf_counter)  # when the Connector took it

    @property
    def text(self) -> str:
        return str(self.activity.get("text") or "")

    @property
    def buttons(self) -> list[dict[str, Any]]:
        return [
            button
            for attachment in self.activity.get("attachments") or []
            if attachment.get("contentType") == "application/vnd.microsoft.card.hero"
            for button in attachment["content"].get("buttons") or []
        ]


@dataclass
class Transcript:
    """What a person sees in one Teams conversation: their messages and the bot's."""

    lines: list[tuple[str, str]] = field(default_factory=list)  # (who, text)


class FakeBotFramework:
    def __init__(self, app_id: str = APP_ID, app_password: str = APP_PASSWORD, tenant_id: str = TENANT_ID) -> None:
        self.app_id = app_id
        self.app_password = app_password
        self.tenant_id = tenant_id
        self.key = new_rsa_key()
        self.kid = "bf-key-1"
        self.endorsements = ["msteams", "webchat"]
        # Keys published in the JWKS: (private key, kid, endorsements).
        self.published: list[tuple[rsa.RSAPrivateKey, str, list[str]]] = [(self.key, self.kid, self.endorsements)]
        self.base_url = ""  # set by the test once the server listens
        self.metadata_fetches = 0
        self.metadata_down = False  # the OpenID metadata answers 503
        self.jwks_fetches = 0
        self.token_requests: list[dict[str, str]] = []
        self.token_refusals = 0
        self.issued: list[str] = []
        self.token_lifetime = 3600
        self.posts: list[Post] = []
        self.refused_posts = 0  # Connector calls without a valid bearer token
        self.bad_posts: list[str] = []  # Connector calls with a malformed activity
        self.queued_statuses: list[tuple[int, dict[str, str]]] = []  # answers to give first
        self.hang_after_taking: set[int] = set()  # indexes of posts to take, then drop the line
        self.transcripts: dict[str, Transcript] = {}
        self.listeners: list[Callable[[Post], None]] = []  # told of every accepted post
        self._ids = itertools.count(1)

    # ------------------------------------------------------------------ the server

    def app(self) -> web.Application:
        app = web.Application()
        app.router.add_get("/v1/.well-known/openidconfiguration", self.metadata)
        app.router.add_get("/v1/.well-known/keys", self.keys)
        app.router.add_post("/{tenant}/oauth2/v2.0/token", self.token)
        app.router.add_post("/teams/v3/conversations/{conversation}/activities", self.connector)
        app.router.add_post("/teams/v3/conversations/{conversation}/activities/{reply_to}", self.connector)
        app.router.add_get("/transcript/{conversation}", self.transcript_page)
        return app

    @property
    def metadata_url(self) -> str:
        return f"{self.base_url}/v1/.well-known/openidconfiguration"

    @property
    def token_url(self) -> str:
        return f"{self.base_url}/{self.tenant_id}/oauth2/v2.0/token"

    @property
    def service_url(self) -> str:
        return f"{self.base_url}/teams/"

    def env(self) -> dict[str, str]:
        """The gateway's settings pointing at this fake."""
        return {
            "TEAMS_APP_ID": self.app_id,
            "TEAMS_APP_PASSWORD": self.app_password,
            "TEAMS_TENANT_ID": self.tenant_id,
            "TEAMS_OPENID_METADATA_URL": self.metadata_url,
            "TEAMS_TOKEN_URL": self.token_url,
            "TEAMS_ALLOWED_SERVICE_URLS": self.service_url,
        }

    async def metadata(self, request: web.Request) -> web.Response:
        self.metadata_fetches += 1
        if self.metadata_down:
            return web.json_response({"error": "unavailable"}, status=503)
        return web.json_response(
            {
                "issuer": ISSUER,
                "authorization_endpoint": "https://invalid.botframework.com",
                "jwks_uri": f"{self.base_url}/v1/.well-known/keys",
                "id_token_signing_alg_values_supported": ["RS256"],
                "token_endpoint_auth_methods_supported": ["private_key_jwt"],
            }
        )

    async def keys(self, request: web.Request) -> web.Response:
        self.jwks_fetches += 1
        return web.json_response({"keys": [public_jwk(k, kid, e) for k, kid, e in self.published]})

    async def token(self, request: web.Request) -> web.Response:
        form = dict(await request.post())
        self.token_requests.append({k: str(v) for k, v in form.items()})
        if request.match_info["tenant"] != self.tenant_id:
            self.token_refusals += 1
            return web.json_response({"error": "invalid_tenant"}, status=400)
        expected = {
            "grant_type": "client_credentials",
            "client_id": self.app_id,
            "client_secret": self.app_password,
            "scope": SCOPE,
        }
        if any(form.get(k) != v for k, v in expected.items()):
            self.token_refusals += 1
            return web.json_response({"error": "invalid_client"}, status=401)
        token = f"bf-access-{uuid.uuid4().hex}"
        self.issued.append(token)
        return web.json_response(
            {"token_type": "Bearer", "expires_in": self.token_lifetime, "ext_expires_in": self.token_lifetime,
             "access_token": token}
        )

    async def connector(self, request: web.Request) -> web.Response:
        authorization = request.headers.get("Authorization", "")
        if not authorization.startswith("Bearer ") or authorization[7:] not in self.issued:
            self.refused_posts += 1
            return web.json_response({"error": {"code": "Unauthorized"}}, status=401)
        if self.queued_statuses:
            status, headers = self.queued_statuses.pop(0)
            return web.json_response({"error": {"code": "Queued"}}, status=status, headers=headers)
        conversation_id = request.match_info["conversation"]
        try:
            activity = await request.json()
        except ValueError:
            self.bad_posts.append("not JSON")
            return web.json_response({"error": {"code": "BadArgument"}}, status=400)
        problem = self._check_activity(activity, conversation_id)
        if problem:
            self.bad_posts.append(problem)
            return web.json_response({"error": {"code": "BadArgument", "message": problem}}, status=400)
        post = Post(conversation_id, request.match_info.get("reply_to"), activity, f"bot-{next(self._ids)}")
        self.posts.append(post)
        for listener in self.listeners:
            listener(post)
        self.transcript(conversation_id).lines.append((BOT_NAME, _shown_text(activity)))
        if len(self.posts) - 1 in self.hang_after_taking:
            # Taken, but the answer never reaches the bot.
            assert request.transport is not None
            request.transport.close()
        return web.json_response({"id": post.id}, status=201)

    def _check_activity(self, activity: object, conversation_id: str) -> str | None:
        if not isinstance(activity, dict):
            return "activity is not an object"
        if activity.get("type") != "message":
            return "type must be message"
        if (activity.get("from") or {}).get("id") != BOT_ID:
            return "from must be the bot"
        if (activity.get("conversation") or {}).get("id") != conversation_id:
            return "conversation.id must equal the path's"
        if not activity.get("text") and not activity.get("attachments"):
            return "empty activity"
        return None

    async def transcript_page(self, request: web.Request) -> web.Response:
        """The conversation as a person in Teams sees it (for the screenshot)."""
        from html import escape

        conversation_id = request.match_info["conversation"]
        rows = []
        for who, text in self.transcript(conversation_id).lines:
            side = "bot" if who == BOT_NAME else "me"
            rows.append(
                f'<div class="msg {side}"><div class="who">{escape(who)}</div>'
                f'<div class="text">{escape(text)}</div></div>'
            )
        page = (
            "<!doctype html><html lang='sv'><meta charset='utf-8'><title>Teams (fake)</title><style>"
            "body{font-family:sans-serif;background:#f5f5f5;margin:0}"
            "header{background:#464775;color:#fff;padding:12px 20px;font-weight:bold}"
            "main{max-width:760px;margin:16px auto}"
            ".msg{margin:10px 0;padding:10px 14px;border-radius:6px;max-width:80%;white-space:pre-wrap}"
            ".bot{background:#fff}.me{background:#e8ebfa;margin-left:auto}"
            ".who{font-size:12px;color:#616161;margin-bottom:4px}"
            "</style><header>Microsoft Teams (lokal testkopia) – chatt med Företagssupporten</header>"
            f"<main>{''.join(rows)}</main></html>"
        )
        return web.Response(text=page, content_type="text/html")

    def transcript(self, conversation_id: str) -> Transcript:
        return self.transcripts.setdefault(conversation_id, Transcript())

    # ------------------------------------------------------------------ the Bot Connector's side

    def sign(
        self,
        *,
        service_url: str | None = None,
        key: rsa.RSAPrivateKey | None = None,
        kid: str | None = None,
        algorithm: str = "RS256",
        claims: dict[str, Any] | None = None,
        drop: tuple[str, ...] = (),
    ) -> str:
        now = int(time.time())
        payload: dict[str, Any] = {
            "serviceurl": service_url or self.service_url,
            "nbf": now - 60,
            "exp": now + 3600,
            "iss": ISSUER,
            "aud": self.app_id,
        }
        payload.update(claims or {})
        for name in drop:
            payload.pop(name, None)
        headers = {"kid": kid or self.kid, "typ": "JWT"}
        return jwt.encode(payload, key or self.key, algorithm=algorithm, headers=headers)

    def message(
        self,
        text: str,
        *,
        conversation: str = "a:1teams-conversation-eva",
        user: str = "29:1eva-aad-user",
        name: str = "Eva Ek",
        activity_id: str | None = None,
        value: Any = None,
        service_url: str | None = None,
        channel_id: str = "msteams",
    ) -> dict[str, Any]:
        activity = self._base("message", conversation, user, name, activity_id, service_url, channel_id)
        activity.update({"text": text, "textFormat": "plain", "locale": "sv-SE"})
        if value is not None:
            activity["value"] = value
        return activity

    def added(self, *, conversation: str = "a:1teams-conversation-eva", user: str = "29:1eva-aad-user",
              name: str = "Eva Ek", bot: bool = True) -> dict[str, Any]:
        activity = self._base("conversationUpdate", conversation, user, name, None, None, "msteams")
        activity["membersAdded"] = [{"id": BOT_ID if bot else user}]
        return activity

    def _base(self, kind: str, conversation: str, user: str, name: str, activity_id: str | None,
              service_url: str | None, channel_id: str) -> dict[str, Any]:
        return {
            "type": kind,
            "id": activity_id or f"1{next(self._ids):012d}",
            "timestamp": dt.datetime.now(dt.timezone.utc).isoformat(),
            "serviceUrl": service_url or self.service_url,
            "channelId": channel_id,
            "from": {"id": user, "name": name, "aadObjectId": str(uuid.uuid4())},
            "conversation": {"conversationType": "personal", "tenantId": self.tenant_id, "id": conversation},
            "recipient": {"id": BOT_ID, "name": BOT_NAME},
            "channelData": {"tenant": {"id": self.tenant_id}},
        }

    async def post_activity(
        self,
        http: aiohttp.ClientSession,
        gateway_url: str,
        activity: dict[str, Any],
        token: str | None = None,
    ) -> tuple[int, Any]:
        """Send an activity to the gateway as the Bot Connector does."""
        self._record_incoming(activity)
        headers = {"Authorization": f"Bearer {token if token is not None else self.sign()}"}
        async with http.post(f"{gateway_url}/webhooks/teams/messages", json=activity, headers=headers) as response:
            body = await response.text()
            try:
                return response.status, json.loads(body) if body else None
            except ValueError:
                return response.status, body

    def post_activity_sync(self, gateway_url: str, activity: dict[str, Any]) -> int:
        """The same from synchronous code (the browser tests); returns the status."""
        import urllib.error
        import urllib.request

        self._record_incoming(activity)
        request = urllib.request.Request(
            f"{gateway_url}/webhooks/teams/messages",
            data=json.dumps(activity).encode(),
            headers={"Authorization": f"Bearer {self.sign()}", "Content-Type": "application/json"},
            method="POST",
        )
        try:
            with urllib.request.urlopen(request, timeout=30) as response:
                return int(response.status)
        except urllib.error.HTTPError as exc:
            return int(exc.code)

    def _record_incoming(self, activity: dict[str, Any]) -> None:
        if activity.get("type") == "message" and activity.get("text"):
            who = str((activity.get("from") or {}).get("name") or "?")
            self.transcript(activity["conversation"]["id"]).lines.append((who, str(activity["text"])))

    def posts_to(self, conversation_id: str) -> list[Post]:
        return [p for p in self.posts if p.conversation_id == conversation_id]

    def texts_to(self, conversation_id: str) -> list[str]:
        return [p.text for p in self.posts_to(conversation_id)]


def _shown_text(activity: dict[str, Any]) -> str:
    text = str(activity.get("text") or "")
    titles = [
        button.get("title", "")
        for attachment in activity.get("attachments") or []
        if attachment.get("contentType") == "application/vnd.microsoft.card.hero"
        for button in attachment["content"].get("buttons") or []
    ]
    if titles:
        text += "\n" + "  ".join(f"[{t}]" for t in titles)
    return text
