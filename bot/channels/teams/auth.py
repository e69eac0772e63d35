"""Is this request really from the Bot Connector? (Bot Framework REST API authentication,
"Authenticate requests from the Bot Connector service to your bot".)

Every request to the messaging endpoint carries `Authorization: Bearer <JWT>`. It is
accepted only if all of these hold, checked before anything is stored:

1. the header uses the Bearer scheme;
2. the token's header says RS256 (checked before decoding: no `none`, no HS*, so a token
   "signed" with the public key as an HMAC secret is refused outright);
3. it is signed by a key of Bot Framework's OpenID metadata (`jwks_uri`), and the metadata
   lists RS256 among `id_token_signing_alg_values_supported`;
4. issuer `https://api.botframework.com`, audience the bot's app id (`TEAMS_APP_ID`),
   `exp` and `nbf` present and valid with five minutes' leeway;
5. its `serviceurl` claim equals the activity's `serviceUrl`, and the signing key's
   `endorsements` include the activity's `channelId`;
6. (our own rule) the serviceUrl lies under `TEAMS_ALLOWED_SERVICE_URLS`, because the
   replies carry the bot's token there.

Signature and claims are checked by PyJWT (with `cryptography` for RSA). The metadata and
keys are fetched with the gateway's aiohttp session, never a blocking call on the event
loop (PyJWT's own PyJWKClient uses urllib synchronously, so it is not used), and cached:
for a day, and refetched at most once a minute when a token names a key we do not know
(Bot Framework rotates keys; a stream of forged tokens with random key ids must not turn
into a stream of requests to Microsoft).
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

import aiohttp
import jwt
from jwt.algorithms import RSAAlgorithm

from bot.channels.teams.service_urls import is_allowed

log = logging.getLogger(__name__)

ISSUER = "https://api.botframework.com"
ALGORITHM = "RS256"
LEEWAY_SECONDS = 300
SERVICE_URL_CLAIM = "serviceurl"
KEYS_MAX_AGE_SECONDS = 24 * 3600.0
REFETCH_INTERVAL_SECONDS = 60.0
FETCH_TIMEOUT_SECONDS = 10.0
MAX_DOCUMENT_BYTES = 512 * 1024
MAX_TOKEN_CHARS = 16 * 1024


class Unauthorized(Exception):
    """The request is not proven to come from the Bot Connector (→ 401)."""


class KeysUnavailable(Exception):
    """The signing keys could not be fetched and none are cached: nothing can be verified."""


@dataclass(frozen=True)
class SigningKey:
    kid: str
    public_key: Any  # cryptography's RSAPublicKey
    endorsements: frozenset[str]


@dataclass(frozen=True)
class Identity:
    """A verified token: its claims and what its signing key is endorsed for."""

    claims: dict[str, Any]
    endorsements: frozenset[str]


class ConnectorKeys:
    """Bot Framework's signing keys: OpenID metadata → `jwks_uri` → the keys, cached."""

    def __init__(
        self,
        http: aiohttp.ClientSession,
        metadata_url: str,
        *,
        max_age: float = KEYS_MAX_AGE_SECONDS,
        refetch_interval: float = REFETCH_INTERVAL_SECONDS,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.http = http
        self.metadata_url = metadata_url
        self.max_age = max_age
        self.refetch_interval = refetch_interval
        self.clock = clock
        self._keys: dict[str, SigningKey] = {}
        self._fetched_at: float | None = None  # last successful fetch
        self._tried_at: float | None = None  # last attempt, successful or not
        self._generation = 0
        self._lock = asyncio.Lock()

    async def get(self, kid: str) -> SigningKey:
        """The key with this id; Unauthorized if Bot Framework does not list it."""
        stale = self._fetched_at is None or self.clock() - self._fetched_at > self.max_age
        if not self._keys or (stale and self._may_try()):
            await self._refresh(self._generation, stale_ok=True)
        key = self._keys.get(kid)
        if key is None and self._may_try():
            # Perhaps Bot Framework rotated its keys since we fetched them: look once more.
            await self._refresh(self._generation, stale_ok=True)
            key = self._keys.get(kid)
        if key is None:
            raise Unauthorized("the token is signed with a key Bot Framework does not list")
        return key

    def _may_try(self) -> bool:
        """At most one fetch a minute beyond the first (while Microsoft is down, too)."""
        return self._tried_at is None or self.clock() - self._tried_at >= self.refetch_interval

    async def _refresh(self, seen_generation: int, *, stale_ok: bool) -> None:
        async with self._lock:
            if self._generation != seen_generation:
                return  # another request refreshed while this one waited
            self._tried_at = self.clock()
            try:
                keys = await self._fetch()
            except KeysUnavailable:
                if stale_ok and self._keys:
                    log.warning("teams: could not refresh Bot Framework's keys; using the cached ones")
                    return
                raise
            self._keys = keys
            self._fetched_at = self.clock()
            self._generation += 1

    async def _fetch(self) -> dict[str, SigningKey]:
        metadata = await self._get_json(self.metadata_url)
        algorithms = metadata.get("id_token_signing_alg_values_supported")
        if not isinstance(algorithms, list) or ALGORITHM not in algorithms:
            raise KeysUnavailable("the OpenID metadata does not list RS256")
        jwks_uri = metadata.get("jwks_uri")
        if not isinstance(jwks_uri, str) or not jwks_uri.startswith(("https://", "http://")):
            raise KeysUnavailable("the OpenID metadata has no jwks_uri")
        document = await self._get_json(jwks_uri)
        keys = document.get("keys")
        if not isinstance(keys, list):
            raise KeysUnavailable("the key document has no keys")
        return signing_keys(keys)

    async def _get_json(self, url: str) -> dict[str, Any]:
        try:
            async with self.http.get(url, timeout=aiohttp.ClientTimeout(total=FETCH_TIMEOUT_SECONDS)) as response:
                if response.status != 200:
                    raise KeysUnavailable(f"GET {url}: HTTP {response.status}")
                body = await response.content.read(MAX_DOCUMENT_BYTES + 1)
        except (aiohttp.ClientError, asyncio.TimeoutError) as exc:
            raise KeysUnavailable(f"GET {url}: {exc!r}") from exc
        if len(body) > MAX_DOCUMENT_BYTES:
            raise KeysUnavailable(f"GET {url}: document too large")
        try:
            data = json.loads(body)
        except ValueError as exc:
            raise KeysUnavailable(f"GET {url}: not JSON") from exc
        if not isinstance(data, dict):
            raise KeysUnavailable(f"GET {url}: not a JSON object")
        return data


def signing_keys(jwks: Iterable[object]) -> dict[str, SigningKey]:
    """The usable RSA signature keys of a JWKS, by key id (others are skipped)."""
    keys: dict[str, SigningKey] = {}
    for jwk in jwks:
        if not isinstance(jwk, dict) or jwk.get("kty") != "RSA" or jwk.get("use", "sig") != "sig":
            continue
        kid = jwk.get("kid")
        if not isinstance(kid, str) or not kid or "d" in jwk:  # never a private key
            continue
        try:
            public_key = RSAAlgorithm.from_jwk(jwk)
        except (jwt.PyJWTError, ValueError, KeyError, TypeError):
            log.warning("teams: skipped an unreadable signing key %r", kid)
            continue
        endorsements = jwk.get("endorsements")
        listed = endorsements if isinstance(endorsements, list) else []
        endorsed = frozenset(e for e in listed if isinstance(e, str))
        keys[kid] = SigningKey(kid, public_key, endorsed)
    return keys


def bearer_token(authorization: str | None) -> str:
    if not authorization:
        raise Unauthorized("no Authorization header")
    scheme, _, token = authorization.strip().partition(" ")
    token = token.strip()
    if scheme.lower() != "bearer" or not token or len(token) > MAX_TOKEN_CHARS or " " in token:
        raise Unauthorized("the Authorization header is not a Bearer token")
    return token


async def authenticate(authorization: str | None, keys: ConnectorKeys, app_id: str) -> Identity:
    """Requirements 1-4: a Bot Connector token for this bot, within its validity."""
    token = bearer_token(authorization)
    try:
        header = jwt.get_unverified_header(token)
    except jwt.PyJWTError as exc:
        raise Unauthorized(f"not a JWT: {exc}") from exc
    if header.get("alg") != ALGORITHM:
        raise Unauthorized(f"algorithm {header.get('alg')!r} is not accepted")
    kid = header.get("kid")
    if not isinstance(kid, str) or not kid:
        raise Unauthorized("the token names no signing key")
    key = await keys.get(kid)
    try:
        claims = jwt.decode(
            token,
            key.public_key,
            algorithms=[ALGORITHM],
            audience=app_id,
            issuer=ISSUER,
            leeway=LEEWAY_SECONDS,
            options={"require": ["exp", "nbf", "iss", "aud"], "verify_signature": True},
        )
    except jwt.PyJWTError as exc:
        raise Unauthorized(f"token rejected: {exc}") from exc
    return Identity(claims, key.endorsements)


def check_activity(
    identity: Identity, service_url: str, channel_id: str, allowed_service_urls: Iterable[str]
) -> None:
    """Requirements 5-6: the token vouches for this activity's serviceUrl and channel, and
    the serviceUrl is one the bot may send its token to."""
    if identity.claims.get(SERVICE_URL_CLAIM) != service_url:
        raise Unauthorized("the token's serviceurl claim does not match the activity's serviceUrl")
    if channel_id not in identity.endorsements:
        raise Unauthorized(f"the signing key is not endorsed for channel {channel_id!r}")
    if not is_allowed(service_url, allowed_service_urls):
        raise Unauthorized(f"serviceUrl {service_url!r} is not in TEAMS_ALLOWED_SERVICE_URLS")
