"""Benchmark the reports (``flask_escalated.services.reports``): p50/p95 per report.

For each size: a fresh database filled by ``bench.generate`` (tickets over 730 days, denser
toward today), then one SLA policy on every ticket with some recorded breaches and CSAT ratings
on a fifth of the closed tickets, added in SQL, and the timeline and replies put in time order
as a live desk writes them (:data:`TIDY`). Each report runs ``--reps`` times for the last
30 days before the generator's ``now``, unfiltered and with a department filter, and its SQL
statements are counted (the count must not grow with the size).

    .venv/bin/python -m bench.reports --sizes 100000
    .venv/bin/python -m bench.reports --url postgresql+psycopg://postgres@127.0.0.1/x  # reuse
"""

from __future__ import annotations

import argparse
import tempfile
import time
from datetime import datetime, timezone
from typing import Any

import sqlalchemy as sa

from flask_escalated.clock import FrozenClock, set_clock
from flask_escalated.services import reports, sla

from . import generate, host
from .run import StatementCounter, fresh_database, percentile, save_results

NOW = datetime(2026, 6, 1, 12, 0, tzinfo=timezone.utc)

#: Extra rows the generator does not make: an SLA policy with breaches, and CSAT ratings.
EXTRAS = (
    "INSERT INTO escalated_sla_policies (id, name, is_active, position, conditions, targets, "
    "warning_minutes, created_at, updated_at) VALUES (1, 'Bench', true, 0, '{}', "
    "'{\"low\": {\"first_response\": 480, \"resolution\": 4320}, "
    "\"medium\": {\"first_response\": 240, \"next_response\": 480, \"resolution\": 2880}, "
    "\"high\": {\"first_response\": 60, \"resolution\": 1440}, "
    "\"urgent\": {\"first_response\": 30, \"resolution\": 480}, "
    "\"critical\": {\"first_response\": 15, \"resolution\": 240}}', 30, now(), now())",
    "UPDATE escalated_tickets SET sla_policy_id = 1, "
    "first_response_breached_at = "
    "CASE WHEN mod(id, 6) = 0 THEN created_at + interval '4 hours' END, "
    "resolution_breached_at = CASE WHEN mod(id, 9) = 0 THEN created_at + interval '2 days' END",
    "INSERT INTO escalated_satisfaction_ratings (ticket_id, agent_id, department_id, rating, "
    "comment, rated_at, created_at) SELECT id, assignee_id, department_id, 1 + mod(id, 5), "
    "CASE WHEN mod(id, 3) = 0 THEN 'Comment ' || id END, "
    "COALESCE(resolved_at, updated_at) + interval '2 hours', "
    "COALESCE(resolved_at, updated_at) FROM escalated_tickets "
    "WHERE status_category IN ('resolved', 'closed') AND mod(id, 5) = 0",
)
#: A live desk appends timeline rows and replies in time order, so one period's rows sit
#: together on disk; the generator writes them ticket by ticket. CLUSTER restores the live
#: order, and VACUUM clears the dead rows the UPDATE above left (and the visibility map).
TIDY = (
    "CLUSTER escalated_activities USING ix_escalated_activities_created_at",
    "CLUSTER escalated_replies USING ix_escalated_replies_report",
    "VACUUM (ANALYZE)",
)


def add_extras(url: str) -> None:
    """Add :data:`EXTRAS` once (a database reused with ``--url`` may have them already)."""
    engine = sa.create_engine(url)
    with engine.begin() as conn:
        if conn.exec_driver_sql("SELECT count(*) FROM escalated_sla_policies").scalar():
            return
        for statement in EXTRAS:
            conn.exec_driver_sql(statement)
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        for statement in TIDY:
            conn.exec_driver_sql(statement)
    engine.dispose()


def measure(url: str, reps: int, warmup: int, log: Any) -> dict[str, Any]:
    app = host.create_app({"SQLALCHEMY_DATABASE_URI": url,
                           "ESCALATED_ATTACHMENT_STORAGE": tempfile.mkdtemp()})
    set_clock(FrozenClock(NOW))
    counter = StatementCounter()
    out: dict[str, Any] = {}
    try:
        with app.app_context():
            counter.listen(host.db.engine)
            department = host.db.session.execute(sa.text(
                "SELECT department_id FROM escalated_tickets WHERE department_id IS NOT NULL "
                "GROUP BY department_id ORDER BY count(*) DESC LIMIT 1")).scalar_one()
            variants = {"all": reports.Params(),
                        "department": reports.Params(department_id=int(department))}
            for variant, params in variants.items():
                for name in reports.REPORTS:
                    samples, statements = [], 0
                    for i in range(warmup + reps):
                        with app.test_request_context():
                            sla.forget()  # each run looks up the desk's schedule afresh
                            counter.reset()
                            started = time.perf_counter()
                            reports.run(name, params)
                            elapsed = (time.perf_counter() - started) * 1000
                            host.db.session.rollback()
                        if i >= warmup:
                            samples.append(elapsed)
                            statements = counter.count
                    row = {"p50_ms": round(percentile(samples, 50), 1),
                           "p95_ms": round(percentile(samples, 95), 1),
                           "statements": statements}
                    out[f"{variant}/{name}"] = row
                    log(f"    {variant:10} {name:15} p50 {row['p50_ms']:8.1f} ms  "
                        f"p95 {row['p95_ms']:8.1f} ms  {statements} statements")
    finally:
        set_clock(None)
        with app.app_context():
            host.db.session.remove()
            host.db.engine.dispose()
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="100000")
    parser.add_argument("--reps", type=int, default=20)
    parser.add_argument("--warmup", type=int, default=2)
    parser.add_argument("--url", help="measure an already filled PostgreSQL database")
    parser.add_argument("--keep", action="store_true", help="keep the generated database")
    opts = parser.parse_args(argv)
    results: dict[str, Any] = {}
    with tempfile.TemporaryDirectory() as tmp:
        if opts.url:
            print(f"== {opts.url}")
            add_extras(opts.url)
            results["given"] = measure(opts.url, opts.reps, opts.warmup, print)
        for size in ([] if opts.url else [int(s) for s in opts.sizes.split(",")]):
            print(f"== postgres, {size:,} tickets")
            with fresh_database("postgres", size, tmp, opts.keep) as url:
                if opts.keep:
                    print(f"    database: {url}")
                summary = generate.generate(generate.Options(
                    url=url, tickets=size, now=NOW, quiet=True))
                print(f"    generated {summary.rows:,} rows in {summary.total_seconds:.0f}s")
                add_extras(url)
                results[str(size)] = measure(url, opts.reps, opts.warmup, print)
    print(f"saved {save_results('reports', results)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
