"""The action server's database access, created on first use (never at import time)."""

from __future__ import annotations

from sqlalchemy.orm import Session, sessionmaker

from core.db import make_engine, make_sessionmaker
from core.settings import load_settings

_factory: sessionmaker[Session] | None = None


def sessions() -> sessionmaker[Session]:
    global _factory
    if _factory is None:
        _factory = make_sessionmaker(make_engine(load_settings().database_url))
    return _factory


def use_sessions(factory: sessionmaker[Session] | None) -> None:
    """Point the actions at another database (tests); None goes back to the settings."""
    global _factory
    _factory = factory
