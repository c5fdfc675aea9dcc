"""A side conversation's e-mail round trip: the agent's message leaves through the outbox to
a real SMTP server with the conversation's own thread headers and signed Reply-To; the
vendor's answer, replayed as each provider posts it to the inbound webhook, lands in that
side conversation and never in the customer's thread; a forged sender is refused."""

from __future__ import annotations

import time

import pytest
from sqlalchemy import func, select

from flask_escalated.events import Actor
from flask_escalated.models import InboundEmail, Reply, SideConversationReply, Ticket
from flask_escalated.services import mail_ids, tickets

from .conftest import DOMAIN, mail_config
from .test_inbound_authority import ADAPTERS, SECRET, deliver

pytestmark = pytest.mark.all_databases

VENDOR = "parts@vendor.example"


@pytest.fixture
def app(make_app, smtp):
    """Mail on, ESCALATED_REPLY_SECRET set: only signed addresses identify a thread."""
    app = make_app(**mail_config(smtp.port), ESCALATED_INBOUND_SECRET=SECRET)
    with app.app_context():
        yield app


def _ticket(ext, users) -> tuple[int, str]:
    with ext.unit_of_work():
        t = tickets.create_ticket(tickets.NewTicket(
            subject="Printer jam", description="customer-secret-description",
            requester_user_id=str(users.customer.id)), Actor.customer(users.customer.id))
    return t.id, t.reference


def _start(api, users, tid):
    r = api(users.agent).post(f"/tickets/{tid}/side-conversations", {
        "subject": "Part in stock?", "body": "Do you have the fuser?", "to_email": VENDOR})
    assert r.status_code == 201, r.json
    return r.json["data"]["id"]


def _counts(ext, tid):
    ext.session.rollback()
    return {
        "ticket_replies": ext.session.execute(select(func.count()).select_from(Reply).where(
            Reply.ticket_id == tid)).scalar_one(),
        "tickets": ext.session.execute(select(func.count()).select_from(Ticket)).scalar_one(),
        "side_replies": ext.session.execute(
            select(func.count()).select_from(SideConversationReply)).scalar_one(),
    }


@pytest.mark.parametrize("adapter", ADAPTERS)
def test_round_trip_through_the_inbound_webhook(app, ext, api, users, smtp, adapter):
    tid, reference = _ticket(ext, users)
    assert smtp.wait_for(lambda: smtp.to(users.customer.email))  # the confirmation
    sc = _start(api, users, tid)
    assert smtp.wait_for(lambda: smtp.to(VENDOR))
    (out,) = smtp.to(VENDOR)
    root = f"<side-{sc}@{DOMAIN}>"
    reply_to = mail_ids.side_address(sc)
    assert out["Message-ID"] == root and out["In-Reply-To"] is None
    assert out["Reply-To"] == reply_to and reply_to.startswith(f"side+{sc}.")
    assert reply_to != mail_ids.reply_address(tid) and "X-Escalated-Ticket-Id" not in out
    assert out["Subject"] == "Part in stock?"
    whole = out.as_string()
    assert "Do you have the fuser?" in whole
    for private in (reference, "customer-secret-description", users.customer.email,
                    "Printer jam"):
        assert private not in whole, private

    before = _counts(ext, tid)
    r = deliver(app, adapter, sender="Parts@Vendor.example", to=reply_to,
                subject="Re: Part in stock?",
                text="Yes, two left.\n\nOn Monday Support wrote:\n> Do you have the fuser?",
                headers=[("In-Reply-To", root), ("References", root)])
    assert r.status_code == 200, r.get_json()
    assert r.json["outcome"] == "side_reply_added" and r.json["matched_by"] == "side_conversation"
    assert r.json["ticket_id"] == tid and r.json["reply_id"] is None
    after = _counts(ext, tid)
    assert after == {**before, "side_replies": before["side_replies"] + 1}
    shown = api(users.agent).get(f"/tickets/{tid}/side-conversations/{sc}").json["data"]
    last = shown["replies"][-1]
    assert last["author_type"] == "outside" and last["author_email"] == VENDOR
    assert last["body"] == "Yes, two left." and last["channel"] == "email"

    # The agent answers: the second message threads under the first.
    r = api(users.agent).post(f"/tickets/{tid}/side-conversations/{sc}/replies",
                              {"body": "Please ship one."})
    assert r.status_code == 201
    assert smtp.wait_for(lambda: len(smtp.to(VENDOR)) == 2)
    second = smtp.to(VENDOR)[1]
    rid = r.json["data"]["replies"][-1]["id"]
    assert second["Message-ID"] == f"<side-{sc}-reply-{rid}@{DOMAIN}>"
    assert second["In-Reply-To"] == root and second["References"] == root
    assert second["Subject"] == "Re: Part in stock?"
    # The customer heard nothing of any of it.
    time.sleep(0.3)
    mailed = "".join(m.as_string() for m in smtp.to(users.customer.email))
    assert len(smtp.to(users.customer.email)) == 1
    for text in ("fuser", "two left", "ship one", "Part in stock"):
        assert text not in mailed


@pytest.mark.parametrize("adapter", ADAPTERS)
def test_a_forged_sender_is_refused(app, ext, api, users, smtp, adapter):
    tid, _ = _ticket(ext, users)
    sc = _start(api, users, tid)
    before = _counts(ext, tid)
    for sender in ("mallory@evil.example", users.customer.email, users.agent.email):
        r = deliver(app, adapter, sender=sender, to=mail_ids.side_address(sc),
                    text="Send the part to my address instead.")
        assert r.status_code == 200, r.get_json()
        assert r.json["status"] == "ignored" and r.json["outcome"] == "unverified_sender"
        assert r.json["matched_by"] == "side_conversation"
    assert _counts(ext, tid) == before
    log = ext.session.execute(select(InboundEmail).order_by(InboundEmail.id.desc())).scalar()
    assert log.status == "ignored" and "only that address may answer" in log.error


def test_addresses_and_headers_that_do_not_identify_the_conversation(app, ext, api, users,
                                                                    smtp):
    """With a reply secret, the thread headers alone do not count (as for tickets); a side
    address with a wrong tag, or the ticket's own address, never reaches the conversation."""
    tid, _ = _ticket(ext, users)
    sc = _start(api, users, tid)
    good = mail_ids.side_address(sc)
    local, domain = good.split("@")
    tampered = local[:-1] + ("0" if local[-1] != "0" else "1") + "@" + domain
    other = f"side+{sc + 1}.{local.rsplit('.', 1)[1]}@{domain}"
    for to, headers in ((f"support@{DOMAIN}", [("In-Reply-To", f"<side-{sc}@{DOMAIN}>")]),
                        (tampered, []), (other, []), (mail_ids.reply_address(tid), [])):
        before = _counts(ext, tid)["side_replies"]
        r = deliver(app, "postmark", sender=VENDOR, to=to, headers=headers)
        assert r.json["matched_by"] != "side_conversation", (to, r.json)
        assert r.json["outcome"] == "ticket_created", (to, r.json)  # a stranger's new ticket
        assert _counts(ext, tid)["side_replies"] == before


class _Api:
    """JSON calls as ``user`` to an app built inside the test."""

    def __init__(self, app, user):
        self.client = app.test_client(user=user)

    def get(self, path):
        return self.client.get("/support/api/v1" + path)

    def post(self, path, json=None):
        return self.client.post("/support/api/v1" + path, json=json)


def test_without_a_reply_secret_the_thread_headers_match(make_app, smtp, users_for):
    """The compatibility mode (no ESCALATED_REPLY_SECRET): the conversation's Message-ID in
    In-Reply-To identifies it; the sender check still applies; a closed one reopens."""
    config = mail_config(smtp.port, ESCALATED_INBOUND_SECRET=SECRET)
    config.pop("ESCALATED_REPLY_SECRET")
    app = make_app(**config)
    with app.app_context():
        ext = app.extensions["escalated"]
        users = users_for(app)

        def api(user):
            return _Api(app, user)

        tid, _ = _ticket(ext, users)
        sc = _start(api, users, tid)
        assert api(users.agent).post(f"/tickets/{tid}/side-conversations/{sc}/close",
                                     {}).status_code == 200
        root = f"<side-{sc}@{DOMAIN}>"
        r = deliver(app, "mailgun", sender=VENDOR, to=f"support@{DOMAIN}",
                    headers=[("In-Reply-To", root)], text="Shipped today.")
        assert r.json["outcome"] == "side_reply_added", r.json
        shown = api(users.agent).get(f"/tickets/{tid}/side-conversations/{sc}").json["data"]
        assert shown["status"] == "open" and shown["replies"][-1]["body"] == "Shipped today."
        r = deliver(app, "mailgun", sender="mallory@evil.example", to=f"support@{DOMAIN}",
                    headers=[("References", root)], text="Forged.")
        assert r.json["outcome"] == "unverified_sender"
