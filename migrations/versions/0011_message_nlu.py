"""message_nlu: what the bot understood of each company message; sync cursors

Revision ID: 0011_message_nlu
Revises: 0009_content
Create Date: 2026-12-04

"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa


revision: str = '0011_message_nlu'
down_revision: Union[str, Sequence[str], None] = '0009_content'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    op.create_table('message_nlu',
    sa.Column('conversation_id', sa.String(length=64), nullable=False),
    sa.Column('seq', sa.Integer(), nullable=False),
    sa.Column('at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('intent', sa.String(length=64), nullable=True),
    sa.Column('confidence', sa.Float(), nullable=True),
    sa.Column('entities', sa.JSON(), nullable=False),
    sa.Column('referral_target', sa.String(length=64), nullable=True),
    sa.ForeignKeyConstraint(['conversation_id'], ['conversations.id'], name=op.f('fk_message_nlu_conversation_id_conversations'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('conversation_id', 'seq', name=op.f('pk_message_nlu'))
    )
    with op.batch_alter_table('message_nlu', schema=None) as batch_op:
        batch_op.create_index('ix_message_nlu_at', ['at'], unique=False)
        batch_op.create_index('ix_message_nlu_intent', ['intent'], unique=False)
    op.create_table('sync_cursors',
    sa.Column('name', sa.String(length=64), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('name', name=op.f('pk_sync_cursors'))
    )


def downgrade() -> None:
    op.drop_table('sync_cursors')
    with op.batch_alter_table('message_nlu', schema=None) as batch_op:
        batch_op.drop_index('ix_message_nlu_intent')
        batch_op.drop_index('ix_message_nlu_at')
    op.drop_table('message_nlu')
