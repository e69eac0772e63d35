"""Advisor presence: who is at the console now (the console beats every few seconds)."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import update

from bot.conversation import store
from bot.conversation.context import CoreContext
from bot.conversation.models import Advisor

# An advisor seen this recently counts as online (the console beats every 15 s).
ONLINE_WINDOW = dt.timedelta(seconds=45)


class Presence:
    def __init__(self, ctx: CoreContext) -> None:
        self.ctx = ctx

    async def touch(self, advisor_id: int, force: bool = False) -> None:
        """Record that an advisor is present (console socket beat or API call).

        Without `force`, a touch within 5 s of the last one writes nothing: API calls come
        in bursts and each would otherwise take the database's write lock."""
        now = self.ctx.now()
        async with self.ctx.sessions.begin() as s:
            stmt = update(Advisor).where(Advisor.id == advisor_id).values(last_seen_at=now)
            if not force:
                stmt = stmt.where(
                    (Advisor.last_seen_at.is_(None)) | (Advisor.last_seen_at < now - dt.timedelta(seconds=5))
                )
            await store.updated(s, stmt)
