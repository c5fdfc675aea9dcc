"""Knowledge-base search through an own inverted index on every database: the postings table
(one row per word of each published article, and per word of its title), filled here for the
articles already there, in place of the per-database structures of 0009 (the GIN expression
index, the FULLTEXT indexes, the FTS5 table), which its downgrade builds again.

Revision ID: 0020_kb_search_vector
Revises: 0019_skills_capacity
Create Date: 2026-12-03
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from flask_escalated.models.kb import (
    LEGACY_FTS_FILL,
    LEGACY_SEARCH_DDL,
    LEGACY_SEARCH_DROP,
    MAX_TERM_LENGTH,
)
from flask_escalated.services.kb_search import fill_index

revision: str = "0020_kb_search_vector"
down_revision: str | None = "0019_skills_capacity"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
POSTINGS = "escalated_kb_postings"
ARTICLES = "escalated_kb_articles"
TERM = sa.String(length=MAX_TERM_LENGTH).with_variant(
    sa.dialects.mysql.VARCHAR(MAX_TERM_LENGTH, collation="utf8mb4_bin"), "mysql", "mariadb"
)


def upgrade() -> None:
    dialect = op.get_bind().dialect.name
    for statement in LEGACY_SEARCH_DROP.get(dialect, ()):
        op.execute(statement)
    op.create_table(
        POSTINGS,
        sa.Column("term", TERM, nullable=False),
        sa.Column("field", sa.SmallInteger(), nullable=False),
        sa.Column("article_id", ID, autoincrement=False, nullable=False),
        sa.Column("public", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(
            ["article_id"],
            [ARTICLES + ".id"],
            name=op.f(f"fk_{POSTINGS}_article_id_{ARTICLES}"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("term", "field", "article_id", name=op.f(f"pk_{POSTINGS}")),
        sqlite_with_rowid=False,
    )
    op.create_index(op.f(f"ix_{POSTINGS}_article_id"), POSTINGS, ["article_id"])
    fill_index(op.get_bind())


def downgrade() -> None:
    dialect = op.get_bind().dialect.name
    op.drop_table(POSTINGS)  # with its index (MariaDB keeps it while the foreign key lives)
    for statement in LEGACY_SEARCH_DDL.get(dialect, ()):
        op.execute(statement)
    if dialect == "sqlite":
        op.execute(LEGACY_FTS_FILL)
