"""The conversation event log: every change of ownership is one appended, typed event,
and the console reads a conversation's timeline from it."""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy import func, select

from bench.fake_rasa import HUMAN_PLEASE
from bot.conversation.events import EventKind
from bot.conversation.models import ConversationEvent
from tests.gateway.conftest import AdvisorAccount, Console, Widget, core_of, queued_conversation


async def test_a_whole_hand_off_is_told_by_the_event_log(
    widget: Callable[..., Widget], console: Callable[..., Console], advisor: AdvisorAccount
) -> None:
    company = widget()
    conversation_id = await queued_conversation(company)
    anna = console()
    await anna.login(advisor)
    await anna.claim(conversation_id)
    await anna.post(f"/console/api/conversations/{conversation_id}/handback")
    await company.wait_status("bot")
    seen = len(company.all)
    await company.say(HUMAN_PLEASE)
    assert company.frames is not None
    await company.frames.wait_for(lambda f: f.get("type") == "status" and f.get("state") == "queued", start=seen)
    await anna.claim(conversation_id)
    await anna.post(f"/console/api/conversations/{conversation_id}/close", {"outcome": "referred"})

    status, detail = await anna.get(f"/console/api/conversations/{conversation_id}")
    assert status == 200
    timeline = detail["events"]
    assert [e["kind"] for e in timeline] == [
        "opened", "handoff", "queued", "claimed", "handed_back",
        "handoff", "queued", "claimed", "closed", "csat_asked",
    ]
    assert {e["channel"] for e in timeline} == {"widget"}
    assert timeline[1]["data"] == {"reason": "request_human"}
    assert timeline[2]["data"] == {"reason": "request_human", "position": 1}
    assert timeline[3]["advisor_id"] == advisor.id
    assert timeline[3]["data"] == {"from_state": "queued"}
    assert timeline[-2]["data"] == {"outcome": "referred"}
    assert timeline[-1]["advisor_id"] == advisor.id  # the satisfaction question, once
    assert [e["at"] for e in timeline] == sorted(e["at"] for e in timeline)


async def test_leaving_the_queue_and_taking_over_a_bot_chat_are_events_too(
    widget: Callable[..., Widget], console: Callable[..., Console], advisor: AdvisorAccount
) -> None:
    company = widget()
    conversation_id = await queued_conversation(company)
    await company.send({"type": "cancel_handoff"})
    await company.wait_status("bot")
    anna = console()
    await anna.login(advisor)
    await anna.claim(conversation_id)  # taking over from the bot
    _, detail = await anna.get(f"/console/api/conversations/{conversation_id}")
    kinds = [(e["kind"], e["data"].get("from_state")) for e in detail["events"]]
    assert kinds[-2:] == [("cancelled", "queued"), ("claimed", "bot")]


async def test_events_are_only_ever_appended(
    widget: Callable[..., Widget], console: Callable[..., Console], advisor: AdvisorAccount, gateway: object
) -> None:
    company = widget()
    conversation_id = await queued_conversation(company)
    core = core_of(gateway)  # type: ignore[arg-type]

    async def count() -> int:
        async with core.ctx.sessions() as s:
            return int(await s.scalar(select(func.count(ConversationEvent.id))) or 0)

    before = await count()
    anna = console()
    await anna.login(advisor)
    await anna.claim(conversation_id)
    after = await count()
    assert after == before + 1
    async with core.ctx.sessions() as s:
        kinds = list(await s.scalars(select(ConversationEvent.kind).order_by(ConversationEvent.id)))
    assert kinds[: before] == ["opened", "handoff", "queued"]
    assert set(kinds) <= {kind.value for kind in EventKind}
