"""Fault drills that fit in the suite (bench/RELIABILITY.md lists them all, with figures):
the database drops every connection, attachment storage is full or gone, and a webhook
receiver is down for a while and then returns."""

from __future__ import annotations

import errno
import io
import json
import threading
from datetime import datetime, timedelta, timezone
from email.message import EmailMessage
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from flask_escalated.events import Actor
from flask_escalated.models import InboundEmail, Reply, Ticket, WebhookDelivery
from flask_escalated.services import tickets, tokens, webhooks
from flask_escalated.services.storage import LocalStorage
from tests.hosts import intid

SECRET = "drill-inbound-secret"


def _count(model) -> int:
    with intid.db.engine.connect() as conn:
        return conn.execute(sa.select(sa.func.count()).select_from(model)).scalar_one()


def _kill_connections(backend: str, url: str) -> int:
    """What a database restart does to the app: every connection but this one is closed by
    the server. Returns how many were killed."""
    engine = sa.create_engine(url, poolclass=sa.NullPool)
    killed = 0
    with engine.connect() as conn:
        if backend == "postgres":
            killed = len(conn.execute(sa.text(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                "WHERE datname = current_database() AND pid <> pg_backend_pid()")).all())
        else:
            ids = conn.execute(sa.text(
                "SELECT id FROM information_schema.processlist "
                "WHERE db = DATABASE() AND id <> CONNECTION_ID()")).scalars().all()
            for ident in ids:
                try:
                    conn.execute(sa.text(f"KILL {int(ident)}"))
                    killed += 1
                except sa.exc.DBAPIError:  # it ended on its own meanwhile
                    pass
    engine.dispose()
    return killed


@pytest.fixture
def token_of(app):
    ext = app.extensions["escalated"]

    def make(user) -> dict[str, str]:
        with ext.unit_of_work():
            _, plain = tokens.create_token(str(user.id), "drill", ["*"], Actor.system())
        return {"Authorization": f"Bearer {plain}"}

    return make


@pytest.mark.all_databases
def test_a_database_restart_answers_503_then_recovers(backend, database_url, app, users,
                                                     token_of, client_as):
    if backend == "sqlite":
        pytest.skip("a file database has no server to restart")
    auth = token_of(users.agent)
    client = app.test_client()
    portal = client_as(users.customer)
    assert client.get("/support/api/v1/tickets", headers=auth).status_code == 200
    assert portal.get("/support/tickets").status_code == 200
    intid.db.session.remove()  # the test's own session is not a request's
    assert _kill_connections(backend, database_url) >= 1

    during = client.get("/support/api/v1/tickets", headers=auth)
    assert during.status_code == 503, during.get_data(True)
    # 5 s, or the rate limit window's end when that is later (Flask-Limiter keeps the later)
    assert int(during.headers["Retry-After"]) >= 5
    error = during.get_json()["error"]
    assert error["code"] == "unavailable" and "try again" in error["message"].lower()
    assert "Traceback" not in during.get_data(True)

    # The pool dropped the broken connections: the very next requests work again, a write too.
    after = client.post("/support/api/v1/tickets", headers=token_of(users.customer),
                        json={"subject": "After the restart", "description": "Still here?"})
    assert after.status_code == 201, after.get_data(True)
    assert portal.get("/support/tickets").status_code == 200

    # A page answers with the error page, not a traceback.
    intid.db.session.remove()
    _kill_connections(backend, database_url)
    page = portal.get("/support/tickets")
    assert page.status_code == 503 and "try again" in page.get_data(True).lower()
    assert portal.get("/support/tickets").status_code == 200


@pytest.mark.all_databases
def test_pre_ping_hides_a_restart_from_every_request(backend, database_url, make_app,
                                                     users_for):
    if backend == "sqlite":
        pytest.skip("a file database has no server to restart")
    app = make_app(SQLALCHEMY_ENGINE_OPTIONS={"pool_pre_ping": True})
    people = users_for(app)
    ext = app.extensions["escalated"]
    with app.app_context(), ext.unit_of_work():
        _, plain = tokens.create_token(str(people.agent.id), "drill", ["*"], Actor.system())
    client = app.test_client()
    auth = {"Authorization": f"Bearer {plain}"}
    assert client.get("/support/api/v1/tickets", headers=auth).status_code == 200
    _kill_connections(backend, database_url)
    assert client.get("/support/api/v1/tickets", headers=auth).status_code == 200


class FullDisk(LocalStorage):
    """A disk that fills up halfway through the file."""

    def save(self, key: str, data: bytes) -> None:
        path = Path(self._path(key))
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data[: len(data) // 2])
        raise OSError(errno.ENOSPC, "No space left on device", str(path))


class GoneVolume(LocalStorage):
    def save(self, key: str, data: bytes) -> None:
        raise OSError(errno.EROFS, "Read-only file system")


def _raw_mail() -> bytes:
    msg = EmailMessage()
    msg["From"], msg["To"] = "dana@example.org", "help@support.example.test"
    msg["Subject"], msg["Message-ID"] = "Order 7 is late", "<drill-1@example.org>"
    msg.set_content("Where is it?")
    return msg.as_bytes()


@pytest.mark.parametrize(("storage", "status", "code"), [
    (FullDisk, 507, "insufficient_storage"), (GoneVolume, 503, "storage_unavailable")])
def test_full_or_missing_storage_refuses_the_upload_and_writes_nothing(
        make_app, users_for, tmp_path, storage, status, code):
    root = tmp_path / "files"
    app = make_app(ESCALATED_ATTACHMENT_STORAGE=storage(str(root)),
                   ESCALATED_INBOUND_SECRET=SECRET)
    people = users_for(app)
    ext = app.extensions["escalated"]
    with app.app_context():
        with ext.unit_of_work():
            _, plain = tokens.create_token(str(people.customer.id), "drill", ["*"],
                                           Actor.system())
        client = app.test_client()
        auth = {"Authorization": f"Bearer {plain}"}
        made = client.post("/support/api/v1/tickets", headers=auth,
                           json={"subject": "No file yet", "description": "Text only."})
        assert made.status_code == 201
        ident = made.get_json()["data"]["reference"]
        replies_before = _count(Reply)
        r = client.post(f"/support/api/v1/tickets/{ident}/replies", headers=auth,
                        data={"body": "The scan.",
                              "files": [(io.BytesIO(b"%PDF-1.4 " + b"x" * 4000), "scan.pdf")]},
                        content_type="multipart/form-data")
        assert r.status_code == status, r.get_data(True)
        assert r.get_json()["error"]["code"] == code
        assert "try again" in r.get_json()["error"]["message"].lower()
        assert _count(Reply) == replies_before  # not half-written
        assert not [p for p in root.rglob("*") if p.is_file()]  # the partial file is gone

        # The inbound webhook stores the raw message first: refused the same way, so the
        # provider sends it again later; nothing is recorded meanwhile.
        mail = client.post("/support/webhook/email/inbound?adapter=raw", data=_raw_mail(),
                           content_type="message/rfc822",
                           headers={"X-Escalated-Inbound-Secret": SECRET})
        assert mail.status_code == status, mail.get_data(True)
        assert _count(InboundEmail) == 0 and _count(Ticket) == 1

        # The portal's form says so on the page.
        portal = app.test_client(user=people.customer)
        page = portal.get("/support/tickets/new")
        token = page.get_data(True).split('name="csrf_token" value="')[1].split('"')[0]
        form = portal.post("/support/tickets/new", data={
            "csrf_token": token, "subject": "Form with a file", "description": "Attached.",
            "priority": "medium", "files": [(io.BytesIO(b"abc" * 100), "a.txt")]},
            content_type="multipart/form-data")
        assert form.status_code == status
        assert "try again" in form.get_data(True).lower()
        assert _count(Ticket) == 1


class FlakyReceiver(BaseHTTPRequestHandler):
    """Answers 503 while ``down`` is set, 204 after; records every attempt."""

    down = True
    attempts: list[tuple[str, int]] = []

    def do_POST(self) -> None:
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        status = 503 if FlakyReceiver.down else 204
        FlakyReceiver.attempts.append((body["id"], status))
        self.send_response(status)
        self.end_headers()

    def log_message(self, *args: object) -> None:
        pass


@pytest.mark.all_databases
def test_a_receiver_down_for_a_while_gets_every_event_once_afterwards(make_app, users_for,
                                                                       clock):
    FlakyReceiver.down, FlakyReceiver.attempts = True, []
    server = ThreadingHTTPServer(("127.0.0.1", 0), FlakyReceiver)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        app = make_app(ESCALATED_WEBHOOK_ALLOWED_HOSTS=["127.0.0.1"],
                       ESCALATED_WEBHOOK_MAX_ATTEMPTS=8)
        people = users_for(app)
        ext = app.extensions["escalated"]
        with app.app_context():
            with ext.unit_of_work():
                webhooks.create_webhook(Actor.system(), {
                    "url": f"http://127.0.0.1:{server.server_address[1]}/in",
                    "events": ["ticket.created"]})
            for i in range(12):
                with ext.unit_of_work():
                    tickets.create_ticket(tickets.NewTicket(
                        requester_user_id=str(people.customer.id), subject=f"Outage {i}",
                        description="While the receiver is down."), Actor.system())
            ext.wait_for_background(app=app)
            # Sixty seconds of outage: each delivery was tried and failed, and is due again.
            for _ in range(3):
                clock.advance(seconds=20)
                for delivery_id in webhooks.due_ids():
                    webhooks.deliver(delivery_id)
            assert FlakyReceiver.attempts and {s for _, s in FlakyReceiver.attempts} == {503}
            FlakyReceiver.down = False
            for _ in range(6):  # the receiver is back: the sweep drains the backlog
                clock.advance(minutes=30)
                for delivery_id in webhooks.due_ids():
                    webhooks.deliver(delivery_id)
            rows = ext.session.execute(sa.select(WebhookDelivery.uid, WebhookDelivery.status)
                                       ).all()
    finally:
        server.shutdown()
    assert len(rows) == 12 and {status for _, status in rows} == {"delivered"}
    delivered = [uid for uid, status in FlakyReceiver.attempts if status == 204]
    assert sorted(delivered) == sorted(uid for uid, _ in rows)  # every event once, none twice



def process_host(tmp_path: Path, module: str, config: dict) -> tuple[Any, dict[str, str], str]:
    """A host app on its own fresh database that other processes can load too
    (``flask --app <module>:create_app``): the app here with its tables, the environment for
    those processes, and a customer's user id."""
    import os
    import textwrap

    from flask_escalated.models import metadata

    (tmp_path / f"{module}.py").write_text(textwrap.dedent(f"""
        from tests.hosts import intid

        def create_app():
            return intid.create_app({config!r})
    """))
    app = intid.create_app(config)
    with app.app_context():
        metadata.create_all(intid.db.engine)
        intid.db.metadata.create_all(intid.db.engine)
        customer = intid.make_user("dana@example.org", "Dana")
        intid.db.session.commit()
        customer_id = str(customer.id)
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(tmp_path), os.getcwd()])}
    return app, env, customer_id


class HoldingReceiver(BaseHTTPRequestHandler):
    """Holds the first delivery until ``release`` is set (the sender is killed meanwhile);
    answers every later one at once. Records each attempt's delivery header."""

    attempts: list[str] = []
    arrived = threading.Event()
    release = threading.Event()

    def do_POST(self) -> None:
        self.rfile.read(int(self.headers["Content-Length"]))
        HoldingReceiver.attempts.append(self.headers["X-Escalated-Delivery"])
        if len(HoldingReceiver.attempts) == 1:
            HoldingReceiver.arrived.set()
            HoldingReceiver.release.wait(30)
        self.send_response(204)
        self.end_headers()

    def log_message(self, *args: object) -> None:
        pass


@pytest.mark.xdist_group("redis")  # Redis db 6
def test_a_worker_killed_mid_delivery_is_retried_under_the_same_delivery_id(
        backend, test_databases, tmp_path):
    """SIGKILL of the RQ worker while the receiver holds the request: the delivery stays
    claimed, the sweep sends it again once the claim expires, with the same
    ``X-Escalated-Delivery`` id, so a receiver that keys on it acts once."""
    import os
    import signal
    import subprocess
    import sys
    import time

    from redis import Redis

    from flask_escalated.clock import FrozenClock, set_clock

    redis_url = "redis://127.0.0.1:6379/6"
    Redis.from_url(redis_url).flushdb()
    HoldingReceiver.attempts = []
    HoldingReceiver.arrived.clear()
    HoldingReceiver.release.clear()
    server = ThreadingHTTPServer(("127.0.0.1", 0), HoldingReceiver)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    url = test_databases.fresh(backend, "killed")
    config = {"SQLALCHEMY_DATABASE_URI": url, "ESCALATED_REDIS_URL": redis_url,
              "ESCALATED_WEBHOOK_ALLOWED_HOSTS": ["127.0.0.1"],
              "ESCALATED_ATTACHMENT_STORAGE": str(tmp_path / "files"), "TESTING": False}
    app, env, customer_id = process_host(tmp_path, "killed_host", config)
    worker = None
    try:
        with app.app_context():
            ext = app.extensions["escalated"]
            with ext.unit_of_work():
                webhooks.create_webhook(Actor.system(), {
                    "url": f"http://127.0.0.1:{server.server_address[1]}/in",
                    "events": ["ticket.created"]})
            with ext.unit_of_work():
                tickets.create_ticket(tickets.NewTicket(
                    requester_user_id=customer_id, subject="Killed mid-flight",
                    description="The worker dies while sending this."), Actor.system())
        worker = subprocess.Popen(
            [sys.executable, "-m", "flask", "--app", "killed_host:create_app", "escalated",
             "worker", "--queue", "escalated-webhooks", "--simple"],
            env=env, cwd=os.getcwd(), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        assert HoldingReceiver.arrived.wait(60), "the worker never sent the delivery"
        worker.send_signal(signal.SIGKILL)
        worker.wait(10)
        HoldingReceiver.release.set()
        with app.app_context():
            (row,) = ext.session.execute(sa.select(WebhookDelivery)).scalars().all()
            assert row.status == "pending" and row.delivered_at is None  # nothing recorded
            ext.session.rollback()
            # Still claimed: a sweep now leaves it alone (no second sender at the same time).
            assert app.test_cli_runner().invoke(args=["escalated", "deliver-webhooks"]) \
                .exit_code == 0
            assert len(HoldingReceiver.attempts) == 1
            # Once the claim has expired, the sweep sends it again.
            set_clock(FrozenClock(datetime.now(timezone.utc) + webhooks.CLAIM
                                  + timedelta(seconds=1)))
            try:
                result = app.test_cli_runner().invoke(args=["escalated", "deliver-webhooks"])
                assert result.exit_code == 0, result.output
            finally:
                set_clock(None)
            deadline = time.monotonic() + 10
            while len(HoldingReceiver.attempts) < 2 and time.monotonic() < deadline:
                time.sleep(0.1)
            row = ext.session.execute(sa.select(WebhookDelivery)).scalar_one()
            assert row.status == "delivered"
        assert len(HoldingReceiver.attempts) == 2
        assert HoldingReceiver.attempts[0] == HoldingReceiver.attempts[1] == row.uid
    finally:
        HoldingReceiver.release.set()
        if worker is not None and worker.poll() is None:
            worker.kill()
        server.shutdown()
        with app.app_context():
            intid.db.session.remove()
            intid.db.engine.dispose()


@pytest.mark.all_databases
def test_two_sweeps_and_two_crons_at_once_record_each_breach_once(backend, test_databases,
                                                                  tmp_path):
    """Four processes at the same moment, two ``check-sla`` and two ``cron --once``, over
    the same due tickets: every breach is recorded once (one stamp, one activity row, one
    webhook delivery), however the work was shared out."""
    import os
    import subprocess
    import sys


    url = test_databases.fresh(backend, "sweeps")
    config = {"SQLALCHEMY_DATABASE_URI": url, "ESCALATED_WEBHOOK_ALLOWED_HOSTS": ["127.0.0.1"],
              "ESCALATED_ATTACHMENT_STORAGE": str(tmp_path / "files"), "TESTING": False}
    app, env, customer_id = process_host(tmp_path, "sweep_host", config)
    n = 80
    try:
        with app.app_context():
            ext = app.extensions["escalated"]
            for i in range(n):
                with ext.unit_of_work():
                    tickets.create_ticket(tickets.NewTicket(
                        requester_user_id=customer_id, subject=f"Due {i}",
                        description="Nobody answered."), Actor.system())
            with ext.unit_of_work():  # subscribed after the creations: only breaches count
                webhooks.create_webhook(Actor.system(), {"url": "http://127.0.0.1:9/in",
                                                         "events": ["sla.breached"]})
            with intid.db.engine.begin() as conn:  # every clock ran out an hour ago
                conn.execute(sa.text(
                    "UPDATE escalated_tickets SET "
                    "first_response_due_at = :past, resolution_due_at = :past"),
                    {"past": datetime.now(timezone.utc).replace(tzinfo=None)
                     - timedelta(hours=1)})
        commands = [["check-sla"], ["check-sla"], ["cron", "--once"], ["cron", "--once"]]
        procs = [subprocess.Popen(
            [sys.executable, "-m", "flask", "--app", "sweep_host:create_app", "escalated", *c],
            env=env, cwd=os.getcwd(), stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
            text=True) for c in commands]
        outputs = [p.communicate(timeout=240)[0] for p in procs]
        assert [p.returncode for p in procs] == [0, 0, 0, 0], outputs
        with app.app_context(), intid.db.engine.connect() as conn:
            def count(sql: str) -> int:
                return conn.execute(sa.text(sql)).scalar_one()

            stamped = count("SELECT count(*) FROM escalated_tickets WHERE "
                            "first_response_breached_at IS NOT NULL") + count(
                "SELECT count(*) FROM escalated_tickets WHERE resolution_breached_at IS NOT NULL")
            activities = count("SELECT count(*) FROM escalated_activities "
                               "WHERE type = 'sla_breached'")
            deliveries = count("SELECT count(*) FROM escalated_webhook_deliveries "
                               "WHERE event = 'sla.breached'")
        assert stamped == 2 * n
        assert activities == 2 * n
        assert deliveries == 2 * n
    finally:
        with app.app_context():
            intid.db.session.remove()
            intid.db.engine.dispose()


def test_inbound_mail_met_by_a_database_failure_is_503_and_applied_on_the_retry(make_app):
    """The database fails while a stored message is applied: 503, so the provider sends it
    again, and the retry is applied once (no ticket from the failed try, none twice)."""
    app = make_app(ESCALATED_INBOUND_SECRET=SECRET)
    failing = {"on": True}

    def fail_ticket_insert(conn, cursor, statement, parameters, context, executemany):
        if failing["on"] and statement.lstrip().upper().startswith(
                "INSERT INTO ESCALATED_TICKETS"):
            raise sa.exc.OperationalError(statement, parameters,
                                          Exception("server closed the connection unexpectedly"))

    with app.app_context():
        engine = intid.db.engine
        sa.event.listen(engine, "before_cursor_execute", fail_ticket_insert)
        try:
            client = app.test_client()
            headers = {"X-Escalated-Inbound-Secret": SECRET}
            first = client.post("/support/webhook/email/inbound?adapter=raw", data=_raw_mail(),
                                content_type="message/rfc822", headers=headers)
            assert first.status_code == 503, first.get_data(True)
            assert first.get_json()["error"]["code"] == "unavailable"
            assert _count(Ticket) == 0
            failing["on"] = False
            retry = client.post("/support/webhook/email/inbound?adapter=raw", data=_raw_mail(),
                                content_type="message/rfc822", headers=headers)
            assert retry.status_code == 201, retry.get_data(True)
            again = client.post("/support/webhook/email/inbound?adapter=raw", data=_raw_mail(),
                                content_type="message/rfc822", headers=headers)
            assert again.status_code == 200 and again.get_json()["outcome"] == "duplicate"
            assert _count(Ticket) == 1
            with engine.connect() as conn:
                statuses = sorted(conn.execute(sa.text(
                    "SELECT status FROM escalated_inbound_emails")).scalars())
            assert statuses == ["duplicate", "failed", "processed"]
        finally:
            sa.event.remove(engine, "before_cursor_execute", fail_ticket_insert)


def test_rate_limits_with_redis_gone_still_count_in_memory(make_app):
    """Limiter storage that does not answer (Redis restarting): requests are served, and the
    limits still hold, counted in this process until Redis is back."""
    app = make_app(ESCALATED_RATE_LIMIT_STORAGE_URI="redis://127.0.0.1:1/0",
                   ESCALATED_WIDGET_RATE_LIMIT="3 per minute")
    client = app.test_client()
    statuses = [client.get("/support/widget/kb/search?q=printer").status_code
                for _ in range(4)]
    assert statuses == [200, 200, 200, 429]
