"""Bring the database up to date: run the Alembic migrations, then seed the directory and
the content (intents, examples, responses, dialogue: content/seed.py).

`.venv/bin/python -m scripts.db` (idempotent; `make run` and the tests call it).
"""

from __future__ import annotations

import argparse
import sys

from alembic import command
from alembic.config import Config

from content.seed import seed_content
from core.db import make_engine, make_sessionmaker, transaction
from core.settings import PROJECT_ROOT, load_settings
from directory.seed import seed_directory


def alembic_config(database_url: str) -> Config:
    """Alembic's configuration for the one migration history, pointed at `database_url`."""
    config = Config(str(PROJECT_ROOT / "alembic.ini"))
    config.attributes["database_url"] = database_url
    return config


def upgrade(database_url: str) -> None:
    command.upgrade(alembic_config(database_url), "head")


def seed(database_url: str, *, with_content: bool = True) -> str:
    """Seed the directory, then (unless told not to) the content, in one transaction."""
    engine = make_engine(database_url)
    try:
        with transaction(make_sessionmaker(engine)) as session:
            summary = f"directory: {seed_directory(session).summary()}"
            if with_content:
                summary += f"\ncontent: {seed_content(session).summary()}"
            return summary
    finally:
        engine.dispose()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--url", help="database URL (default: DATABASE_URL from the settings)")
    parser.add_argument("--no-seed", action="store_true")
    args = parser.parse_args(argv)
    url = args.url or load_settings().database_url
    upgrade(url)
    if not args.no_seed:
        print(f"Seeded.\n{seed(url)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
