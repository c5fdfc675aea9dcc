"""Benchmark custom-field storage: queue filters on field values and the cost of writing them.

For each back end and size: a database filled by :mod:`bench.generate`, six ticket fields
created through ``services.custom_fields.create_field`` and their values loaded with Core
``executemany`` in batches (deterministic per ticket, skewed like real data):

- ``plan`` (select: ``free`` on half the tickets, ``enterprise`` on 2 %), ``region`` (select,
  8 options), ``vip`` (checkbox, 8 % true), ``seats`` (number, 1 to 10,000), ``renewal``
  (date over two years) and ``account`` (text). About 5.3 value rows per ticket.

Then an agent's first queue page (``queries.list_tickets``, 25 tickets, newest update first,
as ``GET /tickets?cf.<key>=...`` runs it) is timed for equality on select and checkbox values,
ranges on number and date values and a combination, with the plan of the list statement
(``--explain``) to show the composite value index is used. Last, ticket creation through
``services.tickets.create_ticket`` is timed with and without five custom-field values.

    .venv/bin/python -m bench.custom_fields --backends sqlite,postgres,mariadb --sizes 100000
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from datetime import date, timedelta
from typing import Any

import sqlalchemy as sa

from flask_escalated.events import Actor
from flask_escalated.models import CustomFieldValue, Ticket
from flask_escalated.services import custom_fields, queries
from flask_escalated.services import tickets as ticket_service
from flask_escalated.services.permissions import Principal
from flask_escalated.services.queries import TicketFilter

from . import generate
from .host import create_app, db
from .run import StatementCounter, each_database, explain_list, save_results
from .search import NOW, load, log, plan_ms

PAGE = 25
BATCH = 20_000
REGIONS = ("emea", "na", "latam", "apac", "anz", "nordics", "dach", "india")
PLANS = ("free", "starter", "team", "business", "enterprise")
FIELDS: list[dict[str, Any]] = [
    {"key": "plan", "label": "Plan", "type": "select",
     "options": [{"value": p, "label": p.title()} for p in PLANS]},
    {"key": "region", "label": "Region", "type": "select",
     "options": [{"value": r, "label": r.upper()} for r in REGIONS]},
    {"key": "vip", "label": "VIP", "type": "checkbox"},
    {"key": "seats", "label": "Seats", "type": "number"},
    {"key": "renewal", "label": "Renewal", "type": "date"},
    {"key": "account", "label": "Account", "type": "text"},
]
RENEWAL_START = date(2025, 6, 1)
#: name -> (filters, what share of the tickets match, roughly)
FILTERS: dict[str, list[tuple[str, str, str]]] = {
    "select, common (plan=free, 50 %)": [("plan", "eq", "free")],
    "select, rare (plan=enterprise, 2 %)": [("plan", "eq", "enterprise")],
    "checkbox (vip=true, 8 %)": [("vip", "eq", "true")],
    "number range (seats >= 9,900, 1 %)": [("seats", "gte", "9900")],
    "number range (100 <= seats <= 150, 0.5 %)": [("seats", "gte", "100"),
                                                  ("seats", "lte", "150")],
    "date range (one month of renewals, 4 %)": [("renewal", "gte", "2026-01-01"),
                                                ("renewal", "lte", "2026-01-31")],
    "select + checkbox (enterprise and vip)": [("plan", "eq", "enterprise"),
                                               ("vip", "eq", "true")],
    "no match (plan=enterprise, seats <= 0)": [("plan", "eq", "enterprise"),
                                               ("seats", "lte", "0")],
}


def _values(ticket_id: int) -> dict[str, Any]:
    """The field values of one ticket, a deterministic function of its id (no RNG state, so
    a batch can be rebuilt alone); ``None`` leaves the field unset."""
    h = (ticket_id * 2654435761) % 2**32
    roll = h % 100
    plan = ("free" if roll < 50 else "starter" if roll < 75 else "team" if roll < 90
            else "business" if roll < 98 else "enterprise")
    return {
        "plan": plan,
        "region": REGIONS[(h >> 8) % len(REGIONS)] if (h >> 4) % 10 else None,
        "vip": ((h >> 12) % 100) < 8,
        "seats": float(1 + (h >> 16) % 10_000) if (h >> 3) % 5 else None,
        "renewal": RENEWAL_START + timedelta(days=(h >> 10) % 730) if (h >> 5) % 4 else None,
        "account": f"ACME-{(h >> 7) % 50_000:05d}" if (h >> 6) % 2 else None,
    }


def fill(url: str, size: int) -> dict[str, Any]:
    """Generate ``size`` tickets, create the fields and load the values; returns timings and
    the ids the measurements need."""
    started = time.perf_counter()
    summary = generate.generate(generate.Options(url=url, tickets=size, now=NOW, quiet=True))
    generated = time.perf_counter() - started
    log(f"    generated {size:,} tickets in {generated:.0f}s, load {load()}")
    app = create_app({"SQLALCHEMY_DATABASE_URI": url})
    with app.app_context():
        fields = {spec["key"]: custom_fields.create_field(Actor.system(), spec)
                  for spec in FIELDS}
        db.session.commit()
        by_key = {k: (f.id, f) for k, f in fields.items()}
        db.session.remove()
        db.engine.dispose()
    engine = sa.create_engine(url)
    values_table = CustomFieldValue.__table__
    load_start = time.perf_counter()
    rows_written = 0
    with engine.connect() as conn:
        top = conn.execute(sa.select(sa.func.max(Ticket.id))).scalar_one()
        batch: list[dict[str, Any]] = []
        for ticket_id in range(1, top + 1):
            for key, value in _values(ticket_id).items():
                if value is None:
                    continue
                field_id, field = by_key[key]
                for columns in custom_fields.encode(
                        field, value.isoformat() if isinstance(value, date) else value):
                    batch.append({"ticket_id": ticket_id, "field_id": field_id,
                                  "value_text": None, "value_long": None,
                                  "value_number": None, "value_date": None, **columns})
            if len(batch) >= BATCH:
                conn.execute(values_table.insert(), batch)
                conn.commit()
                rows_written += len(batch)
                batch = []
        if batch:
            conn.execute(values_table.insert(), batch)
            rows_written += len(batch)
        conn.commit()
        loaded = time.perf_counter() - load_start
        analyze = {"postgresql": f"ANALYZE {values_table.name}",
                   "mysql": f"ANALYZE TABLE {values_table.name}"}.get(engine.dialect.name,
                                                                       "ANALYZE")
        conn.execute(sa.text(analyze))
        conn.commit()
    engine.dispose()
    log(f"    {rows_written:,} value rows in {loaded:.0f}s, load {load()}")
    return {"generate_seconds": round(generated, 1), "value_rows": rows_written,
            "value_load_seconds": round(loaded, 1),
            "value_rows_per_second": round(rows_written / max(loaded, 1e-9)),
            "agent_id": summary.agent_user_ids[2]}


def _stats(timings: list[float]) -> dict[str, float]:
    ordered = sorted(timings)
    return {"median_ms": round(statistics.median(ordered), 1),
            "p95_ms": round(ordered[max(0, int(len(ordered) * 0.95) - 1)], 1)}


def measure_filters(url: str, runs: int, warmup: int, explain: bool) -> dict[str, Any]:
    """Each filter's first queue page: median, p95, rows, matches (counted once), plan."""
    app = create_app({"SQLALCHEMY_DATABASE_URI": url})
    agent = Principal.build("1", is_agent=True)
    out: dict[str, Any] = {}
    with app.app_context():
        for name, wanted in FILTERS.items():
            flt = TicketFilter(custom_fields=wanted, snoozed=False)
            load_before = load()
            timings = []
            rows: list[Any] = []
            for i in range(warmup + runs):
                started = time.perf_counter()
                rows, _ = queries.list_tickets(agent, flt, limit=PAGE)
                elapsed = (time.perf_counter() - started) * 1000
                db.session.rollback()
                if i >= warmup:
                    timings.append(elapsed)
            clauses = custom_fields.filter_clauses(wanted, for_customer=False)
            matches = db.session.execute(
                sa.select(sa.func.count()).select_from(Ticket).where(*clauses)).scalar_one()
            entry: dict[str, Any] = {"rows": len(rows), "matches": matches, **_stats(timings),
                                     "load": [load_before, load()]}
            if explain:
                counter = StatementCounter()
                counter.listen(db.engine)
                queries.list_tickets(agent, flt, limit=PAGE)
                counter.remove(db.engine)
                db.session.rollback()
                entry["plan"] = explain_list(db.engine, counter.statements)
                entry["server_ms"] = plan_ms(entry["plan"])
            out[name] = entry
            log(f"    {name:45} {entry['median_ms']:7} / {entry['p95_ms']:7} ms  "
                f"{matches:7,} matches, server {entry.get('server_ms')} ms, "
                f"load {entry['load'][1][0]}")
        db.session.remove()
        db.engine.dispose()
    return out


def measure_writes(url: str, agent_id: str, count: int) -> dict[str, Any]:
    """``create_ticket`` (one unit of work each) without, then with, five field values."""
    app = create_app({"SQLALCHEMY_DATABASE_URI": url})
    escalated = app.extensions["escalated"]
    actor = Actor.agent(agent_id)
    counter = StatementCounter()
    out: dict[str, Any] = {}
    with app.app_context():
        counter.listen(db.engine)
        for label, with_fields in (("without fields", False), ("with 5 fields", True)):
            timings, statements = [], []
            for i in range(count + 5):
                values = _values(10_000_000 + i)
                new = ticket_service.NewTicket(
                    subject=f"Custom field write {i}", description="Seats and renewal below.",
                    requester_email=f"cf-writer-{i % 50}@example.test", priority="medium",
                    custom_fields={
                        "plan": values["plan"], "region": values["region"] or "emea",
                        "vip": values["vip"], "seats": values["seats"] or 10,
                        "renewal": (values["renewal"] or RENEWAL_START).isoformat(),
                    } if with_fields else None)
                counter.reset()
                started = time.perf_counter()
                with escalated.unit_of_work():
                    ticket_service.create_ticket(new, actor)
                elapsed = (time.perf_counter() - started) * 1000
                if i >= 5:
                    timings.append(elapsed)
                    statements.append(counter.count)
            out[label] = {**_stats(timings), "statements": statistics.median(statements),
                          "tickets": count, "load": load()}
            log(f"    create, {label:15} {out[label]['median_ms']} / {out[label]['p95_ms']} ms,"
                f" {out[label]['statements']:g} SQL, load {out[label]['load'][0]}")
        counter.remove(db.engine)
        db.session.remove()
        db.engine.dispose()
    return out


def main() -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.custom_fields",
                                     description=(__doc__ or "").split("\n")[0])
    parser.add_argument("--backends", default="sqlite,postgres,mariadb")
    parser.add_argument("--sizes", default="100000")
    parser.add_argument("--runs", type=int, default=40)
    parser.add_argument("--warmup", type=int, default=5)
    parser.add_argument("--creates", type=int, default=200,
                        help="tickets created per mode (with and without field values)")
    parser.add_argument("--explain", action="store_true",
                        help="store and print the plan of each filter's list statement")
    args = parser.parse_args()
    report = []
    with tempfile.TemporaryDirectory() as tmp:
        for backend, size, url in each_database(args.backends, args.sizes, tmp):
            log(f"== {backend}, {size:,} tickets")
            filled = fill(url, size)
            row = {"backend": backend, "tickets": size, **filled,
                   "filters": measure_filters(url, args.runs, args.warmup, args.explain),
                   "create": measure_writes(url, filled["agent_id"], args.creates)}
            if args.explain:
                for name, entry in row["filters"].items():
                    log(f"-- plan: {backend} {size:,} {name}\n" + "\n".join(entry["plan"]))
            report.append(row)
    path = save_results("custom_fields", report)
    heads = [f"{r['backend']} {r['tickets'] // 1000}k" for r in report]
    print("\n| filter (first page of 25) | " + " | ".join(heads) + " |")
    print("| --- |" + " ---: |" * len(heads))
    for name in FILTERS:
        cells = [f"{r['filters'][name]['median_ms']} / {r['filters'][name]['p95_ms']}"
                 for r in report]
        print(f"| {name} | " + " | ".join(cells) + " |")
    for label in ("without fields", "with 5 fields"):
        cells = [f"{r['create'][label]['median_ms']} / {r['create'][label]['p95_ms']} "
                 f"({r['create'][label]['statements']:g} SQL)" for r in report]
        print(f"| create_ticket, {label} | " + " | ".join(cells) + " |")
    print(f"results: {path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
