"""The two caches in front of Microsoft: Bot Framework's signing keys (fetched with
aiohttp, kept for a day, refetched once when a token names an unknown key) and the bot's
client-credentials token (kept until shortly before it expires)."""

from __future__ import annotations

import asyncio

import aiohttp
import pytest

from bench.fake_botframework import FakeBotFramework, new_rsa_key, public_jwk
from bot.channels.teams.auth import ConnectorKeys, KeysUnavailable, Unauthorized, authenticate, signing_keys
from bot.channels.teams.oauth import SCOPE, BotToken, TokenUnavailable


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def keys_for(bf: FakeBotFramework, http: aiohttp.ClientSession, clock: Clock) -> ConnectorKeys:
    return ConnectorKeys(http, bf.metadata_url, max_age=3600, refetch_interval=60, clock=clock)


# ------------------------------------------------------------------ signing keys


async def test_keys_are_fetched_once_and_reused(bf: FakeBotFramework, http: aiohttp.ClientSession) -> None:
    keys = keys_for(bf, http, Clock())
    for _ in range(5):
        identity = await authenticate("Bearer " + bf.sign(), keys, bf.app_id)
    assert identity.claims["serviceurl"] == bf.service_url
    assert identity.endorsements == {"msteams", "webchat"}
    assert (bf.metadata_fetches, bf.jwks_fetches) == (1, 1)


async def test_keys_are_fetched_again_when_the_cache_is_a_day_old(
    bf: FakeBotFramework, http: aiohttp.ClientSession
) -> None:
    clock = Clock()
    keys = keys_for(bf, http, clock)
    await authenticate("Bearer " + bf.sign(), keys, bf.app_id)
    clock.now += 3601
    await authenticate("Bearer " + bf.sign(), keys, bf.app_id)
    assert bf.jwks_fetches == 2


async def test_an_unknown_kid_triggers_one_refetch_which_finds_a_rotated_key(
    bf: FakeBotFramework, http: aiohttp.ClientSession
) -> None:
    clock = Clock()
    keys = keys_for(bf, http, clock)
    await authenticate("Bearer " + bf.sign(), keys, bf.app_id)
    # Bot Framework rotates: a new key is published after we fetched the list.
    rotated = new_rsa_key()
    bf.published.append((rotated, "bf-key-2", ["msteams"]))
    clock.now += 120
    identity = await authenticate("Bearer " + bf.sign(key=rotated, kid="bf-key-2"), keys, bf.app_id)
    assert identity.endorsements == {"msteams"}
    assert bf.jwks_fetches == 2


async def test_unknown_kids_refetch_at_most_once_a_minute(
    bf: FakeBotFramework, http: aiohttp.ClientSession
) -> None:
    clock = Clock()
    keys = keys_for(bf, http, clock)
    await authenticate("Bearer " + bf.sign(), keys, bf.app_id)
    clock.now += 120
    stranger = new_rsa_key()
    with pytest.raises(Unauthorized):
        await authenticate("Bearer " + bf.sign(key=stranger, kid="random-1"), keys, bf.app_id)
    assert bf.jwks_fetches == 2  # looked once more
    for n in range(5):
        with pytest.raises(Unauthorized):
            await authenticate("Bearer " + bf.sign(key=stranger, kid=f"random-{n + 2}"), keys, bf.app_id)
    assert bf.jwks_fetches == 2  # a flood of forged kids does not become a flood of fetches
    clock.now += 61
    with pytest.raises(Unauthorized):
        await authenticate("Bearer " + bf.sign(key=stranger, kid="random-9"), keys, bf.app_id)
    assert bf.jwks_fetches == 3


async def test_concurrent_requests_share_one_fetch(bf: FakeBotFramework, http: aiohttp.ClientSession) -> None:
    keys = keys_for(bf, http, Clock())
    await asyncio.gather(*(authenticate("Bearer " + bf.sign(), keys, bf.app_id) for _ in range(10)))
    assert (bf.metadata_fetches, bf.jwks_fetches) == (1, 1)


async def test_cached_keys_are_kept_when_a_refresh_fails_and_retried_once_a_minute(
    bf: FakeBotFramework, http: aiohttp.ClientSession
) -> None:
    clock = Clock()
    keys = keys_for(bf, http, clock)
    await authenticate("Bearer " + bf.sign(), keys, bf.app_id)
    bf.metadata_down = True
    clock.now += 3601
    for _ in range(5):
        await authenticate("Bearer " + bf.sign(), keys, bf.app_id)  # still verified with the cached key
    assert bf.metadata_fetches == 2  # one failed attempt, not one per request
    clock.now += 61
    bf.metadata_down = False
    await authenticate("Bearer " + bf.sign(), keys, bf.app_id)
    assert (bf.metadata_fetches, bf.jwks_fetches) == (3, 2)


async def test_without_keys_nothing_can_be_verified(bf: FakeBotFramework, http: aiohttp.ClientSession) -> None:
    keys = ConnectorKeys(http, f"{bf.base_url}/gone")
    with pytest.raises(KeysUnavailable):
        await authenticate("Bearer " + bf.sign(), keys, bf.app_id)


async def test_metadata_that_does_not_offer_rs256_is_not_trusted(
    bf: FakeBotFramework, http: aiohttp.ClientSession
) -> None:
    from aiohttp import web

    async def metadata(request: web.Request) -> web.Response:
        return web.json_response({"jwks_uri": f"{bf.base_url}/v1/.well-known/keys",
                                  "id_token_signing_alg_values_supported": ["HS256"]})

    app = web.Application()
    app.router.add_get("/", metadata)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    try:
        keys = ConnectorKeys(http, f"http://127.0.0.1:{port}/")
        with pytest.raises(KeysUnavailable):
            await authenticate("Bearer " + bf.sign(), keys, bf.app_id)
    finally:
        await runner.cleanup()


def test_private_and_non_rsa_keys_in_a_jwks_are_skipped() -> None:
    key = new_rsa_key()
    private = public_jwk(key, "with-private-part", ["msteams"]) | {"d": "AQAB"}
    symmetric = {"kty": "oct", "kid": "hmac", "k": "c2VjcmV0"}
    encryption = public_jwk(key, "for-encryption", ["msteams"]) | {"use": "enc"}
    good = public_jwk(key, "good", ["msteams"])
    assert set(signing_keys([private, symmetric, encryption, good, "junk"])) == {"good"}


# ------------------------------------------------------------------ the bot's token


def token_for(bf: FakeBotFramework, http: aiohttp.ClientSession, clock: Clock, secret: str | None = None) -> BotToken:
    return BotToken(http, bf.token_url, bf.app_id, secret or bf.app_password, clock=clock)


async def test_the_token_request_is_client_credentials_for_the_bot_framework_scope(
    bf: FakeBotFramework, http: aiohttp.ClientSession
) -> None:
    token = await token_for(bf, http, Clock()).get()
    assert token in bf.issued
    assert bf.token_requests == [{"grant_type": "client_credentials", "client_id": bf.app_id,
                                  "client_secret": bf.app_password, "scope": SCOPE}]


async def test_the_token_is_cached_until_five_minutes_before_it_expires(
    bf: FakeBotFramework, http: aiohttp.ClientSession
) -> None:
    clock = Clock()
    tokens = token_for(bf, http, clock)
    first = await tokens.get()
    clock.now += 3600 - 301
    assert await tokens.get() == first
    assert len(bf.token_requests) == 1
    clock.now += 2
    second = await tokens.get()
    assert second != first
    assert len(bf.token_requests) == 2


async def test_a_short_lived_token_is_renewed_at_half_its_life(
    bf: FakeBotFramework, http: aiohttp.ClientSession
) -> None:
    bf.token_lifetime = 120
    clock = Clock()
    tokens = token_for(bf, http, clock)
    first = await tokens.get()
    clock.now += 59
    assert await tokens.get() == first
    clock.now += 2
    assert await tokens.get() != first


async def test_concurrent_deliveries_share_one_token_request(
    bf: FakeBotFramework, http: aiohttp.ClientSession
) -> None:
    tokens = token_for(bf, http, Clock())
    got = await asyncio.gather(*(tokens.get() for _ in range(8)))
    assert len(set(got)) == 1
    assert len(bf.token_requests) == 1


async def test_a_refused_token_is_forgotten(bf: FakeBotFramework, http: aiohttp.ClientSession) -> None:
    tokens = token_for(bf, http, Clock())
    first = await tokens.get()
    tokens.forget("some-other-token")
    assert await tokens.get() == first
    tokens.forget(first)
    assert await tokens.get() != first


async def test_wrong_credentials_give_no_token(bf: FakeBotFramework, http: aiohttp.ClientSession) -> None:
    with pytest.raises(TokenUnavailable) as refused:
        await token_for(bf, http, Clock(), secret="wrong").get()
    assert "wrong" not in str(refused.value)  # the secret never ends up in a log line
    assert bf.token_refusals == 1
