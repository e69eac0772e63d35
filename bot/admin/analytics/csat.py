"""CSAT figures: the companies' ratings (1–5) of an advisor's help, overall and per advisor.

The ratings are stored by the satisfaction survey (`bot.conversation.csat`, table
`csat_ratings`: one row per conversation asked; `rating` is NULL until the company
answers). This module is the only place the analytics read that table.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session

from bot.conversation.models import Advisor, CsatRating

RATINGS = CsatRating.__table__


@dataclass(frozen=True)
class AdvisorCsat:
    advisor_id: int
    name: str
    count: int
    average: float


@dataclass(frozen=True)
class CsatFigures:
    count: int = 0
    average: float | None = None
    per_advisor: list[AdvisorCsat] = field(default_factory=list)


def csat_figures(
    session: Session, start: dt.datetime, end: dt.datetime, advisor_id: int | None,
    chosen: Select[Any] | None = None,
) -> CsatFigures:
    """Ratings given in the period (`rated_at`), of the conversations `chosen` selects (their
    ids; None: all); an advisor's own page sees only their ratings."""
    conditions = [RATINGS.c.rating.is_not(None), RATINGS.c.rated_at >= start, RATINGS.c.rated_at < end]
    if advisor_id is not None:
        conditions.append(RATINGS.c.advisor_id == advisor_id)
    if chosen is not None:
        conditions.append(RATINGS.c.conversation_id.in_(chosen))
    base = select(RATINGS.c.advisor_id, RATINGS.c.rating).where(*conditions).subquery()
    count, average = session.execute(select(func.count(), func.avg(base.c.rating))).one()
    rows = session.execute(
        select(base.c.advisor_id, func.coalesce(Advisor.name, ""), func.count(), func.avg(base.c.rating))
        .outerjoin(Advisor, Advisor.id == base.c.advisor_id)
        .group_by(base.c.advisor_id, Advisor.name)
    ).all()
    per_advisor = sorted(
        (AdvisorCsat(int(a or 0), str(name) or "Okänd rådgivare", int(n), float(avg)) for a, name, n, avg in rows),
        key=lambda row: (-row.average, row.name),
    )
    return CsatFigures(int(count), float(average) if average is not None else None, per_advisor)
