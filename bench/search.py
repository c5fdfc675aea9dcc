"""Benchmark full-text ticket search (the ticket list's ``q``) on each back end.

For each back end and size: a database filled by :mod:`bench.generate` (tickets with
descriptions, replies and notes drawn from sentence pools, requesters as contacts or host
users), a rare word appended to the description of ten tickets spread over the id range, then
every search document built by ``services.ticket_search.reindex`` (the code behind ``flask
escalated reindex-tickets``) with the engine's index built after the load (GIN, FULLTEXT; the
FTS5 table is filled by its triggers). Then an agent's first page (25 tickets, best match first,
with snippets) is timed for three queries:

- ``rare``: the injected word (10 tickets match);
- ``common``: the word found in the most documents of a sample (a large share of all tickets);
- ``none``: a word no ticket contains.

Each latency covers ``queries.list_tickets`` plus ``ticket_search.snippets``, as the API does.

    .venv/bin/python -m bench.search --backends sqlite,postgres,mariadb --sizes 100000
"""

from __future__ import annotations

import argparse
import os
import re
import statistics
import tempfile
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timezone
from typing import Any

import sqlalchemy as sa

from flask_escalated.models import Contact, Reply, Ticket, TicketSearchDocument
from flask_escalated.models.search import (
    PG_ALL_VECTOR,
    PG_PUBLIC_VECTOR,
    SEARCH_INDEXES,
    SEARCH_STRUCTURE_DDL,
    SEARCH_TABLE,
)
from flask_escalated.services import queries, ticket_search
from flask_escalated.services.permissions import Principal
from flask_escalated.services.queries import TicketFilter

from . import generate
from .host import create_app, db
from .run import StatementCounter, each_database, explain_list, save_results

NOW = datetime(2026, 6, 1, 12, 0, tzinfo=timezone.utc)
RARE = "zymurgical"
NO_MATCH = "quixotrophe"
KINDS = ("rare", "common", "none")
PAGE = 25


def _drop_search_indexes(conn: sa.Connection) -> list[str]:
    """Drop the engine's search indexes before the load; returns the DDL that rebuilds them."""
    dialect = conn.dialect.name
    if dialect == "postgresql":
        for name in SEARCH_INDEXES:
            conn.execute(sa.text(f"DROP INDEX IF EXISTS {name}"))
        return list(SEARCH_STRUCTURE_DDL["postgresql"][1:])  # not the ALTER TABLE
    if dialect == "mysql":
        present = set(conn.execute(sa.text(
            "SELECT DISTINCT index_name FROM information_schema.statistics WHERE "
            "table_schema = DATABASE() AND table_name = :t AND index_type = 'FULLTEXT'"),
            {"t": SEARCH_TABLE}).scalars())
        for name in present:
            conn.execute(sa.text(f"DROP INDEX {name} ON {SEARCH_TABLE}"))
        return list(SEARCH_STRUCTURE_DDL["mysql"])
    return []


# ---------------------------------------------------------------------------- documents in SQL
#: Tickets per INSERT ... SELECT when the documents are built in SQL (one commit each).
SQL_BATCH = 50_000


def _doc_select(dialect: str, language: str) -> str:
    """The document of every ticket with ``:lo <= id < :hi`` as one ``SELECT``: the same texts
    as ``ticket_search.build_documents`` (parts joined by newlines, empty parts left out,
    replies in id order, a host user's name and e-mail when the requester is no contact)."""
    t, r, c = Ticket.__tablename__, Reply.__tablename__, Contact.__tablename__
    if dialect == "sqlite":
        def joined(*parts: str) -> str:
            # No concat_ws before SQLite 3.44: prefix each non-empty part, drop the first newline.
            return "substr(" + " || ".join(
                f"coalesce(char(10) || nullif({p}, ''), '')" for p in parts) + ", 2)"
        agg = "group_concat({col}, char(10))"
        pub_expr = agg.format(col="CASE WHEN NOT is_internal THEN nullif(body, '') END")
        note_expr = agg.format(col="CASE WHEN is_internal THEN nullif(body, '') END")
        ordered = f"(SELECT * FROM {r} WHERE ticket_id >= :lo AND ticket_id < :hi " \
                  "ORDER BY ticket_id, id)"
        host_id = "CAST(h.id AS TEXT)"
    else:
        def joined(*parts: str) -> str:
            return "concat_ws(" + ("E'\\n'" if dialect == "postgresql" else "'\\n'") + ", " + \
                ", ".join(f"nullif({p}, '')" for p in parts) + ")"
        if dialect == "postgresql":
            agg = "string_agg(nullif(body, ''), E'\\n' ORDER BY id) FILTER (WHERE {cond})"
            pub_expr, note_expr = agg.format(cond="NOT is_internal"), agg.format(cond="is_internal")
            host_id = "CAST(h.id AS TEXT)"
        else:
            agg = "group_concat(CASE WHEN {cond} THEN nullif(body, '') END ORDER BY id " \
                  "SEPARATOR '\\n')"
            pub_expr, note_expr = agg.format(cond="NOT is_internal"), agg.format(cond="is_internal")
            host_id = "CAST(h.id AS CHAR) COLLATE utf8mb4_unicode_ci"
        ordered = f"(SELECT * FROM {r} WHERE ticket_id >= :lo AND ticket_id < :hi)"
    has_contact = "c.email IS NOT NULL AND c.email <> ''"
    name = f"CASE WHEN {has_contact} THEN c.name ELSE coalesce(nullif(h.name, ''), h.email) END"
    email = f"CASE WHEN {has_contact} THEN c.email ELSE h.email END"
    return (
        f"SELECT tk.id AS ticket_id, {joined('tk.subject', 'tk.reference')} AS title_text, "
        f"{joined('tk.description', 'rp.pub', name, email)} AS public_text, "
        f"coalesce(rp.notes, '') AS note_text "
        f"FROM {t} tk LEFT JOIN {c} c ON c.id = tk.contact_id "
        f"LEFT JOIN host_users h ON {host_id} = tk.requester_user_id "
        f"LEFT JOIN (SELECT ticket_id, {pub_expr} AS pub, {note_expr} AS notes FROM {ordered} rr "
        f"GROUP BY ticket_id) rp ON rp.ticket_id = tk.id "
        f"WHERE tk.id >= :lo AND tk.id < :hi"
    )


def _doc_insert(dialect: str, language: str) -> str:
    """``INSERT ... SELECT`` of :func:`_doc_select`; on PostgreSQL with both vectors, written
    as ``ticket_search.write_documents`` writes them (each text's vector computed once)."""
    cols = "ticket_id, title_text, public_text, note_text"
    select_ = _doc_select(dialect, language)
    if dialect != "postgresql":
        return f"INSERT INTO {SEARCH_TABLE} ({cols}) {select_}"
    cfg = f"'{language}'::regconfig"
    return (
        f"INSERT INTO {SEARCH_TABLE} ({cols}, {PG_PUBLIC_VECTOR}, {PG_ALL_VECTOR}) "
        f"SELECT d.ticket_id, d.title_text, d.public_text, d.note_text, v.p, "
        f"v.p || setweight(to_tsvector({cfg}, d.note_text), 'C') FROM ({select_}) d "
        f"CROSS JOIN LATERAL (SELECT setweight(to_tsvector({cfg}, d.title_text), 'A') || "
        f"setweight(to_tsvector({cfg}, d.public_text), 'B') AS p OFFSET 0) v"
    )


def build_documents_sql(url: str, language: str = "english", batch: int = SQL_BATCH,
                        log: Any = None, workers: int = 1, start: int = 1) -> int:
    """Write the search documents of tickets from id ``start`` on with set-based statements,
    ``batch`` tickets per statement and commit, on ``workers`` connections at once; returns the
    number of documents. The table must hold no document from ``start`` on."""
    engine = sa.create_engine(url, pool_size=workers)
    dialect = engine.dialect.name
    statement = sa.text(_doc_insert(dialect, language))
    with engine.connect() as conn:
        top = conn.execute(sa.select(sa.func.max(Ticket.id))).scalar_one() or 0
    ranges = list(range(start, top + 1, batch))

    def work(offset: int) -> None:
        with engine.connect() as conn:
            if dialect == "mysql":
                conn.execute(sa.text("SET SESSION group_concat_max_len = 16777216"))
            elif dialect == "postgresql":
                conn.execute(sa.text("SET synchronous_commit = off"))
            conn.commit()
            for lo in ranges[offset::workers]:
                started = time.perf_counter()
                conn.execute(statement, {"lo": lo, "hi": lo + batch})
                conn.commit()
                if log:
                    log(f"    documents {lo:,}..{min(top, lo + batch - 1):,} "
                        f"{time.perf_counter() - started:.1f}s")

    with ThreadPoolExecutor(workers) as pool:
        for done in [pool.submit(work, i) for i in range(workers)]:
            done.result()
    with engine.connect() as conn:
        documents = conn.execute(
            sa.select(sa.func.count()).select_from(TicketSearchDocument)).scalar_one()
    engine.dispose()
    return int(documents)


def check_documents(url: str, sample: int = 500) -> int:
    """Compare the documents written in SQL with what ``ticket_search.build_documents`` makes of
    the same tickets; returns the number of tickets that differ (0 expected)."""
    app = create_app({"SQLALCHEMY_DATABASE_URI": url})
    doc = TicketSearchDocument
    with app.app_context():
        conn = db.session.connection()
        ids = list(conn.execute(sa.select(doc.ticket_id).order_by(doc.ticket_id)
                                .limit(sample)).scalars())
        stored = {r.ticket_id: (r.title_text, r.public_text, r.note_text) for r in conn.execute(
            sa.select(doc.ticket_id, doc.title_text, doc.public_text, doc.note_text)
            .where(doc.ticket_id.in_(ids)))}
        built = {d.ticket_id: (d.title_text, d.public_text, d.note_text)
                 for d in ticket_search.build_documents(conn, ids)}
        db.session.remove()
        db.engine.dispose()
    return sum(stored.get(i) != built.get(i) for i in ids)


def plan_ms(plan: list[str]) -> float | None:
    """The server-side execution time of an ``EXPLAIN ANALYZE`` (PostgreSQL), else None: it
    depends much less than the client's latency on the load other processes put on the
    machine."""
    found = [line for line in plan if line.startswith("Execution Time:")]
    return float(found[0].split()[2]) if found else None


def log(message: str) -> None:
    print(message, flush=True)


def load() -> list[float]:
    """The load average (1, 5, 15 minutes): other work on the machine skews every figure."""
    return [round(x, 2) for x in os.getloadavg()]


def fill(url: str, size: int, documents: str = "sql", workers: int = 1) -> dict[str, Any]:
    """Generate ``size`` tickets and index them (``documents``: ``sql``, set-based statements;
    ``service``, ``ticket_search.reindex``); returns the timings and the common word."""
    started = time.perf_counter()
    generate.generate(generate.Options(url=url, tickets=size, now=NOW, quiet=True))
    log(f"    generated {size:,} tickets in {time.perf_counter() - started:.0f}s, load {load()}")
    generated = time.perf_counter() - started
    engine = sa.create_engine(url)
    tickets = Ticket.__table__
    with engine.begin() as conn:
        rebuild = _drop_search_indexes(conn)
        step = max(1, size // 10)
        ids = list(range(step // 2 + 1, size + 1, step))[:10]
        conn.execute(tickets.update().where(tickets.c.id.in_(ids))
                     .values(description=tickets.c.description + f" {RARE}"))
    engine.dispose()
    app = create_app({"SQLALCHEMY_DATABASE_URI": url})
    index_start = time.perf_counter()
    if documents == "sql":
        count = build_documents_sql(url, log=log, workers=workers)
    with app.app_context():
        if documents != "sql":
            for _ in ticket_search.reindex(db.session.connection, db.session.commit,
                                           batch_size=2000):
                pass
        count = db.session.execute(
            sa.select(sa.func.count()).select_from(TicketSearchDocument)).scalar_one()
        db.session.remove()
        db.engine.dispose()
    indexed = time.perf_counter() - index_start
    log(f"    {count:,} documents ({documents}) in {indexed:.0f}s, load {load()}")
    engine = sa.create_engine(url)
    build_start = time.perf_counter()
    with engine.begin() as conn:
        if engine.dialect.name == "postgresql":
            # GIN builds of a million vectors spill to disk at the default 64 MB.
            conn.execute(sa.text("SET LOCAL maintenance_work_mem = '512MB'"))
        for statement in rebuild:
            conn.execute(sa.text(statement))
        if engine.dialect.name == "postgresql":
            conn.execute(sa.text(f"ANALYZE {SEARCH_TABLE}"))
        elif engine.dialect.name == "mysql":
            conn.execute(sa.text(f"ANALYZE TABLE {SEARCH_TABLE}"))
        else:
            conn.execute(sa.text("ANALYZE"))
    engine.dispose()
    log(f"    search index built in {time.perf_counter() - build_start:.0f}s, load {load()}")
    return {"generate_seconds": round(generated, 1), "index_seconds": round(indexed, 1),
            "index_build_seconds": round(time.perf_counter() - build_start, 1),
            "documents": count, "document_build": documents}


def _stats(timings: list[float]) -> dict[str, float]:
    ordered = sorted(timings)
    return {"median_ms": round(statistics.median(ordered), 1),
            "p95_ms": round(ordered[max(0, int(len(ordered) * 0.95) - 1)], 1),
            "max_ms": round(ordered[-1], 1)}


def measure(url: str, words: dict[str, str], runs: int, warmup: int,
            explain: bool = False) -> dict[str, Any]:
    """Median, p95 and max of an agent's first page plus its snippets for each kind of word,
    with the load average before and after, and (``explain``) the list statement's plan."""
    app = create_app({"SQLALCHEMY_DATABASE_URI": url})
    agent = Principal.build("1", is_agent=True)
    out: dict[str, Any] = {}
    with app.app_context():
        for kind in KINDS:
            word = words[kind]
            timings: list[float] = []
            hits = 0
            load_before = load()
            for i in range(warmup + runs):
                started = time.perf_counter()
                rows, _ = queries.list_tickets(agent, TicketFilter(q=word, snoozed=False),
                                               limit=PAGE)
                ticket_search.snippets([t.id for t in rows], word, include_notes=True)
                elapsed = (time.perf_counter() - started) * 1000
                db.session.rollback()
                if i >= warmup:
                    timings.append(elapsed)
                hits = len(rows)
            out[kind] = {"word": word, "page_hits": hits, **_stats(timings),
                         "load": [load_before, load()]}
            if explain:
                counter = StatementCounter()
                counter.listen(db.engine)
                queries.list_tickets(agent, TicketFilter(q=word, snoozed=False), limit=PAGE)
                counter.remove(db.engine)
                db.session.rollback()
                out[kind]["plan"] = explain_list(db.engine, counter.statements)
                out[kind]["server_ms"] = plan_ms(out[kind]["plan"])
            log(f"    {kind:6} {word!r}: {out[kind]['median_ms']} / {out[kind]['p95_ms']} ms "
                f"(median / p95), server {out[kind].get('server_ms')} ms, "
                f"load {out[kind]['load'][1]}")
        db.session.remove()
        db.engine.dispose()
    return out


def common_word(url: str) -> tuple[str, float]:
    """The word of five letters or more found in most of a sample of descriptions, and the
    share of the sample it is in."""
    engine = sa.create_engine(url)
    with engine.connect() as conn:
        sample = conn.execute(sa.select(Ticket.description).limit(2000)).scalars().all()
    engine.dispose()
    frequency: Counter[str] = Counter()
    for text_ in sample:
        frequency.update({w.lower() for w in re.findall(r"[A-Za-z]{5,}", text_)})
    word, seen = frequency.most_common(1)[0]
    return word, round(seen / max(1, len(sample)), 2)


def _row(backend: str, size: int, url: str, filled: dict[str, Any],
         args: argparse.Namespace) -> dict[str, Any]:
    word, share = common_word(url)
    words = {"rare": RARE, "common": word, "none": NO_MATCH}
    row = {"backend": backend, "tickets": size, **filled, "common_word": word,
           "common_share": share, **measure(url, words, args.runs, args.warmup, args.explain)}
    if args.explain:
        for kind in KINDS:
            log(f"-- plan: {backend} {size:,} {kind}\n" + "\n".join(row[kind]["plan"]))
    return row


def main() -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.search",
                                     description=(__doc__ or "").split("\n")[0])
    parser.add_argument("--backends", default="sqlite,postgres,mariadb")
    parser.add_argument("--sizes", default="100000")
    parser.add_argument("--runs", type=int, default=40)
    parser.add_argument("--warmup", type=int, default=5)
    parser.add_argument("--documents", choices=("sql", "service"), default="sql",
                        help="build the documents with set-based SQL (default) or with "
                             "ticket_search.reindex, as `flask escalated reindex-tickets` does")
    parser.add_argument("--document-workers", type=int, default=1,
                        help="connections writing the documents in SQL at once")
    parser.add_argument("--explain", action="store_true",
                        help="store and print the plan of each search's list statement")
    parser.add_argument("--keep", action="store_true", help="keep the databases (servers)")
    parser.add_argument("--check-documents", action="store_true",
                        help="compare 500 documents written in SQL with the service's")
    parser.add_argument("--url", help="measure this already filled database instead "
                                      "(--sizes then only labels the run)")
    args = parser.parse_args()
    report = []
    if args.url:
        backend = sa.make_url(args.url).get_backend_name()
        report.append(_row(backend, int(args.sizes), args.url, {}, args))
    else:
        with tempfile.TemporaryDirectory() as tmp:
            for backend, size, url in each_database(args.backends, args.sizes, tmp, args.keep):
                log(f"== {backend}, {size:,} tickets{' (kept: ' + url + ')' if args.keep else ''}")
                filled = fill(url, size, args.documents, args.document_workers)
                if args.check_documents:
                    filled["documents_differing"] = check_documents(url)
                    log(f"    documents differing from the service's: "
                        f"{filled['documents_differing']}")
                report.append(_row(backend, size, url, filled, args))
    path = save_results("search", report)
    print("\n| back end | tickets | rare (10 hits): median / p95 | common: median / p95 | "
          "no match: median / p95 | load (1 min) | documents + index |")
    print("|---|---|---|---|---|---|---|")
    for r in report:
        cells = " | ".join(f"{r[k]['median_ms']} / {r[k]['p95_ms']} ms" for k in KINDS)
        loads = "-".join(str(r[k]["load"][1][0]) for k in KINDS)
        build = (f"{r['index_seconds']} s + {r['index_build_seconds']} s"
                 if "index_seconds" in r else "-")
        print(f"| {r['backend']} | {r['tickets']:,} | {cells} | {loads} | {build} |")
    print(f"results: {path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
