"""Outbound notifications through a real SMTP server: threading, signed Reply-To, branding."""

from __future__ import annotations

import email
import email.policy
import hashlib
import hmac
import time

import pytest
from sqlalchemy import select

from flask_escalated.events import Actor
from flask_escalated.models import OutboundEmail
from flask_escalated.services import (
    assignment,
    departments,
    followers,
    mail,
    replies,
    settings,
    tickets,
)

from .conftest import DOMAIN, REPLY_SECRET

pytestmark = pytest.mark.all_databases


def _open(ext, users, **fields):
    data = {"subject": "Printer on fire", "description": "Flames everywhere.", **fields}
    with ext.unit_of_work():
        t = tickets.create_ticket(tickets.NewTicket(
            requester_user_id=str(users.customer.id), **data), Actor.customer(users.customer.id))
    return t.id


def _bodies(msg):
    text = msg.get_body(("plain",)).get_content()
    html = msg.get_body(("html",)).get_content()
    return text, html


def _rows(ext):
    ext.session.rollback()
    return list(ext.session.execute(select(OutboundEmail).order_by(OutboundEmail.id)).scalars())


def _wait_sent(ext, count, timeout=10):
    deadline = time.time() + timeout
    while time.time() < deadline:
        rows = _rows(ext)
        if len([r for r in rows if r.status == "sent"]) >= count:
            return rows
        time.sleep(0.05)
    return _rows(ext)


def test_new_ticket_mail_is_threaded_signed_and_branded(app, ext, users, smtp):
    with ext.unit_of_work():
        dept = departments.create_department(Actor.system(), {
            "name": "Hardware", "agent_ids": [str(users.agent.id), str(users.agent2.id)]})
    tid = _open(ext, users, department_id=dept.id)
    smtp.wait(3)
    (confirmation,) = smtp.to("customer@example.test")
    assert confirmation["Message-ID"] == f"<ticket-{tid}@{DOMAIN}>"
    expected_tag = hmac.new(REPLY_SECRET.encode(), str(tid).encode(),
                            hashlib.sha256).hexdigest()[:8]
    assert confirmation["Reply-To"] == f"reply+{tid}.{expected_tag}@{DOMAIN}"
    assert confirmation["Auto-Submitted"] == "auto-generated"
    assert confirmation["X-Escalated-Ticket-Id"] == str(tid)
    assert confirmation["From"].addresses[0].addr_spec == f"help@{DOMAIN}"
    assert "[ESC-" in confirmation["Subject"] and "Printer on fire" in confirmation["Subject"]
    text, html = _bodies(confirmation)
    assert "We received your request" in text and "Flames everywhere." in text
    assert "#0f766e" in html and "Acme Inc, 1 Main St" in html
    assert "https://help.example.test/support/tickets/ESC-" in html
    # The department's agents hear about it too.
    assert len(smtp.to("agent@example.test")) == 1 and len(smtp.to("agent2@example.test")) == 1


def test_replies_chain_back_to_the_first_mail(app, ext, users, smtp):
    tid = _open(ext, users)
    smtp.wait(1)
    with ext.unit_of_work():
        t = tickets.get_ticket(tid)
        assignment.assign(t, str(users.agent.id), Actor.agent(users.admin.id))
        followers.follow(t, str(users.agent2.id), Actor.system())
    assert smtp.wait_for(lambda: smtp.to("agent@example.test"))  # "assigned to you"
    with ext.unit_of_work():
        reply = replies.add_reply(tickets.get_ticket(tid), "Have you tried water?",
                                  Actor.agent(users.agent.id))

    def answers():
        return [m for m in smtp.to("customer@example.test") if "-reply-" in m["Message-ID"]]

    assert smtp.wait_for(answers)
    (answer,) = answers()
    # The automatic move to "waiting on customer" sends nothing more.
    time.sleep(0.2)
    assert len(smtp.to("customer@example.test")) == 2
    root = f"<ticket-{tid}@{DOMAIN}>"
    assert answer["Message-ID"] == f"<ticket-{tid}-reply-{reply.id}@{DOMAIN}>"
    assert answer["In-Reply-To"] == root and answer["References"] == root
    assert "Have you tried water?" in _bodies(answer)[0]

    with ext.unit_of_work():
        replies.add_reply(tickets.get_ticket(tid), "It is worse now.",
                          Actor.customer(users.customer.id))
    assert smtp.wait_for(lambda: len(smtp.to("agent2@example.test")) >= 1)
    assert smtp.wait_for(lambda: len(smtp.to("agent@example.test")) >= 2)
    # The assignee and the follower are told; the customer is not mailed their own words.
    assert any("It is worse now." in _bodies(m)[0] for m in smtp.to("agent@example.test"))
    assert any("It is worse now." in _bodies(m)[0] for m in smtp.to("agent2@example.test"))
    assert not any("It is worse now." in _bodies(m)[0] for m in smtp.to("customer@example.test"))
    # Internal notes never leave the building.
    with ext.unit_of_work():
        replies.add_reply(tickets.get_ticket(tid), "secret note", Actor.agent(users.agent.id),
                          internal=True)
    time.sleep(0.3)
    assert not any("secret note" in _bodies(m)[0] for _, m in smtp.messages)


def test_switches_and_missing_config(app, ext, users, smtp, make_app):
    with ext.unit_of_work():
        settings.update(Actor.system(), {"mail_notifications": {"new_ticket_requester": False}})
    _open(ext, users)
    time.sleep(0.3)
    assert smtp.to("customer@example.test") == []

    quiet = make_app()  # no mail settings: no outbox rows, nothing breaks
    with quiet.app_context():
        q_ext = quiet.extensions["escalated"]
        assert not mail.enabled()
        with q_ext.unit_of_work():
            tickets.create_ticket(tickets.NewTicket(
                subject="s", description="d", requester_email="guest@example.org"),
                Actor.system())
        q_ext.session.rollback()
        assert q_ext.session.execute(select(OutboundEmail)).first() is None


def test_smtp_failure_is_retried_by_the_sweep(app, ext, users, smtp, clock):
    from flask_escalated.jobs import tasks

    smtp.refuse = True
    _open(ext, users)
    deadline = time.time() + 10
    while time.time() < deadline and not any(r.attempts for r in _rows(ext)):
        time.sleep(0.05)
    row = _rows(ext)[0]
    assert row.status == "failed" and row.last_error and row.next_attempt_at > clock.current
    assert tasks.deliver_mails()["processed"] == 0  # not due yet
    smtp.refuse = False
    clock.advance(minutes=5)
    assert tasks.deliver_mails()["processed"] == 1
    assert _rows(ext)[0].status == "sent" and smtp.to("customer@example.test")


def test_header_injection_goes_nowhere(app, ext, users, smtp):
    _open(ext, users, subject="Hi\r\nBcc: evil@attacker.test\r\nX-Evil: 1")
    smtp.wait(1)
    (msg,) = smtp.to("customer@example.test")
    assert msg["Bcc"] is None and msg["X-Evil"] is None
    assert all("evil@attacker.test" not in rcpts for rcpts, _ in smtp.messages)
    assert "\n" not in msg["Subject"] and "\r" not in msg["Subject"]


def test_long_lines_and_non_ascii_survive_smtp(app, ext, users, smtp):
    long_line = "é" + "x" * 5000
    _open(ext, users, subject="Überweisung fehlgeschlagen ✓", description=long_line)
    assert smtp.wait_for(lambda: smtp.to("customer@example.test"))
    (msg,) = smtp.to("customer@example.test")
    assert msg["Subject"].endswith("Überweisung fehlgeschlagen ✓")
    assert long_line in _bodies(msg)[0]


@pytest.mark.xdist_group("redis")  # Redis db 12
def test_mail_goes_through_the_escalated_mail_queue(make_app, smtp, users_for):
    from redis import Redis

    from flask_escalated.jobs.queues import MAIL_QUEUE, queue
    from flask_escalated.jobs.worker import worker_class

    from .conftest import mail_config

    redis_url = "redis://127.0.0.1:6379/12"
    conn = Redis.from_url(redis_url)
    conn.flushdb()
    try:
        app = make_app(**mail_config(smtp.port, ESCALATED_REDIS_URL=redis_url))
        people = users_for(app)
        ext = app.extensions["escalated"]
        with app.app_context():
            with ext.unit_of_work():
                tickets.create_ticket(tickets.NewTicket(
                    subject="Queued", description="d",
                    requester_user_id=str(people.customer.id)), Actor.system())
            q = queue(MAIL_QUEUE)
            assert q.count == 1 and smtp.messages == []  # nothing sent inside the request
            worker_class(app, simple=True)([q], connection=conn).work(burst=True)
        assert smtp.wait_for(lambda: smtp.to("customer@example.test"))
    finally:
        conn.flushdb()
        conn.close()


def _guest_ticket(ext, email):
    with ext.unit_of_work():
        t = tickets.create_ticket(tickets.NewTicket(
            subject="Hello", description="d", requester_email=email, requester_name="Jo"),
            Actor.system())
    return t.id


def test_international_domain_is_idna_encoded(app, ext, smtp):
    _guest_ticket(ext, "jo@bücher.example")
    (row,) = _wait_sent(ext, 1)
    assert row.status == "sent", row.last_error
    assert smtp.wait(1) and smtp.messages[0][0] == ["jo@xn--bcher-kva.example"]
    assert smtp.messages[0][1]["To"].addresses[0].addr_spec == "jo@xn--bcher-kva.example"


def test_international_local_part_needs_smtputf8(app, ext, smtp):
    """Without SMTPUTF8 on the server the row dies at once with the reason (it used to stay
    pending with no error)."""
    _guest_ticket(ext, "josé@example.org")
    deadline = time.time() + 10
    while time.time() < deadline and _rows(ext)[0].status == "pending":
        time.sleep(0.05)
    (row,) = _rows(ext)
    assert row.status == "dead" and row.attempts == 1
    assert "SMTPUTF8" in row.last_error and "josé@example.org" in row.last_error
    assert smtp.messages == []


def test_international_address_over_smtputf8(make_app, smtp_utf8):
    from .conftest import mail_config

    app = make_app(**mail_config(smtp_utf8.port))
    with app.app_context():
        ext = app.extensions["escalated"]
        _guest_ticket(ext, "josé@bücher.example")
        (row,) = _wait_sent(ext, 1)
        assert row.status == "sent", row.last_error
        smtp_utf8.wait(1)
        rcpts = smtp_utf8.messages[0][0]
        assert rcpts == ["josé@xn--bcher-kva.example"]
        msg = email.message_from_string(smtp_utf8.raw[0].decode("utf-8"),
                                        policy=email.policy.default)
        assert msg["To"].addresses[0].addr_spec == "josé@xn--bcher-kva.example"
        assert msg["To"].addresses[0].display_name == ""  # a guest's confirmation names nobody


def test_an_address_that_cannot_be_written_is_dead_with_the_reason(app, ext, smtp):
    from flask_escalated.models import OutboundEmail

    with ext.unit_of_work():
        ext.session.add(OutboundEmail(
            kind="verification_code", to_email="dana@exa mple.org", subject="s", text_body="t",
            html_body="h", headers={}, message_id=f"<x-1@{DOMAIN}>", status="pending",
            attempts=0, next_attempt_at=mail.now()))
    (row,) = _rows(ext)
    assert mail.deliver(row.id) == "dead"
    (row,) = _rows(ext)
    assert "not an e-mail address" in row.last_error and row.next_attempt_at is None
