"""Knowledge-base search on PostgreSQL: two stored ``tsvector`` columns (the weighted document
and the title alone) kept current by a trigger, each with a GIN index, in place of the GIN
expression index (``ts_rank`` had to parse every match's text again). The columns are filled
for the articles already there by one ``UPDATE``; ``toast_tuple_target`` 128 keeps rows written
from now on narrow. Other databases are unchanged.

Revision ID: 0020_kb_search_vector
Revises: 0019_skills_capacity
Create Date: 2026-12-03
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

from flask_escalated.models.kb import PG_DOCUMENT, PG_SEARCH_UNDO, SEARCH_DDL

revision: str = '0020_kb_search_vector'
down_revision: str | None = '0019_skills_capacity'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

#: The expression index migration 0009 built.
PG_EXPRESSION_INDEX = 'ix_escalated_kb_articles_search'


def upgrade() -> None:
    if op.get_bind().dialect.name != 'postgresql':
        return
    op.execute(f'DROP INDEX IF EXISTS {PG_EXPRESSION_INDEX}')
    # Column, trigger, set-based backfill, then the indexes (built once, over the filled column).
    for statement in SEARCH_DDL['postgresql']:
        op.execute(statement)


def downgrade() -> None:
    if op.get_bind().dialect.name != 'postgresql':
        return
    for statement in PG_SEARCH_UNDO:
        op.execute(statement)
    op.execute(f'CREATE INDEX {PG_EXPRESSION_INDEX} ON escalated_kb_articles '
               f'USING gin ({PG_DOCUMENT})')
