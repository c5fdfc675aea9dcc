"""The knowledge base: categories (one level of nesting), articles, helpfulness votes, and the
buffer of page views not yet folded into ``view_count``.

Full-text search needs a different structure on each database, none of which the portable
``Index`` construct can express: two stored ``tsvector`` columns (the weighted document and the
title) kept current by a trigger, each with a GIN index, on PostgreSQL, two ``FULLTEXT`` indexes on
MariaDB/MySQL and an FTS5 virtual table on SQLite. They are created here by DDL events on the
articles table (so ``create_all`` builds them) and by migrations ``0009`` and ``0020`` (so
``upgrade head`` does),
and :data:`SEARCH_INDEXES` / :data:`FTS_TABLE` name them for the migration environment, which
keeps autogenerate from proposing to drop what it cannot describe.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    DDL,
    Boolean,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    event,
)
from sqlalchemy.orm import Mapped, mapped_column

from .base import Base, BigId, JSONType, TimestampMixin, UserId, table, utcnow

KB_DRAFT, KB_PUBLISHED = "draft", "published"
KB_STATUSES = (KB_DRAFT, KB_PUBLISHED)
KB_PUBLIC, KB_INTERNAL = "public", "internal"
KB_VISIBILITIES = (KB_PUBLIC, KB_INTERNAL)

ARTICLES_TABLE = table("kb_articles")
#: The SQLite FTS5 table (rowid = article id). FTS5 adds shadow tables named after it.
FTS_TABLE = table("kb_fts")


def _pg_vector(column: str, weight: str) -> str:
    return f"setweight(to_tsvector('english'::regconfig, coalesce({column}, '')), '{weight}')"


def _pg_document(row: str = "") -> str:
    """The weighted document (title weight A, body weight B) of ``row`` (``"NEW."`` in the
    trigger, nothing in a statement over the table)."""
    return f"({_pg_vector(row + 'title', 'A')} || {_pg_vector(row + 'body_text', 'B')})"


#: PostgreSQL: the weighted document, stored in :data:`PG_VECTOR_COLUMN`, and the title's
#: vector alone, stored in :data:`PG_TITLE_COLUMN`; both kept current by a trigger (in the
#: writing transaction) and indexed by GIN. ``ts_rank`` reads the stored vector instead of
#: parsing the article again for every match, and a title match is a check of a few bytes.
PG_DOCUMENT = _pg_document()
PG_TITLE_DOCUMENT = _pg_vector("title", "A")
PG_VECTOR_COLUMN = "search_vector"
PG_TITLE_COLUMN = "search_title"
PG_VECTOR_COLUMNS = frozenset({PG_VECTOR_COLUMN, PG_TITLE_COLUMN})
PG_SEARCH_INDEX = "ix_escalated_kb_articles_search_vector"
PG_TITLE_INDEX = "ix_escalated_kb_articles_search_title"
PG_VECTOR_FUNCTION = "escalated_kb_articles_search_vector"
#: MariaDB/MySQL: title alone (to weigh title hits) and title with body (to find matches).
MYSQL_TITLE_INDEX = "ix_escalated_kb_articles_ft_title"
MYSQL_TEXT_INDEX = "ix_escalated_kb_articles_ft_text"
SEARCH_INDEXES = frozenset({PG_SEARCH_INDEX, PG_TITLE_INDEX, MYSQL_TITLE_INDEX,
                            MYSQL_TEXT_INDEX})

#: Bodies (and the document vector) out of line: heap rows of ~300 bytes instead of ~2 KB, so
#: finding the newest candidates visits a seventh of the pages. Applies to rows written after.
PG_NARROW_ROWS = f"ALTER TABLE {ARTICLES_TABLE} SET (toast_tuple_target = 128)"

#: The statements that build the search structures, per dialect (used by the migration too).
SEARCH_DDL: dict[str, tuple[str, ...]] = {
    "postgresql": (
        f"ALTER TABLE {ARTICLES_TABLE} ADD COLUMN {PG_VECTOR_COLUMN} tsvector, "
        f"ADD COLUMN {PG_TITLE_COLUMN} tsvector",
        PG_NARROW_ROWS,
        f"CREATE FUNCTION {PG_VECTOR_FUNCTION}() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
        f"NEW.{PG_VECTOR_COLUMN} := {_pg_document('NEW.')}; "
        f"NEW.{PG_TITLE_COLUMN} := {_pg_vector('NEW.title', 'A')}; RETURN NEW; END $$",
        # Only a change to the searched text rewrites the vector (not a view count).
        f"CREATE TRIGGER {PG_VECTOR_FUNCTION} BEFORE INSERT OR UPDATE OF title, body_text "
        f"ON {ARTICLES_TABLE} FOR EACH ROW EXECUTE FUNCTION {PG_VECTOR_FUNCTION}()",
        # The articles already there, in one statement (a no-op on a new table).
        f"UPDATE {ARTICLES_TABLE} SET {PG_VECTOR_COLUMN} = {PG_DOCUMENT}, "
        f"{PG_TITLE_COLUMN} = {PG_TITLE_DOCUMENT}",
        f"CREATE INDEX {PG_SEARCH_INDEX} ON {ARTICLES_TABLE} USING gin ({PG_VECTOR_COLUMN})",
        f"CREATE INDEX {PG_TITLE_INDEX} ON {ARTICLES_TABLE} USING gin ({PG_TITLE_COLUMN})",
    ),
    "mysql": (
        f"CREATE FULLTEXT INDEX {MYSQL_TITLE_INDEX} ON {ARTICLES_TABLE} (title)",
        f"CREATE FULLTEXT INDEX {MYSQL_TEXT_INDEX} ON {ARTICLES_TABLE} (title, body_text)",
    ),
    "sqlite": (
        f"CREATE VIRTUAL TABLE IF NOT EXISTS {FTS_TABLE} USING fts5("
        "title, body, tokenize = 'unicode61 remove_diacritics 2')",
    ),
}
#: What undoes :data:`SEARCH_DDL` beyond dropping the articles table.
SEARCH_DROP_DDL: dict[str, tuple[str, ...]] = {
    "sqlite": (f"DROP TABLE IF EXISTS {FTS_TABLE}",),
    "postgresql": (f"DROP FUNCTION IF EXISTS {PG_VECTOR_FUNCTION}() CASCADE",),
}
#: PostgreSQL: what undoes :data:`SEARCH_DDL` on a table that stays (migration 0020's
#: downgrade; the indexes go with the columns).
PG_SEARCH_UNDO = (
    f"DROP FUNCTION IF EXISTS {PG_VECTOR_FUNCTION}() CASCADE",
    f"ALTER TABLE {ARTICLES_TABLE} DROP COLUMN IF EXISTS {PG_VECTOR_COLUMN}, "
    f"DROP COLUMN IF EXISTS {PG_TITLE_COLUMN}",
    f"ALTER TABLE {ARTICLES_TABLE} RESET (toast_tuple_target)",
)


class KbCategory(TimestampMixin, Base):
    """A category; ``parent_id`` allows one level of nesting (a parent has no parent)."""

    __tablename__ = table("kb_categories")

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    parent_id: Mapped[int | None] = mapped_column(
        ForeignKey("escalated_kb_categories.id", ondelete="SET NULL"), index=True)
    name: Mapped[str] = mapped_column(String(120))
    slug: Mapped[str] = mapped_column(String(140), unique=True)
    description: Mapped[str | None] = mapped_column(Text)
    position: Mapped[int] = mapped_column(Integer, default=0)


class KbArticle(TimestampMixin, Base):
    """An article. ``body`` is Markdown; ``body_html`` its sanitized rendering and
    ``body_text`` the plain text that search indexes and snippets read."""

    __tablename__ = ARTICLES_TABLE
    __table_args__ = (
        # Keyset lists by newest id, filtered by status and visibility (the public list).
        Index(None, "status", "visibility", "id"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    category_id: Mapped[int | None] = mapped_column(
        ForeignKey(KbCategory.id, ondelete="SET NULL"), index=True)
    title: Mapped[str] = mapped_column(String(255))
    slug: Mapped[str] = mapped_column(String(255), unique=True)
    body: Mapped[str] = mapped_column(Text)
    body_html: Mapped[str] = mapped_column(Text)
    body_text: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(20), default=KB_DRAFT)
    visibility: Mapped[str] = mapped_column(String(20), default=KB_PUBLIC)
    tags: Mapped[list[Any]] = mapped_column(JSONType, default=list)
    view_count: Mapped[int] = mapped_column(Integer, default=0)
    helpful_count: Mapped[int] = mapped_column(Integer, default=0)
    not_helpful_count: Mapped[int] = mapped_column(Integer, default=0)
    author_user_id: Mapped[str | None] = mapped_column(UserId, index=True)
    published_at: Mapped[datetime | None] = mapped_column()


class KbFeedback(TimestampMixin, Base):
    """One helpfulness vote per visitor and article; ``voter_hash`` is a keyed hash of the
    signed-in user id or of the anonymous visitor's address and e-mail/cookie."""

    __tablename__ = table("kb_feedback")
    __table_args__ = (UniqueConstraint("article_id", "voter_hash"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    article_id: Mapped[int] = mapped_column(ForeignKey(KbArticle.id, ondelete="CASCADE"))
    voter_hash: Mapped[str] = mapped_column(String(64))
    helpful: Mapped[bool] = mapped_column(Boolean)


class KbPendingView(Base):
    """Page views counted in a web process and written here in batches, waiting for
    ``flush_kb_views`` to add them to ``KbArticle.view_count`` (see ``services/kb_views``)."""

    __tablename__ = table("kb_pending_views")

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    article_id: Mapped[int] = mapped_column(BigId)
    views: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


def _install_search_ddl() -> None:
    target = KbArticle.__table__
    for dialect, statements in SEARCH_DDL.items():
        for statement in statements:
            event.listen(target, "after_create", DDL(statement).execute_if(dialect=dialect))
    for dialect, statements in SEARCH_DROP_DDL.items():
        for statement in statements:
            event.listen(target, "after_drop", DDL(statement).execute_if(dialect=dialect))


_install_search_ddl()
