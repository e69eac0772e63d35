"""channels: conversation event log, outbox cursors and receipts, inbound receipts

Conversations get a channel address and the person's display name; the REST endpoint's
own cursor (`rest_delivered_seq`) becomes a row in the outbox's `deliveries`, like every
channel's; the gateway's unused fallback count (`not_understood`) goes (the bot decides).

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-04

"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa


revision: str = '0003'
down_revision: Union[str, Sequence[str], None] = '0002'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    op.create_table('conversation_events',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('conversation_id', sa.String(length=64), nullable=False),
    sa.Column('kind', sa.String(length=32), nullable=False),
    sa.Column('at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('channel', sa.String(length=16), nullable=False),
    sa.Column('advisor_id', sa.Integer(), nullable=True),
    sa.Column('data', sa.JSON(), nullable=False),
    sa.ForeignKeyConstraint(['advisor_id'], ['advisors.id'], name=op.f('fk_conversation_events_advisor_id_advisors'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['conversation_id'], ['conversations.id'], name=op.f('fk_conversation_events_conversation_id_conversations'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_conversation_events'))
    )
    with op.batch_alter_table('conversation_events', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_conversation_events_conversation_id'), ['conversation_id'], unique=False)
        batch_op.create_index('ix_conversation_events_kind_at', ['kind', 'at'], unique=False)

    op.create_table('deliveries',
    sa.Column('conversation_id', sa.String(length=64), nullable=False),
    sa.Column('channel', sa.String(length=16), nullable=False),
    sa.Column('delivered_seq', sa.Integer(), nullable=False),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('next_attempt_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('lease_until', sa.DateTime(timezone=True), nullable=True),
    sa.Column('last_error', sa.Text(), nullable=True),
    sa.ForeignKeyConstraint(['conversation_id'], ['conversations.id'], name=op.f('fk_deliveries_conversation_id_conversations'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('conversation_id', name=op.f('pk_deliveries'))
    )
    with op.batch_alter_table('deliveries', schema=None) as batch_op:
        batch_op.create_index('ix_deliveries_channel_next', ['channel', 'next_attempt_at'], unique=False)

    op.create_table('delivery_receipts',
    sa.Column('message_id', sa.Integer(), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('external_id', sa.String(length=255), nullable=True),
    sa.Column('started_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('finished_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('error', sa.Text(), nullable=True),
    sa.ForeignKeyConstraint(['message_id'], ['messages.id'], name=op.f('fk_delivery_receipts_message_id_messages'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('message_id', name=op.f('pk_delivery_receipts'))
    )
    op.create_table('inbound_receipts',
    sa.Column('source', sa.String(length=32), nullable=False),
    sa.Column('key', sa.String(length=255), nullable=False),
    sa.Column('received_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('source', 'key', name=op.f('pk_inbound_receipts'))
    )
    with op.batch_alter_table('inbound_receipts', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_inbound_receipts_received_at'), ['received_at'], unique=False)

    # Every existing conversation gets its cursor (REST keeps where it was) and an
    # "opened" event, so the log covers old conversations too.
    op.execute(
        "INSERT INTO deliveries (conversation_id, channel, delivered_seq, attempts, next_attempt_at) "
        "SELECT id, channel, CASE WHEN channel = 'rest' THEN rest_delivered_seq ELSE last_seq END, 0, created_at "
        "FROM conversations"
    )
    op.execute(
        "INSERT INTO conversation_events (conversation_id, kind, at, channel, data) "
        "SELECT id, 'opened', created_at, channel, '{}' FROM conversations"
    )

    with op.batch_alter_table('conversations', schema=None) as batch_op:
        batch_op.add_column(sa.Column('address', sa.JSON(), nullable=True))
        batch_op.add_column(sa.Column('display_name', sa.String(length=200), nullable=True))
        batch_op.alter_column('external_id', existing_type=sa.String(length=128), type_=sa.String(length=255))
        batch_op.drop_column('rest_delivered_seq')
        batch_op.drop_column('not_understood')

    with op.batch_alter_table('messages', schema=None) as batch_op:
        batch_op.add_column(sa.Column('reply_to', sa.Integer(), nullable=True))
        batch_op.alter_column('client_id', existing_type=sa.String(length=64), type_=sa.String(length=128))


def downgrade() -> None:
    with op.batch_alter_table('messages', schema=None) as batch_op:
        batch_op.alter_column('client_id', existing_type=sa.String(length=128), type_=sa.String(length=64))
        batch_op.drop_column('reply_to')

    with op.batch_alter_table('conversations', schema=None) as batch_op:
        batch_op.add_column(sa.Column('not_understood', sa.Integer(), nullable=False, server_default='0'))
        batch_op.add_column(sa.Column('rest_delivered_seq', sa.Integer(), nullable=False, server_default='0'))
        batch_op.alter_column('external_id', existing_type=sa.String(length=255), type_=sa.String(length=128))
        batch_op.drop_column('display_name')
        batch_op.drop_column('address')

    op.execute(
        "UPDATE conversations SET rest_delivered_seq = "
        "(SELECT delivered_seq FROM deliveries WHERE deliveries.conversation_id = conversations.id) "
        "WHERE channel = 'rest'"
    )
    with op.batch_alter_table('inbound_receipts', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_inbound_receipts_received_at'))
    op.drop_table('inbound_receipts')
    op.drop_table('delivery_receipts')
    with op.batch_alter_table('deliveries', schema=None) as batch_op:
        batch_op.drop_index('ix_deliveries_channel_next')
    op.drop_table('deliveries')
    with op.batch_alter_table('conversation_events', schema=None) as batch_op:
        batch_op.drop_index('ix_conversation_events_kind_at')
        batch_op.drop_index(batch_op.f('ix_conversation_events_conversation_id'))
    op.drop_table('conversation_events')
