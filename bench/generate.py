"""Fill a database with a realistic helpdesk: tickets with replies, tags and activity rows.

    python -m bench.generate sqlite:///bench.sqlite --tickets 100000
    python -m bench.generate postgresql+psycopg://postgres@127.0.0.1:5432/escalated_bench \\
        --tickets 1000000 --reset

The schema comes from ``flask_escalated.models.metadata`` (``create_all``), plus the benchmark
host's ``host_users`` table. Rows are written with SQLAlchemy Core in large batches
(``executemany``); on PostgreSQL through ``COPY ... FROM STDIN`` (psycopg 3) instead, with the
ticket tables' secondary indexes built after the load and foreign-key triggers off for the
session (the generator writes consistent data by construction). Ids are assigned here, so every
denormalized column is written consistently in the same row: ``reference`` is
``f"{prefix}-{id:05d}"``, ``status_category`` is the status's category, ``priority_rank`` the
priority's rank, ``reply_count``/``last_reply_at``/``first_response_at``/``last_agent_reply_at``/
``last_customer_reply_at`` agree with the public replies, the stored timings
(``first_response_seconds``, ``resolution_seconds`` and their business-time twins, on the desk's
default business hours, as the services would have stored them) agree with ``created_at``,
``first_response_at`` and ``resolved_at``, ``version`` is 1 and every datetime is aware UTC.

Distributions (per ticket): created over the last ``--days`` days with growth toward today;
status by age (recent tickets mostly in the six open categories, older ones mostly closed or
resolved; all eight categories occur, plus one custom status); five priorities; 10 % without a
department; unassigned mostly while ``open``; 0-3 tags (Zipf-like popularity, plus one long-tail
tag on about one ticket in 20,000); 1-5 replies
(about 15 % internal notes); 2-8 activity rows. Requesters are host users (35 %) or contacts.
"""

from __future__ import annotations

import argparse
import itertools
import json
import math
import random
import sys
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Any

import sqlalchemy as sa

from flask_escalated.config import DEFAULT_SLA
from flask_escalated.domain import (
    CLOSED,
    ESCALATED,
    IN_PROGRESS,
    OPEN,
    PRIORITY_RANK,
    REOPENED,
    RESOLVED,
    WAITING_ON_AGENT,
    WAITING_ON_CUSTOMER,
)
from flask_escalated.models import metadata
from flask_escalated.services.sla import config_schedule
from flask_escalated.services.timings import BusinessClock

from .host import User

T = metadata.tables
TICKETS = T["escalated_tickets"]
REPLIES = T["escalated_replies"]
ACTIVITIES = T["escalated_activities"]
TICKET_TAGS = T["escalated_ticket_tags"]
TAGS = T["escalated_tags"]
CONTACTS = T["escalated_contacts"]
DEPARTMENTS = T["escalated_departments"]
MEMBERS = T["escalated_department_members"]
AGENTS = T["escalated_agent_profiles"]
STATUSES = T["escalated_ticket_statuses"]
HOST_USERS: sa.Table = User.__table__

#: The tables that grow with the ticket count; their secondary indexes are built after a load.
BULK_TABLES = (TICKETS, REPLIES, ACTIVITIES, TICKET_TAGS)

# ---------------------------------------------------------------------------- vocabulary
DEPARTMENT_NAMES = [
    "Technical Support", "Billing", "Sales", "Accounts", "Shipping", "Returns", "Onboarding",
    "Security", "Partnerships", "Hardware", "Mobile Apps", "Enterprise",
]
TAG_NAMES = [
    "billing", "refund", "bug", "login", "password-reset", "feature-request", "vip", "mobile",
    "android", "ios", "api", "integration", "invoice", "shipping", "delay", "damaged",
    "cancellation", "upgrade", "downgrade", "sso", "2fa", "export", "import", "performance",
    "outage", "data-loss", "gdpr", "security", "onboarding", "training", "webhook", "email",
    "notifications", "reporting", "dashboard", "permissions", "pricing", "trial", "churn-risk",
    "documentation", "localization", "accessibility", "beta", "hardware", "warranty",
    "chargeback", "tax", "migration", "sla", "partner",
]
SUBJECT_OPENERS = [
    "Cannot", "Unable to", "Question about how to", "Problem when I try to", "Error when trying to",
    "Request:", "How do I", "Urgent: cannot", "Help needed to", "Not possible to",
    "Bug report: failing to", "Still waiting to", "Feature request: let me",
]
SUBJECT_TOPICS = [
    "log in to my account", "update my billing details", "export last month's invoices",
    "reset my password", "connect the Slack integration", "change the account owner",
    "download the mobile app", "add a new team member", "cancel my subscription",
    "track my order", "apply the discount code", "enable two-factor authentication",
    "import contacts from CSV", "receive notification e-mails", "see the dashboard reports",
    "configure single sign-on", "access the API with my token", "return a damaged item",
    "upgrade to the annual plan", "delete my personal data (GDPR)", "sync the calendar",
    "change the delivery address", "get a VAT invoice", "open attachments on iOS",
    "set up webhooks for new orders", "migrate from the old version", "print shipping labels",
    "translate the help centre into Deutsch", "pay with SEPA direct debit",
    "verify my e-mail address", "restore deleted projects", "use the app offline",
]
SENTENCES = [
    "Since this morning the page only shows a spinner and never finishes loading.",
    "I already tried clearing the cache and signing out and in again, without luck.",
    "The error message says 'Something went wrong (code 500)'.",
    "This blocks our whole team, so a quick answer would be much appreciated.",
    "We are on the Business plan and have about 40 users.",
    "It worked fine last week; nothing changed on our side as far as I know.",
    "Attached you will find a screenshot of what I see.",
    "Could you please tell me which steps I should follow?",
    "Our accountant needs the documents before the end of the month.",
    "I'm using Firefox 128 on Windows 11, but the same happens on my phone.",
    "The order number is in the subject line.",
    "Merci d'avance pour votre aide, c'est assez urgent pour nous.",
    "Vielen Dank für die schnelle Rückmeldung!",
    "We were charged twice for the same month, see the two lines on the statement.",
    "Is there a way to do this in bulk rather than one at a time?",
    "Our security team asks whether the data is stored in the EU.",
    "The webhook returns a 401 although the token is valid.",
    "The parcel arrived with the box torn open and one item missing.",
    "Please escalate this to someone who can look at the logs.",
    "A colleague had the same problem last month and it was fixed by support.",
    "Thank you, that solved it! 🎉",
    "Could you give me an estimate of when this will be fixed?",
    "I would like to speak to a manager about this.",
    "The numbers in the monthly report do not match the CSV export.",
]
AGENT_SENTENCES = [
    "Thanks for reaching out, and sorry for the trouble.",
    "I have checked your account and can confirm the issue on our side.",
    "Could you send us the exact time when this happened, including your time zone?",
    "Our engineers have deployed a fix; please try again and let us know.",
    "I have issued a refund; it should appear on your statement within 5-7 business days.",
    "You can change this under Settings → Billing → Payment methods.",
    "I'm escalating this to our second-level team, who will get back to you shortly.",
    "Here is a link to the relevant article in our knowledge base.",
    "I'll keep this ticket open until you confirm that everything works.",
    "As this has been quiet for a while, I'll mark the ticket as resolved.",
]
NOTE_SENTENCES = [
    "Checked the logs: 502s from the gateway between 09:12 and 09:40 UTC.",
    "Customer is on a legacy plan, do not offer the new discount.",
    "Linked to the known issue in the tracker; waiting for the fix to ship.",
    "Called the customer, no answer. Try again tomorrow.",
    "VIP account, keep the account manager in the loop.",
]
FIRST_NAMES = ["Ada", "Alex", "Sam", "Lee", "Casey", "Jordan", "Mia", "Noah", "Zoë", "Björn",
               "Aiko", "Mateo", "Priya", "Olu", "Chen", "Fatima", "Lars", "Inès", "Yusuf", "Eva"]
LAST_NAMES = ["Smith", "García", "Müller", "Rossi", "Nguyen", "Kowalski", "Okafor", "Silva",
              "Tanaka", "Dubois", "Jensen", "Patel", "Cohen", "O'Brien", "Novak", "Ivanova"]

#: Status weights by category for tickets younger than three weeks and for older ones.
RECENT_STATUS = {
    OPEN: 22, IN_PROGRESS: 20, WAITING_ON_CUSTOMER: 15, WAITING_ON_AGENT: 8, ESCALATED: 4,
    RESOLVED: 14, CLOSED: 12, REOPENED: 5,
}
OLD_STATUS = {
    OPEN: 0.6, IN_PROGRESS: 0.8, WAITING_ON_CUSTOMER: 1.0, WAITING_ON_AGENT: 0.5,
    ESCALATED: 0.2, RESOLVED: 2.5, CLOSED: 94.0, REOPENED: 0.4,
}
RECENT_DAYS = 21
#: A custom status (mapped onto waiting_on_agent) used by a quarter of those tickets.
CUSTOM_STATUS = ("waiting_on_vendor", "Waiting on vendor", WAITING_ON_AGENT)
#: Probability that a ticket in the category has no assignee.
UNASSIGNED = {
    OPEN: 0.55, IN_PROGRESS: 0.02, WAITING_ON_CUSTOMER: 0.05, WAITING_ON_AGENT: 0.10,
    ESCALATED: 0.08, RESOLVED: 0.04, CLOSED: 0.04, REOPENED: 0.15,
}
PRIORITY_WEIGHTS = {"low": 20, "medium": 45, "high": 22, "urgent": 10, "critical": 3}
CHANNEL_WEIGHTS = {"web": 40, "email": 35, "api": 8, "widget": 12, "chat": 5}
TYPE_WEIGHTS = {"question": 50, "problem": 25, "incident": 15, "task": 10}
TAG_COUNT_WEIGHTS = (30, 35, 25, 10)  # 0, 1, 2, 3 tags
REPLY_COUNT_WEIGHTS = (30, 30, 20, 12, 8)  # 1..5 replies
ACTIVITY_COUNT_WEIGHTS = (10, 18, 20, 18, 14, 12, 8)  # 2..8 activity rows
#: One long-tail tag on about one ticket in 20,000 (a tag filter that matches almost nothing).
RARE_TAG = "legal-hold"
RARE_TAG_SHARE = 1 / 20_000
NOTE_SHARE = 0.15
HOST_REQUESTER_SHARE = 0.35
NO_DEPARTMENT_SHARE = 0.10


# ---------------------------------------------------------------------------- options
@dataclass
class Options:
    url: str
    tickets: int = 10_000
    batch: int = 5_000
    seed: int = 42
    agents: int = 50
    departments: int = 8
    tags: int = 40
    contacts: int | None = None  # default: tickets // 4 (at least 100)
    customers: int | None = None  # default: tickets // 40 (at least 50)
    days: int = 730
    prefix: str = "ESC"
    reset: bool = False
    copy: bool = True  # COPY on PostgreSQL
    defer_indexes: bool | None = None  # None: when the ticket tables start empty
    fk_checks: bool = False  # keep foreign-key checks on during the load
    vacuum: bool = True  # VACUUM/ANALYZE after the load
    now: datetime | None = None
    quiet: bool = False


@dataclass
class Summary:
    tickets: int = 0
    replies: int = 0
    activities: int = 0
    ticket_tags: int = 0
    contacts: int = 0
    host_users: int = 0
    agents: int = 0
    departments: int = 0
    tags: int = 0
    load_seconds: float = 0.0
    index_seconds: float = 0.0
    analyze_seconds: float = 0.0
    total_seconds: float = 0.0
    agent_user_ids: list[str] = field(default_factory=list)

    @property
    def rows(self) -> int:
        return (self.tickets + self.replies + self.activities + self.ticket_tags + self.contacts
                + self.host_users + self.agents + self.departments + self.tags)

    def as_dict(self) -> dict[str, Any]:
        return {
            "tickets": self.tickets, "replies": self.replies, "activities": self.activities,
            "ticket_tags": self.ticket_tags, "contacts": self.contacts,
            "host_users": self.host_users, "agents": self.agents,
            "departments": self.departments, "tags": self.tags, "rows": self.rows,
            "load_seconds": round(self.load_seconds, 2),
            "index_seconds": round(self.index_seconds, 2),
            "analyze_seconds": round(self.analyze_seconds, 2),
            "total_seconds": round(self.total_seconds, 2),
            "rows_per_second": round(self.rows / self.total_seconds) if self.total_seconds else 0,
            "tickets_per_second": (
                round(self.tickets / self.total_seconds) if self.total_seconds else 0
            ),
        }


# ---------------------------------------------------------------------------- writers
def _column_fill(table: sa.Table, columns: Sequence[str]) -> tuple[list[str], tuple[Any, ...]]:
    """Columns the rows leave out that still need a value (Python-side scalar defaults).

    Core ``insert()`` applies those itself; COPY does not, so they are appended to each row.
    Raises if a NOT NULL column has neither a value nor a default (a new column in the models
    the generator does not know yet).
    """
    names, values = [], []
    for col in table.columns:
        if col.name in columns:
            continue
        default = col.default
        if default is not None and getattr(default, "is_scalar", False):
            names.append(col.name)
            values.append(default.arg)  # type: ignore[attr-defined]
        elif not col.nullable and col.server_default is None and not (
            col.primary_key and col.autoincrement
        ):
            raise RuntimeError(
                f"{table.name}.{col.name} is NOT NULL without a default; teach bench/generate.py "
                f"to fill it"
            )
    return names, tuple(values)


class Writer:
    """Writes batches of row tuples into tables."""

    def __init__(self, engine: sa.Engine) -> None:
        self.engine = engine

    def begin(self) -> None:  # a batch's transaction
        raise NotImplementedError

    def write(self, table: sa.Table, columns: Sequence[str], rows: list[tuple[Any, ...]]) -> None:
        raise NotImplementedError

    def commit(self) -> None:
        raise NotImplementedError

    def close(self) -> None:
        raise NotImplementedError


class CoreWriter(Writer):
    """SQLAlchemy Core ``executemany`` (SQLite, MariaDB, and PostgreSQL with ``--no-copy``)."""

    def __init__(self, engine: sa.Engine, *, fk_checks: bool) -> None:
        super().__init__(engine)
        self.conn = engine.connect()
        name = engine.dialect.name
        if name == "sqlite":
            self.conn.exec_driver_sql("PRAGMA synchronous=OFF")
        elif name == "mysql" and not fk_checks:
            self.conn.exec_driver_sql("SET FOREIGN_KEY_CHECKS=0")
            self.conn.exec_driver_sql("SET UNIQUE_CHECKS=0")
        elif name == "postgresql":
            self.conn.exec_driver_sql("SET synchronous_commit=off")
            if not fk_checks:
                _try_replica_role(self.conn.exec_driver_sql)
        self.conn.commit()
        self.trans: sa.Transaction | None = None

    def begin(self) -> None:
        self.trans = self.conn.begin()

    def write(self, table: sa.Table, columns: Sequence[str], rows: list[tuple[Any, ...]]) -> None:
        if rows:
            self.conn.execute(table.insert(), [dict(zip(columns, r, strict=True)) for r in rows])

    def commit(self) -> None:
        assert self.trans is not None
        self.trans.commit()
        self.trans = None

    def close(self) -> None:
        self.conn.close()


def _try_replica_role(execute: Callable[[str], Any]) -> bool:
    """Turn foreign-key triggers off for this session (needs a superuser)."""
    try:
        execute("SET session_replication_role = replica")
    except Exception:  # not a superuser: keep the checks
        return False
    return True


class PgCopyWriter(Writer):
    """``COPY ... FROM STDIN`` through the psycopg 3 connection (text format)."""

    def __init__(self, engine: sa.Engine, *, fk_checks: bool) -> None:
        super().__init__(engine)
        self.raw = engine.raw_connection()
        self.pg = self.raw.driver_connection
        assert self.pg is not None
        with self.pg.cursor() as cur:
            cur.execute("SET synchronous_commit = off")
            if not fk_checks and not _try_replica_role(cur.execute):
                self.pg.rollback()
        self.pg.commit()
        self._plans: dict[tuple[str, tuple[str, ...]], tuple[str, tuple[Any, ...], list[int]]] = {}

    def _plan(self, table: sa.Table, columns: Sequence[str]
              ) -> tuple[str, tuple[Any, ...], list[int]]:
        key = (table.name, tuple(columns))
        if key not in self._plans:
            extra_names, extra_values = _column_fill(table, columns)
            names = [*columns, *extra_names]
            quoted = ", ".join(f'"{n}"' for n in names)
            json_cols = [
                i for i, n in enumerate(columns)
                if isinstance(table.c[n].type, sa.JSON)
                or isinstance(getattr(table.c[n].type, "impl", None), sa.JSON)
                or any(isinstance(v, sa.JSON) for v in
                       getattr(table.c[n].type, "_variant_mapping", {}).values())
            ]
            extra_json = tuple(
                json.dumps(v) if isinstance(v, dict | list) else v for v in extra_values
            )
            self._plans[key] = (f'COPY "{table.name}" ({quoted}) FROM STDIN', extra_json, json_cols)
        return self._plans[key]

    def begin(self) -> None:
        pass  # psycopg opens the transaction on the first statement

    def write(self, table: sa.Table, columns: Sequence[str], rows: list[tuple[Any, ...]]) -> None:
        if not rows:
            return
        sql, extra, json_cols = self._plan(table, columns)
        dumps = json.dumps
        with self.pg.cursor() as cur, cur.copy(sql) as copy:
            write_row = copy.write_row
            if json_cols:
                for row in rows:
                    values = list(row)
                    for i in json_cols:
                        if values[i] is not None:
                            values[i] = dumps(values[i])
                    write_row((*values, *extra) if extra else values)
            elif extra:
                for row in rows:
                    write_row(row + extra)
            else:
                for row in rows:
                    write_row(row)

    def commit(self) -> None:
        self.pg.commit()

    def close(self) -> None:
        self.raw.close()


# ---------------------------------------------------------------------------- schema
def prepare_schema(engine: sa.Engine, *, reset: bool) -> None:
    """Create (after dropping, with ``reset``) the escalated tables and ``host_users``."""
    if reset:
        metadata.drop_all(engine)
        HOST_USERS.drop(engine, checkfirst=True)
    metadata.create_all(engine)
    HOST_USERS.create(engine, checkfirst=True)


def _max_id(conn: sa.Connection, table: sa.Table) -> int:
    return int(conn.execute(sa.select(sa.func.coalesce(sa.func.max(table.c.id), 0))).scalar_one())


def _index_exists(conn: sa.Connection, index: sa.Index) -> bool:
    """Whether the database has ``index`` (matched by columns: long names get truncated)."""
    assert index.table is not None
    wanted = [c.name for c in index.columns]
    return any(
        ix["column_names"] == wanted for ix in sa.inspect(conn).get_indexes(index.table.name)
    )


def drop_bulk_indexes(engine: sa.Engine) -> list[sa.Index]:
    dropped = []
    with engine.begin() as conn:
        for table in BULK_TABLES:
            for index in sorted(table.indexes, key=lambda i: str(i.name)):
                if _index_exists(conn, index):
                    index.drop(conn)
                    dropped.append(index)
    return dropped


def create_indexes(engine: sa.Engine, indexes: list[sa.Index], log: Callable[[str], None]) -> None:
    with engine.connect() as conn:
        if engine.dialect.name == "postgresql":
            conn.exec_driver_sql("SET maintenance_work_mem = '512MB'")
            conn.exec_driver_sql("SET max_parallel_maintenance_workers = 2")
        for index in indexes:
            start = time.perf_counter()
            index.create(conn)
            conn.commit()
            log(f"  index {index.name}: {time.perf_counter() - start:.1f}s")


def reset_sequences(engine: sa.Engine, tables: Iterable[sa.Table]) -> None:
    if engine.dialect.name != "postgresql":
        return  # SQLite and MariaDB continue after the highest id by themselves
    with engine.begin() as conn:
        for table in tables:
            column = table.c.get("id")
            if column is None or not column.autoincrement or not isinstance(
                    column.type, (sa.Integer, sa.BigInteger)):
                continue  # no sequence behind it (a text or natural key)
            conn.execute(sa.text(
                f"SELECT setval(pg_get_serial_sequence('{table.name}', 'id'), "
                f"(SELECT COALESCE(MAX(id), 0) + 1 FROM \"{table.name}\"), false)"
            ))


def analyze(engine: sa.Engine, *, vacuum: bool) -> None:
    name = engine.dialect.name
    tables = [*metadata.sorted_tables, HOST_USERS]
    if name == "postgresql":
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.exec_driver_sql("SET maintenance_work_mem = '512MB'")
            verb = "VACUUM (ANALYZE)" if vacuum else "ANALYZE"
            for table in tables:
                conn.exec_driver_sql(f'{verb} "{table.name}"')
    elif name == "mysql":
        with engine.connect() as conn:
            conn.exec_driver_sql("ANALYZE TABLE " + ", ".join(f"`{t.name}`" for t in tables))
    else:
        with engine.connect() as conn:
            conn.exec_driver_sql("ANALYZE")
            conn.commit()


# ---------------------------------------------------------------------------- helpers
def _cum(weights: Iterable[float]) -> list[float]:
    return list(itertools.accumulate(weights))


def _text_pool(rng: random.Random, sentences: list[str], size: int, lo: int, hi: int) -> list[str]:
    return [" ".join(rng.sample(sentences, rng.randint(lo, hi))) for _ in range(size)]


def _subject_pool(rng: random.Random, size: int) -> list[str]:
    pool = []
    for _ in range(size):
        subject = f"{rng.choice(SUBJECT_OPENERS)} {rng.choice(SUBJECT_TOPICS)}"
        if rng.random() < 0.3:
            subject += f" (order #{rng.randint(10000, 999999)})"
        pool.append(subject)
    return pool


def _name(rng: random.Random) -> str:
    return f"{rng.choice(FIRST_NAMES)} {rng.choice(LAST_NAMES)}"


@dataclass
class World:
    """The fixed cast the tickets refer to."""

    agent_ids: list[str]
    assignable: list[str]
    departments: list[tuple[int, list[str]]]  # (id, member user ids)
    department_cum: list[float]
    tag_ids: list[int]
    rare_tag_id: int
    tag_slugs: dict[int, str]
    tag_cum: list[float]
    contact_ids: list[int]
    customer_ids: list[str]


def _build_world(writer: Writer, engine: sa.Engine, opts: Options, rng: random.Random,
                 stamp: datetime, summary: Summary, log: Callable[[str], None]) -> World:
    with engine.connect() as conn:
        base = {t.name: _max_id(conn, t) for t in
                (HOST_USERS, AGENTS, DEPARTMENTS, MEMBERS, TAGS, CONTACTS, STATUSES)}
        has_custom = conn.execute(
            sa.select(STATUSES.c.id).where(STATUSES.c.slug == CUSTOM_STATUS[0])
        ).first() is not None
    n_contacts = opts.contacts if opts.contacts is not None else max(100, opts.tickets // 4)
    n_customers = opts.customers if opts.customers is not None else max(50, opts.tickets // 40)
    writer.begin()

    # Host users: agents first, then customers.
    uid0 = base[HOST_USERS.name]
    users = []
    for i in range(opts.agents + n_customers):
        uid = uid0 + i + 1
        kind = "agent" if i < opts.agents else "customer"
        users.append((uid, f"{kind}{uid}@bench.test", _name(rng)))
    for start in range(0, len(users), 10_000):
        writer.write(HOST_USERS, ("id", "email", "name"), users[start:start + 10_000])
    agent_ids = [str(uid0 + i + 1) for i in range(opts.agents)]
    customer_ids = [str(uid0 + opts.agents + i + 1) for i in range(n_customers)]

    # Agent profiles: two admins, a tenth light agents, the rest agents.
    n_light = opts.agents // 10
    profiles = []
    for i, uid in enumerate(agent_ids):
        role = "admin" if i < 2 else ("light_agent" if i >= opts.agents - n_light else "agent")
        profiles.append((base[AGENTS.name] + i + 1, uid, role, True, "UTC", stamp, stamp))
    writer.write(AGENTS, ("id", "user_id", "role", "is_active", "timezone", "created_at",
                          "updated_at"), profiles)
    assignable = agent_ids[: opts.agents - n_light] or agent_ids

    # Departments (Zipf-like sizes) and their members (each agent in one or two).
    departments = []
    dept_rows = []
    for i in range(opts.departments):
        did = base[DEPARTMENTS.name] + i + 1
        name = DEPARTMENT_NAMES[i % len(DEPARTMENT_NAMES)]
        if i >= len(DEPARTMENT_NAMES):
            name += f" {i // len(DEPARTMENT_NAMES) + 1}"
        slug = f"{name.lower().replace(' ', '-')}-{did}"
        dept_rows.append((did, name, slug, True, "manual", stamp, stamp))
        departments.append((did, []))
    writer.write(DEPARTMENTS, ("id", "name", "slug", "is_active", "assignment_strategy",
                               "created_at", "updated_at"), dept_rows)
    member_rows = []
    mid = base[MEMBERS.name]
    for i, uid in enumerate(assignable):
        homes = {i % len(departments)}
        if rng.random() < 0.4:
            homes.add(rng.randrange(len(departments)))
        for d in sorted(homes):
            mid += 1
            departments[d][1].append(uid)
            member_rows.append((mid, departments[d][0], uid, stamp))
    writer.write(MEMBERS, ("id", "department_id", "user_id", "created_at"), member_rows)

    # Tags.
    tag_rows = []
    tag_ids, tag_slugs = [], {}
    for i in range(opts.tags):
        tid = base[TAGS.name] + i + 1
        name = TAG_NAMES[i % len(TAG_NAMES)]
        if i >= len(TAG_NAMES):
            name += f"-{i // len(TAG_NAMES) + 1}"
        tag_rows.append((tid, name, name, "#6b7280", stamp, stamp))
        tag_ids.append(tid)
        tag_slugs[tid] = name
    rare_id = base[TAGS.name] + opts.tags + 1
    tag_rows.append((rare_id, RARE_TAG, RARE_TAG, "#b91c1c", stamp, stamp))
    tag_slugs[rare_id] = RARE_TAG
    writer.write(TAGS, ("id", "name", "slug", "color", "created_at", "updated_at"), tag_rows)

    # One custom status.
    if not has_custom:
        slug, label, category = CUSTOM_STATUS
        writer.write(STATUSES, ("id", "slug", "label", "category", "color", "position",
                                "is_active", "pauses_sla", "created_at", "updated_at"),
                     [(base[STATUSES.name] + 1, slug, label, category, "#a16207", 1, True, True,
                       stamp, stamp)])
    writer.commit()

    # Contacts (a few linked to host customers), in batches.
    cid0 = base[CONTACTS.name]
    contact_cols = ("id", "email", "name", "user_id", "created_at", "updated_at")
    batch: list[tuple[Any, ...]] = []
    for i in range(n_contacts):
        cid = cid0 + i + 1
        linked = customer_ids[i] if i < len(customer_ids) and rng.random() < 0.1 else None
        created = stamp - timedelta(days=opts.days * rng.random())
        batch.append((cid, f"contact{cid}@example.test", _name(rng), linked, created, created))
        if len(batch) >= 20_000:
            writer.begin()
            writer.write(CONTACTS, contact_cols, batch)
            writer.commit()
            batch = []
    if batch:
        writer.begin()
        writer.write(CONTACTS, contact_cols, batch)
        writer.commit()
    summary.host_users, summary.agents = len(users), len(profiles)
    summary.departments, summary.tags, summary.contacts = len(dept_rows), len(tag_rows), n_contacts
    summary.agent_user_ids = list(agent_ids)
    log(f"cast: {len(users):,} host users ({opts.agents} agents), {len(dept_rows)} departments, "
        f"{len(tag_rows)} tags, {n_contacts:,} contacts")
    dept_weights = [1 / (i + 1) ** 0.8 for i in range(len(departments))]
    tag_weights = [1 / (i + 1) ** 0.9 for i in range(len(tag_ids))]
    return World(
        agent_ids=agent_ids,
        assignable=assignable,
        departments=departments,
        department_cum=_cum(dept_weights),
        tag_ids=tag_ids,
        rare_tag_id=rare_id,
        tag_slugs=tag_slugs,
        tag_cum=_cum(tag_weights),
        contact_ids=list(range(cid0 + 1, cid0 + n_contacts + 1)),
        customer_ids=customer_ids,
    )


# ---------------------------------------------------------------------------- tickets
TICKET_COLUMNS = (
    "id", "reference", "subject", "description", "status", "status_category", "priority",
    "priority_rank", "ticket_type", "channel", "requester_user_id", "contact_id", "assignee_id",
    "department_id", "reply_count", "first_response_at", "last_reply_at",
    "last_customer_reply_at", "last_agent_reply_at", "resolved_at", "closed_at",
    "first_response_seconds", "first_response_business_seconds", "resolution_seconds",
    "resolution_business_seconds", "sla_used_seconds", "version", "created_at", "updated_at",
)
REPLY_COLUMNS = (
    "id", "ticket_id", "author_user_id", "author_contact_id", "author_type", "body",
    "is_internal", "is_pinned", "channel", "created_at", "updated_at",
)
ACTIVITY_COLUMNS = (
    "id", "ticket_id", "type", "actor_type", "actor_user_id", "actor_contact_id", "properties",
    "created_at",
)
TAG_COLUMNS = ("ticket_id", "tag_id")


class TicketFactory:
    """Makes the rows of consecutive tickets (with ids given here) batch by batch."""

    def __init__(self, rng: random.Random, world: World, opts: Options, now: datetime,
                 ids: tuple[int, int, int]) -> None:
        self.rng, self.world, self.opts, self.now = rng, world, opts, now
        self.ticket_id, self.reply_id, self.activity_id = ids
        self.first_ticket = ids[0] + 1
        self.span = opts.days * 86400.0
        self.subjects = _subject_pool(rng, 3000)
        self.descriptions = _text_pool(rng, SENTENCES, 800, 2, 5)
        self.customer_bodies = _text_pool(rng, SENTENCES, 800, 1, 3)
        self.agent_bodies = _text_pool(rng, AGENT_SENTENCES, 400, 1, 3)
        self.notes = _text_pool(rng, NOTE_SENTENCES, 100, 1, 2)
        self.recent_status = (list(RECENT_STATUS), _cum(RECENT_STATUS.values()))
        self.old_status = (list(OLD_STATUS), _cum(OLD_STATUS.values()))
        self.priorities = (list(PRIORITY_WEIGHTS), _cum(PRIORITY_WEIGHTS.values()))
        self.channels = (list(CHANNEL_WEIGHTS), _cum(CHANNEL_WEIGHTS.values()))
        self.types = (list(TYPE_WEIGHTS), _cum(TYPE_WEIGHTS.values()))
        self.n_tags = ([0, 1, 2, 3], _cum(TAG_COUNT_WEIGHTS))
        self.n_replies = ([1, 2, 3, 4, 5], _cum(REPLY_COUNT_WEIGHTS))
        self.n_acts = (list(range(2, 9)), _cum(ACTIVITY_COUNT_WEIGHTS))
        # The tickets have no SLA policy: business time counts on the desk's schedule, which
        # for the benchmark host is ESCALATED_SLA's default business hours.
        self.clock = BusinessClock(config_schedule(DEFAULT_SLA["business_hours"]),
                                   now.timestamp() - self.span - 2 * 86400,
                                   now.timestamp() + 86400)

    def _timing(self, start: datetime, end: datetime | None) -> tuple[int | None, int | None]:
        """Calendar and business seconds from ``start`` to ``end`` (as services.timings)."""
        if end is None:
            return None, None
        a, b = start.timestamp(), end.timestamp()
        if b <= a:
            return 0, 0
        return round(b - a), round(self.clock.between(a, b))

    def _draw(self, spec: tuple[list[Any], list[float]], k: int) -> list[Any]:
        return self.rng.choices(spec[0], cum_weights=spec[1], k=k)

    def batch(self, start: int, count: int, total: int) -> tuple[list[tuple[Any, ...]], ...]:
        """Rows for tickets ``start .. start+count`` (of ``total``, for the time line)."""
        rng, world, now = self.rng, self.world, self.now
        rnd = rng.random
        priorities = self._draw(self.priorities, count)
        channels = self._draw(self.channels, count)
        types = self._draw(self.types, count)
        n_tags = self._draw(self.n_tags, count)
        n_replies = self._draw(self.n_replies, count)
        n_acts = self._draw(self.n_acts, count)
        depts = rng.choices(world.departments, cum_weights=world.department_cum, k=count)
        tag_draws = rng.choices(world.tag_ids, cum_weights=world.tag_cum, k=3 * count)
        subjects, descriptions = self.subjects, self.descriptions
        prefix = self.opts.prefix
        tickets: list[tuple[Any, ...]] = []
        replies: list[tuple[Any, ...]] = []
        acts: list[tuple[Any, ...]] = []
        links: list[tuple[Any, ...]] = []
        recent_cut = now - timedelta(days=RECENT_DAYS)
        span = self.span
        for k in range(count):
            self.ticket_id += 1
            tid = self.ticket_id
            # Created: later tickets are newer; density grows toward today.
            position = (start + k + 0.5) / total
            created = now - timedelta(seconds=span * (1.0 - position ** 0.8) + rnd() * 60)
            status_spec = self.recent_status if created >= recent_cut else self.old_status
            category = rng.choices(status_spec[0], cum_weights=status_spec[1])[0]
            status = category
            if category == WAITING_ON_AGENT and rnd() < 0.25:
                status = CUSTOM_STATUS[0]
            age = (now - created).total_seconds()
            closed = category in (RESOLVED, CLOSED)
            if closed:
                life = min(age, rng.expovariate(1 / (3 * 86400.0)) + 600)
            else:
                life = age * (1.0 - rnd() ** 3)  # open tickets: touched recently
            updated = created + timedelta(seconds=life)
            resolved_at = closed_at = None
            if category == RESOLVED:
                resolved_at = updated
            elif category == CLOSED:
                closed_at = updated
                gap = min(life * 0.5, rnd() * 7 * 86400)  # auto-close comes after a week
                resolved_at = updated - timedelta(seconds=gap)
            priority = priorities[k]
            dept_id, members = (None, None) if rnd() < NO_DEPARTMENT_SHARE else depts[k]
            assignee = None
            if rnd() >= UNASSIGNED[category]:
                pool = members if members and rnd() < 0.9 else world.assignable
                assignee = pool[int(rnd() * len(pool))]
            if rnd() < HOST_REQUESTER_SHARE:
                requester, contact = rng.choice(world.customer_ids), None
                customer_kind = "customer"
            else:
                requester, contact = None, rng.choice(world.contact_ids)
                customer_kind = "contact"
            channel = channels[k]

            # Tags.
            slugs = []
            rare = rnd() < RARE_TAG_SHARE
            if n_tags[k] or rare:
                chosen = list(dict.fromkeys(tag_draws[3 * k:3 * k + n_tags[k]]))
                if rare:
                    chosen.append(world.rare_tag_id)
                for tag_id in chosen:
                    links.append((tid, tag_id))
                    slugs.append(world.tag_slugs[tag_id])

            # Replies, in time order between creation and the last update.
            n = n_replies[k]
            times = sorted(rnd() for _ in range(n))
            window = life
            reply_count = 0
            first_response = last_reply = last_agent = last_customer = None
            events: list[tuple[datetime, str, str, str | None, int | None, dict[str, Any]]] = []
            agent_turn = category != OPEN
            for j in range(n):
                at = created + timedelta(seconds=window * (0.02 + 0.98 * times[j]))
                self.reply_id += 1
                rid = self.reply_id
                if agent_turn:
                    author = assignee or rng.choice(members or world.assignable)
                    internal = rnd() < NOTE_SHARE
                    body = rng.choice(self.notes if internal else self.agent_bodies)
                    replies.append((rid, tid, author, None, "agent", body, internal, False,
                                    "web", at, at))
                    if not internal:
                        reply_count += 1
                        last_reply = last_agent = at
                        if first_response is None:
                            first_response = at
                    events.append((at, "note_added" if internal else "reply_added", "agent",
                                   author, None, {"reply_id": rid}))
                    if not internal:
                        agent_turn = False
                else:
                    if category == OPEN and rnd() < 0.3 and world.assignable:
                        author = assignee or rng.choice(members or world.assignable)
                        replies.append((rid, tid, author, None, "agent", rng.choice(self.notes),
                                        True, False, "web", at, at))
                        events.append((at, "note_added", "agent", author, None,
                                       {"reply_id": rid}))
                        continue
                    replies.append((rid, tid, requester, contact, customer_kind,
                                    rng.choice(self.customer_bodies), False, False,
                                    channel if channel in ("web", "email", "widget") else "web",
                                    at, at))
                    reply_count += 1
                    last_reply = last_customer = at
                    events.append((at, "reply_added", customer_kind, requester, contact,
                                   {"reply_id": rid}))
                    agent_turn = category != OPEN

            # Activity: created, assigned, the replies, a final status change; 2-8 rows.
            timeline: list[tuple[datetime, str, str, str | None, int | None, dict[str, Any]]] = [
                (created, "created", customer_kind, requester, contact,
                 {"channel": channel, "priority": priority, "tags": slugs}),
            ]
            if assignee is not None:
                timeline.append((min(updated, created + timedelta(seconds=30 + rnd() * 600)),
                                 "assigned",
                                 "agent", assignee, None, {"assignee_id": assignee,
                                                           "previous": None}))
            final = None
            if status != OPEN:
                final = (updated, "status_changed", "agent", assignee or world.agent_ids[0],
                         None, {"from": OPEN if category != REOPENED else RESOLVED,
                                "to": status})
            want = n_acts[k]
            room = want - len(timeline) - (1 if final else 0)
            if room > 0:
                timeline += events[:room]
                room -= min(room, len(events))
            while room > 0:
                at = created + timedelta(seconds=life * rnd())
                kind = rng.choice(("tag_added", "priority_changed", "follower_added"))
                props: dict[str, Any]
                if kind == "tag_added":
                    props = {"tag": world.tag_slugs[rng.choice(world.tag_ids)]}
                elif kind == "priority_changed":
                    props = {"from": "medium", "to": priority}
                else:
                    props = {"user_id": assignee or world.agent_ids[0]}
                timeline.append((at, kind, "agent", assignee or world.agent_ids[0], None, props))
                room -= 1
            if final:
                timeline.append(final)
            timeline.sort(key=lambda e: e[0])
            for at, kind, actor_type, user_id, contact_id, props in timeline[:want]:
                self.activity_id += 1
                acts.append((self.activity_id, tid, kind, actor_type, user_id, contact_id, props,
                             at))

            tickets.append((
                tid, f"{prefix}-{tid:05d}", subjects[tid % len(subjects)],
                descriptions[(tid * 7) % len(descriptions)], status, category, priority,
                PRIORITY_RANK[priority], types[k], channel, requester, contact, assignee, dept_id,
                reply_count, first_response, last_reply, last_customer, last_agent, resolved_at,
                closed_at, *self._timing(created, first_response),
                *self._timing(created, resolved_at), 0, 1, created, updated,
            ))
        return tickets, replies, acts, links


# ---------------------------------------------------------------------------- main
def generate(opts: Options, log: Callable[[str], None] | None = None) -> Summary:
    """Fill ``opts.url`` with ``opts.tickets`` tickets; returns what was written and how fast."""
    if log is None:
        log = (lambda _msg: None) if opts.quiet else (lambda msg: print(msg, flush=True))
    started = time.perf_counter()
    engine = sa.create_engine(opts.url)
    summary = Summary()
    try:
        prepare_schema(engine, reset=opts.reset)
        with engine.connect() as conn:
            start_ids = (_max_id(conn, TICKETS), _max_id(conn, REPLIES), _max_id(conn, ACTIVITIES))
        # InnoDB refuses to drop an index a foreign key relies on: keep them there.
        defer = (opts.defer_indexes if opts.defer_indexes is not None
                 else start_ids[0] == 0 and engine.dialect.name != "mysql")
        deferred = drop_bulk_indexes(engine) if defer else []
        use_copy = opts.copy and engine.dialect.name == "postgresql"
        writer: Writer = (
            PgCopyWriter(engine, fk_checks=opts.fk_checks) if use_copy
            else CoreWriter(engine, fk_checks=opts.fk_checks)
        )
        now = (opts.now or datetime.now(timezone.utc)).astimezone(timezone.utc)
        rng = random.Random(opts.seed)
        log(f"generating {opts.tickets:,} tickets into {engine.url.render_as_string()} "
            f"({'COPY' if use_copy else 'Core executemany'}, batches of {opts.batch:,}"
            f"{', indexes after the load' if defer else ''})")
        try:
            world = _build_world(writer, engine, opts, rng, now, summary, log)
            factory = TicketFactory(rng, world, opts, now, start_ids)
            load_start = time.perf_counter()
            done = 0
            last_report = 0.0
            while done < opts.tickets:
                count = min(opts.batch, opts.tickets - done)
                tickets, replies, acts, links = factory.batch(done, count, opts.tickets)
                writer.begin()
                writer.write(TICKETS, TICKET_COLUMNS, tickets)
                writer.write(TICKET_TAGS, TAG_COLUMNS, links)
                writer.write(REPLIES, REPLY_COLUMNS, replies)
                writer.write(ACTIVITIES, ACTIVITY_COLUMNS, acts)
                writer.commit()
                done += count
                summary.tickets += len(tickets)
                summary.replies += len(replies)
                summary.activities += len(acts)
                summary.ticket_tags += len(links)
                elapsed = time.perf_counter() - load_start
                if elapsed - last_report >= 5 or done == opts.tickets:
                    last_report = elapsed
                    rate = done / elapsed if elapsed else 0.0
                    eta = (opts.tickets - done) / rate if rate else math.inf
                    share = 100 * done / opts.tickets
                    log(f"  tickets {done:>10,}/{opts.tickets:,} ({share:5.1f}%)"
                        f"  {rate:8,.0f} tickets/s  elapsed {elapsed:6.1f}s  eta {eta:6.1f}s")
            summary.load_seconds = time.perf_counter() - load_start
        finally:
            writer.close()
        if deferred:
            log(f"building {len(deferred)} deferred indexes")
            index_start = time.perf_counter()
            create_indexes(engine, deferred, log)
            summary.index_seconds = time.perf_counter() - index_start
        reset_sequences(engine, [*metadata.sorted_tables, HOST_USERS])
        analyze_start = time.perf_counter()
        analyze(engine, vacuum=opts.vacuum)
        summary.analyze_seconds = time.perf_counter() - analyze_start
    finally:
        engine.dispose()
    summary.total_seconds = time.perf_counter() - started
    d = summary.as_dict()
    log(f"done: {summary.tickets:,} tickets, {summary.replies:,} replies, "
        f"{summary.activities:,} activities, {summary.ticket_tags:,} ticket tags, "
        f"{summary.contacts:,} contacts ({summary.rows:,} rows) in {summary.total_seconds:.1f}s "
        f"[load {summary.load_seconds:.1f}s, indexes {summary.index_seconds:.1f}s, "
        f"analyze {summary.analyze_seconds:.1f}s]: {d['rows_per_second']:,} rows/s, "
        f"{d['tickets_per_second']:,} tickets/s")
    return summary


def _aware(text: str) -> datetime:
    value = datetime.fromisoformat(text.replace("Z", "+00:00"))
    return value if value.tzinfo else value.replace(tzinfo=timezone.utc)


def parse_args(argv: Sequence[str] | None = None) -> Options:
    parser = argparse.ArgumentParser(
        prog="python -m bench.generate",
        description="Fill a database with realistic flask-escalated helpdesk data.",
    )
    parser.add_argument("url", help="SQLAlchemy database URL, e.g. sqlite:///bench.sqlite or "
                        "postgresql+psycopg://postgres@127.0.0.1:5432/escalated_bench")
    parser.add_argument("-n", "--tickets", type=int, default=10_000, help="tickets to create")
    parser.add_argument("--batch", type=int, default=5_000, help="tickets per batch/transaction")
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--agents", type=int, default=50)
    parser.add_argument("--departments", type=int, default=8)
    parser.add_argument("--tags", type=int, default=40)
    parser.add_argument("--contacts", type=int, default=None,
                        help="contacts (default: tickets/4, at least 100)")
    parser.add_argument("--customers", type=int, default=None,
                        help="host-user customers (default: tickets/40, at least 50)")
    parser.add_argument("--days", type=int, default=730, help="history the tickets span")
    parser.add_argument("--prefix", default="ESC", help="ticket reference prefix")
    parser.add_argument("--now", type=_aware, default=None,
                        help="ISO date-time the history ends at (default: now); with --seed, "
                             "makes the data reproducible")
    parser.add_argument("--reset", action="store_true",
                        help="drop the escalated tables and host_users first")
    parser.add_argument("--no-copy", dest="copy", action="store_false",
                        help="on PostgreSQL, use Core executemany instead of COPY")
    parser.add_argument("--defer-indexes", dest="defer_indexes", action="store_true",
                        default=None, help="build the ticket tables' indexes after the load "
                        "(default: when they start empty, except on MariaDB/MySQL)")
    parser.add_argument("--no-defer-indexes", dest="defer_indexes", action="store_false")
    parser.add_argument("--fk-checks", action="store_true",
                        help="keep foreign-key checks on during the load")
    parser.add_argument("--no-vacuum", dest="vacuum", action="store_false",
                        help="PostgreSQL: ANALYZE only, no VACUUM, after the load")
    parser.add_argument("-q", "--quiet", action="store_true")
    args = parser.parse_args(argv)
    if args.tickets < 0 or min(args.batch, args.agents, args.departments, args.tags) < 1:
        parser.error("--tickets must be >= 0; --batch, --agents, --departments, --tags >= 1")
    return Options(**vars(args))


def main(argv: Sequence[str] | None = None) -> int:
    generate(parse_args(argv))
    return 0


if __name__ == "__main__":
    sys.exit(main())
