"""Benchmark flask-escalated: ticket creation throughput and agent-queue latency.

    python -m bench.run                                   # sqlite + postgres, 10k and 100k
    python -m bench.run --backends postgres --sizes 100000 --explain
    python -m bench.run --backends sqlite,postgres,mariadb --sizes 10000
    python -m bench.run --report bench/results/A.json bench/results/B.json   # merged tables

For every back end and size it creates a fresh database, fills it with ``bench.generate``,
then measures, through the benchmark host app (``bench/host.py``):

* creation through the service layer: ``tickets.create_ticket`` in its own unit of work (and
  app context) per ticket;
* creation through the JSON API: ``POST /support/api/v1/tickets`` with an agent's bearer token;
* replies through the service layer (``replies.add_reply`` on a loaded ticket) and through
  ``POST /support/api/v1/tickets/<ref>/replies``;
* the floor: a single-row ``INSERT`` + ``COMMIT`` into a small table through the same engine,
  each write path's rate also given as a percentage of it;
* agent-queue reads through the JSON API (first page, a page 200 pages deep, filtered lists,
  priority sort, one ticket), each repeated and reported as median and p95 latency and the SQL
  statements it ran (counted with a ``before_cursor_execute`` listener).

Results go to ``bench/results/<stamp>.json`` (and ``.md``); the markdown tables are printed at
the end. Each database is dropped afterwards unless ``--keep``.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import platform
import random
import shutil
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import flask
import sqlalchemy as sa

from flask_escalated.domain import OPEN_CATEGORIES, STATUS_CATEGORIES
from flask_escalated.events import Actor
from flask_escalated.models import Activity, Contact, Tag, Ticket, ticket_tags
from flask_escalated.services import ticket_search, tokens
from flask_escalated.services import tickets as ticket_service

from . import generate, host

RESULTS_DIR = Path(__file__).parent / "results"
SERVER_URLS = {
    "postgres": os.environ.get(
        "ESCALATED_BENCH_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
    ),
    "mariadb": os.environ.get(
        "ESCALATED_BENCH_MARIADB_URL", "mysql+pymysql://root@127.0.0.1:3306/mysql"
    ),
}
BACKENDS = ("sqlite", "postgres", "mariadb")
API = "/support/api/v1"
ACTIVE = ",".join(c for c in STATUS_CATEGORIES if c in OPEN_CATEGORIES)


# ---------------------------------------------------------------------------- databases
@contextmanager
def fresh_database(backend: str, size: int, tmpdir: str, keep: bool) -> Iterator[str]:
    """A new, empty database for one run; dropped at the end unless ``keep``."""
    name = f"escalated_bench_{size}_{os.getpid()}_{uuid.uuid4().hex[:4]}"
    if backend == "sqlite":
        path = os.path.join(tmpdir, name + ".sqlite")
        yield f"sqlite:///{path}"
        if not keep:
            for suffix in ("", "-wal", "-shm", "-journal"):
                with _suppress():
                    os.remove(path + suffix)
        return
    server = sa.make_url(SERVER_URLS[backend])
    admin = sa.create_engine(server, isolation_level="AUTOCOMMIT")
    q = '"' if backend == "postgres" else "`"
    with admin.connect() as conn:
        if backend == "postgres":
            conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
        else:
            conn.exec_driver_sql(
                f"CREATE DATABASE `{name}` CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci"
            )
    url = server.set(database=name)
    if backend == "mariadb":
        url = url.update_query_dict({"charset": "utf8mb4"})
    try:
        yield url.render_as_string(hide_password=False)
    finally:
        if not keep:
            with admin.connect() as conn:
                force = " WITH (FORCE)" if backend == "postgres" else ""
                conn.exec_driver_sql(f"DROP DATABASE IF EXISTS {q}{name}{q}{force}")
        admin.dispose()


def each_database(backends: str, sizes: str, tmpdir: str, keep: bool = False
                  ) -> Iterator[tuple[str, int, str]]:
    """``(back end, size, URL)`` for each pair of a script's comma-separated ``--backends`` and
    ``--sizes``, each on a fresh database dropped when the caller moves on (unless ``keep``)."""
    for backend in backends.split(","):
        for size in (int(s) for s in sizes.split(",")):
            with fresh_database(backend, size, tmpdir, keep=keep) as url:
                yield backend, size, url


def save_results(kind: str, report: Any) -> Path:
    """Write a run's figures to ``bench/results/<kind>-<time>.json`` (gitignored)."""
    RESULTS_DIR.mkdir(parents=True, exist_ok=True)
    path = RESULTS_DIR / f"{kind}-{int(time.time())}.json"
    path.write_text(json.dumps(report, indent=2))
    return path


def _suppress() -> contextlib.suppress:
    return contextlib.suppress(OSError)


# ---------------------------------------------------------------------------- counting
class StatementCounter:
    """Counts SQL statements sent to the database (savepoint bookkeeping left out) and the time
    spent inside ``cursor.execute`` (the round trip; the drivers used buffer the rows then)."""

    def __init__(self) -> None:
        self.statements: list[tuple[str, Any]] = []
        self.db_seconds = 0.0
        self._started: float | None = None

    def before(self, conn: Any, cursor: Any, statement: str, parameters: Any,
               context: Any, executemany: bool) -> None:
        if not statement.lstrip().upper().startswith(("SAVEPOINT", "RELEASE")):
            self.statements.append((statement, parameters))
        self._started = time.perf_counter()

    def after(self, *args: Any) -> None:
        if self._started is not None:
            self.db_seconds += time.perf_counter() - self._started
            self._started = None

    def listen(self, engine: sa.Engine) -> None:
        sa.event.listen(engine, "before_cursor_execute", self.before)
        sa.event.listen(engine, "after_cursor_execute", self.after)

    def remove(self, engine: sa.Engine) -> None:
        sa.event.remove(engine, "before_cursor_execute", self.before)
        sa.event.remove(engine, "after_cursor_execute", self.after)

    def reset(self) -> None:
        self.statements.clear()
        self.db_seconds = 0.0

    @property
    def count(self) -> int:
        return len(self.statements)

    @property
    def db_ms(self) -> float:
        return self.db_seconds * 1000


def percentile(values: Sequence[float], pct: float) -> float:
    ordered = sorted(values)
    if not ordered:
        return 0.0
    k = (len(ordered) - 1) * pct / 100
    lo, hi = int(k), min(int(k) + 1, len(ordered) - 1)
    return ordered[lo] + (ordered[hi] - ordered[lo]) * (k - lo)


def stats(samples_ms: list[float], statements: list[int], db_ms: list[float]
          ) -> dict[str, Any]:
    return {
        "n": len(samples_ms),
        "median_ms": round(statistics.median(samples_ms), 2),
        "p95_ms": round(percentile(samples_ms, 95), 2),
        "min_ms": round(min(samples_ms), 2),
        "max_ms": round(max(samples_ms), 2),
        "statements": round(statistics.median(statements), 1),
        "statements_max": max(statements),
        "db_median_ms": round(statistics.median(db_ms), 2),
    }


# ---------------------------------------------------------------------------- the run
@dataclass
class Settings:
    backends: list[str]
    sizes: list[int]
    reps: int = 50
    warmup: int = 3
    create_service: int = 500
    create_api: int = 300
    raw_insert: int = 1000
    reply_service: int = 300
    reply_api: int = 200
    deep_pages: int = 200
    explain: bool = False
    writes_only: bool = False
    keep: bool = False
    seed: int = 42
    verbose: bool = False
    output: Path | None = None


@dataclass
class Context:
    app: flask.Flask
    counter: StatementCounter
    engine: sa.Engine
    backend: str
    token: str
    agent_id: str
    rng: random.Random
    log: Callable[[str], None]
    plans: dict[str, list[str]] = field(default_factory=dict)


@contextmanager
def seeded_host(backend: str, size: int, tmpdir: str, *, seed: int, keep: bool, quiet: bool,
                log: Callable[[str], None]) -> Iterator[tuple[Context, generate.Summary]]:
    """A fresh database with ``size`` generated tickets, the bench host app on it, a statement
    counter on its engine and a bearer token for a regular agent (not an admin), as a
    :class:`Context`; the counter, the session and the pool are released at the end."""
    with fresh_database(backend, size, tmpdir, keep) as url:
        summary = generate.generate(generate.Options(url=url, tickets=size, seed=seed,
                                                     quiet=quiet))
        app = host.create_app({
            "SQLALCHEMY_DATABASE_URI": url,
            "ESCALATED_ATTACHMENT_STORAGE": os.path.join(tmpdir, "attachments"),
        })
        counter = StatementCounter()
        try:
            with app.app_context():
                engine = host.db.engine
                counter.listen(engine)
                agent_id = summary.agent_user_ids[2]
                _, plain = tokens.create_token(agent_id, "bench", ["*"], Actor.system())
                host.db.session.commit()
            yield Context(app=app, counter=counter, engine=engine, backend=backend, token=plain,
                          agent_id=agent_id, rng=random.Random(seed), log=log), summary
        finally:
            with app.app_context():
                counter.remove(host.db.engine)
                host.db.session.remove()
                host.db.engine.dispose()


def _headers(ctx: Context) -> dict[str, str]:
    return {"Authorization": f"Bearer {ctx.token}"}


def _get(ctx: Context, client: Any, path: str) -> Any:
    response = client.get(path, headers=_headers(ctx))
    if response.status_code != 200:
        raise RuntimeError(f"GET {path} -> {response.status_code}: {response.get_data(True)[:500]}")
    return response.get_json()


def _list_path(params: dict[str, Any]) -> str:
    return f"{API}/tickets?{urlencode(params)}" if params else f"{API}/tickets"


def _constructed_cursor(ctx: Context, params: dict[str, Any], last: dict[str, Any]) -> str:
    """Sign ``[sort value, id]`` for the row ``last`` exactly as the API signs its cursors."""
    from flask_escalated.domain import PRIORITY_RANK
    from flask_escalated.web.api.base import encode_cursor

    key = str(params.get("sort", "-updated_at")).lstrip("-")
    value = PRIORITY_RANK[last["priority"]] if key == "priority" else last[key]
    if isinstance(value, str) and value.endswith("Z"):
        value = value[:-1] + "+00:00"
    with ctx.app.test_request_context():
        cursor = encode_cursor("tickets", [value, last["id"]])
    assert cursor is not None
    return cursor


def walk_cursor(ctx: Context, client: Any, params: dict[str, Any], pages: int
                ) -> tuple[str | None, int, float, bool]:
    """Follow ``next_cursor`` ``pages`` times: the cursor reached, pages walked, ms per page,
    and whether the API's own cursor had to be replaced (it was refused with a 422)."""
    cursor = None
    walked = 0
    constructed = False
    last_row: dict[str, Any] | None = None
    start = time.perf_counter()
    for _ in range(pages):
        path = _list_path({**params, **({"cursor": cursor} if cursor else {})})
        response = client.get(path, headers=_headers(ctx))
        if response.status_code == 422 and cursor and last_row is not None and not constructed:
            constructed = True
            cursor = _constructed_cursor(ctx, params, last_row)
            path = _list_path({**params, "cursor": cursor})
            response = client.get(path, headers=_headers(ctx))
        if response.status_code != 200:
            raise RuntimeError(f"GET {path} -> {response.status_code}: "
                               f"{response.get_data(True)[:500]}")
        body = response.get_json()
        if not body["next_cursor"]:
            break
        last_row = body["data"][-1]
        cursor = (_constructed_cursor(ctx, params, last_row) if constructed
                  else body["next_cursor"])
        walked += 1
    per_page = (time.perf_counter() - start) * 1000 / max(walked, 1)
    return cursor, walked, per_page, constructed


def measure_get(ctx: Context, client: Any, name: str, path: str, settings: Settings
                ) -> dict[str, Any]:
    samples, counts, db_ms = [], [], []
    rows = 0
    for i in range(settings.warmup + settings.reps):
        ctx.counter.reset()
        start = time.perf_counter()
        body = _get(ctx, client, path)
        elapsed = (time.perf_counter() - start) * 1000
        if i >= settings.warmup:
            samples.append(elapsed)
            counts.append(ctx.counter.count)
            db_ms.append(ctx.counter.db_ms)
        rows = len(body["data"]) if isinstance(body.get("data"), list) else 1
    result = stats(samples, counts, db_ms)
    result["rows"] = rows
    result["path"] = path if "cursor=" not in path else path.split("cursor=")[0] + "cursor=…"
    result["sql"] = [s[:160].replace("\n", " ") for s, _ in ctx.counter.statements]
    if settings.explain:
        ctx.plans[name] = explain_main(ctx, list(ctx.counter.statements))
    return result


def explain_main(ctx: Context, statements: list[tuple[str, Any]]) -> list[str]:
    """The plan of the request's ticket-list statement (the one ordering escalated_tickets)."""
    return explain_list(ctx.engine, statements)


def explain_list(engine: sa.Engine, statements: list[tuple[str, Any]]) -> list[str]:
    """The plan (``EXPLAIN (ANALYZE, BUFFERS)``, ``EXPLAIN QUERY PLAN`` or ``EXPLAIN``) of the
    ticket-list statement among ``statements`` (the one ordering escalated_tickets)."""
    main = next(
        ((s, p) for s, p in statements
         if "FROM escalated_tickets" in s and "ORDER BY" in s and "LIMIT" in s),
        None,
    ) or next(((s, p) for s, p in statements if "FROM escalated_tickets" in s), None)
    if main is None:
        return []
    statement, params = main
    prefix = {
        "postgresql": "EXPLAIN (ANALYZE, BUFFERS) ",
        "sqlite": "EXPLAIN QUERY PLAN ",
        "mysql": "EXPLAIN ",
    }[engine.dialect.name]
    raw = engine.raw_connection()
    try:
        cur = raw.cursor()
        cur.execute(prefix + statement, params)
        rows = cur.fetchall()
        cur.close()
        raw.rollback()
    finally:
        raw.close()
    if engine.dialect.name == "sqlite":
        return [f"{r[0]}|{r[1]}| {r[-1]}" for r in rows]
    if engine.dialect.name == "mysql":
        return [" | ".join(str(c) for c in r) for r in rows]
    return [r[0] for r in rows]


def pick_filters(ctx: Context) -> dict[str, Any]:
    """Realistic filter values: the busiest agent, biggest department, common and rare tags."""
    with ctx.app.app_context():
        db = host.db.session
        busiest = db.execute(
            sa.select(Ticket.assignee_id, sa.func.count())
            .where(Ticket.status_category == "open", Ticket.assignee_id.is_not(None))
            .group_by(Ticket.assignee_id).order_by(sa.func.count().desc()).limit(1)
        ).first()
        dept = db.execute(
            sa.select(Ticket.department_id, sa.func.count())
            .where(Ticket.department_id.is_not(None))
            .group_by(Ticket.department_id).order_by(sa.func.count().desc()).limit(1)
        ).first()
        tag_counts = db.execute(
            sa.select(Tag.slug, sa.func.count())
            .select_from(ticket_tags.join(Tag, Tag.id == ticket_tags.c.tag_id))
            .join(Ticket, Ticket.id == ticket_tags.c.ticket_id)
            .where(Ticket.department_id == dept[0])
            .group_by(Tag.slug).order_by(sa.func.count().desc())
        ).all()
        counts = dict(tag_counts)
        full = [(slug, n) for slug, n in tag_counts if n > 25 and slug != generate.RARE_TAG]
        rare = full[-1] if full else tag_counts[-1]
        middle = db.execute(
            sa.select(Ticket.reference).order_by(Ticket.id)
            .offset(db.execute(sa.select(sa.func.count(Ticket.id))).scalar_one() // 2).limit(1)
        ).scalar_one()
        return {
            "agent": busiest[0] if busiest else ctx.agent_id,
            "agent_open": busiest[1] if busiest else 0,
            "department": dept[0],
            "department_tickets": dept[1],
            "tag_common": tag_counts[0][0],
            "tag_common_tickets": tag_counts[0][1],
            # The rarest tag that still fills a page, and the generator's long-tail tag.
            "tag_rare": rare[0],
            "tag_rare_tickets": rare[1],
            "tag_very_rare": generate.RARE_TAG,
            "tag_very_rare_tickets": counts.get(generate.RARE_TAG, 0),
            "ticket": middle,
        }


def measure_queue(ctx: Context, settings: Settings) -> tuple[dict[str, Any], dict[str, Any]]:
    picks = pick_filters(ctx)
    ctx.log(f"    filters: {picks}")
    client = ctx.app.test_client()
    results: dict[str, Any] = {}
    deep = settings.deep_pages
    queries: list[tuple[str, dict[str, Any] | None, str | None]] = [
        ("first page (-updated_at)", {"limit": 25}, None),
        (f"page {deep} (-updated_at)", {"limit": 25}, "deep"),
        ("active (6 open categories)", {"limit": 25, "status_category": ACTIVE}, None),
        ("open + assignee", {"limit": 25, "status_category": "open",
                             "assignee": picks["agent"]}, None),
        ("open + unassigned", {"limit": 25, "status_category": "open", "assignee": "none"},
         None),
        ("department + common tag", {"limit": 25, "department_id": picks["department"],
                                     "tag": picks["tag_common"]}, None),
        ("department + rare tag", {"limit": 25, "department_id": picks["department"],
                                   "tag": picks["tag_rare"]}, None),
        ("department + very rare tag", {"limit": 25, "department_id": picks["department"],
                                        "tag": picks["tag_very_rare"]}, None),
        ("priority sort", {"limit": 25, "sort": "-priority"}, None),
        (f"priority sort, page {deep}", {"limit": 25, "sort": "-priority"}, "deep"),
        ("active + priority sort", {"limit": 25, "status_category": ACTIVE,
                                    "sort": "-priority"}, None),
        ("one ticket (GET /tickets/<ref>)", None, f"{API}/tickets/{picks['ticket']}"),
    ]
    for name, params, special in queries:
        if params is None:
            assert special is not None
            path = special
        elif special == "deep":
            cursor, walked, per_page, constructed = walk_cursor(ctx, client, params, deep)
            if cursor is None:
                ctx.log(f"    {name}: list too short to go {deep} pages in")
                continue
            path = _list_path({**params, "cursor": cursor})
        else:
            path = _list_path(params)
        result = measure_get(ctx, client, name, path, settings)
        if special == "deep":
            result["walked_pages"] = walked
            result["walk_ms_per_page"] = round(per_page, 2)
            if constructed:
                result["note"] = ("the API's next_cursor was refused (422); the walk signed "
                                  "[sort value, id] cursors itself")
                ctx.log(f"    {name}: API cursor refused with 422; walked with constructed "
                        f"cursors")
        results[name] = result
        ctx.log(f"    {name:34} median {result['median_ms']:7.2f} ms  p95 "
                f"{result['p95_ms']:7.2f} ms  {result['statements']:4} SQL  {result['rows']} rows")
    return results, picks


def _new_ticket_data(ctx: Context, i: int, tag_slugs: list[str], departments: list[int],
                     contacts: int, customers: list[str]) -> dict[str, Any]:
    rng = ctx.rng
    data: dict[str, Any] = {
        "subject": f"Benchmark ticket {i}: cannot export invoices (order #{rng.randint(1, 10**6)})",
        "description": "Since this morning the export only returns an empty file. "
                       "I tried two browsers. Could you please have a look?",
        "priority": rng.choice(["low", "medium", "medium", "high", "urgent"]),
        "department_id": rng.choice(departments),
        "tags": rng.sample(tag_slugs, rng.randint(0, 2)),
    }
    roll = rng.random()
    if roll < 0.5:
        data["requester_email"] = f"contact{rng.randint(1, contacts)}@example.test"
    elif roll < 0.6:
        data["requester_email"] = f"new-{uuid.uuid4().hex[:10]}@example.test"
        data["requester_name"] = "New Person"
    else:
        data["requester_user_id"] = rng.choice(customers)
    return data


def _catalogue(ctx: Context) -> tuple[list[str], list[int], int, list[str]]:
    from flask_escalated.models import AgentProfile, Contact, Department

    with ctx.app.app_context():
        db = host.db.session
        slugs = list(db.execute(sa.select(Tag.slug)).scalars())
        depts = list(db.execute(sa.select(Department.id)).scalars())
        contacts = db.execute(sa.select(sa.func.count(Contact.id))).scalar_one()
        agents = set(db.execute(sa.select(AgentProfile.user_id)).scalars())
        customers = [
            str(u) for u in db.execute(sa.select(host.User.id).limit(2000)).scalars()
            if str(u) not in agents
        ]
    return slugs, depts, contacts, customers


def time_writes(ctx: Context, writes: Sequence[Callable[[], None]], *,
                keep_sql: bool = False) -> dict[str, Any]:
    """Run each write once, timing it and counting its statements; the stats and the rate over
    all of them (``keep_sql``: the last write's statements too)."""
    samples, counts, db_ms = [], [], []
    total_start = time.perf_counter()
    for write in writes:
        ctx.counter.reset()
        start = time.perf_counter()
        write()
        samples.append((time.perf_counter() - start) * 1000)
        counts.append(ctx.counter.count)
        db_ms.append(ctx.counter.db_ms)
    total = time.perf_counter() - total_start
    result = stats(samples, counts, db_ms)
    result["tickets"] = len(writes)
    result["tickets_per_second"] = round(len(writes) / total, 1)
    if keep_sql:
        result["sql"] = [s[:160].replace("\n", " ") for s, _ in ctx.counter.statements]
    return result


def _api_post(ctx: Context, client: Any, path: str, body: dict[str, Any]
              ) -> Callable[[], None]:
    def post() -> None:
        response = client.post(f"{API}{path}", json=body, headers=_headers(ctx))
        if response.status_code != 201:
            raise RuntimeError(f"POST {path} -> {response.status_code}: "
                               f"{response.get_data(True)[:500]}")
    return post


def measure_create_service(ctx: Context, count: int) -> dict[str, Any]:
    slugs, depts, contacts, customers = _catalogue(ctx)
    actor = Actor.agent(ctx.agent_id)
    escalated = ctx.app.extensions["escalated"]

    def create(data: dict[str, Any]) -> Callable[[], None]:
        new = ticket_service.NewTicket(
            subject=data["subject"], description=data["description"],
            priority=data["priority"], department_id=data["department_id"], tags=data["tags"],
            requester_user_id=data.get("requester_user_id"),
            requester_email=data.get("requester_email"),
            requester_name=data.get("requester_name"), channel="web",
        )

        def write() -> None:
            with ctx.app.app_context(), escalated.unit_of_work():
                ticket_service.create_ticket(new, actor)
        return write

    return time_writes(ctx, [create(_new_ticket_data(ctx, i, slugs, depts, contacts, customers))
                             for i in range(count)])


def measure_create_api(ctx: Context, count: int) -> dict[str, Any]:
    slugs, depts, contacts, customers = _catalogue(ctx)
    client = ctx.app.test_client()
    return time_writes(ctx, [
        _api_post(ctx, client, "/tickets",
                  _new_ticket_data(ctx, i, slugs, depts, contacts, customers))
        for i in range(count)], keep_sql=True)


def measure_raw_insert(ctx: Context, count: int) -> dict[str, Any]:
    """The floor: a single-row ``INSERT`` + ``COMMIT`` into a small table through the same engine,
    so each path's rate can be read as a share of what the database does at its cheapest."""
    table = sa.Table("bench_raw_insert", sa.MetaData(),
                     sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
                     sa.Column("note", sa.String(50), nullable=False))
    table.create(ctx.engine, checkfirst=True)
    statement = table.insert()

    def insert(i: int) -> Callable[[], None]:
        def write() -> None:
            with ctx.engine.begin() as conn:
                conn.execute(statement, {"note": f"row {i}"})
        return write

    result = time_writes(ctx, [insert(i) for i in range(count)])
    table.drop(ctx.engine)
    return result


def measure_create_floor(ctx: Context, count: int) -> dict[str, Any]:
    """A create's six statements written by hand through the same engine, in one transaction:
    the contact's lookup, the ticket's row, a tag, the timeline row, the reference and the
    search document, with values copied from a generated ticket. No ORM, validation, cache or
    events: what the database and the driver cost a create on their own, so the share of the
    raw insert that a create through the service can reach at most."""
    tickets, activities = Ticket.__table__, Activity.__table__
    with ctx.engine.connect() as conn:
        template = dict(conn.execute(sa.select(tickets).order_by(tickets.c.id.desc())
                                     .limit(1)).mappings().one())
        activity = dict(conn.execute(sa.select(activities).limit(1)).mappings().one())
        tag_id = conn.execute(sa.select(Tag.id).limit(1)).scalar_one()
        email = conn.execute(sa.select(Contact.email).limit(1)).scalar_one()
    for key in ("id", "reference"):
        template.pop(key)
    activity.pop("id")
    insert_ticket = tickets.insert().returning(tickets.c.id)
    find_contact = sa.select(Contact.id).where(Contact.email == email)

    def create(i: int) -> Callable[[], None]:
        def write() -> None:
            with ctx.app.app_context(), ctx.engine.begin() as conn:
                contact_id = conn.execute(find_contact).scalar_one()
                ticket_id = conn.execute(insert_ticket, {
                    **template, "reference": f"floor-{uuid.uuid4().hex[:12]}",
                    "contact_id": contact_id}).scalar_one()
                conn.execute(ticket_tags.insert(), {"ticket_id": ticket_id, "tag_id": tag_id})
                conn.execute(activities.insert(), {**activity, "ticket_id": ticket_id})
                conn.execute(tickets.update().where(tickets.c.id == ticket_id)
                             .values(reference=f"ESC-{ticket_id:05d}"))
                ticket_search._insert_documents(conn, [ticket_search.Document(
                    ticket_id, template["subject"], template["description"], "")])
        return write

    return time_writes(ctx, [create(i) for i in range(count)])


def _reply_targets(ctx: Context, count: int) -> list[str]:
    """References of open tickets to reply to, one per reply, cycling if there are few."""
    with ctx.app.app_context():
        refs = list(host.db.session.execute(
            sa.select(Ticket.reference).where(Ticket.status_category.in_(OPEN_CATEGORIES))
            .order_by(Ticket.id.desc()).limit(count)).scalars())
    return [refs[i % len(refs)] for i in range(count)]


REPLY_BODY = ("Thanks for the details. I exported the same invoices here and the file was not "
              "empty, so we are looking at your account's settings now.")


def measure_reply_service(ctx: Context, count: int) -> dict[str, Any]:
    from flask_escalated.services import replies as reply_service

    actor = Actor.agent(ctx.agent_id)
    escalated = ctx.app.extensions["escalated"]

    def reply(ref: str) -> Callable[[], None]:
        def write() -> None:
            with ctx.app.app_context(), escalated.unit_of_work():
                ticket = ticket_service.get_ticket(ref)
                reply_service.add_reply(ticket, REPLY_BODY, actor)
        return write

    return time_writes(ctx, [reply(ref) for ref in _reply_targets(ctx, count)])


def measure_reply_api(ctx: Context, count: int) -> dict[str, Any]:
    client = ctx.app.test_client()
    return time_writes(ctx, [_api_post(ctx, client, f"/tickets/{ref}/replies",
                                       {"body": REPLY_BODY})
                             for ref in _reply_targets(ctx, count)], keep_sql=True)


#: The write paths measured after the queue, in order: result key and label.
WRITE_PATHS: tuple[tuple[str, str], ...] = (
    ("raw_insert", "raw INSERT + COMMIT"),
    ("create_floor", "create's SQL by hand"),
    ("create_service", "create, service"),
    ("create_api", "create, HTTP API"),
    ("reply_service", "reply, service"),
    ("reply_api", "reply, HTTP API"),
)


def measure_writes(ctx: Context, settings: Settings, result: dict[str, Any]) -> None:
    """Every write path in the same run; each rate also as a share of the raw insert's."""
    runs: dict[str, Callable[[], dict[str, Any]]] = {
        "raw_insert": lambda: measure_raw_insert(ctx, settings.raw_insert),
        "create_floor": lambda: measure_create_floor(ctx, settings.create_service),
        "create_service": lambda: measure_create_service(ctx, settings.create_service),
        "create_api": lambda: measure_create_api(ctx, settings.create_api),
        "reply_service": lambda: measure_reply_service(ctx, settings.reply_service),
        "reply_api": lambda: measure_reply_api(ctx, settings.reply_api),
    }
    for key, label in WRITE_PATHS:
        result[key] = runs[key]()
        raw = result["raw_insert"]["tickets_per_second"]
        result[key]["pct_of_raw"] = round(100 * result[key]["tickets_per_second"] / raw, 1)
        ctx.log(f"    {label:20} {result[key]['tickets_per_second']:8.1f} /s  "
                f"({result[key]['pct_of_raw']:5.1f}% of raw)  median {result[key]['median_ms']} ms"
                f"  {result[key]['statements']:g} SQL")


def run_one(backend: str, size: int, settings: Settings, tmpdir: str,
            log: Callable[[str], None]) -> dict[str, Any]:
    log(f"== {backend}, {size:,} tickets")
    with seeded_host(backend, size, tmpdir, seed=settings.seed, keep=settings.keep,
                     quiet=not settings.verbose, log=log) as (ctx, summary):
        result: dict[str, Any] = {"backend": backend, "size": size}
        result["generate"] = summary.as_dict()
        log(f"    generated {summary.rows:,} rows in {summary.total_seconds:.1f}s "
            f"({result['generate']['rows_per_second']:,} rows/s)")
        with ctx.app.app_context():
            if ctx.engine.dialect.name == "postgresql":
                version = "SHOW server_version"
            elif ctx.engine.dialect.name == "mysql":
                version = "SELECT VERSION()"
            else:
                version = "SELECT 'SQLite ' || sqlite_version()"
            result["server"] = host.db.session.execute(sa.text(version)).scalar_one()
        result["queries"], result["filters"] = (
            ({}, {}) if settings.writes_only else measure_queue(ctx, settings))
        if ctx.plans:
            result["plans"] = ctx.plans
        measure_writes(ctx, settings, result)
    return result


# ---------------------------------------------------------------------------- reporting
def machine() -> dict[str, Any]:
    info: dict[str, Any] = {
        "platform": platform.platform(),
        "python": platform.python_version(),
        "sqlalchemy": sa.__version__,
        "cores": os.cpu_count(),
    }
    with _suppress(), open("/proc/cpuinfo") as fh:
        for line in fh:
            if line.startswith("model name"):
                info["cpu"] = line.split(":", 1)[1].strip()
                break
    with _suppress(), open("/proc/meminfo") as fh:
        for line in fh:
            if line.startswith("MemTotal"):
                info["memory_gb"] = round(int(line.split()[1]) / 1024 / 1024, 1)
                break
    with _suppress():
        info["loadavg_at_start"] = [round(x, 2) for x in os.getloadavg()]
    return info


def _size(n: int) -> str:
    if n >= 1_000_000 and n % 1_000_000 == 0:
        return f"{n // 1_000_000}M"
    return f"{n // 1000}k" if n >= 1000 and n % 1000 == 0 else str(n)


def markdown(report: dict[str, Any]) -> str:
    runs = report["runs"]
    heads = [f"{r['backend']} {_size(r['size'])}" for r in runs]
    lines = ["### Data generation", "",
             "| run | tickets | rows | seconds | rows/s | tickets/s |",
             "| --- | ---: | ---: | ---: | ---: | ---: |"]
    for head, r in zip(heads, runs, strict=True):
        g = r["generate"]
        lines.append(f"| {head} | {g['tickets']:,} | {g['rows']:,} | {g['total_seconds']} | "
                     f"{g['rows_per_second']:,} | {g['tickets_per_second']:,} |")
    lines += ["", "### Writes (one ticket or reply per unit of work / request)", "",
              "| run | path | per s | % of raw | median ms | p95 ms | SQL each | DB ms |",
              "| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: |"]
    for head, r in zip(heads, runs, strict=True):
        for key, label in WRITE_PATHS:
            c = r.get(key)
            if c:
                pct = c.get("pct_of_raw")
                lines.append(f"| {head} | {label} | {c['tickets_per_second']} | "
                             f"{'-' if pct is None else pct} | {c['median_ms']} | "
                             f"{c['p95_ms']} | {c['statements']:g} | {c['db_median_ms']} |")
    names: list[str] = []
    for r in runs:
        names += [n for n in r["queries"] if n not in names]
    lines += ["", "### Agent queue, GET /support/api/v1/tickets (limit 25): median / p95 ms", "",
              "| query | " + " | ".join(heads) + " |",
              "| --- | " + " | ".join("---:" for _ in heads) + " |"]
    for name in names:
        cells = []
        for r in runs:
            q = r["queries"].get(name)
            cells.append(f"{q['median_ms']:.1f} / {q['p95_ms']:.1f}" if q else "-")
        lines.append(f"| {name} | " + " | ".join(cells) + " |")
    lines += ["", "### Per request: SQL statements, time in the database (median ms), rows", "",
              "| query | " + " | ".join(heads) + " |",
              "| --- | " + " | ".join("---:" for _ in heads) + " |"]
    for name in names:
        cells = []
        for r in runs:
            q = r["queries"].get(name)
            cells.append(f"{q['statements']:g} SQL, {q['db_median_ms']:.1f} ms, {q['rows']}"
                         if q else "-")
        lines.append(f"| {name} | " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


def parse_args(argv: Sequence[str] | None = None) -> Settings:
    parser = argparse.ArgumentParser(
        prog="python -m bench.run",
        description="Benchmark ticket creation and agent-queue latency on fresh databases.",
    )
    parser.add_argument("--backends", default="sqlite,postgres",
                        help="comma-separated: sqlite, postgres, mariadb (default sqlite,postgres)")
    parser.add_argument("--sizes", default="10000,100000",
                        help="comma-separated ticket counts (default 10000,100000)")
    parser.add_argument("--reps", type=int, default=50, help="timed repetitions per query")
    parser.add_argument("--warmup", type=int, default=3, help="untimed repetitions per query")
    parser.add_argument("--create-service", type=int, default=500,
                        help="tickets created through the service layer")
    parser.add_argument("--create-api", type=int, default=300,
                        help="tickets created through POST /tickets")
    parser.add_argument("--raw-insert", type=int, default=1000,
                        help="single-row INSERT + COMMIT runs (the baseline)")
    parser.add_argument("--reply-service", type=int, default=300,
                        help="agent replies added through the service layer")
    parser.add_argument("--reply-api", type=int, default=200,
                        help="agent replies posted through POST /tickets/<ref>/replies")
    parser.add_argument("--deep-pages", type=int, default=200, help="pages to walk for 'deep'")
    parser.add_argument("--explain", action="store_true",
                        help="store (and print) the plan of each list query")
    parser.add_argument("--writes-only", action="store_true",
                        help="measure the write paths only (skip the agent queue)")
    parser.add_argument("--keep", action="store_true", help="keep the databases")
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("-v", "--verbose", action="store_true", help="generator progress")
    parser.add_argument("-o", "--output", type=Path, default=None,
                        help="JSON file to write (default bench/results/<stamp>.json)")
    parser.add_argument("--report", type=Path, nargs="+", metavar="JSON",
                        help="print the tables of saved result files (merged) and exit")
    args = parser.parse_args(argv)
    if args.report:
        runs = [run for path in args.report for run in json.loads(path.read_text())["runs"]]
        print(markdown({"runs": runs}))
        raise SystemExit(0)
    backends = [b.strip() for b in args.backends.split(",") if b.strip()]
    unknown = set(backends) - set(BACKENDS)
    if unknown:
        parser.error(f"unknown back ends: {', '.join(sorted(unknown))}")
    try:
        sizes = [int(s.replace("_", "")) for s in args.sizes.split(",") if s.strip()]
    except ValueError:
        parser.error("--sizes takes whole numbers")
    return Settings(backends=backends, sizes=sizes, reps=args.reps, warmup=args.warmup,
                    create_service=args.create_service, create_api=args.create_api,
                    raw_insert=args.raw_insert, reply_service=args.reply_service,
                    reply_api=args.reply_api,
                    deep_pages=args.deep_pages, explain=args.explain,
                    writes_only=args.writes_only, keep=args.keep,
                    seed=args.seed, verbose=args.verbose, output=args.output)


def main(argv: Sequence[str] | None = None) -> int:
    settings = parse_args(argv)

    def log(msg: str) -> None:
        print(msg, flush=True)

    report: dict[str, Any] = {
        "started_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "machine": machine(),
        "settings": {k: (str(v) if isinstance(v, Path) else v)
                     for k, v in vars(settings).items()},
        "runs": [],
    }
    tmpdir = tempfile.mkdtemp(prefix="escalated-bench-")
    try:
        for backend in settings.backends:
            for size in settings.sizes:
                report["runs"].append(run_one(backend, size, settings, tmpdir, log))
    finally:
        shutil.rmtree(tmpdir, ignore_errors=True)
    report["finished_at"] = datetime.now(timezone.utc).isoformat(timespec="seconds")
    with _suppress():
        report["machine"]["loadavg_at_end"] = [round(x, 2) for x in os.getloadavg()]
    out = settings.output or RESULTS_DIR / (
        datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%SZ") + ".json"
    )
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(report, indent=2, default=str))
    table = markdown(report)
    out.with_suffix(".md").write_text(table)
    if settings.explain:
        for r in report["runs"]:
            for name, plan in r.get("plans", {}).items():
                print(f"\n-- plan: {r['backend']} {r['size']:,}: {name}")
                print("\n".join(plan))
    print()
    print(table)
    print(f"results: {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
