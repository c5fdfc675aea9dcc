"""Ranked full-text search over knowledge-base articles, one function for every database.

Every database finds the articles with all the query's words and puts title matches first
(:data:`TITLE_BOOST`), then orders by its own score:

- **PostgreSQL**: ``websearch_to_tsquery('english', q)`` against the stored weighted vector
  (title weight A, body weight B) and the stored title vector of
  :mod:`~flask_escalated.models.kb`, each GIN-indexed and kept current by a trigger; ranked by
  ``ts_rank`` over a bounded candidate set (:func:`_candidates`), so a word in nearly every
  article costs about what a rare one does. ``websearch_to_tsquery`` never raises a syntax
  error, so quoted phrases, ``or`` and ``-word`` keep working.
- **MariaDB/MySQL**: ``MATCH ... AGAINST`` in boolean mode with every word required (InnoDB's
  stop words and short words left out, as in ticket search), title relevance counted twice.
  InnoDB collects every match, so this one is not bounded.
- **SQLite**: an FTS5 table kept in step with the articles by :func:`index_article` and
  :func:`unindex_article` (the services call them on every write), ranked by ``bm25`` with the
  title weighted ten times the body, over the same kind of bounded candidate set. The query is
  rebuilt from its word tokens, each quoted, so FTS5 syntax (``NEAR(``, ``*``, ``:``, ``"``,
  ``AND``...) in user input is only ever text.

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

from sqlalchemy import (
    ColumnElement,
    and_,
    bindparam,
    case,
    func,
    literal_column,
    select,
    text,
    union,
)
from sqlalchemy.dialects.mysql import match

from ..models import KbArticle
from ..models.kb import FTS_TABLE, KB_PUBLIC, KB_PUBLISHED, PG_TITLE_COLUMN, PG_VECTOR_COLUMN
from . import session
from .errors import ValidationError
from .ticket_search import mysql_query

MAX_QUERY_LENGTH = 200
MAX_TOKENS = 16
SNIPPET_LENGTH = 180
#: How many of the newest matches (and of the newest title matches) get ranked: exact whenever
#: fewer articles match; for a word in most articles, older body-only matches past the cap are
#: left out, so the ranking work is bounded however common the words are.
RANK_CANDIDATES = 200
#: Added to a title match's score (more than any engine's score reaches), so title matches
#: come first on every database and :attr:`SearchHit.rank` follows the order of the hits.
TITLE_BOOST = 1000
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


def fts5_query(words: list[str], column: str | None = None) -> str:
    """An FTS5 MATCH expression that can only mean "all of these words" (in ``column`` if
    given): each is a quoted string (a double quote inside doubled), so nothing the user typed
    is an operator."""
    quoted = ['"' + w.replace('"', '""') + '"' for w in words]
    return " AND ".join(f"{column} : {q}" for q in quoted) if column else " ".join(quoted)


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
        ranked = _mysql(words, include_internal, limit)
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


def _newest(found: Any, include_internal: bool) -> Any:
    """The ids of the newest :data:`RANK_CANDIDATES` visible articles where ``found`` holds:
    through the search index when few match, down the id index (stopping at the cap) when
    most do."""
    return (select(KbArticle.id).where(found, _visible(include_internal))
            .order_by(KbArticle.id.desc()).limit(RANK_CANDIDATES).subquery())


def _candidates(in_title: Any, anywhere: Any, include_internal: bool) -> Any:
    """Title matches and matches anywhere, each bounded by :func:`_newest`: every title match
    among the newest matches is among the newest title matches, so title matches still come
    first, and the ranking work stays bounded however common the words are."""
    title_hits, hits = _newest(in_title, include_internal), _newest(anywhere, include_internal)
    return union(select(title_hits.c.id), select(hits.c.id))


def _postgres(query: str, include_internal: bool, limit: int) -> list[tuple[int, float]]:
    """Title matches first, then ``ts_rank`` over the stored weighted vector, both computed for
    the bounded candidate set of :func:`_candidates` only."""
    tsquery = func.websearch_to_tsquery(literal_column("'english'::regconfig"),
                                        bindparam("q", query))
    vector: ColumnElement[Any] = literal_column(PG_VECTOR_COLUMN)
    in_title = literal_column(PG_TITLE_COLUMN).op("@@")(tsquery)
    found = _candidates(in_title, vector.op("@@")(tsquery), include_internal)
    rank = (case((in_title, TITLE_BOOST), else_=0) + func.ts_rank(vector, tsquery)).label("rank")
    stmt = (select(KbArticle.id, rank).where(KbArticle.id.in_(found))
            .order_by(rank.desc(), KbArticle.id.desc()).limit(limit))
    return [(r[0], r[1]) for r in session().execute(stmt)]


def _mysql(words: list[str], include_internal: bool, limit: int) -> list[tuple[int, float]]:
    """Boolean mode with every word required (as on the other databases; natural language
    mode matched any word and scored every match): title matches first, then title relevance
    counted twice plus the relevance over title and body."""
    expr = mysql_query(words)
    if not expr:  # only words InnoDB does not index: nothing can match
        return []
    in_title = match(KbArticle.title.expression,
                     against=bindparam("q_title", expr)).in_boolean_mode()
    everywhere = match(KbArticle.title.expression, KbArticle.body_text.expression,
                       against=bindparam("q", expr)).in_boolean_mode()
    rank = (case((in_title > 0, TITLE_BOOST), else_=0) + in_title * 2 + everywhere).label("rank")
    stmt = (select(KbArticle.id, rank)
            .where(everywhere > 0, _visible(include_internal))
            .order_by(rank.desc(), KbArticle.id.desc()).limit(limit))
    return [(r[0], r[1]) for r in session().execute(stmt)]


def _sqlite(words: list[str], include_internal: bool, limit: int) -> list[tuple[int, float]]:
    """``bm25`` (title weighted ten times the body) over the newest :data:`RANK_CANDIDATES`
    matches, and the newest title matches (ranked by ``bm25`` of the title alone) first: FTS5
    walks a word's matches by descending rowid and stops at the cap, where ranking every
    match of a common word would cost a ``bm25`` per match."""
    visibility = "" if include_internal else "AND a.visibility = :public "

    def newest(param: str, in_title: int) -> str:
        return (f"SELECT * FROM (SELECT a.id AS id, {in_title} AS in_title, "
                f"-bm25({FTS_TABLE}, 10.0, 1.0) AS score FROM {FTS_TABLE} "
                f"JOIN {KbArticle.__tablename__} a ON a.id = {FTS_TABLE}.rowid "
                f"WHERE {FTS_TABLE} MATCH :{param} AND a.status = :published {visibility}"
                f"ORDER BY {FTS_TABLE}.rowid DESC LIMIT :candidates)")

    stmt = text(
        f"SELECT id, MAX(in_title) + MAX(score) AS rank FROM ({newest('q_title', TITLE_BOOST)} "
        f"UNION ALL {newest('q', 0)}) GROUP BY id ORDER BY rank DESC, id DESC LIMIT :limit")
    params: dict[str, Any] = {"q": fts5_query(words), "q_title": fts5_query(words, "title"),
                              "published": KB_PUBLISHED, "candidates": RANK_CANDIDATES,
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
