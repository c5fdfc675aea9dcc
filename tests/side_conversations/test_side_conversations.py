"""Side conversations through the API and the agent page: the happy path, each refusal, who
may read and write (department scope), the records a change leaves, no N+1 in the list."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from flask_escalated.events import Actor
from flask_escalated.models import Activity, AuditLog, SideConversation, SideConversationReply
from flask_escalated.services import departments, roles, tickets

pytestmark = pytest.mark.all_databases

BASE = "/tickets/{}/side-conversations"


def _start(api, user, tid, **body):
    return api(user).post(BASE.format(tid), {"subject": "Part in stock?",
                                             "body": "Do you have the fuser?", **body})


def test_start_reply_close_reopen(api, users, ticket_of, ext, signal_log):
    tid = ticket_of()
    r = _start(api, users.agent, tid, participants=[str(users.agent2.id)])
    assert r.status_code == 201, r.json
    sc = r.json["data"]
    assert sc["status"] == "open" and sc["subject"] == "Part in stock?"
    assert [p["id"] for p in sc["participants"]] == [str(users.agent.id), str(users.agent2.id)]
    assert sc["created_by"]["id"] == str(users.agent.id) and sc["to_email"] is None
    assert [x["body"] for x in sc["replies"]] == ["Do you have the fuser?"]
    url = BASE.format(tid) + f"/{sc['id']}"

    r = api(users.agent2).post(url + "/replies", {"body": "Checking the shelf."})
    assert r.status_code == 201, r.json
    assert [x["body"] for x in r.json["data"]["replies"]][-1] == "Checking the shelf."
    assert r.json["data"]["replies"][-1]["author"]["id"] == str(users.agent2.id)

    r = api(users.light).post(url + "/replies", {"body": "Me too."})
    assert r.status_code == 201
    assert str(users.light.id) in [p["id"] for p in r.json["data"]["participants"]]

    r = api(users.agent).post(url + "/close", {})
    assert r.status_code == 200 and r.json["data"]["status"] == "closed"
    assert r.json["data"]["closed_at"] is not None
    r = api(users.agent).post(url + "/replies", {"body": "late"})
    assert r.status_code == 409 and r.json["error"]["fields"] == {"side_conversation": "closed"}
    assert api(users.agent).post(url + "/close", {}).status_code == 409
    r = api(users.agent).post(url + "/reopen", {})
    assert r.status_code == 200 and r.json["data"]["status"] == "open"
    assert r.json["data"]["closed_at"] is None

    shown = api(users.agent).get(url)
    assert shown.status_code == 200 and len(shown.json["data"]["replies"]) == 3
    listed = api(users.agent).get(BASE.format(tid))
    assert [c["id"] for c in listed.json["data"]] == [sc["id"]]

    ext.session.rollback()
    kinds = list(ext.session.execute(select(Activity.type).where(
        Activity.ticket_id == tid, Activity.type.like("side_conversation%"))
        .order_by(Activity.id)).scalars())
    assert kinds == ["side_conversation_started", "side_conversation_replied",
                     "side_conversation_replied", "side_conversation_closed",
                     "side_conversation_reopened"]
    audited = list(ext.session.execute(select(AuditLog.action).where(
        AuditLog.entity_type == "side_conversation").order_by(AuditLog.id)).scalars())
    assert audited == ["side_conversation.created", "side_conversation.closed",
                       "side_conversation.reopened"]
    names = [s.name for s in signal_log if s.name.startswith("side_conversation")]
    assert names == ["side_conversation_created", "side_conversation_replied",
                     "side_conversation_replied", "side_conversation_closed",
                     "side_conversation_reopened"]


@pytest.mark.parametrize(("body", "fields"), [
    ({"subject": "", "body": "b"}, {"subject"}),
    ({"subject": "s", "body": "   "}, {"body"}),
    ({"subject": "s" * 501, "body": "b"}, {"subject"}),
    ({"subject": "s", "body": "b", "participants": ["nobody-999"]}, {"participants"}),
    ({"subject": "s", "body": "b", "to_email": "not an address"}, {"to_email"}),
    ({"subject": "s", "body": "b", "to_email": "vendor@example.org"}, {"to_email"}),
    ({"subject": "s", "body": "b", "channel": "email"}, {"channel"}),
])
def test_refusals_store_nothing(api, users, ticket_of, ext, body, fields):
    """(Mail is off in this app, so an outside address is refused: nothing could carry it.)"""
    tid = ticket_of()
    r = api(users.agent).post(BASE.format(tid), body)
    assert r.status_code == 422, r.json
    assert set(r.json["error"]["fields"]) == fields
    ext.session.rollback()
    assert ext.session.execute(select(SideConversation)).first() is None


def test_an_outside_address_without_mail_says_so(api, users, ticket_of):
    r = _start(api, users.agent, ticket_of(), to_email="vendor@example.com")
    assert r.status_code == 422
    assert r.json["error"]["fields"] == {"to_email": "outgoing mail is not configured"}
    assert r.json["error"]["message"].startswith("Outgoing mail is not configured")


def test_a_participant_must_be_an_agent(api, users, ticket_of):
    tid = ticket_of()
    r = _start(api, users.agent, tid, participants=[str(users.customer.id)])
    assert r.status_code == 422 and r.json["error"]["fields"] == {"participants": "not an agent"}


def test_another_tickets_conversation_is_not_found(api, users, ticket_of):
    one, two = ticket_of(), ticket_of()
    sc = _start(api, users.agent, one).json["data"]["id"]
    for call in (lambda: api(users.agent).get(BASE.format(two) + f"/{sc}"),
                 lambda: api(users.agent).post(BASE.format(two) + f"/{sc}/replies",
                                               {"body": "x"}),
                 lambda: api(users.agent).post(BASE.format(two) + f"/{sc}/close", {})):
        assert call().status_code == 404
    assert api(users.agent).get(BASE.format(one) + "/99999999").status_code == 404
    assert api(users.agent).get(BASE.format(one) + "/nope").status_code == 404


def test_department_scope(api, users, ticket_of, ext):
    """An agent whose only grant is in one department reads and writes side conversations
    there, and gets 404 for a ticket elsewhere."""
    with ext.unit_of_work():
        ours = departments.create_department(Actor.system(), {"name": "Ours"}).id
        theirs = departments.create_department(Actor.system(), {"name": "Theirs"}).id
        roles.create_role(Actor.system(), {"slug": "kb-only", "name": "KB",
                                           "permissions": ["kb.view"]})
        roles.set_agent_roles(Actor.system(), str(users.agent2.id), role="kb-only",
                              grants=[{"role": "agent", "department_id": ours}])
    mine, other = ticket_of(), ticket_of()
    with ext.unit_of_work():
        tickets.change_department(tickets.get_ticket(mine), ours, Actor.system())
        tickets.change_department(tickets.get_ticket(other), theirs, Actor.system())
    sc_mine = _start(api, users.agent, mine).json["data"]["id"]
    sc_other = _start(api, users.agent, other).json["data"]["id"]
    scoped = api(users.agent2)
    assert scoped.get(BASE.format(mine)).status_code == 200
    assert scoped.post(BASE.format(mine) + f"/{sc_mine}/replies", {"body": "ok"}
                       ).status_code == 201
    assert _start(api, users.agent2, mine).status_code == 201
    assert scoped.get(BASE.format(other)).status_code == 404
    assert scoped.get(BASE.format(other) + f"/{sc_other}").status_code == 404
    assert scoped.post(BASE.format(other) + f"/{sc_other}/replies", {"body": "no"}
                       ).status_code == 404
    assert _start(api, users.agent2, other).status_code == 404
    ext.session.rollback()
    bodies = set(ext.session.execute(select(SideConversationReply.body)).scalars())
    assert "no" not in bodies and "ok" in bodies


def test_a_reader_without_the_note_permission_cannot_write(api, users, ticket_of, ext):
    with ext.unit_of_work():
        roles.create_role(Actor.system(), {"slug": "reader", "name": "Reader",
                                           "permissions": ["ticket.view"]})
        roles.set_agent_roles(Actor.system(), str(users.agent2.id), role="reader")
    tid = ticket_of()
    sc = _start(api, users.agent, tid).json["data"]["id"]
    reader = api(users.agent2)
    assert reader.get(BASE.format(tid) + f"/{sc}").status_code == 200
    assert reader.post(BASE.format(tid) + f"/{sc}/replies", {"body": "x"}).status_code == 403
    assert reader.post(BASE.format(tid) + f"/{sc}/close", {}).status_code == 403
    assert _start(api, users.agent2, tid).status_code == 403


def test_the_list_is_paged_and_costs_the_same_for_more_rows(api, users, ticket_of,
                                                             count_queries):
    tid = ticket_of()
    agent = api(users.agent)
    _start(api, users.agent, tid)
    agent.get(BASE.format(tid))  # warm up
    with count_queries() as one:
        agent.get(BASE.format(tid))
    for i in range(4):
        sc = _start(api, users.agent, tid, participants=[str(users.agent2.id)]).json["data"]
        agent.post(BASE.format(tid) + f"/{sc['id']}/replies", {"body": f"r{i}"})
    with count_queries() as five:
        agent.get(BASE.format(tid))
    assert five.count == one.count
    first = agent.get(BASE.format(tid) + "?limit=2").json
    assert len(first["data"]) == 2 and first["next_cursor"]
    rest = agent.get(BASE.format(tid) + f"?limit=10&cursor={first['next_cursor']}").json
    assert len(rest["data"]) == 3 and rest["next_cursor"] is None
    assert api(users.agent).get(BASE.format(tid) + "?cursor=forged").status_code == 422


def test_the_agent_page_panel(client_as, users, ticket_of, api, ext):
    tid = ticket_of()
    reference = api(users.agent).get(f"/tickets/{tid}").json["data"]["reference"]
    client = client_as(users.agent)
    page = client.get(f"/support/agent/tickets/{reference}").get_data(as_text=True)
    assert "Start a side conversation" in page and "No side conversations." in page
    token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    url = f"/support/agent/tickets/{reference}/side-conversations"
    r = client.post(url, data={"csrf_token": token, "subject": "Ask billing",
                               "body": "Was this <b>refunded</b>?",
                               "participants": str(users.agent2.id)})
    assert r.status_code == 303 and r.headers["Location"].endswith("#side-conversations")
    sc = api(users.agent).get(BASE.format(tid)).json["data"][0]
    assert [p["id"] for p in sc["participants"]] == [str(users.agent.id), str(users.agent2.id)]
    page = client.get(f"/support/agent/tickets/{reference}").get_data(as_text=True)
    # The text is escaped as every message is, never markup.
    assert "Ask billing" in page and "Was this &lt;b&gt;refunded&lt;/b&gt;?" in page
    assert "<b>refunded</b>" not in page
    r = client.post(f"{url}/{sc['id']}/reply", data={"csrf_token": token, "body": "Yes."})
    assert r.status_code == 303
    r = client.post(f"{url}/{sc['id']}/close", data={"csrf_token": token})
    assert r.status_code == 303
    page = client.get(f"/support/agent/tickets/{reference}").get_data(as_text=True)
    assert "Reopen side conversation" in page and "Yes." in page
    assert "started the side conversation “Ask billing”" in page  # the timeline
    assert "closed a side conversation" in page
    # A refused form: the page again, 422, the subject named and the text kept.
    r = client.post(url, data={"csrf_token": token, "subject": "", "body": "kept-text-xyz"})
    assert r.status_code == 422 and "kept-text-xyz" in r.get_data(as_text=True)
    # A closed conversation takes no reply: 409 with the page.
    r = client.post(f"{url}/{sc['id']}/reply", data={"csrf_token": token, "body": "late-one"})
    assert r.status_code == 409 and "late-one" in r.get_data(as_text=True)
    # The customer's portal page has none of it.
    portal = client_as(users.customer).get(f"/support/tickets/{reference}")
    assert portal.status_code == 200
    text = portal.get_data(as_text=True)
    assert "Ask billing" not in text and "Yes." not in text and "side-conversations" not in text


def test_deleting_the_ticket_deletes_its_side_conversations(api, users, ticket_of, ext):
    """With their replies, on every database (SQLite's foreign keys are not enforced by the
    host's engine: the deletion service applies the cascade itself, a level deeper)."""
    keep, gone = ticket_of(), ticket_of()
    for tid in (keep, gone):
        sc = _start(api, users.agent, tid).json["data"]["id"]
        api(users.agent).post(BASE.format(tid) + f"/{sc}/replies", {"body": f"reply {tid}"})
    assert api(users.admin).delete(f"/tickets/{gone}").status_code == 204
    ext.session.rollback()
    left = {c.ticket_id for c in ext.session.execute(select(SideConversation)).scalars()}
    bodies = set(ext.session.execute(select(SideConversationReply.body)).scalars())
    assert left == {keep}
    assert bodies == {"Do you have the fuser?", f"reply {keep}"}
