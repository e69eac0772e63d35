"""The transcript e-mailed to the company on close, through a local SMTP server."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Iterator

import pytest
from aiohttp.test_utils import TestClient
from sqlalchemy import select

from bench.fake_rasa import LOAN
from bot.console.keys import mailer_key
from bot.conversation.models import TranscriptEmail
from tests.gateway.conftest import AdvisorAccount, Console, FakeClock, Widget, eventually, queued_conversation
from tests.smtp_support import SmtpServer, smtp_server


@pytest.fixture
def smtp() -> Iterator[SmtpServer]:
    with smtp_server() as server:
        yield server


async def chat_with_advisor(widget: Callable[..., Widget], anna: Console, client: TestClient) -> str:
    company = widget(client)
    await company.connect()
    await company.say(LOAN)
    await company.wait_message("bot", "Almi")
    conversation_id = await queued_conversation(company)
    await anna.claim(conversation_id)
    await anna.post(
        f"/console/api/conversations/{conversation_id}/notes",
        {"client_id": "note-0001-abc", "text": "Internt: ring Almi först"},
    )
    await anna.reply(conversation_id, "Hej! Jag heter Anna.\nVad gäller lånet?")
    return conversation_id


async def test_closing_with_an_address_sends_the_transcript_without_notes(
    make_gateway: Callable[..., Awaitable[TestClient]], widget: Callable[..., Widget],
    console: Callable[..., Console], advisor: AdvisorAccount, smtp: SmtpServer,
) -> None:
    gateway = await make_gateway(**smtp.env())
    anna = console(gateway)
    session = await anna.login(advisor)
    assert session["inbox"]["transcript_email"] is True
    conversation_id = await chat_with_advisor(widget, anna, gateway)

    status, body = await anna.post(
        f"/console/api/conversations/{conversation_id}/close", {"outcome": "resolved", "email": "eva@ekbygg.se"}
    )
    assert status == 200, body
    assert body["transcript_email"] == {"to": "eva@ekbygg.se", "status": "pending"}
    assert body["conversation"]["company_email"] == "eva@ekbygg.se"
    await eventually(lambda: len(smtp.inbox.messages) == 1)

    mail = smtp.inbox.messages[0]
    assert mail["To"] == "eva@ekbygg.se"
    assert mail["Subject"] == "Ditt samtal med Västmanlands Företagssupport den 24 november 2026"
    assert "chatt@foretagssupport.example" in mail["From"]
    body_text = mail.get_content().replace("\r\n", "\n")
    assert "10:00  Du: vi behöver ett lån" in body_text  # Stockholm time
    assert "Digital assistent: Almi Mälardalen kan hjälpa er med lån." in body_text
    assert "Anna Berg, rådgivare: Hej! Jag heter Anna.\n       Vad gäller lånet?" in body_text
    assert "Rådgivaren har avslutat chatten." in body_text
    assert "Internt" not in body_text and "ring Almi först" not in body_text
    _, detail = await anna.get(f"/console/api/conversations/{conversation_id}")
    assert "transcript_sent" in [e["kind"] for e in detail["events"]]


async def test_a_mail_server_that_is_down_gets_the_transcript_later(
    make_gateway: Callable[..., Awaitable[TestClient]], widget: Callable[..., Widget],
    console: Callable[..., Console], advisor: AdvisorAccount, smtp: SmtpServer, clock: FakeClock,
) -> None:
    gateway = await make_gateway(**smtp.env())
    anna = console(gateway)
    await anna.login(advisor)
    conversation_id = await chat_with_advisor(widget, anna, gateway)
    smtp.stop()
    status, _ = await anna.post(
        f"/console/api/conversations/{conversation_id}/close", {"outcome": "resolved", "email": "eva@ekbygg.se"}
    )
    assert status == 200
    mailer = gateway.app[mailer_key]

    async def attempts() -> int:
        async with mailer.ctx.sessions() as s:
            row = await s.scalar(select(TranscriptEmail))
            assert row is not None
            return row.attempts if row.status == "pending" else -1

    for _ in range(250):
        if await attempts() >= 1:
            break
        await asyncio.sleep(0.02)
    assert await attempts() == 1  # tried once, kept for later
    assert smtp.inbox.messages == []

    smtp.start()
    clock.advance(31)
    assert await mailer.send_due() == 1
    assert len(smtp.inbox.messages) == 1


async def test_a_bad_address_is_refused_before_the_chat_is_closed(
    make_gateway: Callable[..., Awaitable[TestClient]], widget: Callable[..., Widget],
    console: Callable[..., Console], advisor: AdvisorAccount, smtp: SmtpServer,
) -> None:
    gateway = await make_gateway(**smtp.env())
    anna = console(gateway)
    await anna.login(advisor)
    conversation_id = await queued_conversation(widget(gateway))
    await anna.claim(conversation_id)
    status, body = await anna.post(
        f"/console/api/conversations/{conversation_id}/close", {"outcome": "resolved", "email": "eva(at)ekbygg"}
    )
    assert (status, body["error"]["message"]) == (400, "Ange en giltig e-postadress.")
    _, detail = await anna.get(f"/console/api/conversations/{conversation_id}")
    assert detail["conversation"]["state"] == "advisor"


async def test_without_a_mail_server_the_console_does_not_offer_it(
    widget: Callable[..., Widget], console: Callable[..., Console], advisor: AdvisorAccount,
) -> None:
    anna = console()
    session = await anna.login(advisor)
    assert session["inbox"]["transcript_email"] is False
    conversation_id = await queued_conversation(widget())
    await anna.claim(conversation_id)
    status, body = await anna.post(
        f"/console/api/conversations/{conversation_id}/close", {"outcome": "resolved", "email": "eva@ekbygg.se"}
    )
    assert (status, body["error"]["code"]) == (400, "email_not_configured")
