"""directory review: the source page of each entry, what an admin must check, published phone

Revision ID: 0004_directory_review
Revises: 0003
Create Date: 2026-12-04

"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision: str = '0004_directory_review'
down_revision: Union[str, Sequence[str], None] = '0003'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None

REVIEWED_TABLES = ('organisations', 'schemes', 'topics')


def upgrade() -> None:
    """Upgrade schema."""
    for table in REVIEWED_TABLES:
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.add_column(sa.Column('source_url', sa.Text(), server_default='', nullable=False))
            batch_op.add_column(sa.Column('to_check', sa.Text(), server_default='', nullable=False))
    with op.batch_alter_table('organisations', schema=None) as batch_op:
        batch_op.add_column(sa.Column('publishes_phone', sa.Boolean(), nullable=True))


def downgrade() -> None:
    """Downgrade schema."""
    with op.batch_alter_table('organisations', schema=None) as batch_op:
        batch_op.drop_column('publishes_phone')
    for table in reversed(REVIEWED_TABLES):
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.drop_column('to_check')
            batch_op.drop_column('source_url')
