"""Copies of what companies wrote, kept outside the conversation tables (a weekly report's
quotes, for example). Erasure and the retention purge reach them through this interface,
so a part of the gateway the core may not import still forgets a person's words when the
conversation itself is erased or expires. The app registers each one in `CoreContext.copies`."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Protocol

from sqlalchemy.ext.asyncio import AsyncSession


class CompanyWordsCopy(Protocol):
    # The name its counts carry in the purge log and the erasure's audit entry.
    name: str

    async def forget_texts(self, session: AsyncSession, texts: Sequence[str]) -> int:
        """Remove every copy of these texts (a person's messages being erased); returns
        how many copies went."""
        ...

    async def forget_before(self, session: AsyncSession, cut: dt.datetime) -> int:
        """Remove copies made before `cut` (their transcripts have expired); returns how
        many copies went."""
        ...
