"""Ranked search over knowledge-base articles through an own inverted index, the same on every
database.

:class:`~flask_escalated.models.kb.KbPosting` holds one row per word of each published
article (and one more per word of its title), keyed by ``(term, field, article_id)``. Words
are cut from the text in Python by :func:`terms` (Unicode words, case and accents folded, a
plural ``s`` dropped, at most :data:`~flask_escalated.models.kb.MAX_TERM_LENGTH` characters),
the same way for articles and for queries, so every database finds the same articles.

A search needs every word of the query. It counts each word's articles up to
:data:`COUNT_CAP` (a bounded index range, nothing to maintain), then walks the rarest word's
rows newest article first and checks the other words by primary-key lookups, stopping at the
page size: title matches (every word in the title) first, then the other matches, each newest
first (both walks in one statement; a one-word query skips the count). The work is bounded by
the page however many articles hold the words, and a word no article has ends the search.

Every caller gets the same validation: a missing or blank query and one longer than
:data:`MAX_QUERY_LENGTH` are a 422; a query with no word in it finds nothing. Public callers
see published public articles only; ``include_internal`` (agents) adds internal ones.
Snippets are plain text cut from ``body_text`` around the first matching word; templates and
JSON consumers escape them like any other text. The service keeps the index current
(:func:`index_article`, :func:`unindex_article`) on every write of an article, and
``flask escalated reindex-kb`` (:func:`rebuild_index`) refills it after a bulk load.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any, cast

from sqlalchemy import (
    Connection,
    Table,
    and_,
    delete,
    func,
    insert,
    literal,
    select,
    true,
    union_all,
)

from ..models import KbArticle, KbPosting
from ..models.kb import FIELD_ANY, FIELD_TITLE, KB_PUBLIC, KB_PUBLISHED, MAX_TERM_LENGTH
from . import session
from .errors import ValidationError

MAX_QUERY_LENGTH = 200
MAX_TOKENS = 16
SNIPPET_LENGTH = 180
#: Each query word's articles are counted up to this many, to walk the rarest word: past it
#: a word is common enough that any of them drives the walk about as well.
COUNT_CAP = 1000
#: Added to a title match's rank, so :attr:`SearchHit.rank` follows the order of the hits.
TITLE_BOOST = 1000
#: Articles indexed per batch by :func:`rebuild_index` and the migration's backfill.
INDEX_BATCH = 200
_WORD = re.compile(r"\w+", re.UNICODE)
_POSTINGS = cast(Table, KbPosting.__table__)


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
        raise ValidationError(
            f"Search for at most {MAX_QUERY_LENGTH} characters.",
            {"q": f"at most {MAX_QUERY_LENGTH} characters"},
        )
    cleaned = "".join(" " if unicodedata.category(ch)[0] == "C" else ch for ch in raw)
    return " ".join(cleaned.split())


def tokens(query: str) -> list[str]:
    """The query's words as typed (letters, digits, underscore in any script), at most
    :data:`MAX_TOKENS`; the snippets look for these."""
    return _WORD.findall(query)[:MAX_TOKENS]


def _fold(text: str) -> str:
    folded = text.casefold()
    if folded.isascii():
        return folded
    decomposed = unicodedata.normalize("NFKD", folded)
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))


def _term(word: str) -> str:
    """A folded word as the index keys it: a plural ``s`` dropped (``invoices`` finds
    ``invoice``; not ``ss``, not words of three letters), cut to the longest term."""
    if len(word) > 3 and word.endswith("s") and not word.endswith("ss"):
        word = word[:-1]
    return word[:MAX_TERM_LENGTH]


def terms(text: str | None) -> list[str]:
    """The distinct index terms of ``text``, in order of first appearance: the one tokeniser
    of articles and queries."""
    return list(dict.fromkeys(_term(w) for w in _WORD.findall(_fold(text or ""))))


@dataclass(frozen=True)
class _Page:
    """The ids of one tier of matches, best first."""

    title: list[int]
    other: list[int]


def search(raw_query: Any, *, include_internal: bool = False, limit: int = 20) -> list[SearchHit]:
    """Published articles matching ``raw_query``, best first: every word in the title, then
    every word anywhere; newest first within each."""
    query = clean_query(raw_query)
    words = tokens(query)
    wanted = terms(" ".join(words))
    if not wanted or limit < 1:
        return []
    ordered = _rarest_first(wanted) if len(wanted) > 1 else wanted
    if ordered is None:
        return []
    page = _matches(ordered, include_internal, limit)
    ids = page.title + page.other
    if not ids:
        return []
    # The columns a hit shows, not whole articles (bodies in three forms).
    wanted_columns = select(
        KbArticle.id, KbArticle.title, KbArticle.slug, KbArticle.visibility, KbArticle.body_text
    )
    rows = {a.id: a for a in session().execute(wanted_columns.where(KbArticle.id.in_(ids)))}
    ranks = [TITLE_BOOST + 1 / (i + 1) for i in range(len(page.title))]
    ranks += [1 / (i + 1) for i in range(len(page.other))]
    return [
        SearchHit(
            id=a.id,
            title=a.title,
            slug=a.slug,
            visibility=a.visibility,
            snippet=snippet(a.body_text, words),
            rank=rank,
        )
        for article_id, rank in zip(ids, ranks, strict=True)
        if (a := rows.get(article_id)) is not None
    ]


def _rarest_first(wanted: list[str]) -> list[str] | None:
    """``wanted`` ordered by how many articles hold each (counted up to :data:`COUNT_CAP`),
    in one statement; ``None`` when one of them is in no article (nothing can match)."""

    def capped(term: str) -> Any:
        rows = (
            select(literal(1).label("one"))
            .select_from(_POSTINGS)
            .where(_POSTINGS.c.term == term, _POSTINGS.c.field == FIELD_ANY)
            .limit(COUNT_CAP)
            .subquery()
        )
        return select(func.count()).select_from(rows).scalar_subquery()

    counts = session().execute(select(*(capped(t) for t in wanted))).one()
    if not all(counts):
        return None
    return [t for _, t in sorted(zip(counts, wanted, strict=True), key=lambda p: p[0])]


def _walk(ordered: list[str], field: int, include_internal: bool, limit: int) -> Any:
    """The newest ``limit`` visible articles holding every term in ``field``, as a subquery:
    the first (rarest) term's rows in key order, each joined to the others' rows by primary
    key."""
    driver = _POSTINGS.alias(f"f{field}p0")
    joined: Any = driver
    for i, term in enumerate(ordered[1:], start=1):
        other = _POSTINGS.alias(f"f{field}p{i}")
        joined = joined.join(
            other,
            and_(
                other.c.term == term,
                other.c.field == field,
                other.c.article_id == driver.c.article_id,
            ),
        )
    stmt = (
        select(driver.c.article_id)
        .select_from(joined)
        .where(driver.c.term == ordered[0], driver.c.field == field)
        .order_by(driver.c.article_id.desc())
        .limit(limit)
        # MariaDB/MySQL: read the tables in the order written (the walk's order).
        .prefix_with("STRAIGHT_JOIN", dialect="mysql")
        .prefix_with("STRAIGHT_JOIN", dialect="mariadb")
    )
    if not include_internal:
        stmt = stmt.where(driver.c.public == true())
    return stmt.subquery()


def _matches(ordered: list[str], include_internal: bool, limit: int) -> _Page:
    """Both walks in one statement (a round trip less): title matches, and enough matches
    anywhere to fill the page after leaving out the title matches among them."""
    title = _walk(ordered, FIELD_TITLE, include_internal, limit)
    anywhere = _walk(ordered, FIELD_ANY, include_internal, 2 * limit)
    both = union_all(
        select(title.c.article_id, literal(FIELD_TITLE).label("field")),
        select(anywhere.c.article_id, literal(FIELD_ANY).label("field")),
    )
    found = sorted(session().execute(both).all(), key=lambda r: (r[1], r[0]), reverse=True)
    in_title = [r[0] for r in found if r[1] == FIELD_TITLE]
    seen = set(in_title)
    other = [r[0] for r in found if r[1] == FIELD_ANY and r[0] not in seen]
    return _Page(in_title, other[: limit - len(in_title)])


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
    piece = flat[start : start + length].rstrip()
    return ("…" if start else "") + piece + ("…" if start + length < len(flat) else "")


# ---------------------------------------------------------------------------- the index
def posting_rows(
    article_id: int, title: str | None, body_text: str | None, public: bool
) -> list[tuple[str, int, int, bool]]:
    """The index rows ``(term, field, article_id, public)`` of one published article."""
    in_title = terms(title)
    anywhere = dict.fromkeys(in_title)
    anywhere.update(dict.fromkeys(terms(body_text)))
    return [(t, FIELD_ANY, article_id, public) for t in anywhere] + [
        (t, FIELD_TITLE, article_id, public) for t in in_title
    ]


def postings(
    article_id: int, title: str | None, body_text: str | None, public: bool
) -> list[dict[str, Any]]:
    """:func:`posting_rows` as parameters of an ``INSERT``."""
    keys = ("term", "field", "article_id", "public")
    return [
        dict(zip(keys, row, strict=True))
        for row in posting_rows(article_id, title, body_text, public)
    ]


def index_article(article: KbArticle) -> None:
    """Bring ``article``'s index rows up to date: none unless it is published (call after
    every create, edit, publish or unpublish)."""
    session().flush()
    unindex_article(article.id)
    if article.status == KB_PUBLISHED:
        session().execute(
            insert(_POSTINGS),
            postings(article.id, article.title, article.body_text, article.visibility == KB_PUBLIC),
        )


def unindex_article(article_id: int) -> None:
    session().execute(delete(_POSTINGS).where(_POSTINGS.c.article_id == article_id))


def _published(conn: Connection, batch: int) -> Iterator[list[Any]]:
    """The published articles' searchable columns, ``batch`` at a time in id order."""
    articles = KbArticle.__table__
    last = 0
    while True:
        rows = list(
            conn.execute(
                select(articles.c.id, articles.c.title, articles.c.body_text, articles.c.visibility)
                .where(articles.c.status == KB_PUBLISHED, articles.c.id > last)
                .order_by(articles.c.id)
                .limit(batch)
            )
        )
        if not rows:
            return
        yield rows
        last = rows[-1][0]


def fill_index(
    conn: Connection, rows: Iterable[Any] | None = None, batch: int = INDEX_BATCH
) -> int:
    """Write the index rows of ``rows`` (``(id, title, body_text, visibility)``; by default every
    published article, read in batches) through ``conn``; returns the articles indexed. Used by
    :func:`rebuild_index`, migration 0020's backfill and the benchmark's bulk load."""
    count = 0
    batches = _published(conn, batch) if rows is None else [list(rows)]
    for chunk in batches:
        values = [
            p
            for ident, title, body, visibility in chunk
            for p in postings(ident, title, body, visibility == KB_PUBLIC)
        ]
        if values:
            conn.execute(insert(_POSTINGS), values)
        count += len(chunk)
    return count


def rebuild_index() -> int:
    """Refill the index from the published articles (after a bulk load, or to repair it);
    returns the articles indexed."""
    session().execute(delete(_POSTINGS))
    return fill_index(session().connection())
