"""Placeholders: plain one-pass text substitution, with hostile values."""

from __future__ import annotations

import pytest

from flask_escalated.services import canned
from tests.hosts import intid

pytestmark = pytest.mark.all_databases

HOSTILE = '{{agent.name}} <script>alert("x")</script>'


def test_substitute_is_one_pass_and_keeps_unknown_placeholders():
    values = {"requester.name": "{{agent.name}}", "agent.name": "Alex"}
    text = "Hi {{requester.name}}, {{ agent.name }} here. {{ticket.nope}} {{weird stuff}} {{}}"
    assert canned.substitute(text, values) == (
        "Hi {{agent.name}}, Alex here. {{ticket.nope}} {{weird stuff}} {{}}")


def test_preview_fills_every_placeholder(api, users, ext, make_canned, ticket_of):
    from flask_escalated.events import Actor
    from flask_escalated.services import departments, tickets

    with ext.unit_of_work():
        dept = departments.create_department(Actor.system(), {"name": "Billing"})
    tid = ticket_of(subject="Refund please", priority="high")
    with ext.unit_of_work():
        tickets.change_department(tickets.get_ticket(tid), dept.id, Actor.system())
    body = " | ".join("{{" + name + "}}" for name in canned.PLACEHOLDERS)
    cid = make_canned("admin", shared=True, body=body)
    r = api(users.agent).get(f"/tickets/{tid}/canned-responses/{cid}/preview")
    assert r.status_code == 200, r.get_data(True)
    ext.session.rollback()
    ref = tickets.get_ticket(tid).reference
    assert r.get_json() == {"data": {"body": (
        f"{ref} | Refund please | Open | high | Casey Customer | customer@example.test | "
        "Alex Agent | Billing")}}


def test_hostile_values_are_inserted_literally(api, users, ext, make_canned, ticket_of):
    with ext.unit_of_work():
        villain = intid.make_user("villain@example.test", HOSTILE)
    tid = ticket_of(requester=villain, subject="{{requester.email}} <b>bold</b>")
    cid = make_canned("admin", shared=True,
                      body="Dear {{requester.name}}, re: {{ticket.subject}}. "
                           "{{ticket.unknown}} -- {{agent.name}}")
    r = api(users.agent).get(f"/tickets/{tid}/canned-responses/{cid}/preview")
    body = r.get_json()["data"]["body"]
    assert body == (f"Dear {HOSTILE}, re: {{{{requester.email}}}} <b>bold</b>. "
                    "{{ticket.unknown}} -- Alex Agent")
    # Sent as a reply, the text is shown escaped: no script, no markup from the values.
    page = api(users.agent).client.get(f"/support/agent/tickets/{tid}")
    assert page.status_code == 200
    from flask_escalated.events import Actor
    from flask_escalated.services import replies, tickets

    with ext.unit_of_work():
        replies.add_reply(tickets.get_ticket(tid), body, Actor.agent(users.agent.id))
    html = api(users.agent).client.get(f"/support/agent/tickets/{tid}").get_data(True)
    assert "<script>alert" not in html and "&lt;script&gt;alert" in html
    assert "<b>bold</b>" not in html


def test_custom_field_hook(api, users, make_canned, ticket_of, monkeypatch):
    monkeypatch.setattr(canned, "custom_field_values", lambda ticket: {"plan": "{{agent.name}}",
                                                                      "seats": 3})
    tid = ticket_of()
    cid = make_canned("agent", body="{{custom_field.plan}} / {{custom_field.seats}} / "
                                    "{{custom_field.none}}")
    r = api(users.agent).get(f"/tickets/{tid}/canned-responses/{cid}/preview")
    assert r.get_json()["data"]["body"] == "{{agent.name}} / 3 / {{custom_field.none}}"


def test_preview_needs_the_ticket_and_the_response(api, users, make_canned, ticket_of):
    tid = ticket_of()
    mine = make_canned("agent2", title="Sam's")
    assert api(users.agent).get(f"/tickets/{tid}/canned-responses/{mine}/preview"
                                ).status_code == 404
    other_ticket = ticket_of(requester=users.other)
    shared = make_canned("admin", shared=True)
    assert api(users.customer).get(f"/tickets/{other_ticket}/canned-responses/{shared}/preview"
                                   ).status_code == 403
