"""The knowledge base: categories (one level of nesting), articles, helpfulness votes, the
buffer of page views not yet folded into ``view_count``, and the search postings.

Search uses its own inverted index, the same on every database (:class:`KbPosting`, kept by
:mod:`flask_escalated.services.kb_search`): one row per word and published article, ordered by
word and newest article, so a search reads only as many rows as the page it returns, however
many articles hold the word. The per-database full-text structures that migration ``0009``
built (a GIN expression index, ``FULLTEXT`` indexes, an FTS5 table) are described by
:data:`LEGACY_SEARCH_DDL` for the migrations alone: ``0009`` builds them, ``0020`` replaces them.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    Boolean,
    ForeignKey,
    Index,
    Integer,
    SmallInteger,
    String,
    Text,
    TypeDecorator,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from .base import Base, BigId, JSONType, TimestampMixin, UserId, table, utcnow

KB_DRAFT, KB_PUBLISHED = "draft", "published"
KB_STATUSES = (KB_DRAFT, KB_PUBLISHED)
KB_PUBLIC, KB_INTERNAL = "public", "internal"
KB_VISIBILITIES = (KB_PUBLIC, KB_INTERNAL)

ARTICLES_TABLE = table("kb_articles")
POSTINGS_TABLE = table("kb_postings")
#: Longest word kept in the index; longer words are cut to this length (in indexing and in
#: queries alike), so a pasted hash or URL cannot make a huge key.
MAX_TERM_LENGTH = 40
#: :attr:`KbPosting.field`: the word is somewhere in the article (title or body), or in its
#: title (such a word has both rows, so each kind of search walks one range of the key).
FIELD_ANY, FIELD_TITLE = 0, 1

#: The structures migration 0009 built (0020 drops them; its downgrade builds them again).
LEGACY_FTS_TABLE = table("kb_fts")
LEGACY_PG_SEARCH_INDEX = "ix_escalated_kb_articles_search"
LEGACY_MYSQL_TITLE_INDEX = "ix_escalated_kb_articles_ft_title"
LEGACY_MYSQL_TEXT_INDEX = "ix_escalated_kb_articles_ft_text"
_LEGACY_PG_DOCUMENT = (
    "(setweight(to_tsvector('english'::regconfig, coalesce(title, '')), 'A') || "
    "setweight(to_tsvector('english'::regconfig, coalesce(body_text, '')), 'B'))"
)
LEGACY_SEARCH_DDL: dict[str, tuple[str, ...]] = {
    "postgresql": (
        f"CREATE INDEX {LEGACY_PG_SEARCH_INDEX} ON {ARTICLES_TABLE} "
        f"USING gin ({_LEGACY_PG_DOCUMENT})",
    ),
    "mysql": (
        f"CREATE FULLTEXT INDEX {LEGACY_MYSQL_TITLE_INDEX} ON {ARTICLES_TABLE} (title)",
        f"CREATE FULLTEXT INDEX {LEGACY_MYSQL_TEXT_INDEX} ON {ARTICLES_TABLE} (title, body_text)",
    ),
    "sqlite": (
        f"CREATE VIRTUAL TABLE IF NOT EXISTS {LEGACY_FTS_TABLE} USING fts5("
        "title, body, tokenize = 'unicode61 remove_diacritics 2')",
    ),
}
#: What drops :data:`LEGACY_SEARCH_DDL`'s structures from a table that stays.
LEGACY_SEARCH_DROP: dict[str, tuple[str, ...]] = {
    "postgresql": (f"DROP INDEX IF EXISTS {LEGACY_PG_SEARCH_INDEX}",),
    "mysql": (
        f"DROP INDEX {LEGACY_MYSQL_TITLE_INDEX} ON {ARTICLES_TABLE}",
        f"DROP INDEX {LEGACY_MYSQL_TEXT_INDEX} ON {ARTICLES_TABLE}",
    ),
    "sqlite": (f"DROP TABLE IF EXISTS {LEGACY_FTS_TABLE}",),
}
#: SQLite: fill the FTS5 table from the articles (after 0020's downgrade rebuilt it).
LEGACY_FTS_FILL = (
    f"INSERT INTO {LEGACY_FTS_TABLE} (rowid, title, body) "
    f"SELECT id, title, body_text FROM {ARTICLES_TABLE}"
)


class TermType(TypeDecorator[str]):
    """A search term. It compares byte for byte on MariaDB and MySQL too (``utf8mb4_bin``): a
    case- or accent-folding collation would make two terms of one article collide in the
    primary key."""

    impl = String(MAX_TERM_LENGTH)
    cache_ok = True

    def load_dialect_impl(self, dialect: Any) -> Any:
        if dialect.name in ("mysql", "mariadb"):
            return dialect.type_descriptor(String(MAX_TERM_LENGTH, collation="utf8mb4_bin"))
        return self.impl_instance


class KbCategory(TimestampMixin, Base):
    """A category; ``parent_id`` allows one level of nesting (a parent has no parent)."""

    __tablename__ = table("kb_categories")

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    parent_id: Mapped[int | None] = mapped_column(
        ForeignKey("escalated_kb_categories.id", ondelete="SET NULL"), index=True
    )
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
        ForeignKey(KbCategory.id, ondelete="SET NULL"), index=True
    )
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


class KbPosting(Base):
    """One word of one published article: the search index (see
    :mod:`flask_escalated.services.kb_search`). The primary key orders a word's articles newest
    first, split by :attr:`field`, so a search walks one word's rows in the order it returns
    them and checks its other words by primary-key lookups. ``public`` copies the article's
    visibility, so a public search filters without reading the article."""

    __tablename__ = POSTINGS_TABLE
    __table_args__ = (
        Index(None, "article_id"),
        # SQLite: the rows stored in key order, ``public`` beside the key (no rowid lookup).
        {"sqlite_with_rowid": False},
    )

    term: Mapped[str] = mapped_column(TermType, primary_key=True)
    field: Mapped[int] = mapped_column(SmallInteger, primary_key=True)
    article_id: Mapped[int] = mapped_column(
        BigId, ForeignKey(KbArticle.id, ondelete="CASCADE"), primary_key=True, autoincrement=False
    )
    public: Mapped[bool] = mapped_column(Boolean)
