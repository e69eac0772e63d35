"""Sending a closed chat's transcript to the company by e-mail.

The request is stored first (`TranscriptEmail`, status pending); a background loop sends
it through the configured SMTP server and retries with backoff, so a mail server that is
down loses nothing. The text is what the company saw (`bot.rules.transcript`): internal
notes are never in it.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import logging
import smtplib
import ssl
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid, parseaddr

from sqlalchemy import select, update

from bot.conversation import events, store
from bot.conversation.context import CoreContext
from bot.conversation.events import EventKind
from bot.conversation.models import Conversation, TranscriptEmail
from bot.conversation.pubsub import CONSOLE
from bot.rules import transcript
from core.settings import Settings

log = logging.getLogger(__name__)

MAX_ATTEMPTS = 6
BACKOFF_SECONDS = (30, 120, 600, 1800, 3600)


class Mailer:
    def __init__(self, ctx: CoreContext, settings: Settings, poll_seconds: float = 30.0) -> None:
        self.ctx = ctx
        self.settings = settings
        self.poll_seconds = poll_seconds
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    @property
    def enabled(self) -> bool:
        return self.settings.transcript_email_enabled

    async def request(self, conversation_id: str, recipient: str, advisor_id: int) -> int:
        """Store a transcript e-mail to send; the loop sends it at once."""
        now = self.ctx.now()
        async with self.ctx.sessions.begin() as s:
            mail = TranscriptEmail(
                conversation_id=conversation_id, recipient=recipient, requested_by=advisor_id,
                status="pending", attempts=0, next_attempt_at=now, created_at=now,
            )
            s.add(mail)
            await s.flush()
            mail_id = mail.id
        self._wake.set()
        return mail_id

    # ------------------------------------------------------------------ the loop

    def start(self) -> None:
        if self.enabled and self._task is None:
            self._task = asyncio.create_task(self._run(), name="transcript-mail")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None

    async def _run(self) -> None:
        while True:
            try:
                await self.send_due()
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("sending transcript e-mails failed")
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(self._wake.wait(), self.poll_seconds)
            self._wake.clear()

    async def send_due(self) -> int:
        """Send every pending transcript whose time has come; returns how many were sent."""
        now = self.ctx.now()
        async with self.ctx.sessions() as s:
            due = list(
                await s.scalars(
                    select(TranscriptEmail)
                    .where(TranscriptEmail.status == "pending", TranscriptEmail.next_attempt_at <= now)
                    .order_by(TranscriptEmail.id)
                    .limit(20)
                )
            )
        sent = 0
        for mail in due:
            sent += await self._send_one(mail)
        return sent

    async def _send_one(self, mail: TranscriptEmail) -> int:
        message = await self.compose(mail.conversation_id, mail.recipient)
        try:
            await asyncio.to_thread(self._deliver, message)
        except (OSError, smtplib.SMTPException) as exc:
            attempts = mail.attempts + 1
            give_up = attempts >= MAX_ATTEMPTS or isinstance(exc, smtplib.SMTPRecipientsRefused)
            wait = BACKOFF_SECONDS[min(attempts - 1, len(BACKOFF_SECONDS) - 1)]
            log.warning("transcript e-mail %s: attempt %s failed: %r", mail.id, attempts, exc)
            async with self.ctx.sessions.begin() as s:
                await store.updated(
                    s,
                    update(TranscriptEmail)
                    .where(TranscriptEmail.id == mail.id)
                    .values(
                        attempts=attempts, error=f"{type(exc).__name__}: {exc}"[:1000],
                        status="failed" if give_up else "pending",
                        next_attempt_at=self.ctx.now() + dt.timedelta(seconds=wait),
                    ),
                )
            await self._announce(mail, "failed" if give_up else "retrying")
            return 0
        now = self.ctx.now()
        async with self.ctx.sessions.begin() as s:
            await store.updated(
                s,
                update(TranscriptEmail)
                .where(TranscriptEmail.id == mail.id)
                .values(status="sent", sent_at=now, attempts=mail.attempts + 1, error=None),
            )
            channel = str(await s.scalar(select(Conversation.channel).where(Conversation.id == mail.conversation_id)))
            await events.record(
                s, mail.conversation_id, EventKind.TRANSCRIPT_SENT, now, channel=channel,
                advisor_id=mail.requested_by, to=mail.recipient,
            )
        await self._announce(mail, "sent")
        return 1

    async def _announce(self, mail: TranscriptEmail, status: str) -> None:
        await self.ctx.announce.hub.publish(
            CONSOLE,
            {"type": "transcript_email", "conversation_id": mail.conversation_id,
             "to": mail.recipient, "status": status},
        )

    # ------------------------------------------------------------------ the message

    async def compose(self, conversation_id: str, recipient: str) -> EmailMessage:
        async with self.ctx.sessions() as s:
            rows = await store.messages_after(s, conversation_id, 0, limit=5000)
        lines = [
            transcript.Line(m.role, m.text, m.author, m.created_at, tuple(b.get("title", "") for b in m.buttons or []))
            for m in rows
            if not store.is_internal(m)
        ]
        mail = transcript.compose(lines, self.settings.opening_timezone)
        message = EmailMessage()
        message["Subject"] = mail.subject
        message["From"] = self.settings.smtp_from
        message["To"] = recipient
        message["Date"] = format_datetime(self.ctx.now())
        domain = parseaddr(self.settings.smtp_from)[1].partition("@")[2] or None
        message["Message-ID"] = make_msgid("transcript", domain=domain)
        message["Auto-Submitted"] = "auto-generated"
        message.set_content(mail.body)
        return message

    def _deliver(self, message: EmailMessage) -> None:
        s = self.settings
        timeout = float(s.smtp_timeout_seconds)
        smtp: smtplib.SMTP
        if s.smtp_ssl:
            smtp = smtplib.SMTP_SSL(s.smtp_host, s.smtp_port, timeout=timeout, context=ssl.create_default_context())
        else:
            smtp = smtplib.SMTP(s.smtp_host, s.smtp_port, timeout=timeout)
        with smtp:
            if s.smtp_starttls and not s.smtp_ssl:
                smtp.starttls(context=ssl.create_default_context())
            if s.smtp_user:
                smtp.login(s.smtp_user, s.smtp_password)
            smtp.send_message(message)


