"""Console login: argon2 passwords, HttpOnly SameSite=Strict cookies, CSRF everywhere."""

from __future__ import annotations

from collections.abc import Callable

import aiohttp
import pytest
from aiohttp.test_utils import TestClient

from bot import texts
from bot.accounts import auth
from tests.gateway.conftest import FOREIGN_ORIGIN, AdvisorAccount, Console, origin_of


async def test_a_visitor_gets_a_csrf_token_and_an_httponly_strict_cookie(
    gateway: TestClient,
) -> None:
    response = await gateway.get("/console/api/session")
    body = await response.json()
    cookie = response.headers["Set-Cookie"]

    assert body == {"authenticated": False, "csrf_token": body["csrf_token"]}
    assert len(body["csrf_token"]) >= 40
    assert cookie.startswith("fs_console=")
    assert "HttpOnly" in cookie
    assert "SameSite=Strict" in cookie
    assert "Path=/" in cookie


async def test_an_advisor_logs_in_and_gets_a_new_session_and_token(
    console: Callable[..., Console], advisor: AdvisorAccount
) -> None:
    anna = console()
    before = await anna.fetch_csrf()
    body = await anna.login(advisor)

    assert body["authenticated"] is True
    assert body["advisor"] == {"id": advisor.id, "name": "Anna Berg", "email": advisor.email}
    assert body["csrf_token"] != before
    assert {"code": "resolved", "label": "Löst"} in body["outcomes"]
    status, session = await anna.get("/console/api/session")
    assert status == 200 and session["authenticated"] is True


async def test_the_password_is_stored_as_an_argon2_hash(
    advisor: AdvisorAccount, db_url: str
) -> None:
    from sqlalchemy import select

    from bot.conversation.models import Advisor
    from core.db import make_engine, make_sessionmaker

    engine = make_engine(db_url)
    with make_sessionmaker(engine)() as session:
        stored = session.scalar(select(Advisor.password_hash).where(Advisor.id == advisor.id))
    engine.dispose()
    assert stored is not None and stored.startswith("$argon2id$")
    assert advisor.password not in stored
    assert auth.verify_password(stored, advisor.password)
    assert not auth.verify_password(stored, "fel lösenord")


async def test_a_wrong_password_is_refused_in_swedish(
    console: Callable[..., Console], advisor: AdvisorAccount
) -> None:
    anna = console()
    await anna.fetch_csrf()
    status, body = await anna.post(
        "/console/api/login", {"email": advisor.email, "password": "fel lösenord"}
    )
    assert status == 401
    assert body == {
        "error": {"code": "invalid_credentials", "message": "Fel e-postadress eller lösenord."}
    }
    unknown = await anna.post("/console/api/login", {"email": "ingen@x.se", "password": "x" * 12})
    assert unknown[0] == 401 and unknown[1] == body


async def test_login_without_the_csrf_token_is_refused(
    console: Callable[..., Console], advisor: AdvisorAccount
) -> None:
    anna = console()
    await anna.fetch_csrf()
    anna.csrf = "forged"
    status, body = await anna.post(
        "/console/api/login", {"email": advisor.email, "password": advisor.password}
    )
    assert status == 403
    assert body["error"] == {"code": "csrf_failed", "message": texts.CSRF_FAILED}


async def test_every_console_post_needs_the_csrf_token(
    console: Callable[..., Console], advisor: AdvisorAccount
) -> None:
    anna = console()
    await anna.login(advisor)
    headers = {"Origin": anna.origin}
    async with anna.session.post(
        f"{anna.base}/console/api/conversations/x/claim", json={}, headers=headers
    ) as response:
        assert response.status == 403
        assert (await response.json())["error"]["code"] == "csrf_failed"


async def test_a_post_from_another_website_is_refused_even_with_a_token(
    console: Callable[..., Console], advisor: AdvisorAccount
) -> None:
    anna = console()
    await anna.login(advisor)
    anna.origin = FOREIGN_ORIGIN
    status, body = await anna.post("/console/api/logout")
    assert status == 403 and body["error"]["code"] == "forbidden_origin"


async def test_the_api_needs_a_login(gateway: TestClient) -> None:
    for path in ("/console/api/queue", "/console/api/tickets", "/console/api/conversations/x"):
        response = await gateway.get(path)
        assert response.status == 401
        assert await response.json() == {
            "error": {"code": "not_authenticated", "message": "Du måste logga in."}
        }


async def test_logging_out_ends_the_session(
    console: Callable[..., Console], advisor: AdvisorAccount
) -> None:
    anna = console()
    await anna.login(advisor)
    status, body = await anna.post("/console/api/logout")
    assert status == 200 and body["authenticated"] is False
    assert (await anna.get("/console/api/queue"))[0] == 401


async def test_a_stolen_cookie_of_an_expired_session_is_useless(
    console: Callable[..., Console], advisor: AdvisorAccount, clock: object
) -> None:
    anna = console()
    await anna.login(advisor)
    clock.advance(13 * 3600)  # type: ignore[attr-defined]
    assert (await anna.get("/console/api/queue"))[0] == 401


async def test_repeated_login_attempts_are_slowed_down(
    console: Callable[..., Console], advisor: AdvisorAccount
) -> None:
    anna = console()
    await anna.fetch_csrf()
    statuses = [
        (await anna.post("/console/api/login", {"email": advisor.email, "password": "nej"}))[0]
        for _ in range(6)
    ]
    # Five wrong passwords for one account from one address, then a wait (not a lockout:
    # the same account from elsewhere, and colleagues here, are not slowed; see
    # tests/gateway/test_hardening_limits.py).
    assert statuses[:5] == [401] * 5
    assert statuses[5] == 429


async def test_the_console_socket_needs_origin_login_and_csrf(
    gateway: TestClient,
    console: Callable[..., Console],
    advisor: AdvisorAccount,
    sessions: Callable[[], aiohttp.ClientSession],
) -> None:
    base = str(gateway.make_url("")).rstrip("/")
    stranger = sessions()
    with pytest.raises(aiohttp.WSServerHandshakeError) as no_login:
        await stranger.ws_connect(
            f"{base}/console/ws?csrf=x", headers={"Origin": origin_of(gateway)}
        )
    assert no_login.value.status == 401

    anna = console()
    await anna.login(advisor)
    with pytest.raises(aiohttp.WSServerHandshakeError) as no_csrf:
        await anna.session.ws_connect(
            f"{base}/console/ws?csrf=wrong", headers={"Origin": anna.origin}
        )
    assert no_csrf.value.status == 403
    with pytest.raises(aiohttp.WSServerHandshakeError) as foreign:
        await anna.session.ws_connect(
            f"{base}/console/ws?csrf={anna.csrf}", headers={"Origin": FOREIGN_ORIGIN}
        )
    assert foreign.value.status == 403

    live = await anna.open_socket()
    hello = await live.wait_type("hello")
    assert hello["advisor"] == {"id": advisor.id, "name": "Anna Berg"}
    await live.ws.send_json({"type": "ping"})
    await live.wait_type("pong")
