"""join parallel branches

Revision ID: 82add7501b82
Revises: 03a0a8759852, 40bbb71eaa4e, 475dc51a9014, 74f40dfb2883
Create Date: 2026-11-23 10:51:52.961957
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
import postdesk.db


revision: str = '82add7501b82'
down_revision: str | None = ('03a0a8759852', '40bbb71eaa4e', '475dc51a9014', '74f40dfb2883')
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
