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
import json
import re
import statistics
import tempfile
import time
from collections import Counter
from datetime import datetime, timezone
from typing import Any

import sqlalchemy as sa

from flask_escalated.models import Ticket, TicketSearchDocument
from flask_escalated.models.search import (
    SEARCH_INDEXES,
    SEARCH_STRUCTURE_DDL,
    SEARCH_TABLE,
)
from flask_escalated.services import queries, ticket_search
from flask_escalated.services.permissions import Principal
from flask_escalated.services.queries import TicketFilter

from . import generate
from .host import create_app, db
from .run import each_database, save_results

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


def fill(url: str, size: int) -> dict[str, Any]:
    """Generate ``size`` tickets and index them; returns the timings and the common word."""
    started = time.perf_counter()
    generate.generate(generate.Options(url=url, tickets=size, now=NOW, quiet=True))
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
    with app.app_context():
        for _ in ticket_search.reindex(db.session.connection, db.session.commit,
                                       batch_size=2000):
            pass
        documents = db.session.execute(
            sa.select(sa.func.count()).select_from(TicketSearchDocument)).scalar_one()
        sample = db.session.execute(sa.select(Ticket.description).limit(2000)).scalars().all()
        db.session.remove()
        db.engine.dispose()
    indexed = time.perf_counter() - index_start
    engine = sa.create_engine(url)
    build_start = time.perf_counter()
    with engine.begin() as conn:
        for statement in rebuild:
            conn.execute(sa.text(statement))
        if engine.dialect.name == "postgresql":
            conn.execute(sa.text(f"ANALYZE {SEARCH_TABLE}"))
        elif engine.dialect.name == "mysql":
            conn.execute(sa.text(f"ANALYZE TABLE {SEARCH_TABLE}"))
        else:
            conn.execute(sa.text("ANALYZE"))
    engine.dispose()
    frequency: Counter[str] = Counter()
    for text_ in sample:
        frequency.update({w.lower() for w in re.findall(r"[A-Za-z]{5,}", text_)})
    return {"generate_seconds": round(generated, 1), "index_seconds": round(indexed, 1),
            "index_build_seconds": round(time.perf_counter() - build_start, 1),
            "documents": documents, "common_word": frequency.most_common(1)[0][0],
            "common_share": round(frequency.most_common(1)[0][1] / max(1, len(sample)), 2)}


def _stats(timings: list[float]) -> dict[str, float]:
    ordered = sorted(timings)
    return {"median_ms": round(statistics.median(ordered), 1),
            "p95_ms": round(ordered[max(0, int(len(ordered) * 0.95) - 1)], 1),
            "max_ms": round(ordered[-1], 1)}


def measure(url: str, words: dict[str, str], runs: int, warmup: int) -> dict[str, Any]:
    app = create_app({"SQLALCHEMY_DATABASE_URI": url})
    agent = Principal.build("1", is_agent=True)
    out: dict[str, Any] = {}
    with app.app_context():
        for kind in KINDS:
            word = words[kind]
            timings: list[float] = []
            hits = 0
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
            out[kind] = {"word": word, "page_hits": hits, **_stats(timings)}
        db.session.remove()
        db.engine.dispose()
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n")[0])
    parser.add_argument("--backends", default="sqlite,postgres,mariadb")
    parser.add_argument("--sizes", default="100000")
    parser.add_argument("--runs", type=int, default=40)
    parser.add_argument("--warmup", type=int, default=5)
    args = parser.parse_args()
    report = []
    with tempfile.TemporaryDirectory() as tmp:
        for backend, size, url in each_database(args.backends, args.sizes, tmp):
            filled = fill(url, size)
            words = {"rare": RARE, "common": filled["common_word"], "none": NO_MATCH}
            row = {"backend": backend, "tickets": size, **filled,
                   **measure(url, words, args.runs, args.warmup)}
            print(json.dumps(row), flush=True)
            report.append(row)
    save_results("search", report)
    print("\n| back end | tickets | rare (10 hits): median / p95 | common: median / p95 | "
          "no match: median / p95 | reindex |")
    print("|---|---|---|---|---|---|")
    for r in report:
        cells = " | ".join(f"{r[k]['median_ms']} / {r[k]['p95_ms']} ms" for k in KINDS)
        print(f"| {r['backend']} | {r['tickets']:,} | {cells} | {r['index_seconds']} s "
              f"+ {r['index_build_seconds']} s index |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
