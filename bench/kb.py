"""Benchmark knowledge-base search (``services.kb_search.search``) on each back end.

For each back end and size: N published articles (a tenth internal) whose titles and bodies
are drawn from a 3,000-word vocabulary with Zipf-like word frequencies, loaded with Core
``executemany`` in batches; the full-text structure is built after the load (GIN index on
PostgreSQL, FULLTEXT indexes on MariaDB, FTS5 table filled with one INSERT ... SELECT on SQLite).
Then the public search runs for a fixed list of one- and two-word queries (words of common to
rare rank) and the latency of each call is recorded, including loading the hits and cutting
snippets.

    .venv/bin/python -m bench.kb --backends sqlite,postgres,mariadb --sizes 2000,100000
"""

from __future__ import annotations

import argparse
import itertools
import json
import random
import statistics
import tempfile
import time
from datetime import datetime, timezone
from typing import Any

import sqlalchemy as sa

from flask_escalated.models import metadata
from flask_escalated.models.kb import SEARCH_DDL, SEARCH_INDEXES
from flask_escalated.services import kb_search

from .host import create_app, db
from .run import each_database, save_results

NOW = datetime(2026, 6, 1, 12, 0, tzinfo=timezone.utc)
ARTICLES = metadata.tables["escalated_kb_articles"]
CHUNK = 5000
SYLLABLES = ["ka", "lo", "mi", "ne", "ru", "sa", "ti", "vo", "pe", "da", "gri", "tor", "vel",
             "san", "mor", "lin", "bra", "cho", "fen", "quo", "zar", "wes", "ul", "ix"]


def vocabulary(rng: random.Random, size: int = 3000) -> list[str]:
    words: set[str] = set()
    while len(words) < size:
        words.add("".join(rng.choice(SYLLABLES) for _ in range(rng.randint(2, 4))))
    return sorted(words, key=lambda w: rng.random())


def fill(url: str, size: int, seed: int = 42) -> list[str]:
    """Load ``size`` articles; returns the vocabulary, most frequent word first."""
    rng = random.Random(seed)
    words = vocabulary(rng)
    weights = [1 / (rank + 1) for rank in range(len(words))]
    engine = sa.create_engine(url)
    metadata.create_all(engine)
    dialect = engine.dialect.name
    with engine.begin() as conn:  # build the full-text structure after the load: faster
        for name in SEARCH_INDEXES:
            if dialect == "postgresql":
                conn.exec_driver_sql(f"DROP INDEX IF EXISTS {name}")
            elif dialect == "mysql":
                with_index = conn.exec_driver_sql(
                    "SELECT COUNT(*) FROM information_schema.statistics WHERE table_schema = "
                    "DATABASE() AND index_name = %s", (name,)).scalar()
                if with_index:
                    conn.exec_driver_sql(f"DROP INDEX {name} ON {ARTICLES.name}")
    for start in range(0, size, CHUNK):
        rows = []
        for i in range(start, min(size, start + CHUNK)):
            title = " ".join(rng.choices(words, weights, k=rng.randint(3, 7))).capitalize()
            body = " ".join(rng.choices(words, weights, k=rng.randint(30, 80))) + "."
            rows.append({
                "id": i + 1, "category_id": None, "title": title, "slug": f"article-{i + 1}",
                "body": body, "body_html": f"<p>{body}</p>", "body_text": body,
                "status": "published", "visibility": "internal" if i % 10 == 9 else "public",
                "tags": [], "view_count": 0, "helpful_count": 0, "not_helpful_count": 0,
                "author_user_id": "1", "published_at": NOW, "created_at": NOW,
                "updated_at": NOW})
        with engine.begin() as conn:
            conn.execute(ARTICLES.insert(), rows)
    with engine.begin() as conn:
        if dialect == "sqlite":
            conn.exec_driver_sql("INSERT INTO escalated_kb_fts (rowid, title, body) "
                                 "SELECT id, title, body_text FROM escalated_kb_articles")
            conn.exec_driver_sql("ANALYZE")
        else:
            for statement in SEARCH_DDL["postgresql" if dialect == "postgresql" else "mysql"]:
                conn.exec_driver_sql(statement)
            conn.exec_driver_sql("ANALYZE" if dialect == "postgresql"
                                 else f"ANALYZE TABLE {ARTICLES.name}")
    engine.dispose()
    return words


def queries(words: list[str], count: int, seed: int = 7) -> list[str]:
    """One- and two-word queries over common (rank 10-100), middling and rare words."""
    rng = random.Random(seed)
    bands = [words[10:100], words[100:800], words[800:3000]]
    out = []
    for i in range(count):
        band = bands[i % 3]
        out.append(" ".join(rng.sample(band, k=1 + (i % 2))))
    return out


BANDS = ("common", "middling", "rare")


def _stats(timings: list[float]) -> dict[str, float]:
    ordered = sorted(timings)
    return {"median_ms": round(statistics.median(ordered), 2),
            "p95_ms": round(ordered[max(0, int(len(ordered) * 0.95) - 1)], 2),
            "max_ms": round(ordered[-1], 2)}


def measure(url: str, qs: list[str], warmup: int) -> dict[str, Any]:
    app = create_app({"SQLALCHEMY_DATABASE_URI": url})
    timings: list[float] = []
    hits: list[int] = []
    with app.app_context():
        for q in itertools.islice(itertools.cycle(qs), warmup):
            kb_search.search(q, limit=10)
        for q in qs:
            started = time.perf_counter()
            found = kb_search.search(q, limit=10)
            timings.append((time.perf_counter() - started) * 1000)
            hits.append(len(found))
            db.session.rollback()
        db.engine.dispose()
    by_band = {band: _stats(timings[i::3]) for i, band in enumerate(BANDS)}
    return {"queries": len(qs), **_stats(timings), "by_band": by_band,
            "mean_hits": round(statistics.mean(hits), 1)}


def main() -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n")[0])
    parser.add_argument("--backends", default="sqlite,postgres,mariadb")
    parser.add_argument("--sizes", default="2000,100000")
    parser.add_argument("--queries", type=int, default=300)
    parser.add_argument("--warmup", type=int, default=30)
    args = parser.parse_args()
    report = []
    with tempfile.TemporaryDirectory() as tmp:
        for backend, size, url in each_database(args.backends, args.sizes, tmp):
            t0 = time.perf_counter()
            words = fill(url, size)
            filled = time.perf_counter() - t0
            row = {"backend": backend, "articles": size, "fill_seconds": round(filled, 1),
                   **measure(url, queries(words, args.queries), args.warmup)}
            print(json.dumps(row), flush=True)
            report.append(row)
    save_results("kb", report)
    print("\n| back end | articles | queries | median | p95 | max | p95 common / middling / rare "
          "words | hits / query (≤ 10) | load |")
    print("|---|---|---|---|---|---|---|---|---|")
    for r in report:
        bands = " / ".join(f"{r['by_band'][b]['p95_ms']}" for b in BANDS)
        print(f"| {r['backend']} | {r['articles']:,} | {r['queries']} | {r['median_ms']} ms | "
              f"{r['p95_ms']} ms | {r['max_ms']} ms | {bands} ms | {r['mean_hits']} | "
              f"{r['fill_seconds']} s |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
