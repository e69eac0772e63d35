"""roles: an account is an advisor or an admin

Revision ID: 0007_roles
Revises: 0006_serving
Create Date: 2026-12-04

"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa


revision: str = '0007_roles'
down_revision: Union[str, Sequence[str], None] = '0006_serving'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    with op.batch_alter_table('advisors', schema=None) as batch_op:
        batch_op.add_column(sa.Column('role', sa.String(length=16), nullable=False, server_default='advisor'))


def downgrade() -> None:
    with op.batch_alter_table('advisors', schema=None) as batch_op:
        batch_op.drop_column('role')
