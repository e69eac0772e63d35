"""content: intents, examples, responses and dialogue blocks in the database; versions
for optimistic locking on the directory; reviewed company messages

Revision ID: 0009_content
Revises: 0008_audit
Create Date: 2026-12-04

"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa


revision: str = '0009_content'
down_revision: Union[str, Sequence[str], None] = '0008_audit'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    op.create_table('intents',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('name', sa.String(length=100), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('description', sa.Text(), server_default='', nullable=False),
    sa.Column('action', sa.String(length=100), server_default='', nullable=False),
    sa.Column('response', sa.String(length=100), nullable=True),
    sa.Column('rule_title', sa.String(length=200), server_default='', nullable=False),
    sa.Column('nlu_file', sa.String(length=100), nullable=False),
    sa.Column('position', sa.Integer(), server_default='0', nullable=False),
    sa.Column('retired', sa.Boolean(), server_default='0', nullable=False),
    sa.Column('version', sa.Integer(), server_default='1', nullable=False),
    sa.Column('seed_hash', sa.String(length=64), nullable=True),
    sa.Column('updated_at', sa.DateTime(timezone=True), server_default=sa.text('(CURRENT_TIMESTAMP)'), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_intents')),
    sa.UniqueConstraint('name', name=op.f('uq_intents_name'))
    )
    op.create_table('examples',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('intent_id', sa.Integer(), nullable=False),
    sa.Column('text', sa.Text(), nullable=False),
    sa.Column('key', sa.String(length=64), nullable=False),
    sa.Column('source', sa.String(length=16), server_default='seed', nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('(CURRENT_TIMESTAMP)'), nullable=False),
    sa.Column('version', sa.Integer(), server_default='1', nullable=False),
    sa.ForeignKeyConstraint(['intent_id'], ['intents.id'], name=op.f('fk_examples_intent_id_intents'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_examples')),
    sa.UniqueConstraint('key', name=op.f('uq_examples_key'))
    )
    with op.batch_alter_table('examples', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_examples_intent_id'), ['intent_id'], unique=False)
    op.create_table('responses',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('name', sa.String(length=100), nullable=False),
    sa.Column('variations', sa.JSON(), nullable=False),
    sa.Column('position', sa.Integer(), server_default='0', nullable=False),
    sa.Column('version', sa.Integer(), server_default='1', nullable=False),
    sa.Column('seed_hash', sa.String(length=64), nullable=True),
    sa.Column('updated_at', sa.DateTime(timezone=True), server_default=sa.text('(CURRENT_TIMESTAMP)'), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_responses')),
    sa.UniqueConstraint('name', name=op.f('uq_responses_name'))
    )
    op.create_table('dialogue_blocks',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('file', sa.String(length=100), nullable=False),
    sa.Column('body', sa.JSON(), nullable=False),
    sa.Column('position', sa.Integer(), server_default='0', nullable=False),
    sa.Column('seed_hash', sa.String(length=64), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_dialogue_blocks')),
    sa.UniqueConstraint('kind', 'name', name='uq_dialogue_blocks_kind_name')
    )
    op.create_table('reviewed_messages',
    sa.Column('message_id', sa.Integer(), nullable=False),
    sa.Column('outcome', sa.String(length=16), nullable=False),
    sa.Column('intent', sa.String(length=100), nullable=True),
    sa.Column('reviewed_by', sa.Integer(), nullable=True),
    sa.Column('reviewed_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['message_id'], ['messages.id'], name=op.f('fk_reviewed_messages_message_id_messages'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['reviewed_by'], ['advisors.id'], name=op.f('fk_reviewed_messages_reviewed_by_advisors'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('message_id', name=op.f('pk_reviewed_messages'))
    )
    for table in ('organisations', 'schemes', 'topics'):
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.add_column(sa.Column('version', sa.Integer(), server_default='1', nullable=False))


def downgrade() -> None:
    for table in ('topics', 'schemes', 'organisations'):
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.drop_column('version')
    op.drop_table('reviewed_messages')
    op.drop_table('dialogue_blocks')
    op.drop_table('responses')
    with op.batch_alter_table('examples', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_examples_intent_id'))
    op.drop_table('examples')
    op.drop_table('intents')
