"""serving: which Rasa server answers (written by the supervisor, read by every gateway)

Revision ID: 0006_serving
Revises: 0004_directory_review
Create Date: 2026-12-04

"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa


revision: str = '0006_serving'
down_revision: Union[str, Sequence[str], None] = '0004_directory_review'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    op.create_table('rasa_serving',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('generation', sa.Integer(), nullable=False),
    sa.Column('active_model', sa.String(length=255), nullable=False),
    sa.Column('active_url', sa.String(length=255), nullable=False),
    sa.Column('requested_model', sa.String(length=255), nullable=True),
    sa.Column('requested_by', sa.String(length=255), nullable=True),
    sa.Column('requested_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('state', sa.String(length=16), nullable=False),
    sa.Column('message', sa.Text(), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_rasa_serving'))
    )


def downgrade() -> None:
    op.drop_table('rasa_serving')
