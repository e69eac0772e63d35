"""inbox: advisor presence and capacity, canned replies, transcript e-mails, closed-chat search

Advisors get a presence of their own choosing (available/away), a cap on concurrent
chats and the time they were last given a chat; conversations remember who closed them,
the company's question, and the company's name and e-mail as the advisor knows them.
Shared canned replies start with a Swedish set (advisors edit them in the console).

Revision ID: 0005_inbox
Revises: 0011_message_nlu
Create Date: 2026-12-04

"""
from typing import Sequence, Union

import datetime as dt

from alembic import op
import sqlalchemy as sa

# Shared canned replies every installation starts with (placeholders: bot/rules/canned.py).
DEFAULT_CANNED = [
    ("Hälsning",
     "Hej! Jag heter {rådgivare} och är rådgivare på Västmanlands Företagssupport. "
     "Jag har läst det du skrev till vår digitala assistent. Hur kan jag hjälpa dig?"),
    ("Ett ögonblick", "Ett ögonblick, jag tar reda på det åt dig."),
    ("Fråga om företaget", "Vad heter företaget, i vilken kommun finns ni och hur många är ni anställda?"),
    ("Ringa upp",
     "Vill du att vi ringer upp i stället? Skriv ditt telefonnummer och när det passar, "
     "så hör {rådgivare_förnamn} av sig."),
    ("Återkommer",
     "Tack! Jag tar reda på det och återkommer till {företag} senast nästa arbetsdag."),
    ("Avslutning",
     "Tack för att du hörde av dig, {kontaktperson}! Hör gärna av dig igen om du undrar något mer. "
     "Vänliga hälsningar, {rådgivare}, Västmanlands Företagssupport"),
]


revision: str = '0005_inbox'
down_revision: Union[str, Sequence[str], None] = '0011_message_nlu'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    op.create_table('canned_replies',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('title', sa.String(length=200), nullable=False),
    sa.Column('body', sa.Text(), nullable=False),
    sa.Column('created_by', sa.Integer(), nullable=True),
    sa.Column('updated_by', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['created_by'], ['advisors.id'], name=op.f('fk_canned_replies_created_by_advisors'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['updated_by'], ['advisors.id'], name=op.f('fk_canned_replies_updated_by_advisors'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_canned_replies'))
    )
    op.create_table('transcript_emails',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('conversation_id', sa.String(length=64), nullable=False),
    sa.Column('recipient', sa.String(length=254), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('next_attempt_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('requested_by', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('sent_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('error', sa.Text(), nullable=True),
    sa.ForeignKeyConstraint(['conversation_id'], ['conversations.id'], name=op.f('fk_transcript_emails_conversation_id_conversations'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['requested_by'], ['advisors.id'], name=op.f('fk_transcript_emails_requested_by_advisors'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_transcript_emails'))
    )
    with op.batch_alter_table('transcript_emails', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_transcript_emails_conversation_id'), ['conversation_id'], unique=False)
        batch_op.create_index('ix_transcript_emails_status_next', ['status', 'next_attempt_at'], unique=False)

    with op.batch_alter_table('advisors', schema=None) as batch_op:
        batch_op.add_column(sa.Column('presence', sa.String(length=16), server_default='available', nullable=False))
        batch_op.add_column(sa.Column('max_chats', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('last_assigned_at', sa.DateTime(timezone=True), nullable=True))

    with op.batch_alter_table('conversations', schema=None) as batch_op:
        batch_op.add_column(sa.Column('closed_by', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('question', sa.Text(), nullable=True))
        batch_op.add_column(sa.Column('company_name', sa.String(length=200), nullable=True))
        batch_op.add_column(sa.Column('company_email', sa.String(length=254), nullable=True))
        batch_op.create_index('ix_conversations_state_closed_at', ['state', 'closed_at'], unique=False)
        batch_op.create_foreign_key(batch_op.f('fk_conversations_closed_by_advisors'), 'advisors', ['closed_by'], ['id'], ondelete='SET NULL')

    # Chats closed before this revision: who closed them is in the event log.
    op.execute(
        "UPDATE conversations SET closed_by = (SELECT e.advisor_id FROM conversation_events e "
        "WHERE e.conversation_id = conversations.id AND e.kind = 'closed' ORDER BY e.id DESC LIMIT 1) "
        "WHERE state = 'closed'"
    )
    canned = sa.table(
        'canned_replies',
        sa.column('title', sa.String), sa.column('body', sa.Text),
        sa.column('created_at', sa.DateTime(timezone=True)), sa.column('updated_at', sa.DateTime(timezone=True)),
    )
    now = dt.datetime.now(dt.timezone.utc)
    op.bulk_insert(canned, [
        {'title': title, 'body': body, 'created_at': now, 'updated_at': now} for title, body in DEFAULT_CANNED
    ])


def downgrade() -> None:
    with op.batch_alter_table('conversations', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_conversations_closed_by_advisors'), type_='foreignkey')
        batch_op.drop_index('ix_conversations_state_closed_at')
        batch_op.drop_column('company_email')
        batch_op.drop_column('company_name')
        batch_op.drop_column('question')
        batch_op.drop_column('closed_by')

    with op.batch_alter_table('advisors', schema=None) as batch_op:
        batch_op.drop_column('last_assigned_at')
        batch_op.drop_column('max_chats')
        batch_op.drop_column('presence')

    with op.batch_alter_table('transcript_emails', schema=None) as batch_op:
        batch_op.drop_index('ix_transcript_emails_status_next')
        batch_op.drop_index(batch_op.f('ix_transcript_emails_conversation_id'))

    op.drop_table('transcript_emails')
    op.drop_table('canned_replies')
