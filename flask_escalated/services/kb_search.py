"""Ranked full-text search over knowledge-base articles, one function for every database.

- **PostgreSQL**: ``websearch_to_tsquery('english', q)`` against the weighted document of
  :data:`~flask_escalated.models.kb.PG_DOCUMENT` (title weight A, body weight B), which the GIN
  expression index covers; ranked by ``ts_rank`` (see :func:`_postgres` for the cap).
  ``websearch_to_tsquery`` never raises a syntax error, so quoted phrases, ``or`` and
  ``-word`` keep working.
- **MariaDB/MySQL**: ``MATCH (title, body_text) AGAINST (q IN NATURAL LANGUAGE MODE)`` on a
  FULLTEXT index, plus twice the title-only relevance so title hits come first. Natural language
  mode has no operators.
- **SQLite**: an FTS5 table kept in step with the articles by :func:`index_article` and
  :func:`unindex_article` (the services call them on every write), ranked by ``bm25`` with the
  title weighted ten times the body. The query is rebuilt from its word tokens, each quoted, so
  FTS5 syntax (``NEAR(``, ``*``, ``:``, ``"``, ``AND``...) in user input is only ever text.

Every caller gets the same validation: a missing or blank query and one longer than
:data:`MAX_QUERY_LENGTH` are a 422; a query with no word in it finds nothing. Public callers
see published public articles only; ``include_internal`` (agents) adds internal ones.
Snippets are plain text cut from ``body_text`` around the first matching word; templates and
JSON consumers escape them like any other text.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, and_, bindparam, func, literal_column, select, text
from sqlalchemy.dialects.mysql import match

from ..models import KbArticle
from ..models.kb import FTS_TABLE, KB_PUBLIC, KB_PUBLISHED, PG_DOCUMENT, PG_TITLE_DOCUMENT
from . import session
from .errors import ValidationError

MAX_QUERY_LENGTH = 200
MAX_TOKENS = 16
SNIPPET_LENGTH = 180
#: PostgreSQL: how many title-ranked matches get the full (title and body) rank.
RANK_CANDIDATES = 200
_WORD = re.compile(r"\w+", re.UNICODE)


@dataclass(frozen=True)
class SearchHit:
    id: int
    title: str
    slug: str
    visibility: str
    snippet: str
    rank: float

    @property
    def url(self) -> str:
        """The article's public page."""
        from .kb import article_url

        return article_url(self.slug)


def clean_query(raw: Any) -> str:
    """The query, trimmed and free of control characters; a 422 when blank or too long."""
    if not isinstance(raw, str) or not raw.strip():
        raise ValidationError("Type something to search for.", {"q": "required"})
    if len(raw) > MAX_QUERY_LENGTH:
        raise ValidationError(f"Search for at most {MAX_QUERY_LENGTH} characters.",
                              {"q": f"at most {MAX_QUERY_LENGTH} characters"})
    cleaned = "".join(" " if unicodedata.category(ch)[0] == "C" else ch for ch in raw)
    return " ".join(cleaned.split())


def tokens(query: str) -> list[str]:
    """The query's words (letters, digits, underscore in any script), at most
    :data:`MAX_TOKENS`."""
    return _WORD.findall(query)[:MAX_TOKENS]


def fts5_query(words: list[str]) -> str:
    """An FTS5 MATCH expression that can only mean "all of these words": each is a quoted
    string (a double quote inside doubled), so nothing the user typed is an operator."""
    return " ".join('"' + w.replace('"', '""') + '"' for w in words)


def search(raw_query: Any, *, include_internal: bool = False, limit: int = 20) -> list[SearchHit]:
    """Published articles matching ``raw_query``, best first."""
    query = clean_query(raw_query)
    words = tokens(query)
    if not words:
        return []
    dialect = session().get_bind().dialect.name
    if dialect == "postgresql":
        ranked = _postgres(query, include_internal, limit)
    elif dialect == "mysql":
        ranked = _mysql(" ".join(words), include_internal, limit)
    else:
        ranked = _sqlite(words, include_internal, limit)
    if not ranked:
        return []
    rows = {a.id: a for a in session().execute(
        select(KbArticle).where(KbArticle.id.in_([i for i, _ in ranked]))).scalars()}
    return [SearchHit(id=a.id, title=a.title, slug=a.slug, visibility=a.visibility,
                      snippet=snippet(a.body_text, words), rank=float(rank))
            for article_id, rank in ranked if (a := rows.get(article_id)) is not None]


def _visible(include_internal: bool) -> Any:
    clause = KbArticle.status == KB_PUBLISHED
    if not include_internal:
        clause = and_(clause, KbArticle.visibility == KB_PUBLIC)
    return clause


def _postgres(query: str, include_internal: bool, limit: int) -> list[tuple[int, float]]:
    """Two steps, because ``ts_rank`` must rebuild the document's tsvector row by row (the GIN
    index finds matches but stores no vectors): the index finds every match and the (short)
    titles rank them into :data:`RANK_CANDIDATES`; only those get the full title-and-body
    rank. Exact whenever fewer articles match; for a very common word, body-only matches
    beyond the cap are taken newest first."""
    tsquery = func.websearch_to_tsquery(literal_column("'english'::regconfig"),
                                        bindparam("q", query))
    document: ColumnElement[Any] = literal_column(PG_DOCUMENT)
    candidates = (
        select(KbArticle.id, KbArticle.title, KbArticle.body_text)
        .where(document.op("@@")(tsquery), _visible(include_internal))
        .order_by(func.ts_rank(literal_column(PG_TITLE_DOCUMENT), tsquery).desc(),
                  KbArticle.id.desc())
        .limit(RANK_CANDIDATES).cte("kb_candidates"))
    rank = func.ts_rank(document, tsquery).label("rank")
    stmt = (select(candidates.c.id, rank).select_from(candidates)
            .order_by(rank.desc(), candidates.c.id.desc()).limit(limit))
    return [(r[0], r[1]) for r in session().execute(stmt)]


def _mysql(query: str, include_internal: bool, limit: int) -> list[tuple[int, float]]:
    everywhere = match(KbArticle.title.expression, KbArticle.body_text.expression,
                       against=bindparam("q", query)).in_natural_language_mode()
    in_title = match(KbArticle.title.expression,
                     against=bindparam("q2", query)).in_natural_language_mode()
    rank = (in_title * 2 + everywhere).label("rank")
    stmt = (select(KbArticle.id, rank)
            .where(everywhere > 0, _visible(include_internal))
            .order_by(rank.desc(), KbArticle.id.desc()).limit(limit))
    return [(r[0], r[1]) for r in session().execute(stmt)]


def _sqlite(words: list[str], include_internal: bool, limit: int) -> list[tuple[int, float]]:
    visibility = "" if include_internal else "AND a.visibility = :public "
    stmt = text(
        f"SELECT a.id, -bm25({FTS_TABLE}, 10.0, 1.0) AS rank "
        f"FROM {FTS_TABLE} JOIN {KbArticle.__tablename__} a ON a.id = {FTS_TABLE}.rowid "
        f"WHERE {FTS_TABLE} MATCH :q AND a.status = :published {visibility}"
        f"ORDER BY bm25({FTS_TABLE}, 10.0, 1.0), a.id DESC LIMIT :limit")
    params: dict[str, Any] = {"q": fts5_query(words), "published": KB_PUBLISHED,
                              "limit": limit}
    if not include_internal:
        params["public"] = KB_PUBLIC
    return [(r[0], r[1]) for r in session().execute(stmt, params)]


def snippet(body_text: str, words: list[str], length: int = SNIPPET_LENGTH) -> str:
    """Plain text around the first of ``words`` found in ``body_text`` (else its start)."""
    flat = " ".join((body_text or "").split())
    if len(flat) <= length:
        return flat
    lowered = flat.casefold()
    hits = [p for p in (lowered.find(w.casefold()) for w in words) if p >= 0]
    start = max(0, min(hits) - length // 3) if hits else 0
    if start:
        space = flat.find(" ", start)
        start = space + 1 if 0 <= space < start + 20 else start
    piece = flat[start:start + length].rstrip()
    return ("…" if start else "") + piece + ("…" if start + length < len(flat) else "")


# ---------------------------------------------------------------------------- SQLite FTS5
def _uses_fts5() -> bool:
    return session().get_bind().dialect.name == "sqlite"


def index_article(article: KbArticle) -> None:
    """Write ``article`` into the SQLite FTS5 table (no-op elsewhere: the database indexes)."""
    if not _uses_fts5():
        return
    session().flush()
    session().execute(text(f"DELETE FROM {FTS_TABLE} WHERE rowid = :id"), {"id": article.id})
    session().execute(text(f"INSERT INTO {FTS_TABLE} (rowid, title, body) "
                           "VALUES (:id, :title, :body)"),
                      {"id": article.id, "title": article.title, "body": article.body_text})


def unindex_article(article_id: int) -> None:
    if _uses_fts5():
        session().execute(text(f"DELETE FROM {FTS_TABLE} WHERE rowid = :id"), {"id": article_id})


def rebuild_index() -> int:
    """Refill the SQLite FTS5 table from the articles (after a bulk load); returns the rows."""
    if not _uses_fts5():
        return 0
    session().execute(text(f"DELETE FROM {FTS_TABLE}"))
    result = session().execute(text(
        f"INSERT INTO {FTS_TABLE} (rowid, title, body) "
        f"SELECT id, title, body_text FROM {KbArticle.__tablename__}"))
    return int(getattr(result, "rowcount", 0) or 0)
