"""The lägesbild's quotes are copies of company messages: they are forgotten when the
person's conversation is erased and when the transcripts they came from expire
(`bot.conversation.copies`). The figures stay; only the quoted words go."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from sqlalchemy import Select, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.admin.analytics.models import LagesbildReport
from bot.rules.analytics import without_quotes


class LagesbildQuotes:
    name = "lagesbild_quotes"

    async def forget_texts(self, session: AsyncSession, texts: Sequence[str]) -> int:
        if not texts:
            return 0
        return await self._scrub(session, select(LagesbildReport), texts)

    async def forget_before(self, session: AsyncSession, cut: dt.datetime) -> int:
        return await self._scrub(session, select(LagesbildReport).where(LagesbildReport.generated_at < cut), None)

    @staticmethod
    async def _scrub(
        session: AsyncSession, reports: Select[tuple[LagesbildReport]], texts: Sequence[str] | None
    ) -> int:
        removed = 0
        for report in await session.scalars(reports):
            data, gone = without_quotes(report.data, texts)
            if gone:
                report.data = data  # a new dict: the JSON column is written again
                removed += gone
        return removed
