"""hardening: when the company was last seen in each conversation

A widget socket refreshes it while it is open, and every company message sets it; a
queued chat whose company has not been seen for QUEUE_ABANDON_SECONDS leaves the queue.

Revision ID: 0014_hardening
Revises: 0005_inbox
Create Date: 2026-12-04

"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa

revision: str = '0014_hardening'
down_revision: Union[str, Sequence[str], None] = '0005_inbox'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    with op.batch_alter_table("conversations") as batch:
        batch.add_column(sa.Column("company_seen_at", sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("conversations") as batch:
        batch.drop_column("company_seen_at")
