"""hardening: when the company was last seen in each conversation

An open widget socket of a queued chat refreshes it; a queued chat whose company has
neither been seen nor written for QUEUE_ABANDON_SECONDS leaves the queue.

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
