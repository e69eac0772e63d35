"""privacy and satisfaction: the CSAT survey asked after an advisor closes a chat

One row per conversation that was asked (never a second prompt): who closed it, when the
question was asked, the rating 1-5 and the optional comment.

Revision ID: 0013_privacy
Revises: 0005_inbox
Create Date: 2026-12-04

"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa


revision: str = '0013_privacy'
down_revision: Union[str, Sequence[str], None] = '0014_hardening'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    op.create_table('csat_ratings',
    sa.Column('conversation_id', sa.String(length=64), nullable=False),
    sa.Column('advisor_id', sa.Integer(), nullable=True),
    sa.Column('channel', sa.String(length=16), nullable=False),
    sa.Column('asked_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('rating', sa.Integer(), nullable=True),
    sa.Column('rated_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('comment', sa.Text(), nullable=True),
    sa.Column('commented_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['advisor_id'], ['advisors.id'], name=op.f('fk_csat_ratings_advisor_id_advisors'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['conversation_id'], ['conversations.id'], name=op.f('fk_csat_ratings_conversation_id_conversations'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('conversation_id', name=op.f('pk_csat_ratings'))
    )
    op.create_index('ix_csat_ratings_advisor_rated', 'csat_ratings', ['advisor_id', 'rated_at'], unique=False)


def downgrade() -> None:
    op.drop_index('ix_csat_ratings_advisor_rated', table_name='csat_ratings')
    op.drop_table('csat_ratings')
