"""Benchmark the SLA sweep (``flask escalated check-sla``).

For each back end and size: N open tickets on one SLA policy, half of them past their
first-response and resolution due times (so one sweep records N breaches, N/2 tickets x 2
targets) and a tenth inside their warning window. Times one full check-sla run (every batch until
nothing is left) and counts the SQL statements of each batch: the number must stay a small
constant per batch as N grows. Then times the idle sweep, a check-sla run with nothing due, twice:
on the same tickets after the run (all still open, half of them breached), and on N fresh open
tickets none of which is due (``idle_fresh``): each the median of several runs.

    .venv/bin/python -m bench.sla --backends sqlite,postgres --sizes 10000,100000
"""

from __future__ import annotations

import argparse
import json
import statistics
import tempfile
import time
from datetime import datetime, timedelta, timezone
from typing import Any

import sqlalchemy as sa

from flask_escalated.clock import FrozenClock, set_clock
from flask_escalated.models import metadata
from flask_escalated.services import sla_sweep

from .host import create_app, db
from .run import StatementCounter, each_database, save_results

NOW = datetime(2026, 6, 1, 12, 0, tzinfo=timezone.utc)
TICKETS = metadata.tables["escalated_tickets"]
POLICIES = metadata.tables["escalated_sla_policies"]
CHUNK = 5000


def fill(url: str, size: int, due: bool = True) -> None:
    engine = sa.create_engine(url)
    metadata.create_all(engine)
    with engine.begin() as conn:
        conn.execute(
            POLICIES.insert(),
            [
                {
                    "id": 1,
                    "name": "Bench",
                    "is_active": True,
                    "position": 0,
                    "conditions": {},
                    "targets": {"medium": {"first_response": 60, "resolution": 480}},
                    "warning_minutes": 30,
                    "created_at": NOW,
                    "updated_at": NOW,
                }
            ],
        )
    base = NOW - timedelta(days=3)
    for start in range(0, size, CHUNK):
        rows = []
        for i in range(start, min(size, start + CHUNK)):
            tid = i + 1
            if due and i % 2 == 0:  # past due on both targets
                fr_due, res_due = NOW - timedelta(hours=2), NOW - timedelta(minutes=10)
            elif due and i % 10 == 1:  # inside the warning window of first response
                fr_due, res_due = NOW + timedelta(minutes=10), NOW + timedelta(hours=6)
            else:  # comfortably ahead
                fr_due, res_due = NOW + timedelta(hours=5), NOW + timedelta(hours=12)
            rows.append(
                {
                    "id": tid,
                    "reference": f"ESC-{tid:05d}",
                    "subject": f"Ticket {tid}",
                    "description": "x",
                    "status": "open",
                    "status_category": "open",
                    "priority": "medium",
                    "priority_rank": 2,
                    "ticket_type": "question",
                    "channel": "web",
                    "requester_user_id": "1",
                    "reply_count": 0,
                    "version": 1,
                    "created_at": base,
                    "updated_at": base,
                    "sla_policy_id": 1,
                    "sla_used_seconds": 0,
                    "sla_clock_at": base,
                    "first_response_due_at": fr_due,
                    "resolution_due_at": res_due,
                    "first_response_warning_at": fr_due - timedelta(minutes=30),
                    "resolution_warning_at": res_due - timedelta(minutes=30),
                }
            )
        with engine.begin() as conn:
            conn.execute(TICKETS.insert(), rows)
    with engine.begin() as conn:
        if engine.dialect.name == "postgresql":
            conn.exec_driver_sql("ANALYZE")
            conn.exec_driver_sql(
                f"SELECT setval(pg_get_serial_sequence('escalated_tickets', 'id'), {size + 1})"
            )
        elif engine.dialect.name == "sqlite":
            conn.exec_driver_sql("ANALYZE")
    engine.dispose()


def sweep(url: str, batch: int) -> dict[str, Any]:
    app = create_app({"SQLALCHEMY_DATABASE_URI": url})
    clock = FrozenClock(NOW)
    set_clock(clock)
    counter = StatementCounter()
    per_batch: list[int] = []
    result = sla_sweep.SweepResult()
    try:
        with app.app_context():
            ext = app.extensions["escalated"]
            counter.listen(db.engine)
            started = time.perf_counter()
            while True:
                counter.reset()
                with ext.unit_of_work():
                    done = sla_sweep.sweep_batch(limit=batch, result=result)
                if not done:
                    break
                per_batch.append(counter.count)
            seconds = time.perf_counter() - started
            idle = idle_runs(ext, counter)
            counter.remove(db.engine)
            db.engine.dispose()
    finally:
        set_clock(None)
    return {
        "seconds": round(seconds, 2),
        "breaches": result.breaches,
        "warnings": result.warnings,
        "batches": len(per_batch),
        "statements_per_batch": {
            "min": min(per_batch),
            "max": max(per_batch),
            "median": statistics.median(per_batch),
        },
        "per_second": round((result.breaches + result.warnings) / seconds),
        **idle,
    }


def idle_runs(ext: Any, counter: StatementCounter, runs: int = 7) -> dict[str, Any]:
    """Time ``runs`` check-sla runs that find nothing due: median and worst, in ms."""
    times = []
    for _ in range(runs):
        counter.reset()
        started = time.perf_counter()
        with ext.unit_of_work():
            assert sla_sweep.sweep_batch() == 0
        times.append(time.perf_counter() - started)
    return {
        "idle_ms": round(statistics.median(times) * 1000, 1),
        "idle_max_ms": round(max(times) * 1000, 1),
        "idle_statements": counter.count,
    }


def idle_fresh(url: str, size: int) -> dict[str, Any]:
    """The idle sweep over ``size`` fresh open tickets, none due."""
    fill(url, size, due=False)
    app = create_app({"SQLALCHEMY_DATABASE_URI": url})
    set_clock(FrozenClock(NOW))
    counter = StatementCounter()
    try:
        with app.app_context():
            counter.listen(db.engine)
            idle = idle_runs(app.extensions["escalated"], counter)
            counter.remove(db.engine)
            db.engine.dispose()
    finally:
        set_clock(None)
    return {f"fresh_{k}": v for k, v in idle.items()}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--backends", default="sqlite,postgres")
    parser.add_argument("--sizes", default="10000,100000")
    parser.add_argument("--batch", type=int, default=1000)
    args = parser.parse_args()
    report = []
    with tempfile.TemporaryDirectory() as tmp:
        for backend, size, url in each_database(args.backends, args.sizes, tmp):
            t0 = time.perf_counter()
            fill(url, size)
            filled = time.perf_counter() - t0
            row = {
                "backend": backend,
                "open_tickets": size,
                "fill_seconds": round(filled, 1),
                **sweep(url, args.batch),
            }
            report.append(row)
        for backend, size, url in each_database(args.backends, args.sizes, tmp):
            row = next(r for r in report if (r["backend"], r["open_tickets"]) == (backend, size))
            row.update(idle_fresh(url, size))
            print(json.dumps(row), flush=True)
    save_results("sla", report)
    print(
        "\n| back end | open tickets | breaches | warnings | batches | statements / batch "
        "| check-sla run | recorded / s |"
    )
    print("|---|---|---|---|---|---|---|---|")
    for r in report:
        spb = r["statements_per_batch"]
        print(
            f"| {r['backend']} | {r['open_tickets']:,} | {r['breaches']:,} | "
            f"{r['warnings']:,} | {r['batches']} | {spb['min']}-{spb['max']} | "
            f"{r['seconds']} s | {r['per_second']:,} |"
        )
    print(
        "\n| back end | open tickets | nothing due (fresh) | nothing left (after the run) "
        "| statements |"
    )
    print("|---|---|---|---|---|")
    for r in report:
        print(
            f"| {r['backend']} | {r['open_tickets']:,} | {r['fresh_idle_ms']} ms "
            f"(max {r['fresh_idle_max_ms']}) | {r['idle_ms']} ms (max {r['idle_max_ms']}) "
            f"| {r['fresh_idle_statements']} |"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
