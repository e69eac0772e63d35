"""Only the Bot Connector gets in (Bot Framework's "Authenticate requests from the Bot
Connector service to your bot"): every failed check answers 401 and stores nothing, and
the bot's token is never sent to a serviceUrl outside the allow-list."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import json
import time
from typing import Any

import aiohttp
import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer
from cryptography.hazmat.primitives import serialization

from bench.fake_botframework import FakeBotFramework, new_rsa_key
from tests.channels.teams.conftest import gateway_url, stored


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def claims(bf: FakeBotFramework, **changes: Any) -> dict[str, Any]:
    now = int(time.time())
    values = {"serviceurl": bf.service_url, "nbf": now - 60, "exp": now + 3600,
              "iss": "https://api.botframework.com", "aud": bf.app_id}
    values.update(changes)
    return values


async def refused(teams: TestClient, bf: FakeBotFramework, http: aiohttp.ClientSession,
                  token: str | None, activity: dict[str, Any] | None = None) -> None:
    """The request is answered 401 and leaves nothing behind."""
    activity = activity or bf.message("vi behöver ett lån")
    headers = {} if token is None else {"Authorization": token}
    async with http.post(f"{gateway_url(teams)}/webhooks/teams/messages", json=activity, headers=headers) as r:
        status, body = r.status, await r.json()
    assert status == 401, body
    assert body["error"]["code"] == "unauthorized"
    assert await stored(teams) == (0, 0)


async def test_a_genuine_activity_is_accepted_and_stored(
    teams: TestClient, bf: FakeBotFramework, http: aiohttp.ClientSession
) -> None:
    status, _ = await bf.post_activity(http, gateway_url(teams), bf.message("hej"))
    assert status == 200
    assert await stored(teams) == (1, 1)


async def test_no_authorization_header(teams: TestClient, bf: FakeBotFramework, http: aiohttp.ClientSession) -> None:
    await refused(teams, bf, http, None)


async def test_not_a_bearer_token(teams: TestClient, bf: FakeBotFramework, http: aiohttp.ClientSession) -> None:
    await refused(teams, bf, http, f"Basic {bf.sign()}")


async def test_wrong_audience(teams: TestClient, bf: FakeBotFramework, http: aiohttp.ClientSession) -> None:
    await refused(teams, bf, http, "Bearer " + bf.sign(claims={"aud": "another-bots-app-id"}))


async def test_wrong_issuer(teams: TestClient, bf: FakeBotFramework, http: aiohttp.ClientSession) -> None:
    await refused(teams, bf, http, "Bearer " + bf.sign(claims={"iss": "https://sts.windows.net/evil/"}))


async def test_expired_past_the_five_minutes_leeway(
    teams: TestClient, bf: FakeBotFramework, http: aiohttp.ClientSession
) -> None:
    now = int(time.time())
    await refused(teams, bf, http, "Bearer " + bf.sign(claims={"exp": now - 330, "nbf": now - 3600}))


async def test_expired_within_the_leeway_is_still_accepted(
    teams: TestClient, bf: FakeBotFramework, http: aiohttp.ClientSession
) -> None:
    now = int(time.time())
    token = bf.sign(claims={"exp": now - 200, "nbf": now - 3600})
    status, _ = await bf.post_activity(http, gateway_url(teams), bf.message("hej"), token)
    assert status == 200


async def test_not_yet_valid_past_the_leeway(
    teams: TestClient, bf: FakeBotFramework, http: aiohttp.ClientSession
) -> None:
    now = int(time.time())
    await refused(teams, bf, http, "Bearer " + bf.sign(claims={"nbf": now + 400, "exp": now + 4000}))


@pytest.mark.parametrize("claim", ["exp", "nbf", "iss", "aud"])
async def test_a_required_claim_missing(
    teams: TestClient, bf: FakeBotFramework, http: aiohttp.ClientSession, claim: str
) -> None:
    await refused(teams, bf, http, "Bearer " + bf.sign(drop=(claim,)))


async def test_alg_none(teams: TestClient, bf: FakeBotFramework, http: aiohttp.ClientSession) -> None:
    header = {"alg": "none", "typ": "JWT", "kid": bf.kid}
    token = f"{b64(json.dumps(header).encode())}.{b64(json.dumps(claims(bf)).encode())}."
    await refused(teams, bf, http, "Bearer " + token)


async def test_hs256_signed_with_the_public_key(
    teams: TestClient, bf: FakeBotFramework, http: aiohttp.ClientSession
) -> None:
    """The classic key-confusion attack: the public key (which anyone can fetch) used as
    an HMAC secret."""
    public_pem = bf.key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    header = {"alg": "HS256", "typ": "JWT", "kid": bf.kid}
    signing_input = f"{b64(json.dumps(header).encode())}.{b64(json.dumps(claims(bf)).encode())}"
    signature = hmac.new(public_pem, signing_input.encode(), hashlib.sha256).digest()
    await refused(teams, bf, http, f"Bearer {signing_input}.{b64(signature)}")


async def test_unknown_kid(teams: TestClient, bf: FakeBotFramework, http: aiohttp.ClientSession) -> None:
    await refused(teams, bf, http, "Bearer " + bf.sign(key=new_rsa_key(), kid="not-a-bot-framework-key"))


async def test_a_known_kid_but_signed_by_another_key(
    teams: TestClient, bf: FakeBotFramework, http: aiohttp.ClientSession
) -> None:
    await refused(teams, bf, http, "Bearer " + bf.sign(key=new_rsa_key()))


async def test_a_tampered_payload(teams: TestClient, bf: FakeBotFramework, http: aiohttp.ClientSession) -> None:
    header, _payload, signature = bf.sign().split(".")
    forged = b64(json.dumps(claims(bf, aud=bf.app_id, extra="x")).encode())
    await refused(teams, bf, http, f"Bearer {header}.{forged}.{signature}")


async def test_serviceurl_claim_differs_from_the_activity(
    teams: TestClient, bf: FakeBotFramework, http: aiohttp.ClientSession
) -> None:
    token = bf.sign(service_url=f"{bf.base_url}/teams/other-region/")
    await refused(teams, bf, http, "Bearer " + token)


async def test_the_signing_key_is_not_endorsed_for_the_channel(
    teams: TestClient, bf: FakeBotFramework, http: aiohttp.ClientSession
) -> None:
    bf.published = [(bf.key, bf.kid, ["webchat", "directline"])]
    await refused(teams, bf, http, "Bearer " + bf.sign())


async def test_a_forged_service_url_outside_the_allow_list_never_receives_the_token(
    teams: TestClient, bf: FakeBotFramework, http: aiohttp.ClientSession,
    aiohttp_server: Any,
) -> None:
    """Even with a token that names it, an address outside TEAMS_ALLOWED_SERVICE_URLS is
    refused before anything is stored, so no reply (and no token) ever goes there."""
    seen: list[str] = []

    async def record(request: web.Request) -> web.Response:
        seen.append(f"{request.method} {request.path} {request.headers.get('Authorization')}")
        return web.json_response({"id": "stolen"})

    evil = web.Application()
    evil.router.add_route("*", "/{tail:.*}", record)
    evil_server: TestServer = await aiohttp_server(evil)
    forged = str(evil_server.make_url("/")).rstrip("/") + "/teams/"
    token = "Bearer " + bf.sign(service_url=forged)
    await refused(teams, bf, http, token, bf.message("vi behöver ett lån", service_url=forged))
    # Look-alikes on the allowed host are refused too.
    for lookalike in (f"{bf.base_url}/evil/", f"{bf.base_url}/teams/../evil/",
                      bf.service_url.replace("http://", "http://user@")):
        await refused(teams, bf, http, "Bearer " + bf.sign(service_url=lookalike),
                      bf.message("hej", service_url=lookalike))
    await asyncio.sleep(0.3)  # several outbox polls: any delivery would have been tried by now
    assert seen == []
    assert bf.token_requests == []
    assert bf.posts == []


async def test_keys_that_cannot_be_fetched_answer_503_and_store_nothing(
    make_gateway: Any, bf: FakeBotFramework, http: aiohttp.ClientSession
) -> None:
    env = {**bf.env(), "TEAMS_OPENID_METADATA_URL": f"{bf.base_url}/no-such-metadata"}
    teams = await make_gateway(**env)
    status, body = await bf.post_activity(http, gateway_url(teams), bf.message("hej"))
    assert status == 503
    assert body["error"]["code"] == "keys_unavailable"
    assert await stored(teams) == (0, 0)


async def test_the_channel_is_off_without_an_app_id(
    make_gateway: Any, bf: FakeBotFramework, http: aiohttp.ClientSession
) -> None:
    gateway = await make_gateway()
    status, _ = await bf.post_activity(http, gateway_url(gateway), bf.message("hej"))
    assert status == 404
