"""Presence, each advisor's cap on concurrent chats, transfers to a colleague, and
automatic assignment to the least busy available advisor."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

import pytest
from aiohttp.test_utils import TestClient

from bench.fake_rasa import HUMAN_PLEASE
from bot.conversation.context import AdvisorRef
from bot.conversation.models import Conversation, Message
from bot.rules.assignment import Candidate, least_busy
from tests.gateway.conftest import (
    UTC,
    AdvisorAccount,
    Console,
    Widget,
    core_of,
    eventually,
    queued_conversation,
)


@pytest.fixture
def db_url(any_db_url: str) -> str:
    """Capacity and transfers are races: every test here runs on each configured database."""
    return any_db_url


async def waiting_chats(widget: Callable[..., Widget], count: int) -> list[str]:
    return [await queued_conversation(widget()) for _ in range(count)]


# ---------------------------------------------------------------- the rule


def test_the_least_busy_advisor_with_room_gets_the_next_chat() -> None:
    import datetime as dt

    early = dt.datetime(2026, 11, 24, 8, 0, tzinfo=UTC)
    late = early + dt.timedelta(minutes=30)
    anna = Candidate(1, load=2, limit=3, last_assigned_at=early)
    bo = Candidate(2, load=1, limit=3, last_assigned_at=late)
    cia = Candidate(3, load=1, limit=3, last_assigned_at=early)
    full = Candidate(4, load=0, limit=0, last_assigned_at=None)
    assert least_busy([anna, bo, cia, full]) == cia  # fewest chats; waited longest since the last
    assert least_busy([anna, bo]) == bo
    assert least_busy([Candidate(5, 3, 3, None)]) is None
    assert least_busy([Candidate(7, 0, 2, early), Candidate(6, 0, 2, None)]).advisor_id == 6  # type: ignore[union-attr]


# ---------------------------------------------------------------- presence and the cap


async def test_an_advisor_sets_presence_and_cap_and_colleagues_see_it(
    console: Callable[..., Console], advisor: AdvisorAccount, make_advisor: Callable[[str, str], AdvisorAccount]
) -> None:
    anna, bo = console(), console()
    await anna.login(advisor)
    await bo.login(make_advisor("bo.ek@foretagssupport.se", "Bo Ek"))
    status, body = await anna.post("/console/api/presence", {"presence": "away", "max_chats": 2})
    assert status == 200
    assert body["me"]["presence"] == "away" and body["me"]["max_chats"] == 2

    _, team = await bo.get("/console/api/advisors")
    seen = {a["name"]: a for a in team["advisors"]}
    assert seen["Anna Berg"]["presence"] == "away"
    assert seen["Anna Berg"]["max_chats"] == 2
    assert seen["Anna Berg"]["online"] is True
    assert seen["Bo Ek"]["max_chats"] == 3  # CONSOLE_MAX_CHATS_DEFAULT

    for bad in ({"presence": "lunch"}, {"max_chats": 0}, {"max_chats": "tre"}, {"max_chats": 99}):
        status, body = await anna.post("/console/api/presence", bad)
        assert status == 400, bad
        assert body["error"]["message"].startswith(("Välj", "Ange"))
    # Back to the installation's default.
    _, body = await anna.post("/console/api/presence", {"presence": "available", "max_chats": None})
    assert body["me"]["max_chats"] == 3


async def test_a_claim_beyond_the_cap_is_refused_in_swedish(
    widget: Callable[..., Widget], console: Callable[..., Console], advisor: AdvisorAccount
) -> None:
    first, second, third = await waiting_chats(widget, 3)
    anna = console()
    await anna.login(advisor)
    await anna.post("/console/api/presence", {"max_chats": 2})
    assert (await anna.claim(first))[0] == 200
    assert (await anna.claim(second))[0] == 200
    status, body = await anna.claim(third)
    assert status == 409
    assert body["error"] == {
        "code": "too_many_chats",
        "message": "Du har redan 2 chattar, så många du kan ha samtidigt. Avsluta eller lämna över en chatt först.",
    }
    assert (await anna.claim(second))[0] == 200  # clicking one's own chat again is fine
    _, queue = await anna.get("/console/api/queue")
    assert queue["me"] == {"presence": "available", "chats": 2, "max_chats": 2}


async def test_two_claims_at_once_cannot_both_pass_the_cap(
    widget: Callable[..., Widget], gateway: TestClient, advisor: AdvisorAccount
) -> None:
    chats = await waiting_chats(widget, 4)
    core = core_of(gateway)
    anna = AdvisorRef(advisor.id, advisor.name, advisor.email)
    results = await asyncio.gather(
        *(core.ownership.claim(c, anna, limit=1) for c in chats), return_exceptions=True
    )
    assert sum(1 for r in results if r is None) == 1
    assert all(type(r).__name__ == "AtCapacity" for r in results if r is not None)


# ---------------------------------------------------------------- transfer


async def test_a_chat_is_transferred_to_a_colleague_with_a_note(
    widget: Callable[..., Widget], console: Callable[..., Console], advisor: AdvisorAccount,
    make_advisor: Callable[[str, str], AdvisorAccount], gateway: TestClient,
) -> None:
    company = widget()
    conversation_id = await queued_conversation(company)
    bo_account = make_advisor("bo.ek@foretagssupport.se", "Bo Ek")
    anna, bo = console(), console()
    await anna.login(advisor)
    await bo.login(bo_account)
    bo_socket = await bo.open_socket()
    await anna.claim(conversation_id)

    status, body = await anna.post(
        f"/console/api/conversations/{conversation_id}/transfer",
        {"advisor_id": bo_account.id, "note": "Gäller exportkredit, du kan det bäst."},
    )
    assert status == 200, body
    assert body["conversation"]["advisor"] == {"id": bo_account.id, "name": "Bo Ek"}

    # The company is told who takes over, but not the note.
    await company.wait_message("system", "Bo Ek har anslutit till chatten.")
    assert (await company.wait_status("advisor", start=0))
    await eventually(lambda: any(
        f.get("type") == "status" and (f.get("advisor") or {}).get("name") == "Bo Ek" for f in company.all
    ))
    assert all("exportkredit" not in (m["text"] or "") for m in company.messages)
    # Bo hears of it, with the note; the note is in the transcript for advisors.
    event = await bo_socket.wait_type("transfer", conversation_id=conversation_id)
    assert event["to"]["id"] == bo_account.id and event["from"]["name"] == "Anna Berg"
    _, detail = await bo.get(f"/console/api/conversations/{conversation_id}")
    notes = [m["text"] for m in detail["messages"] if m["role"] == "note"]
    assert notes == ["Anna Berg lämnade över chatten till Bo Ek.\nGäller exportkredit, du kan det bäst."]
    # Now Bo owns it: he may reply, Anna may not.
    assert (await bo.reply(conversation_id, "Hej, Bo här."))[0] == 201
    status, body = await anna.post(
        f"/console/api/conversations/{conversation_id}/messages", {"client_id": "anna-0009-xyz", "text": "Hej igen"}
    )
    assert (status, body["error"]["code"]) == (403, "not_owner")
    _, events = await bo.get(f"/console/api/conversations/{conversation_id}")
    assert "transferred" in [e["kind"] for e in events["events"]]


async def test_a_transfer_is_refused_to_an_away_full_or_absent_colleague_and_by_a_non_owner(
    widget: Callable[..., Widget], console: Callable[..., Console], advisor: AdvisorAccount,
    make_advisor: Callable[[str, str], AdvisorAccount],
) -> None:
    chat, other = await waiting_chats(widget, 2)
    bo_account = make_advisor("bo.ek@foretagssupport.se", "Bo Ek")
    absent = make_advisor("cia.lind@foretagssupport.se", "Cia Lind")  # never logged in
    anna, bo = console(), console()
    await anna.login(advisor)
    await bo.login(bo_account)
    await anna.claim(chat)
    path = f"/console/api/conversations/{chat}/transfer"

    await bo.post("/console/api/presence", {"presence": "away"})
    status, body = await anna.post(path, {"advisor_id": bo_account.id})
    assert (status, body["error"]["message"]) == (
        409, "Bo Ek är inte tillgänglig just nu. Välj en kollega som är inloggad och tillgänglig."
    )
    await bo.post("/console/api/presence", {"presence": "available", "max_chats": 1})
    await bo.claim(other)
    status, body = await anna.post(path, {"advisor_id": bo_account.id})
    assert (status, body["error"]["message"]) == (409, "Bo Ek har redan 1 chattar, så många hen kan ha samtidigt.")
    status, body = await anna.post(path, {"advisor_id": absent.id})
    assert status == 409 and "Cia Lind är inte tillgänglig" in body["error"]["message"]
    status, body = await anna.post(path, {"advisor_id": advisor.id})
    assert status == 409 and body["error"]["code"] == "transfer_refused"
    status, body = await bo.post(f"/console/api/conversations/{chat}/transfer", {"advisor_id": advisor.id})
    assert (status, body["error"]["code"]) == (403, "not_owner")
    status, body = await anna.post(path, {})
    assert status == 400 and body["error"]["message"] == "Välj en kollega att lämna över till."


# ---------------------------------------------------------------- automatic assignment


async def test_auto_assignment_gives_waiting_chats_to_the_least_busy_available_advisor(
    make_gateway: Callable[..., Awaitable[TestClient]],
    widget: Callable[..., Widget],
    console: Callable[..., Console],
    advisor: AdvisorAccount,
    make_advisor: Callable[[str, str], AdvisorAccount],
) -> None:
    gateway = await make_gateway(AUTO_ASSIGN="true", CONSOLE_MAX_CHATS_DEFAULT="2")
    bo_account = make_advisor("bo.ek@foretagssupport.se", "Bo Ek")
    cia_account = make_advisor("cia.lind@foretagssupport.se", "Cia Lind")
    anna, bo, cia = console(gateway), console(gateway), console(gateway)
    for who, account in ((anna, advisor), (bo, bo_account), (cia, cia_account)):
        await who.login(account)
    await cia.post("/console/api/presence", {"presence": "away"})  # away: gets none

    companies = [widget(gateway) for _ in range(5)]
    chats = []
    for company in companies:  # queued, and maybe assigned before the company sees "queued"
        await company.connect()
        await company.say(HUMAN_PLEASE)
        await company.wait_message("system", "Du är nu i kö")
        assert company.conversation_id is not None
        chats.append(company.conversation_id)

    async def owners() -> dict[str, int | None]:
        async with core_of(gateway).ctx.sessions() as s:
            return {c: (await s.get(Conversation, c)).advisor_id for c in chats}  # type: ignore[union-attr]

    for _ in range(250):
        held = await owners()
        if sum(1 for a in held.values() if a) == 4:
            break
        await asyncio.sleep(0.02)
    held = await owners()
    counts = {who: sum(1 for a in held.values() if a == who) for who in (advisor.id, bo_account.id, cia_account.id)}
    assert counts == {advisor.id: 2, bo_account.id: 2, cia_account.id: 0}  # each up to their cap of 2
    assert held[chats[4]] is None  # the fifth waits: first in line for whoever has room next
    await companies[0].wait_message("system", "har anslutit till chatten.")

    # Cia comes back: the waiting chat is hers at once (she has none).
    await cia.post("/console/api/presence", {"presence": "available"})
    for _ in range(250):
        if (await owners())[chats[4]] == cia_account.id:
            break
        await asyncio.sleep(0.02)
    assert (await owners())[chats[4]] == cia_account.id


async def test_without_auto_assignment_chats_wait_for_a_claim(
    widget: Callable[..., Widget], console: Callable[..., Console], advisor: AdvisorAccount, gateway: TestClient
) -> None:
    anna = console()
    await anna.login(advisor)
    chat = await queued_conversation(widget())
    await asyncio.sleep(0.3)
    async with core_of(gateway).ctx.sessions() as s:
        conv = await s.get(Conversation, chat)
        assert conv is not None and conv.state == "queued"
        assert await s.get(Message, 1) is not None
