"""Advisor passwords (argon2), console sessions and CSRF tokens.

The session cookie holds a random token; the database keeps only its SHA-256, so a
leaked database does not log anyone in. A visitor who has not logged in still gets a
token (not stored) so that the login form itself is CSRF-protected. The CSRF token is an
HMAC of the session token with the server secret: no state, and it changes at login.
"""

from __future__ import annotations

import asyncio
import base64
import datetime as dt
import hashlib
import hmac
import secrets

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.conversation.context import AdvisorRef
from bot.conversation.models import Advisor, AdvisorSession

COOKIE = "fs_console"
MIN_PASSWORD_LENGTH = 10

_hasher = PasswordHasher()
# Verified against when the e-mail is unknown, so that both cases take the same time.
_DUMMY_HASH = _hasher.hash(secrets.token_urlsafe(16))


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(password_hash: str, password: str) -> bool:
    try:
        return _hasher.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def new_token() -> str:
    return secrets.token_urlsafe(32)


def token_id(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def csrf_for(secret: str, token: str) -> str:
    digest = hmac.new(secret.encode(), b"csrf:" + token.encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).decode().rstrip("=")


def csrf_ok(secret: str, token: str | None, candidate: str | None) -> bool:
    if not token or not candidate:
        return False
    return hmac.compare_digest(csrf_for(secret, token), candidate)


def normalize_email(email: str) -> str:
    return email.strip().lower()


async def authenticate(sessions: async_sessionmaker[AsyncSession], email: str, password: str) -> AdvisorRef | None:
    async with sessions() as s:
        advisor = await s.scalar(select(Advisor).where(Advisor.email == normalize_email(email)))
    if advisor is None or not advisor.active:
        await asyncio.to_thread(verify_password, _DUMMY_HASH, password)
        return None
    if not await asyncio.to_thread(verify_password, advisor.password_hash, password):
        return None
    return AdvisorRef(advisor.id, advisor.name, advisor.email, advisor.role)


async def start_session(
    sessions: async_sessionmaker[AsyncSession],
    advisor_id: int,
    now: dt.datetime,
    max_age: dt.timedelta,
) -> str:
    token = new_token()
    async with sessions.begin() as s:
        await s.execute(delete(AdvisorSession).where(AdvisorSession.expires_at < now))
        s.add(AdvisorSession(id=token_id(token), advisor_id=advisor_id, created_at=now, expires_at=now + max_age))
    return token


async def end_session(sessions: async_sessionmaker[AsyncSession], token: str) -> None:
    async with sessions.begin() as s:
        await s.execute(delete(AdvisorSession).where(AdvisorSession.id == token_id(token)))


async def session_advisor(
    sessions: async_sessionmaker[AsyncSession], token: str | None, now: dt.datetime
) -> AdvisorRef | None:
    if not token or len(token) > 128:
        return None
    async with sessions() as s:
        row = (
            await s.execute(
                select(Advisor.id, Advisor.name, Advisor.email, Advisor.role)
                .join(AdvisorSession, AdvisorSession.advisor_id == Advisor.id)
                .where(
                    AdvisorSession.id == token_id(token),
                    AdvisorSession.expires_at > now,
                    Advisor.active.is_(True),
                )
            )
        ).first()
    if row is None:
        return None
    return AdvisorRef(int(row.id), str(row.name), str(row.email), str(row.role))
