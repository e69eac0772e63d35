"""The suggested referral: what the bot would answer to the company's latest question,
composed by the same directory ranking and texts the bot uses, ready to insert."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

import pytest
from aiohttp.test_utils import TestClient
from sqlalchemy.orm import Session, sessionmaker

from actions.referral import ActionReferral
from bench.fake_rasa import LOAN, FakeRasa, parse_text
from bot.rules.suggestion import suggest
from directory import queries
from tests.actions.test_actions import run, tracker
from tests.gateway.conftest import AdvisorAccount, Console, Widget, queued_conversation


@pytest.fixture
def db_url(seeded_db_url: str) -> str:
    return seeded_db_url


def bots_referral(parse: dict[str, Any]) -> str:
    """What the bot's own referral action answers to this parse."""
    t = tracker(
        parse["text"],
        [(i["name"], i["confidence"]) for i in parse["intent_ranking"]],
        [(e["entity"], e["value"]) for e in parse.get("entities", [])],
    )
    _, messages = run(ActionReferral(), t)
    return str(messages[0]["text"])


def suggested(session_factory: sessionmaker[Session], parse: dict[str, Any]) -> str | None:
    with session_factory() as session:
        names = [i["name"] for i in parse["intent_ranking"]]
        result = suggest(
            parse, queries.topics(session, names), queries.organisations(session), queries.schemes(session),
            dt.date.today(),
        )
    return result.text if result else None


@pytest.mark.parametrize(
    "parse",
    [
        parse_text("Vi behöver ett lån till en maskin"),
        {"text": "kan Almi hjälpa oss?", "intent": {"name": "financing", "confidence": 0.6},
         "intent_ranking": [{"name": "financing", "confidence": 0.6}, {"name": "export", "confidence": 0.3}],
         "entities": [{"entity": "organisation", "value": "Almi"}]},
        {"text": "kan vi söka omställningsstöd?", "intent": {"name": "tax_general", "confidence": 0.5},
         "intent_ranking": [{"name": "tax_general", "confidence": 0.5}, {"name": "crisis_general", "confidence": 0.3}],
         "entities": [{"entity": "scheme", "value": "omställningsstöd"}]},
        {"text": "vi måste varsla 30 personer", "intent": {"name": "layoff_notice", "confidence": 0.8},
         "intent_ranking": [{"name": "layoff_notice", "confidence": 0.8},
                            {"name": "short_time_work", "confidence": 0.1}],
         "entities": []},
    ],
    ids=["loan", "named-organisation", "ended-scheme", "layoff"],
)
def test_the_suggestion_is_the_bots_own_referral(
    seeded_sessions: sessionmaker[Session], parse: dict[str, Any]
) -> None:
    assert suggested(seeded_sessions, parse) == bots_referral(parse)


def test_no_topic_no_suggestion(seeded_sessions: sessionmaker[Session]) -> None:
    greeting = {"text": "hej", "intent": {"name": "greet", "confidence": 0.99},
                "intent_ranking": [{"name": "greet", "confidence": 0.99}], "entities": []}
    assert suggested(seeded_sessions, greeting) is None


async def test_the_console_suggests_a_referral_for_the_latest_question(
    widget: Callable[..., Widget], console: Callable[..., Console], advisor: AdvisorAccount,
    fake_rasa: FakeRasa, seeded_db_url: str,
) -> None:
    company = widget()
    await company.connect()
    await company.say(LOAN)
    await company.say("hur kontaktar jag er?")
    conversation_id = await queued_conversation(company)
    anna = console()
    await anna.login(advisor)

    status, body = await anna.get(f"/console/api/conversations/{conversation_id}/suggestion")

    assert status == 200
    suggestion = body["suggestion"]
    assert suggestion["for"]["text"] == LOAN  # not the follow-up, not the request for a person
    assert suggestion["organisation"]["name"] == "Almi Företagspartner Mälardalen"
    assert suggestion["text"].startswith("Vänd dig till Almi Företagspartner Mälardalen.")
    from core.db import make_engine, make_sessionmaker

    engine = make_engine(seeded_db_url)
    try:
        assert suggestion["text"] == bots_referral_in(make_sessionmaker(engine), parse_text(LOAN))
    finally:
        engine.dispose()


def bots_referral_in(factory: sessionmaker[Session], parse: dict[str, Any]) -> str:
    from actions import runtime

    runtime.use_sessions(factory)
    try:
        return bots_referral(parse)
    finally:
        runtime.use_sessions(None)


async def test_a_chat_without_a_question_and_an_nlu_that_is_down_say_so(
    widget: Callable[..., Widget], console: Callable[..., Console], advisor: AdvisorAccount,
    fake_rasa: FakeRasa, gateway: TestClient,
) -> None:
    conversation_id = await queued_conversation(widget())  # only "jag vill prata med en människa"
    anna = console()
    await anna.login(advisor)
    status, body = await anna.get(f"/console/api/conversations/{conversation_id}/suggestion")
    assert status == 200 and body["suggestion"] is None
    assert body["message"] == "Företaget har inte skrivit något som assistenten kan hänvisa utifrån."
    fake_rasa.down = True
    status, body = await anna.get(f"/console/api/conversations/{conversation_id}/suggestion")
    assert (status, body["error"]["code"]) == (503, "nlu_unavailable")
    assert body["error"]["message"].startswith("Förslaget kan inte tas fram just nu")
