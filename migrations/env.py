"""Alembic environment: one history for every table of the product."""

from __future__ import annotations

from alembic import context

import bot.admin.review.models  # (registers the reviewed messages)
import bot.conversation.models  # noqa: F401  (registers the conversation tables)
import content.models  # noqa: F401  (registers intents, examples, responses, dialogue)
import core.audit  # (registers the audit log)
import core.serving  # noqa: F401  (registers the serving table)
import directory.models  # noqa: F401  (registers the directory tables)
import training.models  # noqa: F401  (registers the training jobs and the model registry)
from core.db import Base, make_engine
from core.settings import load_settings

config = context.config
target_metadata = Base.metadata


def database_url() -> str:
    # A caller (tests, the migrate command) may pass a URL explicitly.
    explicit = config.attributes.get("database_url")
    return str(explicit) if explicit else load_settings().database_url


def run_migrations() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        _run(connection)
        return
    engine = make_engine(database_url())
    with engine.connect() as conn:
        _run(conn)
    engine.dispose()


def _run(connection: object) -> None:
    context.configure(
        connection=connection,  # type: ignore[arg-type]
        target_metadata=target_metadata,
        compare_type=True,
        render_as_batch=True,  # SQLite needs batch mode to alter tables
    )
    with context.begin_transaction():
        context.run_migrations()


run_migrations()
