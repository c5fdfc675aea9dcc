"""Benchmark knowledge-base search (``services.kb_search.search``) on each back end.

For each back end and size: N published articles (a tenth internal) whose titles (3-7 words) and
bodies (2-5 KB) are drawn from a 3,000-word vocabulary with Zipf-like word frequencies, plus one
domain word (:data:`EVERYWHERE`) put into 98% of the bodies and 3% of the titles; loaded with
Core ``executemany`` in batches, each batch's search postings written after it by
``kb_search.fill_index`` (as ``flask escalated reindex-kb`` would after a bulk import). Then
the public search runs for a fixed list of queries in five classes (:data:`CLASSES`), and the
latency of each call is recorded, including loading the hits and cutting snippets; the report
gives median and p95 per class and the load average of the machine while it ran.

    .venv/bin/python -m bench.kb --backends sqlite,postgres,mariadb --sizes 2000,100000
"""

from __future__ import annotations

import argparse
import contextlib
import itertools
import json
import os
import random
import statistics
import subprocess
import tempfile
import time
from collections.abc import Iterator
from datetime import datetime, timezone
from typing import Any

import sqlalchemy as sa

from flask_escalated.models import metadata
from flask_escalated.services import kb_search

from .host import create_app, db
from .run import each_database, save_results

NOW = datetime(2026, 6, 1, 12, 0, tzinfo=timezone.utc)
ARTICLES = metadata.tables["escalated_kb_articles"]
POSTINGS = metadata.tables["escalated_kb_postings"]
CHUNK = 2000
#: The word in nearly every article (98% of the bodies, 3% of the titles).
EVERYWHERE = "invoice"
SYLLABLES = [
    "ka",
    "lo",
    "mi",
    "ne",
    "ru",
    "sa",
    "ti",
    "vo",
    "pe",
    "da",
    "gri",
    "tor",
    "vel",
    "san",
    "mor",
    "lin",
    "bra",
    "cho",
    "fen",
    "quo",
    "zar",
    "wes",
    "ul",
    "ix",
]


def vocabulary(rng: random.Random, size: int = 3000) -> list[str]:
    words: set[str] = set()
    while len(words) < size:
        words.add("".join(rng.choice(SYLLABLES) for _ in range(rng.randint(2, 4))))
    return sorted(words, key=lambda w: rng.random())


def articles(words: list[str], rng: random.Random, size: int) -> Iterator[list[dict[str, Any]]]:
    """The articles, :data:`CHUNK` at a time (the same for a seed whatever the back end)."""
    cumulative = list(itertools.accumulate(1 / (rank + 1) for rank in range(len(words))))
    for start in range(0, size, CHUNK):
        rows = []
        for i in range(start, min(size, start + CHUNK)):
            title_words = rng.choices(words, cum_weights=cumulative, k=rng.randint(3, 7))
            body_words = rng.choices(words, cum_weights=cumulative, k=rng.randint(240, 600))
            if rng.random() < 0.98:
                body_words.insert(rng.randrange(len(body_words)), EVERYWHERE)
            if rng.random() < 0.03:
                title_words.insert(rng.randrange(len(title_words)), EVERYWHERE)
            title = " ".join(title_words).capitalize()
            body = sentences(body_words, rng)
            rows.append(
                {
                    "id": i + 1,
                    "category_id": None,
                    "title": title,
                    "slug": f"article-{i + 1}",
                    "body": body,
                    "body_html": f"<p>{body}</p>",
                    "body_text": body,
                    "status": "published",
                    "visibility": "internal" if i % 10 == 9 else "public",
                    "tags": [],
                    "view_count": 0,
                    "helpful_count": 0,
                    "not_helpful_count": 0,
                    "author_user_id": "1",
                    "published_at": NOW,
                    "created_at": NOW,
                    "updated_at": NOW,
                }
            )
        yield rows


def fill(url: str, size: int, workdir: str, seed: int = 42) -> list[str]:
    """Load ``size`` articles and their search postings; returns the vocabulary, most frequent
    word first.

    The postings (``kb_search.posting_rows``, as ``reindex-kb`` writes them) go through a file
    sorted in key order (made once per size and shared by the back ends) and the database's
    bulk path: ``COPY`` with the keys built after it (PostgreSQL), ``LOAD DATA`` (MariaDB),
    one ``executemany`` in key order (SQLite). Row by row in random key order, 20 million
    postings took most of an hour on this shared machine."""
    rng = random.Random(seed)
    words = vocabulary(rng)
    path = os.path.join(workdir, f"postings-{size}-{seed}.tsv")
    write_postings = not os.path.exists(path)
    engine = sa.create_engine(url)
    metadata.create_all(engine)
    dialect = engine.dialect.name
    with open(path + ".unsorted", "w", encoding="utf-8") if write_postings else _nothing() as out:
        for rows in articles(words, rng, size):
            with engine.begin() as conn:
                conn.execute(ARTICLES.insert(), rows)
            if out is not None:
                for r in rows:
                    for term, field, ident, public in kb_search.posting_rows(
                        r["id"], r["title"], r["body_text"], r["visibility"] == "public"
                    ):
                        out.write(f"{term}\t{field}\t{ident}\t{int(public)}\n")
    if write_postings:
        subprocess.run(
            [
                "sort",
                "-t",
                "\t",
                "-k1,1",
                "-k2,2n",
                "-k3,3n",
                "-S",
                "1G",
                "-T",
                workdir,
                "-o",
                path,
                path + ".unsorted",
            ],
            check=True,
            env={**os.environ, "LC_ALL": "C"},
        )
        os.remove(path + ".unsorted")
    _load_postings(engine, path)
    if dialect == "postgresql":
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.exec_driver_sql("VACUUM ANALYZE")
    else:
        with engine.begin() as conn:
            conn.exec_driver_sql(
                "ANALYZE"
                if dialect == "sqlite"
                else f"ANALYZE TABLE {ARTICLES.name}, {POSTINGS.name}"
            )
    engine.dispose()
    return words


@contextlib.contextmanager
def _nothing() -> Iterator[None]:
    yield None


def _load_postings(engine: sa.Engine, path: str) -> None:
    dialect, table = engine.dialect.name, POSTINGS.name
    pk, fk = f"pk_{table}", f"fk_{table}_article_id_{ARTICLES.name}"
    index = f"ix_{table}_article_id"
    columns = "term, field, article_id, public"
    if dialect == "postgresql":
        with engine.begin() as conn:
            conn.exec_driver_sql(f"ALTER TABLE {table} DROP CONSTRAINT {fk}, DROP CONSTRAINT {pk}")
            conn.exec_driver_sql(f"DROP INDEX {index}")
            cursor = conn.connection.driver_connection.cursor()  # type: ignore[union-attr]
            with cursor.copy(f"COPY {table} ({columns}) FROM STDIN") as copy, open(path, "rb") as f:
                while block := f.read(1 << 20):
                    copy.write(block)
            conn.exec_driver_sql("SET maintenance_work_mem = '512MB'")
            conn.exec_driver_sql(
                f"ALTER TABLE {table} ADD CONSTRAINT {pk} PRIMARY KEY (term, field, article_id)"
            )
            conn.exec_driver_sql(f"CREATE INDEX {index} ON {table} (article_id)")
            conn.exec_driver_sql(
                f"ALTER TABLE {table} ADD CONSTRAINT {fk} FOREIGN KEY (article_id) "
                f"REFERENCES {ARTICLES.name} (id) ON DELETE CASCADE NOT VALID"
            )
    elif dialect == "mysql":
        local = sa.create_engine(engine.url, connect_args={"local_infile": True})
        with local.begin() as conn:
            conn.exec_driver_sql("SET foreign_key_checks = 0, unique_checks = 0")
            conn.exec_driver_sql(
                f"LOAD DATA LOCAL INFILE %s INTO TABLE {table} CHARACTER SET utf8mb4 "
                f"FIELDS TERMINATED BY '\\t' ({columns})",
                (path,),
            )
        local.dispose()
    else:
        with engine.begin() as conn:
            conn.exec_driver_sql(f"DROP INDEX {index}")
            with open(path, encoding="utf-8") as f:
                rows = (line.rstrip("\n").split("\t") for line in f)
                batch = list(itertools.islice(rows, 100_000))
                while batch:
                    conn.exec_driver_sql(
                        f"INSERT INTO {table} ({columns}) VALUES (?, ?, ?, ?)",
                        [(t, int(fl), int(i), int(p)) for t, fl, i, p in batch],
                    )
                    batch = list(itertools.islice(rows, 100_000))
            conn.exec_driver_sql(f"CREATE INDEX {index} ON {table} (article_id)")


def sentences(words: list[str], rng: random.Random) -> str:
    """Words cut into sentences of 6-18 words, each capitalized and closed by a full stop."""
    out, i = [], 0
    while i < len(words):
        n = rng.randint(6, 18)
        out.append(" ".join(words[i : i + n]).capitalize() + ".")
        i += n
    return " ".join(out)


#: Query classes, in the order the query list cycles through them.
CLASSES = ("rare", "common", "everywhere", "several", "none")


def queries(words: list[str], count: int, seed: int = 7) -> list[str]:
    """``count`` queries cycling through :data:`CLASSES`: one rare word (rank 800-3,000), one
    or two common words (rank 10-100), the word in nearly every article (alone or with a
    middling word), three words (common, middling and the everywhere word in turn), and words
    found nowhere."""
    rng = random.Random(seed)
    common, middling, rare = words[10:100], words[100:800], words[800:3000]
    out = []
    for i in range(count):
        kind = CLASSES[i % len(CLASSES)]
        if kind == "rare":
            q = rng.choice(rare)
        elif kind == "common":
            q = " ".join(rng.sample(common, k=1 + (i // len(CLASSES)) % 2))
        elif kind == "everywhere":
            q = EVERYWHERE if (i // len(CLASSES)) % 2 else f"{EVERYWHERE} {rng.choice(middling)}"
        elif kind == "several":
            q = " ".join(
                [
                    rng.choice(common),
                    rng.choice(middling),
                    rng.choice([EVERYWHERE, rng.choice(common)]),
                ]
            )
        else:
            q = " ".join(f"zq{rng.randrange(10**6)}x" for _ in range(1 + i % 2))
        out.append(q)
    return out


def _stats(timings: list[float]) -> dict[str, float]:
    ordered = sorted(timings)
    return {
        "median_ms": round(statistics.median(ordered), 2),
        "p95_ms": round(ordered[max(0, int(len(ordered) * 0.95) - 1)], 2),
        "max_ms": round(ordered[-1], 2),
    }


def measure(url: str, qs: list[str], warmup: int) -> dict[str, Any]:
    app = create_app({"SQLALCHEMY_DATABASE_URI": url})
    timings: list[float] = []
    hits: list[int] = []
    load_before = os.getloadavg()[0]
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
    by_class = {
        kind: {
            **_stats(timings[i :: len(CLASSES)]),
            "mean_hits": round(statistics.mean(hits[i :: len(CLASSES)]), 1),
        }
        for i, kind in enumerate(CLASSES)
    }
    return {
        "queries": len(qs),
        **_stats(timings),
        "by_class": by_class,
        "load_avg": round((load_before + os.getloadavg()[0]) / 2, 2),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n")[0])
    parser.add_argument("--backends", default="sqlite,postgres,mariadb")
    parser.add_argument("--sizes", default="2000,100000")
    parser.add_argument("--queries", type=int, default=500)
    parser.add_argument("--warmup", type=int, default=30)
    args = parser.parse_args()
    report = []
    with tempfile.TemporaryDirectory() as tmp:
        for backend, size, url in each_database(args.backends, args.sizes, tmp):
            t0 = time.perf_counter()
            words = fill(url, size, tmp)
            filled = time.perf_counter() - t0
            row = {
                "backend": backend,
                "articles": size,
                "fill_seconds": round(filled, 1),
                **measure(url, queries(words, args.queries), args.warmup),
            }
            print(json.dumps(row), flush=True)
            report.append(row)
    save_results("kb", report)
    print(
        "\n| back end | articles | " + " | ".join(CLASSES) + " | all: p95 / max | load avg | fill |"
    )
    print("|---|---:|" + "---:|" * len(CLASSES) + "---:|---:|---:|")
    for r in report:
        cells = " | ".join(
            f"{r['by_class'][k]['median_ms']} / {r['by_class'][k]['p95_ms']}" for k in CLASSES
        )
        print(
            f"| {r['backend']} | {r['articles']:,} | {cells} | {r['p95_ms']} / "
            f"{r['max_ms']} ms | {r['load_avg']} | {r['fill_seconds']} s |"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
