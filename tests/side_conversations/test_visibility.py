"""A side conversation never reaches a customer: not the portal, the API with a customer's
token, the widget, the guest page, the customer's mail, the webhooks' other payloads or the
ticket search. Each surface has a control (something the customer does see) so the test can
fail."""

from __future__ import annotations

import json
import time

import pytest
from sqlalchemy import select

from flask_escalated.events import Actor
from flask_escalated.models import OutboundEmail, Webhook, WebhookDelivery
from flask_escalated.services import guest_access, mail_ids, replies, tickets

from ..mail.conftest import mail_config, smtp  # noqa: F401  (the real SMTP server fixture)
from ..mail.test_inbound_authority import SECRET, deliver
from ..web_api.conftest import bearer  # noqa: F401  (a customer's API token)

pytestmark = pytest.mark.all_databases

ORIGIN = "https://shop.example.test"
VENDOR = "parts@vendor.example"
#: Words that only the side conversations contain.
HIDDEN = ("sidesubjectzz", "sidebodyzz", "sidereplyzz", "vendoranswerzz", VENDOR)


@pytest.fixture
def app(make_app, smtp):  # noqa: F811
    app = make_app(**mail_config(smtp.port), ESCALATED_INBOUND_SECRET=SECRET,
                   ESCALATED_WIDGET_ORIGINS=[ORIGIN])
    with app.app_context():
        yield app


@pytest.fixture
def scene(app, ext, users, api, smtp):  # noqa: F811
    """A customer's ticket and a guest's, each with a public reply (the control) and a side
    conversation mailed to a vendor who answered."""
    with ext.unit_of_work():
        ext.session.add(Webhook(url="https://hooks.example.test/in", secret="s" * 32,
                                events=["*"], is_active=True, failure_count=0))
        mine = tickets.create_ticket(tickets.NewTicket(
            subject="Printer jam", description="It jams.",
            requester_user_id=str(users.customer.id)), Actor.customer(users.customer.id))
        guest = tickets.create_ticket(tickets.NewTicket(
            subject="Scanner jam", description="It jams too.",
            requester_email="dana@example.org"), Actor.system())
        ids = (mine.id, guest.id)
        guest_token = guest_access.issue_token(guest)
        reference = mine.reference
    agent = api(users.agent)
    for tid in ids:
        r = agent.post(f"/tickets/{tid}/side-conversations", {
            "subject": "sidesubjectzz", "body": "sidebodyzz", "to_email": VENDOR,
            "participants": [str(users.agent2.id)]})
        assert r.status_code == 201, r.json
        sc = r.json["data"]["id"]
        assert agent.post(f"/tickets/{tid}/side-conversations/{sc}/replies",
                          {"body": "sidereplyzz"}).status_code == 201
        r = deliver(app, "postmark", sender=VENDOR, to=mail_ids.side_address(sc),
                    text="vendoranswerzz")
        assert r.json["outcome"] == "side_reply_added", r.json
        assert agent.post(f"/tickets/{tid}/side-conversations/{sc}/close", {}
                          ).status_code == 200
        with ext.unit_of_work():
            replies.add_reply(tickets.get_ticket(tid), "publicanswerzz",
                              Actor.agent(users.agent.id))
    assert smtp.wait_for(lambda: len(smtp.to(VENDOR)) == 4)
    assert smtp.wait_for(lambda: any("publicanswerzz" in m.as_string()
                                     for m in smtp.to("dana@example.org")))
    return {"mine": ids[0], "guest": ids[1], "reference": reference, "token": guest_token}


def _clean(text: str) -> None:
    for word in HIDDEN:
        assert word not in text, word


def test_portal_and_api_with_a_customer_token(scene, api, client_as, users, bearer):  # noqa: F811
    tid = scene["mine"]
    portal = client_as(users.customer).get(f"/support/tickets/{scene['reference']}")
    assert portal.status_code == 200
    seen = portal.get_data(as_text=True)
    customer = api(None)
    token = bearer(users.customer)
    for path in (f"/tickets/{tid}", f"/tickets/{tid}/replies", f"/tickets/{tid}/activity",
                 f"/tickets/{tid}/attachments", "/tickets"):
        r = customer.get(path, headers=token)
        assert r.status_code == 200, path
        seen += r.get_data(as_text=True)
    assert "publicanswerzz" in seen  # the control
    _clean(seen)
    sc_path = f"/tickets/{tid}/side-conversations"
    assert customer.get(sc_path, headers=token).status_code == 404
    assert customer.get(sc_path + "/1", headers=token).status_code == 404
    assert api(users.customer).get(sc_path).status_code == 404


def test_widget_and_guest_page(scene, app):
    client = app.test_client()
    r = client.get(f"/support/widget/tickets/{scene['token']}", headers={"Origin": ORIGIN})
    assert r.status_code == 200, r.get_data(as_text=True)[:300]
    seen = r.get_data(as_text=True)
    page = client.get(f"/support/guest/{scene['token']}")
    assert page.status_code == 200
    seen += page.get_data(as_text=True)
    assert "publicanswerzz" in seen
    _clean(seen)


def test_customer_mail(scene, smtp, users, ext):  # noqa: F811
    time.sleep(0.3)
    for address in (users.customer.email, "dana@example.org"):
        mailed = "".join(m.as_string() for m in smtp.to(address))
        assert "publicanswerzz" in mailed
        _clean(mailed)
    ext.session.rollback()
    side = list(ext.session.execute(select(OutboundEmail).where(
        OutboundEmail.kind == "side_conversation")).scalars())
    assert len(side) == 4 and {m.to_email for m in side} == {VENDOR}


def test_webhooks_keep_side_conversations_in_their_own_events(scene, ext):
    ext.session.rollback()
    rows = list(ext.session.execute(select(WebhookDelivery)).scalars())
    events = {r.event for r in rows}
    assert {"side_conversation.created", "side_conversation.replied",
            "side_conversation.closed", "reply.created"} <= events
    for row in rows:
        payload = json.loads(row.body)["payload"]
        if row.event.startswith("side_conversation."):
            # The agents' event names the conversation, never quotes its messages.
            assert payload["side_conversation"]["subject"] == "sidesubjectzz"
            assert "sidebodyzz" not in row.body and "vendoranswerzz" not in row.body
        else:
            _clean(row.body)


def test_ticket_search(scene, api, users, bearer):  # noqa: F811
    """Side-conversation texts are not indexed: nobody finds a ticket by them (the customer
    finds their ticket by its own words)."""
    customer = api(None)
    token = bearer(users.customer)
    assert [t["id"] for t in customer.get("/tickets?q=publicanswerzz", headers=token
                                          ).json["data"]] == [scene["mine"]]
    for word in HIDDEN[:4]:
        assert customer.get(f"/tickets?q={word}", headers=token).json["data"] == []
        assert api(users.agent).get(f"/tickets?q={word}").json["data"] == []
