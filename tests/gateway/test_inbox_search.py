"""The inbox's views: bot chats an advisor may take over, and closed chats with full-text
search by company, message text, outcome, advisor, date and channel."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

import pytest
from aiohttp.test_utils import TestClient

from bench.fake_rasa import HUMAN_PLEASE
from bot.conversation.context import AdvisorRef
from tests.gateway.conftest import AdvisorAccount, Console, FakeClock, core_of


@pytest.fixture
def db_url(any_db_url: str) -> str:
    """The search's SQL runs on each configured database."""
    return any_db_url


async def closed_chat(
    gateway: TestClient, advisor: AdvisorRef, channel: str, sender: str, texts: list[str], outcome: str,
    company: str | None = None,
) -> str:
    core = core_of(gateway)
    conversation_id = (await core.intake.open(channel, external_id=sender, display_name=f"Person {sender}")).id
    for number, text in enumerate([*texts, HUMAN_PLEASE]):
        await core.intake.submit(conversation_id, f"{sender}-{number:04d}-x", text)
    await core.rasa.wait_delivered(conversation_id)
    await core.ownership.claim(conversation_id, advisor)
    await core.replies.send(conversation_id, advisor, f"{sender}-reply-0001", "Tack, jag kollar det.")
    if company:
        from bot.conversation.models import Conversation

        async with core.ctx.sessions.begin() as s:
            conv = await s.get(Conversation, conversation_id)
            assert conv is not None
            conv.company_name = company
    await core.ownership.close(conversation_id, advisor, outcome, None)
    return conversation_id


async def search(anna: Console, query: str = "") -> list[dict[str, Any]]:
    status, body = await anna.get(f"/console/api/closed{query}")
    assert status == 200, body
    return list(body["conversations"])


async def test_closed_chats_are_found_by_words_and_filters(
    gateway: TestClient, console: Callable[..., Console], advisor: AdvisorAccount,
    make_advisor: Callable[[str, str], AdvisorAccount], clock: FakeClock, db_url: str,
) -> None:
    anna_ref = AdvisorRef(advisor.id, advisor.name, advisor.email)
    bo_account = make_advisor("karin.lund@foretagssupport.se", "Karin Lund")
    bo_ref = AdvisorRef(bo_account.id, bo_account.name, bo_account.email)
    loan = await closed_chat(gateway, anna_ref, "widget", "w1", ["Vi behöver ett lån till en grävmaskin"], "referred",
                             company="Ek Bygg AB")
    clock.advance(24 * 3600)  # the next day
    layoff = await closed_chat(gateway, bo_ref, "rest", "r1", ["Vi måste varsla tre anställda"], "resolved")
    clock.advance(3600)
    export = await closed_chat(gateway, anna_ref, "rest", "r2", ["Exportkredit till Norge"], "callback")
    anna = console()
    await anna.login(advisor)

    newest_first = await search(anna)
    assert [c["conversation_id"] for c in newest_first] == [export, layoff, loan]
    first = newest_first[-1]
    assert first["closed_by"] == {"id": advisor.id, "name": "Anna Berg"}
    assert first["outcome_label"] == "Hänvisad vidare" and first["channel_label"] == "Webb"
    assert first["company_name"] == "Ek Bygg AB"

    def ids(rows: list[dict[str, Any]]) -> list[str]:
        return [c["conversation_id"] for c in rows]

    assert ids(await search(anna, "?q=grävmaskin")) == [loan]  # a company's message
    if db_url.startswith("postgresql"):  # ILIKE folds every letter; SQLite's LIKE only a–z
        assert ids(await search(anna, "?q=GRÄVMASKIN")) == [loan]
    assert ids(await search(anna, "?q=GRAVMASKIN")) == []
    assert ids(await search(anna, "?q=jag+kollar")) == [export, layoff, loan]  # an advisor's message
    assert ids(await search(anna, "?q=ek+bygg")) == [loan]  # the company's name
    assert ids(await search(anna, "?q=karin")) == [layoff]  # the advisor who closed it
    assert ids(await search(anna, "?q=löst")) == [layoff]  # the outcome's label
    assert ids(await search(anna, "?q=webb")) == [loan]  # the channel's label
    assert ids(await search(anna, "?q=bokad")) == [export]  # "Återkoppling bokad"
    assert ids(await search(anna, "?q=varsla+karin")) == [layoff]  # every word must match
    assert ids(await search(anna, "?q=varsla+anna")) == []
    assert ids(await search(anna, "?q=100%25")) == []  # LIKE wildcards are literal
    assert ids(await search(anna, "?channel=rest")) == [export, layoff]
    assert ids(await search(anna, "?outcome=callback")) == [export]
    assert ids(await search(anna, f"?advisor={bo_account.id}")) == [layoff]
    assert ids(await search(anna, "?from=2026-11-25&to=2026-11-25")) == [export, layoff]
    assert ids(await search(anna, "?to=2026-11-24")) == [loan]

    # Pages follow each other through the cursor, without gaps or repeats.
    status, page = await anna.get("/console/api/closed?limit=2")
    assert ids(page["conversations"]) == [export, layoff] and page["next"]
    status, rest = await anna.get(f"/console/api/closed?limit=2&before={page['next'].replace('+', '%2B')}")
    assert ids(rest["conversations"]) == [loan] and rest["next"] is None

    for bad in ("?from=igår", "?outcome=okänt", "?advisor=x"):
        status, body = await anna.get(f"/console/api/closed{bad}")
        assert status == 400 and body["error"]["message"], bad


async def test_bot_chats_going_on_now_are_listed_for_taking_over(
    gateway: TestClient, console: Callable[..., Console], advisor: AdvisorAccount, clock: FakeClock
) -> None:
    core = core_of(gateway)
    talking = (await core.intake.open("rest", external_id="crm-1", display_name="Eva Ek")).id
    await core.intake.submit(talking, "crm-1-0001-x", "vi behöver ett lån")
    await core.rasa.wait_delivered(talking)
    anna = console()
    await anna.login(advisor)
    status, body = await anna.get("/console/api/conversations?state=bot")
    assert status == 200
    row = next(c for c in body["conversations"] if c["conversation_id"] == talking)
    assert row["display_name"] == "Eva Ek" and row["channel"] == "rest"
    assert row["preview"] == "vi behöver ett lån"
    clock.advance(31 * 60)  # quiet for half an hour: no longer "going on now"
    _, body = await anna.get("/console/api/conversations?state=bot")
    assert talking not in [c["conversation_id"] for c in body["conversations"]]
    _ = dt
