"""inbound mailbox outage alerts: when the current outage began and when its email groups were told

Revision ID: ce02a02f7e38
Revises: 82add7501b82
Create Date: 2026-11-23 12:10:32.993843
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
import postdesk.db


revision: str = 'ce02a02f7e38'
down_revision: str | None = '82add7501b82'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('inbound_mailboxes', schema=None) as batch_op:
        batch_op.add_column(sa.Column('failing_since', postdesk.db.UTCDateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('alerted_at', postdesk.db.UTCDateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('inbound_mailboxes', schema=None) as batch_op:
        batch_op.drop_column('alerted_at')
        batch_op.drop_column('failing_since')
