"""What every part of the conversation core works with: the database, the live nudges,
the settings that shape the rules, and the clock (settable in tests)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import TypeVar

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.conversation.copies import CompanyWordsCopy
from bot.conversation.live import Announcer
from bot.rules import hours as opening
from core.db import writing_engine
from core.transactions import Tx, run_transaction

T = TypeVar("T")

ADVISOR = "advisor"
ADMIN = "admin"
ROLES = (ADVISOR, ADMIN)


@dataclass(frozen=True)
class AdvisorRef:
    """A logged-in account as the core needs to know it (an admin can also take chats)."""

    id: int
    name: str
    email: str
    role: str = ADVISOR

    @property
    def is_admin(self) -> bool:
        return self.role == ADMIN


@dataclass(frozen=True)
class CoreConfig:
    hours: opening.OpeningHours
    advisor_timeout_seconds: int
    queue_minutes_per_chat: int
    rasa_timeout_seconds: int
    # The action server's health URL: Rasa answers a turn with nothing when its custom
    # action fails, and this tells an empty answer from a dead action server. "" = unknown.
    actions_health_url: str = ""
    # A message the bot could not answer (Rasa or the action server down) is answered when
    # the bot is back if it is younger than this; older ones are left to the advisors.
    bot_retry_window_seconds: int = 3600


@dataclass(frozen=True)
class CoreContext:
    sessions: async_sessionmaker[AsyncSession]
    announce: Announcer
    config: CoreConfig
    now: Callable[[], dt.datetime]
    # Copies of company words kept elsewhere, forgotten with the conversations (copies.py).
    copies: list[CompanyWordsCopy] = field(default_factory=list)

    def transaction(self, work: Callable[[Tx], T]) -> Awaitable[T]:
        """Run a hot-path transaction function (core/transactions.py) on what
        `sessions.begin()` writes through: on SQLite in one hand-off to the database's
        thread, without the ORM session's own upkeep."""
        return run_transaction(writing_engine(self.sessions), work)
