"""Mail a stranger can make the desk send: the new-ticket confirmation quotes nothing they
wrote, and each address gets only so many of them (counted in the rate limiter's storage),
whichever way the ticket came in. Real SMTP (aiosmtpd), real Redis for the shared count."""

from __future__ import annotations

import re
import uuid

import pytest
from sqlalchemy import func, select

from flask_escalated.events import Actor
from flask_escalated.models import OutboundEmail, Ticket
from flask_escalated.services import tickets

from .conftest import mail_config
from .test_inbound import SECRET, post, postmark

W = "/support/widget"
HOSTILE = {
    "name": "Claim your prize at http://evil.example/win",
    "subject": "URGENT: your account is locked, log in at http://evil.example/login",
    "description": "Dear customer, send your password to security@evil.example today.",
}
MARKERS = ("evil.example", "prize", "URGENT", "password", "account is locked")


def _submit(client, email, ip="203.0.113.7", **fields):
    client.environ_base["REMOTE_ADDR"] = ip
    return client.post(f"{W}/tickets", json={"email": email, **HOSTILE, **fields},
                       headers={"Origin": "http://localhost"})


def _everything(msg):
    """Every header and both bodies, as the recipient's mail client shows them."""
    headers = "\n".join(f"{k}: {v}" for k, v in msg.items())
    return "\n".join([headers, msg.get_body(("plain",)).get_content(),
                      msg.get_body(("html",)).get_content()])


def _count(app, model, *where):
    with app.app_context():
        ext = app.extensions["escalated"]
        ext.session.rollback()
        return ext.session.execute(select(func.count()).select_from(model).where(*where)
                                   ).scalar_one()


def test_the_widget_confirmation_quotes_nothing_the_sender_wrote(app, smtp):
    client = app.test_client()
    created = _submit(client, "victim@example.org")
    assert created.status_code == 201, created.json
    reference = created.json["data"]["reference"]
    assert smtp.wait_for(lambda: smtp.to("victim@example.org"))
    (msg,) = smtp.to("victim@example.org")
    shown = _everything(msg)
    for marker in MARKERS:
        assert marker not in shown, marker
    assert msg["Subject"] == f"[{reference}] We received your request"
    assert msg["To"].addresses[0].display_name == ""
    text = msg.get_body(("plain",)).get_content()
    assert reference in text and "If you did not contact" in text
    # The link in it opens the ticket for whoever really holds the mailbox.
    link = re.search(r"https://help\.example\.test(/support/guest/\S+)", text).group(1)
    page = client.get(link)
    assert page.status_code == 200 and reference in page.get_data(True)


def test_a_mailed_in_ticket_is_confirmed_just_as_neutrally(make_app, smtp, users_for):
    """An inbound ``From`` is whatever the sender typed, a registered customer's too."""
    app = make_app(**mail_config(smtp.port), ESCALATED_INBOUND_SECRET=SECRET)
    with app.app_context():
        people = users_for(app)
        for sender in ("victim@example.org", people.customer.email):
            r = post(app, "postmark", postmark(sender=sender, name=HOSTILE["name"],
                                               subject=HOSTILE["subject"],
                                               text=HOSTILE["description"]))
            assert r.status_code in (200, 201, 202), r.json
            assert smtp.wait_for(lambda s=sender: smtp.to(s))
            for marker in MARKERS:
                assert marker not in _everything(smtp.to(sender)[0]), (sender, marker)


def test_a_signed_in_customer_s_own_confirmation_still_quotes_their_request(app, smtp, users):
    ext = app.extensions["escalated"]
    for n in range(3):  # their own tickets are not counted against any budget
        with ext.unit_of_work():
            tickets.create_ticket(tickets.NewTicket(
                subject=f"Printer on fire {n}", description="Flames everywhere.",
                requester_user_id=str(users.customer.id)), Actor.customer(users.customer.id))
    assert smtp.wait_for(lambda: len(smtp.to("customer@example.test")) == 3)
    subjects = sorted(m["Subject"] for m in smtp.to("customer@example.test"))
    assert [s.split("] ", 1)[1] for s in subjects] == [
        f"We received your request: Printer on fire {n}" for n in range(3)]
    assert "Flames everywhere." in smtp.to("customer@example.test")[0].get_body(
        ("plain",)).get_content()


def test_each_address_gets_only_so_many_confirmations(make_app, smtp):
    app = make_app(**mail_config(smtp.port, ESCALATED_RATE_LIMITS={
        "mail_recipient": "2 per hour"}))
    client = app.test_client()
    codes = [_submit(client, "victim@example.org", ip=f"198.51.100.{i}").status_code
             for i in range(1, 5)]
    assert codes == [201] * 4  # every ticket is opened: nothing the sender typed is lost
    assert _count(app, Ticket) == 4
    assert _submit(client, "someone.else@example.org", ip="198.51.100.9").status_code == 201
    assert smtp.wait_for(lambda: smtp.to("someone.else@example.org"))
    assert smtp.wait_for(lambda: len(smtp.to("victim@example.org")) >= 2)
    assert _count(app, OutboundEmail, OutboundEmail.to_email == "victim@example.org") == 2
    assert len(smtp.to("victim@example.org")) == 2
    # The address is counted however it is spelt.
    assert _submit(client, "Victim@Example.ORG ", ip="198.51.100.10").status_code == 201
    assert _count(app, OutboundEmail, OutboundEmail.to_email == "victim@example.org") == 2


@pytest.fixture
def redis_storage():
    import redis

    url = "redis://127.0.0.1:6379/0"
    try:
        redis.Redis.from_url(url).ping()
    except redis.RedisError:
        pytest.skip("Redis is not running on 127.0.0.1:6379")
    return url


def test_the_budget_is_shared_through_the_limiter_storage(make_app, smtp, redis_storage):
    """Two app processes on one Redis share each address's count (an attacker spreading
    submissions over several workers gains nothing)."""
    config = mail_config(smtp.port, ESCALATED_RATE_LIMIT_STORAGE_URI=redis_storage,
                         ESCALATED_RATE_LIMITS={"mail_recipient": "2 per hour"})
    first, second = make_app(**config), make_app(**config)
    address = f"victim-{uuid.uuid4().hex[:12]}@example.org"  # a fresh key in the shared store
    for app in (first, second, first, second):
        assert _submit(app.test_client(), address).status_code == 201
    assert _count(first, Ticket) == 4
    assert _count(first, OutboundEmail, OutboundEmail.to_email == address) == 2


def test_nothing_else_a_stranger_does_mails_the_address_they_typed(app, smtp):
    """Replies through the widget mail only the desk's agents: the inbox of the address the
    stranger typed holds the one neutral confirmation."""
    client = app.test_client()
    created = _submit(client, "victim@example.org")
    token = created.json["token"]
    for _ in range(3):
        r = client.post(f"{W}/tickets/{token}/replies", json={"body": HOSTILE["description"]},
                        headers={"Origin": "http://localhost"})
        assert r.status_code == 201
    assert smtp.wait_for(lambda: smtp.to("victim@example.org"))
    app.extensions["escalated"].wait_for_background(app=app)
    assert len(smtp.to("victim@example.org")) == 1
    assert _count(app, OutboundEmail, OutboundEmail.to_email == "victim@example.org") == 1
