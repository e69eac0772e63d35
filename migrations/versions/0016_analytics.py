"""analytics: indexes for the figures, the company's municipality and size per message, stored lägesbild reports

The analytics page filters by municipality and company size: the NLU copy (message_nlu)
now keeps them, read from the message's entities. Existing rows get them from the
entities already stored. Reports of the weekly lägesbild are stored as generated.

Revision ID: 0016_analytics
Revises: 0005_inbox
Create Date: 2026-12-04

"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa


revision: str = '0016_analytics'
down_revision: Union[str, Sequence[str], None] = '0013_privacy'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    # Covering indexes: each analytics query reads its index alone, not the rows.
    with op.batch_alter_table('conversations', schema=None) as batch_op:
        batch_op.create_index('ix_conversations_created_at', ['created_at', 'channel', 'id'], unique=False)
    with op.batch_alter_table('messages', schema=None) as batch_op:
        batch_op.create_index('ix_messages_conversation_role_created', ['conversation_id', 'role', 'created_at'],
                              unique=False)
    with op.batch_alter_table('conversation_events', schema=None) as batch_op:
        batch_op.create_index('ix_conversation_events_kind_conversation', ['kind', 'advisor_id', 'conversation_id'],
                              unique=False)
    with op.batch_alter_table('queue_entries', schema=None) as batch_op:
        batch_op.create_index('ix_queue_entries_enqueued_claimed',
                              ['enqueued_at', 'claimed_at', 'claimed_by', 'conversation_id'], unique=False)
    with op.batch_alter_table('message_nlu', schema=None) as batch_op:
        batch_op.add_column(sa.Column('municipality', sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column('company_size', sa.String(length=16), nullable=True))
        batch_op.create_index('ix_message_nlu_at_intent', ['at', 'intent', 'referral_target', 'conversation_id'],
                              unique=False)
        batch_op.create_index('ix_message_nlu_conversation_intent',
                              ['conversation_id', 'intent', 'referral_target', 'at'], unique=False)
        batch_op.create_index('ix_message_nlu_municipality', ['municipality', 'conversation_id'], unique=False)
        batch_op.create_index('ix_message_nlu_company_size', ['company_size', 'conversation_id'], unique=False)
    _fill_facets()
    op.create_table('lagesbild_reports',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('week_start', sa.Date(), nullable=False),
    sa.Column('scheduled_week', sa.Date(), nullable=True),
    sa.Column('generated_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('generated_by', sa.Integer(), nullable=True),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('data', sa.JSON(), nullable=False),
    sa.ForeignKeyConstraint(['generated_by'], ['advisors.id'], name=op.f('fk_lagesbild_reports_generated_by_advisors'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_lagesbild_reports'))
    )
    with op.batch_alter_table('lagesbild_reports', schema=None) as batch_op:
        batch_op.create_index('ix_lagesbild_reports_week', ['week_start'], unique=False)
        batch_op.create_index('uq_lagesbild_reports_scheduled_week', ['scheduled_week'], unique=True)


def _fill_facets() -> None:
    """Municipality and size class of the rows copied before this revision (their entities)."""
    from bot.rules.analytics import company_facets

    nlu = sa.table('message_nlu', sa.column('conversation_id', sa.String), sa.column('seq', sa.Integer),
                   sa.column('entities', sa.JSON), sa.column('municipality', sa.String),
                   sa.column('company_size', sa.String))
    bind = op.get_bind()
    rows = bind.execute(sa.select(nlu.c.conversation_id, nlu.c.seq, nlu.c.entities)).all()
    for conversation_id, seq, entities in rows:
        municipality, size = company_facets(e for e in entities or [] if isinstance(e, dict))
        if municipality or size:
            bind.execute(nlu.update().where(nlu.c.conversation_id == conversation_id, nlu.c.seq == seq)
                         .values(municipality=municipality, company_size=size))


def downgrade() -> None:
    with op.batch_alter_table('lagesbild_reports', schema=None) as batch_op:
        batch_op.drop_index('uq_lagesbild_reports_scheduled_week')
        batch_op.drop_index('ix_lagesbild_reports_week')
    op.drop_table('lagesbild_reports')
    with op.batch_alter_table('message_nlu', schema=None) as batch_op:
        batch_op.drop_index('ix_message_nlu_company_size')
        batch_op.drop_index('ix_message_nlu_municipality')
        batch_op.drop_index('ix_message_nlu_conversation_intent')
        batch_op.drop_index('ix_message_nlu_at_intent')
        batch_op.drop_column('company_size')
        batch_op.drop_column('municipality')
    with op.batch_alter_table('queue_entries', schema=None) as batch_op:
        batch_op.drop_index('ix_queue_entries_enqueued_claimed')
    with op.batch_alter_table('conversation_events', schema=None) as batch_op:
        batch_op.drop_index('ix_conversation_events_kind_conversation')
    with op.batch_alter_table('messages', schema=None) as batch_op:
        batch_op.drop_index('ix_messages_conversation_role_created')
    with op.batch_alter_table('conversations', schema=None) as batch_op:
        batch_op.drop_index('ix_conversations_created_at')
