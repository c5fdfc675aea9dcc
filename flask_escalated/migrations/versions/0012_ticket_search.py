"""Full-text ticket search: one search document per ticket, each database's index over it,
and the documents of the tickets already there.

Revision ID: 0012_ticket_search
Revises: 0011_response_timings
Create Date: 2026-12-03
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from flask_escalated.models.search import (
    SEARCH_DROP_DDL,
    SEARCH_STRUCTURE_DDL,
    SEARCH_TABLE,
)

revision: str = '0012_ticket_search'
down_revision: str | None = '0011_response_timings'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ID = sa.BigInteger().with_variant(sa.Integer(), 'sqlite')
LONG_TEXT = sa.Text().with_variant(sa.dialects.mysql.MEDIUMTEXT(), 'mysql', 'mariadb')


def upgrade() -> None:
    op.create_table(SEARCH_TABLE,
    sa.Column('ticket_id', ID, autoincrement=False, nullable=False),
    sa.Column('title_text', LONG_TEXT, nullable=False),
    sa.Column('public_text', LONG_TEXT, nullable=False),
    sa.Column('note_text', LONG_TEXT, nullable=False),
    sa.ForeignKeyConstraint(['ticket_id'], ['escalated_tickets.id'],
                            name=op.f('fk_escalated_ticket_search_ticket_id_escalated_tickets'),
                            ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('ticket_id', name=op.f('pk_escalated_ticket_search'))
    )
    bind = op.get_bind()
    # tsvector columns and GIN indexes, FULLTEXT indexes, or an FTS5 table with its triggers.
    for statement in SEARCH_STRUCTURE_DDL.get(bind.dialect.name, ()):
        op.execute(statement)
    # The documents of the tickets already there (batch-wise; the same code as
    # `flask escalated reindex-tickets`).
    from flask_escalated.services.ticket_search import reindex

    for _ in reindex(lambda: bind, lambda: None):
        pass


def downgrade() -> None:
    for statement in SEARCH_DROP_DDL.get(op.get_bind().dialect.name, ()):
        op.execute(statement)
    op.drop_table(SEARCH_TABLE)
