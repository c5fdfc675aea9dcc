"""Full-text ticket search: keeping each ticket's search document current, matching and
ranking a query on each database's own engine, and highlighting the matched words.

**Currency.** A session hook (:func:`install`, attached by the extension) notes after every
flush which tickets had their searchable text change (a ticket's subject, description,
reference or requester; a reply or note added, edited, deleted or made internal; a contact's
name or e-mail), and rewrites their documents before the transaction commits, in it: a rollback
takes the documents back with the change. A search run inside the transaction first brings the
noted tickets up to date (:func:`bring_current`), so it sees what the transaction wrote
(MariaDB excepted: InnoDB applies FULLTEXT changes at commit, so there a search sees the
document once committed). Statements that bypass the ORM (bulk ``UPDATE``) are not seen;
``flask escalated reindex-tickets`` (:func:`reindex`) rebuilds every document.

**Matching** (:func:`match`): a subquery of ``(ticket_id, search_rank)``, the rank an integer
(the engine's score times :data:`RANK_SCALE`) so keyset cursors compare it exactly.

- PostgreSQL: ``websearch_to_tsquery`` in the configured language against ``all_tsv``
  (agents) or ``public_tsv`` (customers), ranked by ``ts_rank`` (subject weight A, text B,
  notes C). Quoted phrases, ``or`` and ``-word`` work; nothing raises a syntax error.
- MariaDB: ``MATCH ... AGAINST`` in boolean mode with every word required and quoted (so no
  user character is an operator), on the index of the columns the searcher may see; ranked by
  twice the subject's relevance plus the public text's (plus, for agents, all three columns'),
  InnoDB having no column weights. No stemming: ``refunds`` does not find ``refund``. Words
  InnoDB does not index (shorter than three characters, its stop words) are left out, or no
  row could ever match.
- SQLite: FTS5 with every word a quoted string (a column filter keeps customers off the notes),
  ranked by ``bm25`` weighting the subject ten times the text and the notes half.

Sorted by relevance, only the newest :data:`RANK_CANDIDATES` matches are ranked (exact
whenever fewer match): a word in a third of a million tickets would otherwise be ranked row by
row on every page. The other sorts see every match.

A query without any word (only punctuation or emoji) falls back to the former match: the
subject contains the text, or the reference equals it. An exact reference ranks first.

**Snippets** (:func:`snippets`) are cut in Python from the stored text around the first
matching word; every piece is escaped with markupsafe and only then are the matches wrapped
in ``<mark>``, so the result is safe to render as it is.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from itertools import chain
from typing import Any

from flask import current_app, has_app_context
from markupsafe import Markup, escape
from sqlalchemy import (
    BigInteger,
    ColumnClause,
    Float,
    Select,
    Table,
    bindparam,
    case,
    cast,
    column,
    delete,
    event,
    func,
    insert,
    literal,
    literal_column,
    or_,
    select,
    table,
    text,
)
from sqlalchemy import inspect as sa_inspect
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.engine import Connection
from sqlalchemy.orm import Session

from ..config import SEARCH_LANGUAGES, Config
from ..models import Contact, Reply, Ticket
from ..models.search import (
    MYSQL_ALL_COLUMNS,
    MYSQL_PUBLIC_COLUMNS,
    MYSQL_TITLE_COLUMNS,
    PG_ALL_VECTOR,
    PG_PUBLIC_VECTOR,
    SEARCH_TABLE,
    TICKET_FTS_TABLE,
    TicketSearchDocument,
)
from . import session

#: Scores become integers at this scale (keyset cursors compare them exactly).
RANK_SCALE = 1_000_000_000
#: Added to the rank of the ticket whose reference is the query, so it comes first.
REFERENCE_BOOST = 10**15
MAX_TOKENS = 16
#: Each stored text is cut at this many characters (PostgreSQL's tsvector holds 1 MB).
MAX_FIELD_CHARS = 200_000
SNIPPET_CHARS = 200
BATCH_SIZE = 500
#: Sorting by relevance ranks at most this many matches, the newest (highest ticket ids): an
#: engine's score is computed row by row, so a word found in most of a million tickets would
#: cost seconds. Exact whenever fewer tickets match; other sorts are never capped.
RANK_CANDIDATES = 1000
#: A word as the engines split text: letters and digits (an underscore separates words).
_WORD = re.compile(r"[^\W_]+", re.UNICODE)
_TOUCHED = "escalated_search_touched"
#: Tickets inserted in this transaction with no reply yet: their document is new (nothing to
#: delete) and is built from the objects in memory (nothing to read back).
_BORN = "escalated_search_born"
_TICKET_FIELDS = ("subject", "description", "reference", "contact_id", "requester_user_id")
_REPLY_FIELDS = ("body", "is_internal", "ticket_id")
_CONTACT_FIELDS = ("name", "email")
#: InnoDB's default stop words and minimum word length: a required word it does not index
#: would make every boolean-mode query fail.
_INNODB_STOPWORDS = frozenset((
    "a", "about", "an", "are", "as", "at", "be", "by", "com", "de", "en", "for", "from", "how",
    "i", "in", "is", "it", "la", "of", "on", "or", "that", "the", "this", "to", "was", "what",
    "when", "where", "who", "will", "with", "und", "www"))
_INNODB_MIN_WORD = 3

_DOC: Table = TicketSearchDocument.__table__  # type: ignore[assignment]
_FTS = table(TICKET_FTS_TABLE, column("rowid"))


# ---------------------------------------------------------------------------- documents
@dataclass(frozen=True)
class Document:
    ticket_id: int
    title_text: str
    public_text: str
    note_text: str


def language() -> str:
    """The PostgreSQL text-search configuration documents and queries use: always one of
    :data:`~flask_escalated.config.SEARCH_LANGUAGES` (queries write it as a literal)."""
    if has_app_context():
        value = current_app.config.get(Config.SEARCH_LANGUAGE)
        if value in SEARCH_LANGUAGES:
            return str(value)
    return "english"


def _clean(value: str | None) -> str:
    """Text as stored: no NUL (PostgreSQL refuses it in text), at most MAX_FIELD_CHARS."""
    return (value or "").replace("\x00", " ")[:MAX_FIELD_CHARS]


def _join(parts: Iterable[str | None]) -> str:
    return _clean("\n".join(p for p in parts if p))


def _host_requesters(user_ids: list[str]) -> dict[str, tuple[str, str | None]]:
    """Name and e-mail of host users (one ``load_users`` call); empty outside an app."""
    if not user_ids or not has_app_context():
        return {}
    from ..extension import current_escalated

    ext = current_escalated()
    users = ext.load_users(user_ids)
    return {uid: ext.display(user) for uid, user in users.items() if user is not None}


#: What a document needs of its ticket: id, subject, description, reference, requester (host
#: user id) and the contact's name and e-mail (``None`` without a contact).
Head = tuple[int, str, str | None, str | None, str | None, str | None, str | None]


def build_documents(conn: Connection, ticket_ids: list[int],
                    heads: dict[int, Head] | None = None) -> list[Document]:
    """The documents of the tickets that still exist among ``ticket_ids`` (two queries, plus
    one ``users_loader`` call for requesters known only as host users). ``heads`` holds the
    ticket parts already in memory: those tickets are not read again, only their replies."""
    known = heads or {}
    missing = [i for i in ticket_ids if i not in known]
    tickets: list[Any] = [known[i] for i in ticket_ids if i in known]
    if missing:
        tickets += conn.execute(
            select(Ticket.id, Ticket.subject, Ticket.description, Ticket.reference,
                   Ticket.requester_user_id, Contact.name, Contact.email)
            .select_from(Ticket).outerjoin(Contact, Contact.id == Ticket.contact_id)
            .where(Ticket.id.in_(missing))).all()
    if not tickets:
        return []
    public: dict[int, list[str]] = {}
    notes: dict[int, list[str]] = {}
    for ticket_id, body, internal in conn.execute(
            select(Reply.ticket_id, Reply.body, Reply.is_internal)
            .where(Reply.ticket_id.in_([t[0] for t in tickets])).order_by(Reply.id)):
        (notes if internal else public).setdefault(ticket_id, []).append(body)
    return _assemble(tickets, public, notes)


def _assemble(heads: list[Head], public: dict[int, list[str]], notes: dict[int, list[str]]
              ) -> list[Document]:
    """Documents from the tickets' heads and their replies' bodies by ticket (public replies
    and notes); requesters known only as host users are named through one ``users_loader``
    call."""
    hosts = _host_requesters(sorted({h[4] for h in heads if h[4] and not h[6]}))
    docs = []
    for ticket_id, subject, description, reference, requester, name, email in heads:
        if not email:
            name, email = hosts.get(requester or "", (None, None))
        docs.append(Document(
            ticket_id=ticket_id,
            title_text=_join([subject, reference]),
            public_text=_join([description, *public.get(ticket_id, ()), name, email]),
            note_text=_join(notes.get(ticket_id, ())),
        ))
    return docs


_PG_VECTOR = ("setweight(to_tsvector(CAST(:language AS regconfig), :title_text), 'A') || "
              "setweight(to_tsvector(CAST(:language AS regconfig), :public_text), 'B')")
_PG_INSERT = text(
    f"INSERT INTO {SEARCH_TABLE} (ticket_id, title_text, public_text, note_text, "
    f"{PG_PUBLIC_VECTOR}, {PG_ALL_VECTOR}) VALUES (:ticket_id, :title_text, :public_text, "
    f":note_text, {_PG_VECTOR}, {_PG_VECTOR} || "
    "setweight(to_tsvector(CAST(:language AS regconfig), :note_text), 'C'))")


_PG_UPSERT = text(
    f"{_PG_INSERT.text} ON CONFLICT (ticket_id) DO UPDATE SET "
    "title_text = EXCLUDED.title_text, public_text = EXCLUDED.public_text, "
    f"note_text = EXCLUDED.note_text, {PG_PUBLIC_VECTOR} = EXCLUDED.{PG_PUBLIC_VECTOR}, "
    f"{PG_ALL_VECTOR} = EXCLUDED.{PG_ALL_VECTOR}")


def write_documents(conn: Connection, ticket_ids: Iterable[int],
                    heads: dict[int, Head] | None = None) -> int:
    """Rewrite the documents of ``ticket_ids`` (deleted tickets lose theirs); returns how
    many were written. ``heads``: ticket parts already in memory (see :func:`build_documents`).
    """
    ids = sorted(set(ticket_ids))
    written = 0
    for start in range(0, len(ids), BATCH_SIZE):
        chunk = ids[start:start + BATCH_SIZE]
        docs = build_documents(conn, chunk, heads)
        # One upsert replaces what exists; only deleted tickets need a DELETE. (On MariaDB a
        # DELETE that finds no row would lock the gap where it would be, and two transactions
        # holding one gap deadlock on their INSERTs; a deleted ticket's document exists.)
        gone = set(chunk).difference(d.ticket_id for d in docs)
        if gone:
            conn.execute(delete(_DOC).where(_DOC.c.ticket_id.in_(sorted(gone))))
        written += _insert_documents(conn, docs, replace=True)
    return written


_TEXTS = ("title_text", "public_text", "note_text")


def _insert_documents(conn: Connection, docs: list[Document], *, replace: bool = False) -> int:
    """Insert ``docs`` (``replace``: over any document the ticket has)."""
    if not docs:
        return 0
    rows = [d.__dict__ for d in docs]
    if conn.dialect.name == "postgresql":
        lang = language()
        conn.execute(_PG_UPSERT if replace else _PG_INSERT,
                     [{**r, "language": lang} for r in rows])
    elif replace and conn.dialect.name == "sqlite":
        statement = sqlite_insert(_DOC)
        conn.execute(statement.on_conflict_do_update(
            index_elements=[_DOC.c.ticket_id],
            set_={name: statement.excluded[name] for name in _TEXTS}), rows)
    elif replace:
        # MariaDB: the dialect's construct, imported with that dialect already in use.
        from sqlalchemy.dialects.mysql import insert as mysql_insert

        upsert = mysql_insert(_DOC)
        conn.execute(upsert.on_duplicate_key_update(
            {name: upsert.inserted[name] for name in _TEXTS}), rows)
    else:
        conn.execute(insert(_DOC), rows)
    return len(docs)


def _born_documents(db: Session, ticket_ids: set[int]) -> tuple[list[Document], set[int]]:
    """The documents of tickets inserted in this transaction, from the session's objects (they
    have no replies yet); and the ids that are no longer in memory (to be built the usual
    way)."""
    found = {ticket_id: _head(db, ticket_id, fetch_contact=True)
             for ticket_id in sorted(ticket_ids)}
    gone = {ticket_id for ticket_id, head in found.items() if head is None}
    return _assemble([head for head in found.values() if head is not None], {}, {}), gone


_HEAD_FIELDS = frozenset(("subject", "description", "reference", "requester_user_id",
                          "contact_id"))


def _heads_in_memory(db: Session, ticket_ids: set[int]) -> dict[int, Head]:
    """The heads of those of ``ticket_ids`` the session holds loaded and flushed with their
    contact, if any: their documents need only the replies read."""
    heads = {ticket_id: _head(db, ticket_id, fetch_contact=False) for ticket_id in ticket_ids}
    return {ticket_id: head for ticket_id, head in heads.items() if head is not None}


def _head(db: Session, ticket_id: int, *, fetch_contact: bool) -> Head | None:
    """The :data:`Head` of a ticket the session holds loaded, or ``None``. Its contact comes
    from memory (the ticket's relationship, else the identity map, which holds objects
    weakly: a contact read and let go is gone from it), or with ``fetch_contact`` from the
    database; without it, a contact not in memory means no head."""
    ticket = db.identity_map.get(sa_inspect(Ticket).identity_key_from_primary_key((ticket_id,)))
    if not isinstance(ticket, Ticket) or not sa_inspect(ticket).dict.keys() >= _HEAD_FIELDS:
        return None
    name = email = None
    if ticket.contact_id is not None:
        contact = sa_inspect(ticket).dict.get("contact") or db.identity_map.get(
            sa_inspect(Contact).identity_key_from_primary_key((ticket.contact_id,)))
        if contact is None and fetch_contact:
            contact = db.get(Contact, ticket.contact_id)
        if isinstance(contact, Contact):
            if not {"name", "email"} <= sa_inspect(contact).dict.keys():
                return None
            name, email = contact.name, contact.email
        elif not fetch_contact:
            return None
    return (ticket_id, ticket.subject, ticket.description, ticket.reference,
            ticket.requester_user_id, name, email)


def reindex(conn_factory: Callable[[], Connection], commit: Callable[[], None], *,
            batch_size: int = BATCH_SIZE) -> Iterator[int]:
    """Rebuild every ticket's document in batches of ``batch_size`` tickets, committing after
    each; yields the number of tickets done per batch (for a progress bar)."""
    last = 0
    while True:
        conn = conn_factory()
        ids = list(conn.execute(select(Ticket.id).where(Ticket.id > last)
                                .order_by(Ticket.id).limit(batch_size)).scalars())
        if not ids:
            conn.execute(delete(_DOC).where(_DOC.c.ticket_id > last))
            commit()
            return
        conn.execute(delete(_DOC).where(_DOC.c.ticket_id > last, _DOC.c.ticket_id < ids[-1],
                                        _DOC.c.ticket_id.not_in(ids)))
        write_documents(conn, ids)
        commit()
        last = ids[-1]
        yield len(ids)


# ---------------------------------------------------------------------------- currency
def _changed(obj: Any, fields: tuple[str, ...]) -> bool:
    attrs = sa_inspect(obj).attrs
    return any(attrs[f].history.has_changes() for f in fields)


def _after_flush(db: Session, _context: Any) -> None:
    touched: set[int] = db.info.setdefault(_TOUCHED, set())
    born: set[int] = db.info.setdefault(_BORN, set())
    contacts: list[int] = []
    for obj in chain(db.new, db.dirty, db.deleted):
        fresh = obj in db.new or obj in db.deleted
        if isinstance(obj, Ticket):
            if obj in db.new:
                born.add(obj.id)
            elif obj in db.deleted:
                born.discard(obj.id)
            if fresh or _changed(obj, _TICKET_FIELDS):
                touched.add(obj.id)
        elif isinstance(obj, Reply):
            born.discard(obj.ticket_id)
            if fresh or _changed(obj, _REPLY_FIELDS):
                touched.add(obj.ticket_id)
                old = sa_inspect(obj).attrs["ticket_id"].history.deleted
                touched.update(i for i in old if i is not None)
        elif isinstance(obj, Contact) and not fresh and _changed(obj, _CONTACT_FIELDS):
            contacts.append(obj.id)
    if contacts:
        touched.update(db.connection().execute(
            select(Ticket.id).where(Ticket.contact_id.in_(contacts))).scalars())
    touched.discard(None)  # type: ignore[arg-type]


def bring_current(db: Session | None = None) -> None:
    """Flush, then rewrite the documents of the tickets changed so far in this transaction."""
    db = db or session()
    if db.new or db.dirty or db.deleted:
        db.flush()
    while db.info.get(_TOUCHED):
        ids = db.info.pop(_TOUCHED)
        born = db.info.pop(_BORN, set()) & ids
        docs, gone = _born_documents(db, born) if born else ([], set())
        rest = ids - born | gone
        if rest:
            write_documents(db.connection(), rest, _heads_in_memory(db, rest))
        _insert_documents(db.connection(), docs)


def _before_commit(db: Session) -> None:
    if db.in_nested_transaction():
        return
    bring_current(db)


def _forget(db: Session) -> None:
    if db.in_nested_transaction():  # a SAVEPOINT ended: the transaction's changes still count
        return
    db.info.pop(_TOUCHED, None)
    db.info.pop(_BORN, None)


def install(session_factory: Any) -> None:
    """Attach the flush/commit/rollback listeners to a (scoped) session factory, once.
    Attach after the other ``before_commit`` listeners: their handlers may still add
    replies."""
    if event.contains(session_factory, "after_flush", _after_flush):
        return
    event.listen(session_factory, "after_flush", _after_flush)
    event.listen(session_factory, "before_commit", _before_commit)
    event.listen(session_factory, "after_commit", _forget)
    event.listen(session_factory, "after_rollback", _forget)


# ---------------------------------------------------------------------------- matching
def clean_query(raw: str) -> str:
    """Control characters (NUL included) become spaces; runs of space collapse."""
    cleaned = "".join(" " if unicodedata.category(ch)[0] == "C" else ch for ch in raw)
    return " ".join(cleaned.split())


def tokens(query: str) -> list[str]:
    """The query's words (letters, digits, underscore in any script), at most MAX_TOKENS."""
    return _WORD.findall(query)[:MAX_TOKENS]


def fts5_query(words: list[str], columns: tuple[str, ...] | None) -> str:
    """An FTS5 expression meaning "all of these words" (each a quoted string, so nothing the
    user typed is an operator), optionally limited to ``columns``."""
    prefix = "{" + " ".join(columns) + "} : " if columns else ""
    return " AND ".join(prefix + '"' + w.replace('"', '""') + '"' for w in words)


def mysql_query(words: list[str]) -> str:
    """A boolean-mode expression requiring every word InnoDB indexes, each quoted."""
    kept = [w for w in words
            if len(w) >= _INNODB_MIN_WORD and w.lower() not in _INNODB_STOPWORDS]
    return " ".join(f'+"{w}"' for w in kept)


def _rank(score: Any) -> Any:
    return cast(cast(score, Float) * RANK_SCALE, BigInteger)


def match(raw_query: str, *, include_notes: bool, dialect: str,
          candidates: int | None = None) -> Select[Any]:
    """``(ticket_id, search_rank)`` of the tickets matching ``raw_query``; notes count only
    with ``include_notes`` (agents). With ``candidates``, only the newest that many matches
    (see :data:`RANK_CANDIDATES`)."""
    query = clean_query(raw_query)
    words = tokens(query)
    if dialect == "postgresql" and words:
        # The configuration as a literal (one of SEARCH_LANGUAGES, checked by language()):
        # regconfig is then a constant, the call immutable and folded into one tsquery the
        # planner can estimate, not parsed again for every row as a cast parameter would be.
        from sqlalchemy.dialects.postgresql import REGCONFIG  # loaded with the dialect

        config = literal_column(f"'{language()}'::regconfig", REGCONFIG)
        tsquery = func.websearch_to_tsquery(config, bindparam("q", query))
        name = PG_ALL_VECTOR if include_notes else PG_PUBLIC_VECTOR
        vector: ColumnClause[Any] = literal_column(f"{SEARCH_TABLE}.{name}")
        if candidates is None:
            return (select(_DOC.c.ticket_id,
                           _rank(func.ts_rank(vector, tsquery)).label("search_rank"))
                    .select_from(_DOC).where(vector.op("@@")(tsquery)))
        # ts_rank reads each vector: rank only the candidates, found first (newest first,
        # through the GIN index or, for a common word, the primary key).
        found = (select(_DOC.c.ticket_id, vector.label("vector")).select_from(_DOC)
                 .where(vector.op("@@")(tsquery))
                 .order_by(_DOC.c.ticket_id.desc()).limit(candidates).subquery("candidates"))
        return select(found.c.ticket_id,
                      _rank(func.ts_rank(found.c.vector, tsquery)).label("search_rank"))
    if dialect in ("mysql", "mariadb") and (expr := mysql_query(words)):
        from sqlalchemy.dialects.mysql import match as mysql_match  # loaded with the dialect

        def against(columns: tuple[str, ...], name: str) -> Any:
            return mysql_match(*(_DOC.c[c] for c in columns),
                               against=bindparam(name, expr)).in_boolean_mode()

        public = against(MYSQL_PUBLIC_COLUMNS, "q_public")
        score = against(MYSQL_TITLE_COLUMNS, "q_title") * 2 + public
        found = public
        if include_notes:
            # Notes count, below the text the customer sees (no column weights in InnoDB).
            found = against(MYSQL_ALL_COLUMNS, "q")
            score = score + found
        hits = select(_DOC.c.ticket_id, _rank(score).label("search_rank")).where(found > 0)
        return _newest(hits, _DOC.c.ticket_id, candidates)
    if dialect == "sqlite" and words:
        columns = None if include_notes else ("title_text", "public_text")
        fts: ColumnClause[Any] = literal_column(TICKET_FTS_TABLE)
        score = -func.bm25(fts, 10.0, 1.0, 0.5)
        hits = (select(_FTS.c.rowid.label("ticket_id"), _rank(score).label("search_rank"))
                .select_from(_FTS)
                .where(fts.op("MATCH")(bindparam("q", fts5_query(words, columns)))))
        return _newest(hits, _FTS.c.rowid, candidates)
    # No word any engine indexes: the former subject/reference match.
    fallback: Any = (select(Ticket.id.label("ticket_id"),
                            literal(0, BigInteger).label("search_rank"))
                     .where(or_(Ticket.subject.icontains(query, autoescape=True),
                                Ticket.reference == query.upper())))
    return fallback


def _newest(hits: Select[Any], id_column: Any, candidates: int | None) -> Select[Any]:
    if candidates is None:
        return hits
    return hits.order_by(id_column.desc()).limit(candidates)


def ranked(raw_query: str, *, include_notes: bool, dialect: str,
           candidates: int | None = None) -> tuple[Any, Any]:
    """The match as a subquery to join on ``ticket_id``, and the rank expression to sort by
    (the engine's rank, the exact reference first)."""
    sub = match(raw_query, include_notes=include_notes, dialect=dialect,
                candidates=candidates).subquery("search_hits")
    reference = clean_query(raw_query).upper()
    rank = sub.c.search_rank + case((Ticket.reference == reference, REFERENCE_BOOST), else_=0)
    return sub, rank


# ---------------------------------------------------------------------------- snippets
_SUFFIXES = ("ing", "ed", "es", "s", "ly")


def _stem(word: str) -> str:
    word = word.lower()
    for suffix in _SUFFIXES:
        if word.endswith(suffix) and len(word) - len(suffix) >= 3:
            return word[: -len(suffix)]
    return word


def highlight_pattern(words: list[str]) -> re.Pattern[str] | None:
    """Words starting with any query word's stem (so ``refunds`` marks ``refunded``)."""
    stems = sorted({_stem(w) for w in words if w}, key=len, reverse=True)
    if not stems:
        return None
    return re.compile(r"(?<!\w)(?:" + "|".join(re.escape(s) for s in stems) + r")\w*",
                      re.IGNORECASE)


def snippet(text_: str, pattern: re.Pattern[str], length: int = SNIPPET_CHARS) -> Markup | None:
    """Escaped text around the first match of ``pattern``, the matches in ``<mark>``."""
    flat = " ".join(text_.split())
    first = pattern.search(flat)
    if first is None:
        return None
    start = max(0, first.start() - length // 3)
    if start:
        space = flat.find(" ", start, first.start())
        start = space + 1 if space != -1 else start
    end = min(len(flat), start + length)
    if end < len(flat):
        space = flat.rfind(" ", first.end(), end)
        end = space if space != -1 else end
    window = flat[start:end]
    out = [Markup("…")] if start else []
    pos = 0
    for m in pattern.finditer(window):
        out.append(escape(window[pos:m.start()]))
        out.append(Markup("<mark>") + escape(m.group()) + Markup("</mark>"))
        pos = m.end()
    out.append(escape(window[pos:]))
    if end < len(flat):
        out.append(Markup("…"))
    return Markup("").join(out)


def snippets(ticket_ids: list[int], raw_query: str, *,
             include_notes: bool) -> dict[int, Markup | None]:
    """The highlighted snippet of each ticket (one query): from the description and public
    replies, else (agents) the notes, else the subject; ``None`` when no word shows."""
    pattern = highlight_pattern(tokens(clean_query(raw_query)))
    if not ticket_ids:
        return {}
    out: dict[int, Markup | None] = dict.fromkeys(ticket_ids)
    if pattern is None:
        return out
    columns = [_DOC.c.ticket_id, _DOC.c.public_text, _DOC.c.title_text]
    if include_notes:
        columns.append(_DOC.c.note_text)
    for row in session().execute(select(*columns).where(_DOC.c.ticket_id.in_(ticket_ids))):
        texts = [row.public_text, row.note_text if include_notes else "", row.title_text]
        out[row.ticket_id] = next(
            (s for t in texts if t and (s := snippet(t, pattern)) is not None), None)
    return out
