"""Which Rasa server answers, shared by the supervisor (which starts Rasa servers) and every
gateway (which sends turns to it): one row, `rasa_serving`.

Activating a model without downtime is a hand-over through this row:
1. an admin asks for a model (`request_model`: `requested_model` is set);
2. the supervisor starts a second Rasa server with it on another port and waits until its
   `/status` reports that model;
3. it switches the row to the new server in one conditional UPDATE (`generation` + 1);
4. every gateway sees the new generation within a second and sends new turns there, while
   turns already under way finish on the old server;
   with several Rasa servers on the machine (REPLICAS), as many new ones start and the row
   names them all (`active_url` holds their addresses, comma-separated);
5. after a grace period the supervisor stops the old server.
A failed start leaves the active server as it was and says why in `message`.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import DateTime, Integer, String, Text, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, Session, mapped_column

from core.db import Base

ROW_ID = 1

READY = "ready"  # the active server answers; nothing is being started
STARTING = "starting"  # a requested model is being loaded by a second server
FAILED = "failed"  # the last request could not be served (see message); the active one still is


class RasaServing(Base):
    __tablename__ = "rasa_serving"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    generation: Mapped[int] = mapped_column(Integer, default=0)
    active_model: Mapped[str] = mapped_column(String(255), default="")  # a file name in MODEL_DIR
    active_url: Mapped[str] = mapped_column(String(255), default="")
    requested_model: Mapped[str | None] = mapped_column(String(255))
    requested_by: Mapped[str | None] = mapped_column(String(255))
    requested_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    state: Mapped[str] = mapped_column(String(16), default=READY)
    message: Mapped[str] = mapped_column(Text, default="")
    updated_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))


@dataclass(frozen=True)
class Serving:
    generation: int
    active_model: str
    active_url: str
    requested_model: str | None
    state: str
    message: str


def join_urls(urls: list[str]) -> str:
    """The serving row's `active_url` for one or several Rasa servers."""
    return ",".join(url.rstrip("/") for url in urls)


def split_urls(active_url: str) -> list[str]:
    """The Rasa servers a serving row names (see `join_urls`)."""
    return [url.strip().rstrip("/") for url in active_url.split(",") if url.strip()]


def _view(row: RasaServing) -> Serving:
    return Serving(row.generation, row.active_model, row.active_url, row.requested_model, row.state, row.message)


def _now() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc)


# ---------------------------------------------------------------- the supervisor (sync)


def read(session: Session) -> Serving | None:
    row = session.get(RasaServing, ROW_ID)
    return _view(row) if row is not None else None


def activate(session: Session, model: str, url: str, expected_generation: int | None) -> bool:
    """Make `url` (serving `model`) the active server. With `expected_generation`, only if
    nobody switched in between. Clears the request when it was for this model."""
    row = session.get(RasaServing, ROW_ID)
    if row is None:
        session.add(RasaServing(id=ROW_ID, generation=1, active_model=model, active_url=url, state=READY,
                                message="", updated_at=_now()))
        return True
    if expected_generation is not None and row.generation != expected_generation:
        return False
    row.generation += 1
    row.active_model, row.active_url = model, url
    if row.requested_model == model:
        row.requested_model = row.requested_by = None
        row.requested_at = None
    row.state, row.message, row.updated_at = READY, "", _now()
    return True


def mark(session: Session, state: str, message: str, clear_request: bool = False) -> None:
    values: dict[str, object] = {"state": state, "message": message, "updated_at": _now()}
    if clear_request:
        values.update(requested_model=None, requested_by=None, requested_at=None)
    session.execute(update(RasaServing).where(RasaServing.id == ROW_ID).values(**values))


def request(session: Session, model: str, by: str) -> Serving | None:
    """`request_model` in a synchronous session (the admin's changes run through
    `run_sync` so that the audit entry commits with them). Returns the state before."""
    row = session.get(RasaServing, ROW_ID)
    before = _view(row) if row is not None else None
    if row is None:
        row = RasaServing(id=ROW_ID, generation=0, active_model="", active_url="")
        session.add(row)
    row.requested_model, row.requested_by, row.requested_at = model, by, _now()
    row.state, row.message, row.updated_at = STARTING, "", _now()
    return before


# ---------------------------------------------------------------- the admin and the gateway (async)


async def request_model(session: AsyncSession, model: str, by: str) -> None:
    """Ask the supervisor to serve `model` (a file name in MODEL_DIR)."""
    row = await session.get(RasaServing, ROW_ID)
    if row is None:
        row = RasaServing(id=ROW_ID, generation=0, active_model="", active_url="")
        session.add(row)
    row.requested_model, row.requested_by, row.requested_at = model, by, _now()
    row.state, row.message, row.updated_at = STARTING, "", _now()


async def current(session: AsyncSession) -> Serving | None:
    row = await session.scalar(select(RasaServing).where(RasaServing.id == ROW_ID))
    return _view(row) if row is not None else None
