"""Webhooks on a real HTTP receiver on 127.0.0.1: outbox in the same transaction, signatures,
retries after the receiver was down, SSRF refusals, redelivery."""

from __future__ import annotations

import hashlib
import hmac
import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from sqlalchemy import func, select

from flask_escalated.events import Actor
from flask_escalated.jobs import tasks
from flask_escalated.models import WebhookAttempt, WebhookDelivery
from flask_escalated.services import tickets, webhooks
from flask_escalated.services.errors import ValidationError

pytestmark = pytest.mark.all_databases


class Receiver:
    """A tiny HTTP server that records requests and answers with a chosen status."""

    def __init__(self) -> None:
        self.requests: list[dict] = []
        self.status = 200
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"]))
                receiver.requests.append({"headers": dict(self.headers), "body": body})
                self.send_response(receiver.status)
                self.end_headers()
                self.wfile.write(b"thanks")

            def log_message(self, *args) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()
        self.url = f"http://127.0.0.1:{self.server.server_port}/hook"

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def receiver():
    r = Receiver()
    yield r
    r.close()


@pytest.fixture
def hook_app(make_app, receiver):
    app = make_app(ESCALATED_WEBHOOK_ALLOWED_HOSTS=["127.0.0.1"], ESCALATED_WEBHOOK_MAX_ATTEMPTS=3)
    with app.app_context():
        from tests.hosts import intid

        customer = intid.make_user("wh@example.test", "W")
        intid.db.session.commit()
        ext = app.extensions["escalated"]
        with ext.unit_of_work():
            hook = webhooks.create_webhook(Actor.system(), {"url": receiver.url,
                                                            "events": ["*"]})
        yield app, hook.id, hook.secret, customer
        # Let background senders finish before the tables are emptied.
        for thread in threading.enumerate():
            if thread.name == "escalated-webhooks":
                thread.join(15)
        ext.session.rollback()


def open_ticket(app, customer):
    with app.extensions["escalated"].unit_of_work():
        return tickets.create_ticket(tickets.NewTicket(
            subject="Webhook me", description="d", requester_user_id=str(customer.id)),
            Actor.system()).id


def wait_for(predicate, timeout=5.0):
    import time

    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if predicate():
            return True
        time.sleep(0.02)
    return predicate()


def deliveries(app):
    ext = app.extensions["escalated"]
    ext.session.rollback()
    return list(ext.session.execute(select(WebhookDelivery).order_by(WebhookDelivery.id))
                .scalars())


def test_delivery_is_signed_and_carries_the_envelope(hook_app, receiver):
    app, _hook_id, secret, customer = hook_app
    tid = open_ticket(app, customer)
    assert wait_for(lambda: len(receiver.requests) == 1)
    request = receiver.requests[0]
    expected = hmac.new(secret.encode(), request["body"], hashlib.sha256).hexdigest()
    assert hmac.compare_digest(request["headers"]["X-Escalated-Signature"], expected)
    envelope = json.loads(request["body"])
    assert envelope["event"] == "ticket.created" == request["headers"]["X-Escalated-Event"]
    assert envelope["id"] == request["headers"]["X-Escalated-Delivery"]
    assert envelope["payload"]["ticket"]["id"] == tid
    assert envelope["timestamp"].endswith("Z")
    assert wait_for(lambda: deliveries(app)[0].status == "delivered")


def test_rollback_writes_no_delivery(hook_app, receiver):
    app, *_rest, customer = hook_app
    ext = app.extensions["escalated"]
    with pytest.raises(RuntimeError), ext.unit_of_work():
        tickets.create_ticket(tickets.NewTicket(
            subject="never", description="d", requester_user_id=str(customer.id)),
            Actor.system())
        raise RuntimeError("rolled back")
    assert deliveries(app) == []
    assert receiver.requests == []


def test_receiver_down_then_up_is_retried_from_the_outbox(hook_app, receiver, clock):
    app, *_rest, customer = hook_app
    receiver.status = 500
    open_ticket(app, customer)
    assert wait_for(lambda: deliveries(app) and deliveries(app)[0].attempts == 1)
    row = deliveries(app)[0]
    assert row.status == "failed" and row.last_status_code == 500
    assert row.next_attempt_at > clock.current
    # Not due yet: the sweep sends nothing.
    assert tasks.deliver_webhooks()["processed"] == 0
    receiver.status = 200
    clock.advance(minutes=5)
    assert tasks.deliver_webhooks()["processed"] == 1
    row = deliveries(app)[0]
    assert (row.status, row.attempts) == ("delivered", 2)
    ext = app.extensions["escalated"]
    codes = list(ext.session.execute(select(WebhookAttempt.status_code)
                                     .order_by(WebhookAttempt.id)).scalars())
    assert codes == [500, 200]
    # The receiver saw the same delivery id twice: it can de-duplicate.
    ids = {json.loads(r["body"])["id"] for r in receiver.requests}
    assert len(ids) == 1


def test_gives_up_after_max_attempts_and_redelivers_on_request(hook_app, receiver, clock):
    app, hook_id, _secret, customer = hook_app
    receiver.status = 503
    open_ticket(app, customer)
    assert wait_for(lambda: deliveries(app) and deliveries(app)[0].attempts == 1)
    for _ in range(3):
        clock.advance(hours=1)
        tasks.deliver_webhooks()
    row = deliveries(app)[0]
    assert (row.status, row.attempts) == ("dead", 3)
    receiver.status = 200
    from flask_escalated.services import agents
    from tests.hosts import intid

    boss = intid.make_user("boss@example.test", "Boss")
    intid.db.session.commit()
    with app.extensions["escalated"].unit_of_work():
        agents.make_agent(str(boss.id), Actor.system(), role="admin")
    admin = app.test_client(user=boss)
    r = admin.post(f"/support/api/v1/webhooks/{hook_id}/deliveries/{row.id}/redeliver",
                   json={})
    assert r.status_code == 202, r.json
    assert wait_for(lambda: deliveries(app)[0].status == "delivered")
    listing = admin.get(f"/support/api/v1/webhooks/{hook_id}/deliveries").json["data"]
    assert listing[0]["status"] == "delivered"
    assert [a["status_code"] for a in listing[0]["attempt_log"]][-1] == 200


def test_unreachable_receiver_never_fails_the_ticket(hook_app, receiver):
    app, _hook_id, _secret, customer = hook_app
    receiver.close()
    tid = open_ticket(app, customer)
    assert tid
    assert wait_for(lambda: deliveries(app) and deliveries(app)[0].attempts == 1)
    assert deliveries(app)[0].last_error


@pytest.mark.parametrize("url", [
    "http://127.0.0.1:9/x", "http://localhost/x", "http://10.0.0.1/x", "http://192.168.1.1/",
    "http://169.254.169.254/latest/meta-data", "http://[::1]/x", "http://0.0.0.0/",
    "http://2130706433/", "http://[::ffff:127.0.0.1]/", "file:///etc/passwd",
    "gopher://example.com/", "ftp://example.com/", "not a url", "http:///nohost",
])
def test_private_and_odd_urls_are_refused(app, url):
    with pytest.raises(ValidationError):
        webhooks.create_webhook(Actor.system(), {"url": url, "events": ["*"]})


def test_api_permissions_and_validation(client_as, users):
    agent, admin = client_as(users.agent), client_as(users.admin)
    assert agent.get("/support/api/v1/webhooks").status_code == 403
    r = admin.post("/support/api/v1/webhooks", json={"url": "http://127.0.0.1/x",
                                                     "events": ["*"]})
    assert r.status_code == 422  # loopback is refused unless allowlisted
    r = admin.post("/support/api/v1/webhooks", json={"url": "https://example.invalid/x",
                                                     "events": ["ticket.nope"]})
    assert r.status_code == 422


def test_outbox_rows_commit_with_the_change(hook_app):
    app, *_rest, customer = hook_app
    ext = app.extensions["escalated"]
    with ext.unit_of_work():
        tickets.create_ticket(tickets.NewTicket(
            subject="x", description="d", requester_user_id=str(customer.id)), Actor.system())
        pending = ext.session.execute(
            select(func.count()).select_from(WebhookDelivery)).scalar_one()
        assert pending == 0  # written by the before-commit handler, in this same transaction
    ext.session.rollback()
    assert ext.session.execute(select(func.count()).select_from(WebhookDelivery)) \
        .scalar_one() == 1
