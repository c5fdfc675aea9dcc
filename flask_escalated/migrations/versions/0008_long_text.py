"""Bodies as MEDIUMTEXT on MySQL/MariaDB, whose TEXT stops at 64 KiB.

Ticket descriptions and replies may hold ``ESCALATED_MAX_BODY_LENGTH`` characters (200,000 by
default), several times what TEXT holds once multi-byte characters count; webhook bodies and
outgoing mail carry those bodies too. Other databases' TEXT has no such limit: no change there.

Revision ID: 0008_long_text
Revises: 0007_guest_access
Create Date: 2026-12-01
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import mysql

revision: str = '0008_long_text'
down_revision: str | None = '0007_guest_access'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

COLUMNS = (
    ('escalated_tickets', 'description'),
    ('escalated_replies', 'body'),
    ('escalated_webhook_deliveries', 'body'),
    ('escalated_outbound_emails', 'text_body'),
    ('escalated_outbound_emails', 'html_body'),
)


def _retype(old: sa.types.TypeEngine, new: sa.types.TypeEngine) -> None:
    if op.get_bind().dialect.name != 'mysql':
        return
    for table, column in COLUMNS:
        op.alter_column(table, column, existing_type=old, type_=new, existing_nullable=False)


def upgrade() -> None:
    _retype(sa.Text(), mysql.MEDIUMTEXT())


def downgrade() -> None:
    _retype(mysql.MEDIUMTEXT(), sa.Text())
