"""Whole conversations against the real Rasa server and action server."""

from __future__ import annotations

import uuid
from typing import Any

import aiohttp
import pytest

from core.settings import Settings

pytestmark = pytest.mark.e2e


class Chat:
    def __init__(self, http: aiohttp.ClientSession, settings: Settings) -> None:
        self.http, self.settings = http, settings
        self.sender = f"e2e-{uuid.uuid4().hex}"

    async def say(self, text: str) -> list[dict[str, Any]]:
        async with self.http.post(f"{self.settings.rasa_url}/webhooks/rest/webhook",
                                  json={"sender": self.sender, "message": text},
                                  headers=self.settings.rasa_channel_headers) as response:
            assert response.status == 200, await response.text()
            messages: list[dict[str, Any]] = await response.json()
            return messages

    async def tracker(self) -> dict[str, Any]:
        url = f"{self.settings.rasa_url}/conversations/{self.sender}/tracker"
        async with self.http.get(url, params={"token": self.settings.rasa_token}) as response:
            assert response.status == 200
            tracker: dict[str, Any] = await response.json()
            return tracker


def text(messages: list[dict[str, Any]]) -> str:
    return " ".join(str(m.get("text") or "") for m in messages)


@pytest.fixture
async def chat(rasa_stack: Settings) -> Any:
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=120)) as http:
        yield Chat(http, rasa_stack)


async def test_a_referral_then_contact_details_then_more_options(chat: Chat) -> None:
    first = await chat.say("vi har inga pengar kvar i kassan, kan vi fa lan nagonstans?")
    assert text(first).startswith("Vänd dig till Almi Företagspartner Mälardalen.")
    assert [b["payload"] for b in first[0]["buttons"]][:2] == ["/ask_contact", "/ask_more"]
    contact = await chat.say("hur kontaktar jag dem?")
    assert text(contact).startswith("Så här når du Almi Företagspartner Mälardalen:")
    more = await chat.say("finns det något mer?")
    assert text(more).startswith("Här är fler som kan hjälpa dig:")


async def test_company_size_follow_up_keeps_the_topic(chat: Chat) -> None:
    await chat.say("vi måste varsla personal på grund av arbetsbrist, hur gör vi?")
    reply = await chat.say("vi är 12 anställda")
    assert text(reply).startswith("Vänd dig till Arbetsförmedlingen.")
    slots = (await chat.tracker())["slots"]
    assert slots["employees"] == 12.0 and slots["last_topic"] == "layoff_notice"


async def test_an_ended_scheme_is_said_to_have_ended(chat: Chat) -> None:
    reply = text(await chat.say("kan vi fortfarande söka hyresstöd?"))
    assert "upphört" in reply


async def test_asking_for_a_human_hands_off_and_the_bot_then_stays_silent(chat: Chat) -> None:
    reply = await chat.say("jag vill prata med en människa")
    payloads = [m["custom"] for m in reply if "custom" in m]
    assert payloads and payloads[0]["handoff"]["reason"] == "request_human"
    assert (await chat.tracker())["paused"] is True
    assert await chat.say("hallå?") == []  # recorded, not answered
    events = (await chat.tracker())["events"]
    assert [e["text"] for e in events if e["event"] == "user"][-1] == "hallå?"


async def test_two_failures_in_a_row_hand_off(chat: Chat) -> None:
    await chat.say("qwzx plorf")
    reply = await chat.say("blorp fnarg")
    assert any("handoff" in (m.get("custom") or {}) for m in reply)


@pytest.mark.parametrize("message", [
    "",
    "   ",
    "🙂🙂🙂",
    "<script>alert('x')</script><b>hej</b>",
    "What is the weather like in London today?",
    "lån " * 25_000,  # 100 kB
])
async def test_bad_input_gets_a_swedish_reply_never_an_error(chat: Chat, message: str) -> None:
    reply = await chat.say(message)
    assert reply, "the assistant must answer"
    answer = text(reply)
    assert answer.strip()
    assert any(word in answer.lower() for word in ("jag", "du", "vänd", "företag")), answer
