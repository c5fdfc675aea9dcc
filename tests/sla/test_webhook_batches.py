"""Batched webhook delivery on a real keep-alive HTTP receiver and real Redis/RQ: one job per
burst, one connection reused for many POSTs, one sender per delivery, health per batch."""

from __future__ import annotations

import hashlib
import hmac
import json
import threading
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from redis import Redis
from rq import Queue
from sqlalchemy import func, select

from flask_escalated.clock import now
from flask_escalated.events import Actor
from flask_escalated.jobs.queues import WEBHOOK_QUEUE
from flask_escalated.jobs.worker import worker_class
from flask_escalated.models import Webhook, WebhookAttempt, WebhookDelivery
from flask_escalated.services import http_pool, tickets, webhook_sender, webhooks

pytestmark = [pytest.mark.all_databases, pytest.mark.xdist_group("redis")]

REDIS_URL = "redis://127.0.0.1:6379/10"


class KeepAliveReceiver:
    """HTTP/1.1 with Content-Length, so clients may keep the connection; records the client
    port of every request (one port = one connection) and fails paths ending in ``/fail``."""

    def __init__(self) -> None:
        self.requests: list[dict] = []
        self.drop = False
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"]))
                receiver.requests.append({"headers": dict(self.headers), "body": body,
                                          "port": self.client_address[1]})
                status = 500 if self.path.endswith("/fail") else 200
                self.send_response(status)
                self.send_header("Content-Length", "2")
                self.end_headers()
                self.wfile.write(b"ok")
                self.close_connection = receiver.drop

            def log_message(self, *args) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        self.base = f"http://127.0.0.1:{self.server.server_port}"

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def receiver():
    r = KeepAliveReceiver()
    yield r
    r.close()


@pytest.fixture
def redis_app(make_app):
    conn = Redis.from_url(REDIS_URL)
    conn.flushdb()
    app = make_app(ESCALATED_WEBHOOK_ALLOWED_HOSTS=["127.0.0.1"], ESCALATED_REDIS_URL=REDIS_URL,
                   ESCALATED_WEBHOOK_MAX_ATTEMPTS=3)
    try:
        with app.app_context():
            yield app, conn
            app.extensions["escalated"].session.rollback()
    finally:
        conn.flushdb()
        conn.close()


def _hook(app, url):
    with app.extensions["escalated"].unit_of_work():
        return webhooks.create_webhook(Actor.system(), {"url": url, "events": ["ticket.created"]})


def _open_tickets(app, n):
    ext = app.extensions["escalated"]
    for i in range(n):
        with ext.unit_of_work():
            tickets.create_ticket(tickets.NewTicket(
                subject=f"Batch {i}", description="d", requester_email=f"b{i}@example.test"),
                Actor.system())


def _count(app, model, *where):
    session = app.extensions["escalated"].session
    session.rollback()
    return session.execute(select(func.count()).select_from(model).where(*where)).scalar_one()


def _work(app, conn):
    worker = worker_class(app, simple=True)([Queue(WEBHOOK_QUEUE, connection=conn)],
                                            connection=conn)
    worker.work(burst=True, logging_level="WARNING")


def test_a_burst_is_one_job_and_one_connection(redis_app, receiver):
    app, conn = redis_app
    hook = _hook(app, f"{receiver.base}/hook")
    secret = hook.secret
    _open_tickets(app, 12)
    assert Queue(WEBHOOK_QUEUE, connection=conn).count == 1  # not one job per delivery
    assert conn.llen(webhook_sender.PENDING_KEY) == 12
    _work(app, conn)
    assert _count(app, WebhookDelivery, WebhookDelivery.status == "delivered") == 12
    assert _count(app, WebhookAttempt, WebhookAttempt.status_code == 200) == 12
    assert len(receiver.requests) == 12
    assert len({r["port"] for r in receiver.requests}) == 1  # kept alive, reused
    assert http_pool.pool().opened == 1
    for r in receiver.requests:  # every body still signed on its own
        expected = hmac.new(secret.encode(), r["body"], hashlib.sha256).hexdigest()
        assert r["headers"]["X-Escalated-Signature"] == expected
        assert json.loads(r["body"])["id"] == r["headers"]["X-Escalated-Delivery"]
    # The drainer is done: the next burst queues a new job.
    assert not conn.exists(webhook_sender.DRAINER_KEY)
    _open_tickets(app, 1)
    assert Queue(WEBHOOK_QUEUE, connection=conn).count == 1


def test_health_and_outcomes_are_written_per_batch(redis_app, receiver):
    app, conn = redis_app
    good = _hook(app, f"{receiver.base}/hook").id
    bad = _hook(app, f"{receiver.base}/fail").id
    _open_tickets(app, 5)
    sent_after = now()
    _work(app, conn)
    session = app.extensions["escalated"].session
    session.rollback()
    hooks = {h.id: h for h in session.execute(select(Webhook)).scalars()}
    assert hooks[good].failure_count == 0 and hooks[good].last_delivered_at is not None
    assert hooks[bad].failure_count == 5 and hooks[bad].last_delivered_at is None
    failed = session.execute(select(WebhookDelivery).where(WebhookDelivery.webhook_id == bad)
                             ).scalars().all()
    assert {(d.status, d.attempts, d.last_status_code, d.claimed_until) for d in failed} \
        == {("failed", 1, 500, None)}
    # A retry is scheduled after the backoff, counted from the failed attempt (not from
    # whenever this line runs on a slow machine).
    backoff = timedelta(seconds=0.8 * webhook_sender.BASE_DELAY)  # the least jitter
    assert all(d.next_attempt_at >= sent_after + backoff for d in failed), \
        [(d.next_attempt_at, sent_after) for d in failed]
    assert _count(app, WebhookDelivery, WebhookDelivery.status == "delivered") == 5


def test_two_senders_never_claim_the_same_delivery(redis_app, receiver):
    app, conn = redis_app
    _hook(app, f"{receiver.base}/hook")
    _open_tickets(app, 30)
    conn.flushdb()  # the queue lost everything: only the outbox is left
    ids = list(app.extensions["escalated"].session.execute(
        select(WebhookDelivery.id)).scalars())
    claimed: list[list[int]] = []
    start = threading.Barrier(3)

    def sender() -> None:
        with app.app_context():
            start.wait()
            claimed.append([r.id for r in webhook_sender.claim(
                webhook_sender.given(ids, now()))])

    threads = [threading.Thread(target=sender) for _ in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    together = [i for batch in claimed for i in batch]
    assert len(together) == len(set(together))  # nobody holds a row another holds
    assert sorted(together) == sorted(ids)  # and every free row was taken by someone
    assert webhook_sender.claim(webhook_sender.given(ids, now())) == []  # all held now


def test_a_connection_the_receiver_dropped_is_replaced(redis_app, receiver):
    """The receiver closes each connection after answering, without saying so: the next POST
    must not be lost on the dead connection."""
    app, conn = redis_app
    receiver.drop = True
    _hook(app, f"{receiver.base}/hook")
    _open_tickets(app, 4)
    _work(app, conn)
    assert _count(app, WebhookDelivery, WebhookDelivery.status == "delivered") == 4
    assert len(receiver.requests) == 4
    assert http_pool.pool().opened == 4


def test_only_a_webhook_worker_runs_jobs_in_process_by_default():
    from flask_escalated.jobs.queues import DEFAULT_QUEUE, MAIL_QUEUE
    from flask_escalated.jobs.worker import runs_in_process

    assert runs_in_process((WEBHOOK_QUEUE,))
    assert not runs_in_process(())  # every queue
    assert not runs_in_process((WEBHOOK_QUEUE, MAIL_QUEUE))
    assert not runs_in_process([DEFAULT_QUEUE])
