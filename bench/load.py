"""A bounded mixed workload against the production stack, then an audit of what it left.

``python -m bench.load --clients 50 --seconds 120`` (or ``python3 noxfile.py -s load``):

1. starts a webhook receiver (HTTP, 127.0.0.1) and an SMTP server (aiosmtpd, 127.0.0.1) that
   record everything they are sent;
2. starts the stack (``python -m examples.stack --fresh``: two gunicorn web processes, two RQ
   workers, cron) on PostgreSQL and Redis, with mail going to that SMTP server;
3. gives every client its own API token, subscribes the receiver to every webhook event, and
   publishes a few knowledge-base articles;
4. runs ``--clients`` threads for ``--seconds``, each a customer or an agent drawing its next
   request from the mix below, against both web processes in turn;
5. waits for the workers to drain the outbox, stops the stack, and audits the database against
   what the clients were told (every acknowledged write is there exactly once), what the
   receiver got (each delivery exactly once, every delivery row delivered) and what the SMTP
   server got (each mail once, every mail row sent), and the SLA clocks.

Results go to ``bench/results/load-<time>.json`` and a latency plot (SVG) next to it;
``bench/README.md`` ("Load") keeps the figures. Rate limits are off in the stack for the run:
50 clients from one address would otherwise be one caller to them.
"""

from __future__ import annotations

import argparse
import contextlib
import email
import json
import os
import random
import re
import resource
import signal
import socket
import statistics
import subprocess
import sys
import threading
import time
import uuid
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timezone
from email.message import EmailMessage
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import requests
import sqlalchemy as sa

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results"
DATABASE = "postgresql+psycopg://postgres@127.0.0.1:5432/escalated_load"
REDIS = "redis://127.0.0.1:6379/7"
INBOUND_SECRET = "load-test-inbound-secret"
MAIL_DOMAIN = "support.load.test"

#: The request mix: kind, who sends it, relative weight.
MIX: list[tuple[str, str, int]] = [
    ("customer_create_api", "customer", 10),
    ("customer_create_portal", "customer", 4),
    ("customer_reply_api", "customer", 10),
    ("customer_list_portal", "customer", 6),
    ("widget_kb_search", "customer", 8),
    ("inbound_email", "customer", 5),
    ("agent_list_queue", "agent", 20),
    ("agent_open_ticket", "agent", 15),
    ("agent_reply", "agent", 10),
    ("agent_status", "agent", 6),
    ("agent_assign", "agent", 6),
]
KB_WORDS = ["invoice", "password", "printer", "refund", "export", "login", "shipping"]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


# --------------------------------------------------------------------------- what they receive
class Receiver(BaseHTTPRequestHandler):
    """Webhook receiver: records each POST's delivery id and event."""

    lock = threading.Lock()
    seen: list[tuple[str, str]] = []

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        event_id = json.loads(body).get("id", "")
        with Receiver.lock:
            Receiver.seen.append((self.headers.get("X-Escalated-Delivery", ""), event_id))
        self.send_response(204)
        self.end_headers()

    def log_message(self, *args: object) -> None:
        pass


class MailSink:
    """aiosmtpd handler: keeps each message's Message-ID."""

    def __init__(self) -> None:
        self.message_ids: list[str] = []
        self.lock = threading.Lock()

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        message = email.message_from_bytes(envelope.content)
        with self.lock:
            self.message_ids.append((message.get("Message-ID") or "").strip())
        return "250 OK"


# --------------------------------------------------------------------------- the clients
@dataclass
class Record:
    """What the clients saw: latencies per kind, statuses, and every acknowledged write."""

    lock: threading.Lock = field(default_factory=threading.Lock)
    latencies: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))
    statuses: dict[str, Counter[int]] = field(default_factory=lambda: defaultdict(Counter))
    errors: list[str] = field(default_factory=list)
    tickets: list[str] = field(default_factory=list)  # references acknowledged with 2xx
    replies: list[int] = field(default_factory=list)  # reply ids acknowledged with 2xx
    inbound: list[str] = field(default_factory=list)  # Message-IDs acknowledged with 2xx

    def add(self, kind: str, ms: float, status: int, note: str = "") -> None:
        with self.lock:
            self.latencies[kind].append(ms)
            self.statuses[kind][status] += 1
            if status >= 500 or status == 0:
                self.errors.append(f"{kind}: {status} {note[:300]}")


@dataclass
class World:
    bases: list[str]
    customer_tokens: list[str]
    agent_tokens: list[str]
    agent_ids: list[str]
    customers: list[tuple[str, str]]  # (email, password) for the portal
    own_tickets: dict[int, list[str]] = field(default_factory=lambda: defaultdict(list))
    all_tickets: list[str] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)


class Client(threading.Thread):
    def __init__(self, number: int, role: str, world: World, record: Record, deadline: float,
                 seed: int) -> None:
        super().__init__(daemon=True, name=f"client-{number}")
        self.number, self.role, self.world, self.record = number, role, world, record
        self.deadline = deadline
        self.rng = random.Random(seed)
        self.http = requests.Session()
        tokens = world.customer_tokens if role == "customer" else world.agent_tokens
        self.token = tokens[number % len(tokens)]
        self.kinds = [(k, w) for k, r, w in MIX if r == role]
        self.portal: requests.Session | None = None

    # ---------------------------------------------------------------- plumbing
    def base(self) -> str:
        return self.world.bases[self.rng.randrange(len(self.world.bases))]

    def call(self, kind: str, method: str, path: str, **kwargs: Any) -> requests.Response | None:
        session = kwargs.pop("session", None) or self.http
        headers = kwargs.pop("headers", {})
        if session is self.http:
            headers = {"Authorization": f"Bearer {self.token}", **headers}
        started = time.perf_counter()
        try:
            response = session.request(method, self.base() + path, headers=headers, timeout=60,
                                       allow_redirects=False, **kwargs)
        except requests.RequestException as exc:
            self.record.add(kind, (time.perf_counter() - started) * 1000, 0, repr(exc))
            return None
        ms = (time.perf_counter() - started) * 1000
        self.record.add(kind, ms, response.status_code, response.text)
        return response

    def some_ticket(self, own: bool) -> str | None:
        with self.world.lock:
            pool = self.world.own_tickets[self.number] if own else self.world.all_tickets
            return self.rng.choice(pool) if pool else None

    def remember(self, reference: str) -> None:
        with self.world.lock:
            self.world.own_tickets[self.number].append(reference)
            self.world.all_tickets.append(reference)
        with self.record.lock:
            self.record.tickets.append(reference)

    # ---------------------------------------------------------------- customers
    def customer_create_api(self) -> None:
        r = self.call("customer_create_api", "POST", "/support/api/v1/tickets", json={
            "subject": f"Load {uuid.uuid4().hex[:8]}: the printer jams",
            "description": "It jams on every second page since the update."})
        if r is not None and r.status_code == 201:
            self.remember(r.json()["data"]["reference"])

    def _portal_session(self) -> requests.Session | None:
        if self.portal is not None:
            return self.portal
        session = requests.Session()
        base = self.world.bases[0]
        page = session.get(base + "/login", timeout=60)
        token = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
        who, password = self.world.customers[self.number % len(self.world.customers)]
        if token is None:
            return None
        done = session.post(base + "/login", data={"csrf_token": token.group(1), "email": who,
                                                   "password": password},
                            allow_redirects=False, timeout=60)
        if done.status_code != 302:
            return None
        self.portal = session
        return session

    def customer_create_portal(self) -> None:
        session = self._portal_session()
        if session is None:
            self.record.add("customer_create_portal", 0, 0, "portal sign-in failed")
            return
        form = self.call("customer_list_portal", "GET", "/support/tickets/new", session=session)
        token = re.search(r'name="csrf_token" value="([^"]+)"', form.text if form else "")
        if token is None:
            return
        r = self.call("customer_create_portal", "POST", "/support/tickets/new", session=session,
                      data={"csrf_token": token.group(1), "priority": "medium",
                            "subject": f"Portal {uuid.uuid4().hex[:8]}: cannot log in",
                            "description": "The sign-in page loops back to itself."})
        if r is not None and r.status_code == 302:
            self.remember(r.headers["Location"].rstrip("/").rsplit("/", 1)[1])

    def customer_reply_api(self) -> None:
        reference = self.some_ticket(own=True)
        if reference is None:
            return self.customer_create_api()
        r = self.call("customer_reply_api", "POST",
                      f"/support/api/v1/tickets/{reference}/replies",
                      json={"body": f"Any news? ({uuid.uuid4().hex[:6]})"})
        if r is not None and r.status_code == 201:
            with self.record.lock:
                self.record.replies.append(int(r.json()["data"]["id"]))
        return None

    def customer_list_portal(self) -> None:
        session = self._portal_session()
        if session is not None:
            self.call("customer_list_portal", "GET", "/support/tickets", session=session)

    def widget_kb_search(self) -> None:
        self.call("widget_kb_search", "GET", "/support/widget/kb/search",
                  params={"q": self.rng.choice(KB_WORDS)}, session=requests.Session())

    def inbound_email(self) -> None:
        message = EmailMessage()
        message_id = f"<load-{uuid.uuid4().hex}@mail.example.test>"
        message["From"] = f"Sender {self.number} <sender{self.number}@mail.example.test>"
        message["To"] = f"help@{MAIL_DOMAIN}"
        message["Subject"] = "Order 1042 never arrived"
        message["Message-ID"] = message_id
        message["Date"] = datetime.now(timezone.utc).strftime("%a, %d %b %Y %H:%M:%S +0000")
        message.set_content("Hello,\n\nmy order has not arrived yet.\n\nThanks")
        r = self.call("inbound_email", "POST", "/support/webhook/email/inbound",
                      params={"adapter": "raw"}, data=message.as_bytes(),
                      headers={"X-Escalated-Inbound-Secret": INBOUND_SECRET,
                               "Content-Type": "message/rfc822"},
                      session=requests.Session())
        if r is not None and 200 <= r.status_code < 300:
            with self.record.lock:
                self.record.inbound.append(message_id)

    # ---------------------------------------------------------------- agents
    def agent_list_queue(self) -> None:
        self.call("agent_list_queue", "GET", "/support/api/v1/tickets",
                  params={"limit": 25, "status_category": "open"})

    def agent_open_ticket(self) -> None:
        reference = self.some_ticket(own=False)
        if reference is not None:
            self.call("agent_open_ticket", "GET", f"/support/api/v1/tickets/{reference}")

    def agent_reply(self) -> None:
        reference = self.some_ticket(own=False)
        if reference is None:
            return
        r = self.call("agent_reply", "POST", f"/support/api/v1/tickets/{reference}/replies",
                      json={"body": "Thanks, we are looking into it."})
        if r is not None and r.status_code == 201:
            with self.record.lock:
                self.record.replies.append(int(r.json()["data"]["id"]))

    def agent_status(self) -> None:
        reference = self.some_ticket(own=False)
        if reference is not None:
            self.call("agent_status", "PATCH", f"/support/api/v1/tickets/{reference}",
                      json={"status": self.rng.choice(["in_progress", "pending", "open"])})

    def agent_assign(self) -> None:
        reference = self.some_ticket(own=False)
        if reference is not None:
            self.call("agent_assign", "POST", f"/support/api/v1/tickets/{reference}/assign",
                      json={"assignee_id": self.rng.choice(self.world.agent_ids)})

    def run(self) -> None:
        kinds = [k for k, _ in self.kinds]
        weights = [w for _, w in self.kinds]
        while time.monotonic() < self.deadline:
            getattr(self, self.rng.choices(kinds, weights)[0])()


# --------------------------------------------------------------------------- setup and audit
def setup(env: dict[str, str], receiver_url: str, clients: int) -> dict[str, Any]:
    """Tokens, the webhook and KB articles, written through the demo app's own services."""
    os.environ.update({k: env[k] for k in ("DATABASE_URL", "REDIS_URL", "DEMO_INSTANCE_PATH",
                                           "WEBHOOK_ALLOWED_HOSTS")})
    sys.path.insert(0, str(ROOT))
    from examples.demo.app import DEMO_PASSWORD, create_app, user_by_email
    from flask_escalated.events import Actor
    from flask_escalated.services import kb, tokens, webhooks
    from flask_escalated.services.permissions import Principal

    app = create_app({"DEMO_SEED": False})
    ext = app.extensions["escalated"]
    with app.app_context():
        ids = {e: str(user_by_email(e).id) for e in (
            "admin@demo.test", "agent@demo.test", "agent2@demo.test",
            "customer@demo.test", "customer2@demo.test")}
        with ext.unit_of_work():
            webhooks.create_webhook(Actor.system(), {"url": receiver_url, "events": ["*"]})
            admin = Principal.build(ids["admin@demo.test"], is_admin=True)
            for i, word in enumerate(KB_WORDS):
                kb.create_article(admin, {
                    "title": f"How to fix {word} problems",
                    "body": f"Step {i}: check the {word} settings. " * 40,
                    "status": "published"})
        customer_tokens, agent_tokens = [], []
        with ext.unit_of_work():
            for n in range(clients):
                who = ("customer@demo.test", "customer2@demo.test")[n % 2]
                customer_tokens.append(tokens.create_token(ids[who], f"load {n}", ["*"],
                                                           Actor.system())[1])
                who = ("agent@demo.test", "agent2@demo.test")[n % 2]
                agent_tokens.append(tokens.create_token(ids[who], f"load {n}", ["*"],
                                                        Actor.system())[1])
    return {"customer_tokens": customer_tokens, "agent_tokens": agent_tokens,
            "agent_ids": [ids["agent@demo.test"], ids["agent2@demo.test"]],
            "customers": [("customer@demo.test", DEMO_PASSWORD),
                          ("customer2@demo.test", DEMO_PASSWORD)]}


def drain(database: str, timeout: float) -> float:
    """Seconds until no webhook delivery and no mail is pending (the workers caught up)."""
    engine = sa.create_engine(database)
    started = time.monotonic()
    try:
        while time.monotonic() - started < timeout:
            with engine.connect() as conn:
                pending = conn.execute(sa.text(
                    "SELECT (SELECT count(*) FROM escalated_webhook_deliveries "
                    "        WHERE status IN ('pending', 'failed')) + "
                    "       (SELECT count(*) FROM escalated_outbound_emails "
                    "        WHERE status IN ('pending', 'failed'))")).scalar_one()
            if pending == 0:
                return time.monotonic() - started
            time.sleep(1)
    finally:
        engine.dispose()
    return -1.0


def audit(database: str, record: Record, hooks: list[tuple[str, str]],
          mail_ids: list[str], drill: bool = False) -> dict[str, Any]:
    """Compare what the clients were told with what the database, the receiver and the SMTP
    server hold. Every number under ``problems`` must be 0."""
    engine = sa.create_engine(database)
    with engine.connect() as conn:
        def scalar(sql: str, **params: Any) -> Any:
            return conn.execute(sa.text(sql), params).scalar_one()

        refs = Counter(record.tickets)
        found = dict(conn.execute(sa.text(
            "SELECT reference, count(*) FROM escalated_tickets GROUP BY reference")).all())
        reply_ids = set(record.replies)
        stored_replies = {r for (r,) in conn.execute(sa.text("SELECT id FROM escalated_replies"))}
        inbound = Counter(record.inbound)
        stored: dict[str, list[str]] = defaultdict(list)
        for message_id, status in conn.execute(sa.text(
                "SELECT message_id, status FROM escalated_inbound_emails")):
            stored[(message_id or "").strip("<>")].append(status)
        deliveries = dict(conn.execute(sa.text(
            "SELECT uid, status FROM escalated_webhook_deliveries")).all())
        mails = dict(conn.execute(sa.text(
            "SELECT message_id, status FROM escalated_outbound_emails")).all())
        sla = {
            "breach_before_due": scalar(
                "SELECT count(*) FROM escalated_tickets WHERE "
                "(first_response_breached_at < first_response_due_at) OR "
                "(resolution_breached_at < resolution_due_at)"),
            "breach_after_a_timely_first_response": scalar(
                "SELECT count(*) FROM escalated_tickets WHERE first_response_breached_at IS NOT "
                "NULL AND first_response_at IS NOT NULL AND first_response_at <= "
                "first_response_due_at"),
            # a running clock (not paused by a waiting or solved status) has a due time
            "running_clock_without_due_times": scalar(
                "SELECT count(*) FROM escalated_tickets WHERE sla_policy_id IS NOT NULL AND "
                "sla_paused_at IS NULL AND first_response_due_at IS NULL AND "
                "resolution_due_at IS NULL"),
            "paused_clock_with_due_times": scalar(
                "SELECT count(*) FROM escalated_tickets WHERE sla_paused_at IS NOT NULL AND "
                "(first_response_due_at IS NOT NULL OR resolution_due_at IS NOT NULL)"),
            "negative_clock": scalar(
                "SELECT count(*) FROM escalated_tickets WHERE sla_used_seconds < 0"),
        }
        totals = {
            "tickets": scalar("SELECT count(*) FROM escalated_tickets"),
            "replies": scalar("SELECT count(*) FROM escalated_replies"),
            "webhook_deliveries": len(deliveries),
            "mails": len(mails),
            "tickets_with_sla": scalar(
                "SELECT count(*) FROM escalated_tickets WHERE sla_policy_id IS NOT NULL"),
        }
    engine.dispose()
    received = Counter(uid for uid, _ in hooks)
    event_ids = Counter(event for _, event in hooks)
    mailed = Counter(mail_ids)
    problems = {
        "server_errors": sum(n for c in record.statuses.values() for s, n in c.items()
                             if (s >= 500 and s != 503) or s == 0),
        # 503 is the clear answer while the database is away (a drill); none otherwise
        "unavailable_503": 0 if drill else sum(c.get(503, 0) for c in record.statuses.values()),
        "acknowledged_tickets_missing": sum(1 for r in refs if found.get(r, 0) == 0),
        "acknowledged_tickets_duplicated": sum(1 for r in refs if found.get(r, 0) > 1),
        "acknowledged_replies_missing": len(reply_ids - stored_replies),
        "acknowledged_inbound_missing": sum(1 for m in inbound if not stored[m.strip("<>")]),
        "acknowledged_inbound_applied_twice": sum(
            1 for m in inbound if stored[m.strip("<>")].count("processed") > 1),
        "deliveries_not_delivered": sum(1 for s in deliveries.values() if s != "delivered"),
        "deliveries_received_twice": sum(1 for n in received.values() if n > 1),
        "events_received_twice": sum(1 for n in event_ids.values() if n > 1),
        "deliveries_never_received": sum(1 for uid in deliveries if uid not in received),
        "mails_not_sent": sum(1 for s in mails.values() if s != "sent"),
        "mails_received_twice": sum(1 for n in mailed.values() if n > 1),
        "mails_never_received": sum(1 for m in mails if f"<{m.strip('<>')}>" not in mailed
                                    and m not in mailed),
        **{f"sla_{k}": v for k, v in sla.items()},
    }
    return {"problems": problems, "totals": totals,
            "acknowledged": {"tickets": len(refs), "replies": len(reply_ids),
                             "inbound": len(inbound)},
            "received": {"webhooks": len(hooks), "mails": len(mail_ids)},
            "inbound_statuses": dict(Counter(s for v in stored.values() for s in v))}


def run_drills(args: argparse.Namespace, started: float, drills: list[dict[str, Any]],
               record: Record) -> None:
    """The faults ``--flush-redis-at`` and ``--drop-connections-at`` ask for, at their time."""
    planned = sorted(
        [(at, name) for at, name in ((args.flush_redis_at, "flush_redis"),
                                     (args.drop_connections_at, "drop_connections"))
         if at is not None])
    for at, name in planned:
        time.sleep(max(0.0, started + at - time.monotonic()))
        with record.lock:
            before = sum(sum(c.values()) for c in record.statuses.values())
        if name == "flush_redis":
            from redis import Redis

            conn = Redis.from_url(args.redis_url)
            lost = {q: conn.llen(f"rq:queue:{q}") for q in
                    ("escalated", "escalated-webhooks", "escalated-mail")}
            conn.flushdb()
            conn.close()
            detail: dict[str, Any] = {"queued_jobs_lost": lost}
        else:
            target = sa.make_url(args.database_url)
            engine = sa.create_engine(target.set(database="postgres"), poolclass=sa.NullPool)
            with engine.connect() as conn:
                killed = len(conn.execute(sa.text(
                    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                    "WHERE datname = :n AND pid <> pg_backend_pid()"),
                    {"n": target.database}).all())
            engine.dispose()
            detail = {"connections_closed": killed}
        drills.append({"drill": name, "at_seconds": at, "requests_before": before, **detail})
        print(f"  drill {name} at {at:.0f} s: {detail}", flush=True)


def _children(pid: int) -> list[int]:
    found = []
    for task in Path(f"/proc/{pid}/task").glob("*"):
        with contextlib.suppress(OSError):
            found += [int(c) for c in (task / "children").read_text().split()]
    return found


def memory(pids: dict[str, int]) -> dict[str, dict[str, float]]:
    """Peak and current resident memory (MiB) of each stack process and its children (a
    gunicorn master's worker), read from /proc before the stack stops."""
    out = {}
    for name, pid in pids.items():
        for proc in [pid, *_children(pid)]:
            fields = {}
            with contextlib.suppress(OSError):
                for line in Path(f"/proc/{proc}/status").read_text().splitlines():
                    key, _, value = line.partition(":")
                    if key in ("VmHWM", "VmRSS"):
                        fields[key] = round(int(value.split()[0]) / 1024, 1)
            if fields:
                label = name if proc == pid else f"{name} (worker {proc})"
                out[label] = {"peak_mib": fields.get("VmHWM", 0.0),
                              "now_mib": fields.get("VmRSS", 0.0)}
    return out


def summarize(record: Record, seconds: float) -> dict[str, Any]:
    rows = {}
    for kind in sorted(record.latencies):
        values = sorted(record.latencies[kind])

        def pct(p: float, values: list[float] = values) -> float:
            return round(values[min(len(values) - 1, int(len(values) * p))], 1)

        rows[kind] = {"requests": len(values), "per_second": round(len(values) / seconds, 2),
                      "p50_ms": round(statistics.median(values), 1), "p95_ms": pct(0.95),
                      "p99_ms": pct(0.99), "statuses": dict(sorted(record.statuses[kind].items()))}
    return rows


def latency_svg(rows: dict[str, Any], title: str) -> str:
    """A horizontal bar chart of p50, p95 and p99 per request kind (log scale), as SVG."""
    import math

    kinds = list(rows)
    width, left, top, bar, gap = 900, 190, 40, 8, 10
    height = top + len(kinds) * (3 * bar + gap) + 50
    most = max(max(r["p99_ms"] for r in rows.values()), 10.0)
    span = math.log10(most * 1.2)

    def x(ms: float) -> float:
        return left + (width - left - 20) * max(math.log10(max(ms, 1.0)), 0) / span

    colors = {"p50_ms": "#2563eb", "p95_ms": "#f59e0b", "p99_ms": "#dc2626"}
    out = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
           f'font-family="sans-serif" font-size="12">',
           f'<text x="{left}" y="20" font-size="14">{title}</text>']
    tick = 1.0
    while tick <= most * 1.2:
        out.append(f'<line x1="{x(tick):.1f}" y1="{top - 5}" x2="{x(tick):.1f}" '
                   f'y2="{height - 40}" stroke="#ddd"/>'
                   f'<text x="{x(tick):.1f}" y="{height - 25}" text-anchor="middle">'
                   f'{tick:g} ms</text>')
        tick *= 10
    for i, kind in enumerate(kinds):
        y = top + i * (3 * bar + gap)
        out.append(f'<text x="{left - 8}" y="{y + 2 * bar}" text-anchor="end">{kind}</text>')
        for j, key in enumerate(("p50_ms", "p95_ms", "p99_ms")):
            value = rows[kind][key]
            out.append(f'<rect x="{left}" y="{y + j * bar}" width="{x(value) - left:.1f}" '
                       f'height="{bar - 1}" fill="{colors[key]}"><title>{kind} {key[:3]} '
                       f'{value} ms</title></rect>')
    for j, key in enumerate(colors):
        out.append(f'<rect x="{left + j * 90}" y="{height - 15}" width="10" height="10" '
                   f'fill="{colors[key]}"/><text x="{left + j * 90 + 14}" y="{height - 6}">'
                   f'{key[:3]}</text>')
    out.append("</svg>")
    return "\n".join(out)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.load", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--seconds", type=float, default=120.0)
    parser.add_argument("--agents", type=float, default=0.4,
                        help="share of the clients that are agents (default: 0.4)")
    parser.add_argument("--database-url", default=DATABASE)
    parser.add_argument("--redis-url", default=REDIS)
    parser.add_argument("--drain-timeout", type=float, default=600.0)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--out", default=None, help="results file (default: bench/results/...)")
    parser.add_argument("--flush-redis-at", type=float, default=None, metavar="SECONDS",
                        help="drill: FLUSHDB the stack's Redis this far into the run")
    parser.add_argument("--drop-connections-at", type=float, default=None, metavar="SECONDS",
                        help="drill: the database closes every connection of the stack this "
                             "far into the run (what a restart does to the clients)")
    args = parser.parse_args(argv)

    from aiosmtpd.controller import Controller

    Receiver.seen = []
    hook_server = ThreadingHTTPServer(("127.0.0.1", 0), Receiver)
    threading.Thread(target=hook_server.serve_forever, daemon=True).start()
    receiver_url = f"http://127.0.0.1:{hook_server.server_address[1]}/hooks"
    sink = MailSink()
    smtp = Controller(sink, hostname="127.0.0.1", port=free_port())
    smtp.start()

    stack_dir = ROOT / ".stack-load"
    ports = [free_port(), free_port()]
    env = {**os.environ, "PYTHONPATH": str(ROOT), "PYTHONUNBUFFERED": "1",
           "DATABASE_URL": args.database_url, "REDIS_URL": args.redis_url,
           "DEMO_INSTANCE_PATH": str(stack_dir / "instance"),
           "WEBHOOK_ALLOWED_HOSTS": "127.0.0.1", "MAIL_FROM": f"help@{MAIL_DOMAIN}",
           "MAIL_SERVER": "127.0.0.1", "MAIL_PORT": str(smtp.port),
           "INBOUND_SECRET": INBOUND_SECRET, "RATE_LIMIT_ENABLED": "0"}
    print(f"Starting the stack (ports {ports}) ...", flush=True)
    stack = subprocess.Popen(
        [sys.executable, "-m", "examples.stack", "--fresh", "--database-url", args.database_url,
         "--redis-url", args.redis_url, "--ports", ",".join(map(str, ports)),
         "--dir", str(stack_dir)], cwd=ROOT, env=env, stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT, text=True)
    assert stack.stdout is not None
    pids: dict[str, int] = {}
    for line in stack.stdout:
        print("  " + line.rstrip(), flush=True)
        if " pid " in line:
            name, _, rest = line.strip().partition(" ")
            pids[name] = int(rest.split("pid")[1].split()[0])
        if line.startswith(("Ctrl+C", "The stack did not")):
            break
    if stack.poll() is not None:
        return 1
    record = Record()
    try:
        made = setup(env, receiver_url, args.clients)
        world = World(bases=[f"http://127.0.0.1:{p}" for p in ports],
                      customer_tokens=made["customer_tokens"], agent_tokens=made["agent_tokens"],
                      agent_ids=made["agent_ids"], customers=made["customers"])
        agents = round(args.clients * args.agents)
        load_before = os.getloadavg()
        started = time.monotonic()
        deadline = started + args.seconds
        clients = [Client(n, "agent" if n < agents else "customer", world, record, deadline,
                          args.seed + n) for n in range(args.clients)]
        print(f"{args.clients} clients ({agents} agents) for {args.seconds:.0f} s ...",
              flush=True)
        drills: list[dict[str, Any]] = []
        chaos = threading.Thread(target=run_drills, args=(args, started, drills, record),
                                 daemon=True)
        for client in clients:
            client.start()
        chaos.start()
        for client in clients:
            client.join()
        chaos.join()
        elapsed = time.monotonic() - started
        load_after = os.getloadavg()
        print(f"Load done in {elapsed:.0f} s; waiting for the workers to drain ...", flush=True)
        drained = drain(args.database_url, args.drain_timeout)
        time.sleep(2)
        rss = memory(pids)
        rss["load driver (this process)"] = {
            "peak_mib": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
            "now_mib": 0.0}
    finally:
        stack.send_signal(signal.SIGINT)
        stack.communicate(timeout=120)
        smtp.stop()
        hook_server.shutdown()
    rows = summarize(record, elapsed)
    result = {
        "date": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "clients": args.clients, "agents": agents, "seconds": round(elapsed, 1),
        "load_average": {"before": load_before, "after": load_after},
        "total_requests": sum(r["requests"] for r in rows.values()),
        "requests_per_second": round(sum(r["requests"] for r in rows.values()) / elapsed, 1),
        "drain_seconds": round(drained, 1),
        "memory": rss,
        "kinds": rows,
        "drills": drills,
        "audit": audit(args.database_url, record, list(Receiver.seen), sink.message_ids,
                       drill=bool(drills)),
        "errors": record.errors[:50],
    }
    RESULTS.mkdir(parents=True, exist_ok=True)
    stamp = datetime.now(timezone.utc).strftime("%Y%m%dT%H%M")
    out = Path(args.out) if args.out else RESULTS / f"load-{stamp}.json"
    out.write_text(json.dumps(result, indent=2) + "\n")
    out.with_suffix(".svg").write_text(latency_svg(
        rows, f"{args.clients} clients, {elapsed:.0f} s, PostgreSQL, two web processes: "
              "p50 / p95 / p99 per request kind"))
    print(json.dumps({k: v for k, v in result.items() if k != "kinds"}, indent=2))
    print("| request | requests | per s | p50 ms | p95 ms | p99 ms | statuses |")
    print("| --- | ---: | ---: | ---: | ---: | ---: | --- |")
    for kind, row in rows.items():
        print(f"| {kind} | {row['requests']} | {row['per_second']} | {row['p50_ms']} | "
              f"{row['p95_ms']} | {row['p99_ms']} | "
              + ", ".join(f"{s}: {n}" for s, n in row["statuses"].items()) + " |")
    print(f"Results: {out} and {out.with_suffix('.svg')}")
    return 0 if not any(result["audit"]["problems"].values()) else 1


if __name__ == "__main__":
    sys.exit(main())
