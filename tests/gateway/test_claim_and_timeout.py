"""Claiming races and vanished advisors, on SQLite and (when configured) PostgreSQL."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

import pytest
from aiohttp.test_utils import TestClient

from bot import texts
from bot.conversation.context import AdvisorRef
from bot.web.keys import websockets_key
from tests.gateway.conftest import (
    AdvisorAccount,
    Console,
    FakeClock,
    Widget,
    core_of,
    eventually,
    queued_conversation,
)


@pytest.fixture
def db_url(any_db_url: str) -> str:
    """Every test here runs on each configured database."""
    return any_db_url


async def test_two_advisors_claiming_at_the_same_moment_exactly_one_wins(
    widget: Callable[..., Widget],
    console: Callable[..., Console],
    advisor: AdvisorAccount,
    make_advisor: Callable[[str, str], AdvisorAccount],
) -> None:
    conversation_id = await queued_conversation(widget())
    anna, bo = console(), console()
    await anna.login(advisor)
    await bo.login(make_advisor("bo.ek@foretagssupport.se", "Bo Ek"))

    results = await asyncio.gather(anna.claim(conversation_id), bo.claim(conversation_id))

    statuses = sorted(status for status, _ in results)
    assert statuses == [200, 409]
    winner = next(body for status, body in results if status == 200)
    loser = next(body for status, body in results if status == 409)
    name = winner["conversation"]["advisor"]["name"]
    assert loser["error"] == {
        "code": "already_claimed",
        "message": f"Chatten har redan tagits av {name}.",
    }


async def test_many_simultaneous_claims_in_the_service_give_one_owner(
    widget: Callable[..., Widget],
    gateway: TestClient,
    make_advisor: Callable[[str, str], AdvisorAccount],
) -> None:
    conversation_id = await queued_conversation(widget())
    accounts = [make_advisor(f"r{n}@foretagssupport.se", f"Rådgivare {n}") for n in range(6)]
    core = core_of(gateway)

    async def attempt(account: AdvisorAccount) -> str:
        try:
            await core.ownership.claim(
                conversation_id, AdvisorRef(account.id, account.name, account.email)
            )
        except Exception as exc:
            return type(exc).__name__
        return "won"

    outcomes = await asyncio.gather(*(attempt(a) for a in accounts))
    assert sorted(outcomes) == ["AlreadyClaimed"] * 5 + ["won"]


async def test_claiming_a_chat_someone_already_has_names_them(
    widget: Callable[..., Widget],
    console: Callable[..., Console],
    advisor: AdvisorAccount,
    make_advisor: Callable[[str, str], AdvisorAccount],
) -> None:
    conversation_id = await queued_conversation(widget())
    anna, bo = console(), console()
    await anna.login(advisor)
    await bo.login(make_advisor("bo.ek@foretagssupport.se", "Bo Ek"))
    assert (await anna.claim(conversation_id))[0] == 200
    assert (await anna.claim(conversation_id))[0] == 200  # a double click is harmless
    status, body = await bo.claim(conversation_id)
    assert status == 409
    assert body["error"]["message"] == "Chatten har redan tagits av Anna Berg."


async def test_an_advisor_who_disconnects_does_not_strand_the_chat(
    widget: Callable[..., Widget],
    console: Callable[..., Console],
    advisor: AdvisorAccount,
    gateway: TestClient,
    clock: FakeClock,
) -> None:
    early = widget()
    conversation_id = await queued_conversation(early)
    clock.advance(30)
    later = widget()
    await queued_conversation(later)
    anna = console()
    await anna.login(advisor)
    live = await anna.open_socket()
    await anna.claim(conversation_id)
    await early.wait_status("advisor")
    open_sockets = len(gateway.app[websockets_key])
    await live.close()  # the laptop lid closes
    await eventually(lambda: len(gateway.app[websockets_key]) < open_sockets)

    clock.advance(60)
    assert await core_of(gateway).ownership.sweep_stale_advisors() == []  # still within the timeout
    clock.advance(61)
    seen = len(early.all)
    assert await core_of(gateway).ownership.sweep_stale_advisors() == [conversation_id]

    status = await early.wait_status("queued", start=seen)
    assert status["position"] == 1  # first in line again: it came before the other chat
    await early.wait_message("system", texts.ADVISOR_LOST, start=seen)
    bo = console()
    await bo.login(advisor)
    _, queue = await bo.get("/console/api/queue")
    assert next(e["conversation_id"] for e in queue["queue"]) == conversation_id
    assert queue["queue"][0]["returned"] is True
    assert queue["mine"] == []


async def test_a_connected_advisor_keeps_their_chats(
    widget: Callable[..., Widget],
    console: Callable[..., Console],
    advisor: AdvisorAccount,
    gateway: TestClient,
    clock: FakeClock,
) -> None:
    conversation_id = await queued_conversation(widget())
    anna = console()
    await anna.login(advisor)
    await anna.claim(conversation_id)
    for _ in range(5):
        clock.advance(60)
        await anna.get("/console/api/queue")  # any sign of life counts
        assert await core_of(gateway).ownership.sweep_stale_advisors() == []


async def test_an_advisor_may_put_a_chat_back_in_the_queue(
    widget: Callable[..., Widget], console: Callable[..., Console], advisor: AdvisorAccount
) -> None:
    company = widget()
    conversation_id = await queued_conversation(company)
    anna = console()
    await anna.login(advisor)
    await anna.claim(conversation_id)
    status, body = await anna.post(f"/console/api/conversations/{conversation_id}/release")
    assert status == 200 and body["conversation"]["state"] == "queued"
    await company.wait_message("system", texts.ADVISOR_RELEASED)

    def latest_status() -> dict[str, object]:
        return [f for f in company.all if f["type"] == "status"][-1]

    # Status frames describe the current state; the latest one is what the widget shows.
    await eventually(lambda: latest_status().get("state") == "queued")
    assert latest_status()["position"] == 1
