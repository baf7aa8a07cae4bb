"""Inbound pipeline: mailbox sync positions and health, and the ledger of fetched mail.

Revision ID: 40bbb71eaa4e
Revises: 6536f723a087
Create Date: 2026-11-23 09:34:43.885783
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import postdesk.db

revision: str = '40bbb71eaa4e'
down_revision: str | None = '6536f723a087'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('inbound_mailboxes',
    sa.Column('company_id', sa.Uuid(), nullable=False),
    sa.Column('email_server_id', sa.Uuid(), nullable=False),
    sa.Column('folder', sa.String(length=200), nullable=False),
    sa.Column('uidvalidity', sa.BigInteger(), nullable=True),
    sa.Column('last_uid', sa.BigInteger(), nullable=False),
    sa.Column('sync_since', sa.Date(), nullable=True),
    sa.Column('resyncs', sa.Integer(), nullable=False),
    sa.Column('status', sa.Enum('starting', 'ok', 'error', 'stopped', name='inbound_mailbox_status', native_enum=False, length=20), nullable=False),
    sa.Column('last_error', sa.String(length=500), nullable=False),
    sa.Column('last_error_at', postdesk.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('last_ok_at', postdesk.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('consecutive_failures', sa.Integer(), nullable=False),
    sa.Column('uses_idle', sa.Boolean(), nullable=True),
    sa.Column('fetched_total', sa.BigInteger(), nullable=False),
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('created_at', postdesk.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', postdesk.db.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['company_id'], ['companies.id'], name=op.f('fk_inbound_mailboxes_company_id_companies'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['email_server_id'], ['email_servers.id'], name=op.f('fk_inbound_mailboxes_email_server_id_email_servers'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_inbound_mailboxes')),
    sa.UniqueConstraint('email_server_id', 'folder', name=op.f('uq_inbound_mailboxes_email_server_id_folder'))
    )

    with op.batch_alter_table('inbound_mailboxes', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_inbound_mailboxes_company_id'), ['company_id'], unique=False)

    op.create_table('inbound_mails',
    sa.Column('company_id', sa.Uuid(), nullable=False),
    sa.Column('email_server_id', sa.Uuid(), nullable=False),
    sa.Column('folder', sa.String(length=200), nullable=False),
    sa.Column('uidvalidity', sa.BigInteger(), nullable=True),
    sa.Column('uid', sa.BigInteger(), nullable=True),
    sa.Column('uidl', sa.String(length=200), nullable=True),
    sa.Column('outcome', sa.Enum('ingested', 'duplicate', 'own', 'quarantined', name='inbound_mail_outcome', native_enum=False, length=20), nullable=False),
    sa.Column('message_id_header', sa.String(length=998), nullable=True),
    sa.Column('content_hash', sa.String(length=64), nullable=False),
    sa.Column('size_bytes', sa.Integer(), nullable=False),
    sa.Column('raw_key', sa.String(length=500), nullable=True),
    sa.Column('message_id', sa.Uuid(), nullable=True),
    sa.Column('interaction_id', sa.Uuid(), nullable=True),
    sa.Column('note', sa.String(length=200), nullable=False),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('error', sa.Text(), nullable=False),
    sa.Column('server_done', sa.Boolean(), nullable=False),
    sa.Column('received_at', postdesk.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('reprocessed_at', postdesk.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.ForeignKeyConstraint(['company_id'], ['companies.id'], name=op.f('fk_inbound_mails_company_id_companies'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['email_server_id'], ['email_servers.id'], name=op.f('fk_inbound_mails_email_server_id_email_servers'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['interaction_id'], ['interactions.id'], name=op.f('fk_inbound_mails_interaction_id_interactions'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['message_id'], ['messages.id'], name=op.f('fk_inbound_mails_message_id_messages'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_inbound_mails')),
    sa.UniqueConstraint('email_server_id', 'folder', 'uidvalidity', 'uid', name=op.f('uq_inbound_mails_email_server_id_folder_uidvalidity_uid')),
    sa.UniqueConstraint('email_server_id', 'uidl', name=op.f('uq_inbound_mails_email_server_id_uidl'))
    )

    with op.batch_alter_table('inbound_mails', schema=None) as batch_op:
        batch_op.create_index('ix_inbound_mails_company_outcome', ['company_id', 'outcome', 'received_at'], unique=False)
        batch_op.create_index('ix_inbound_mails_server_hash', ['email_server_id', 'content_hash'], unique=False)
        batch_op.create_index('ix_inbound_mails_server_pending', ['email_server_id', 'server_done'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('inbound_mails', schema=None) as batch_op:
        batch_op.drop_index('ix_inbound_mails_server_pending')
        batch_op.drop_index('ix_inbound_mails_server_hash')
        batch_op.drop_index('ix_inbound_mails_company_outcome')

    op.drop_table('inbound_mails')

    with op.batch_alter_table('inbound_mailboxes', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_inbound_mailboxes_company_id'))

    op.drop_table('inbound_mailboxes')
