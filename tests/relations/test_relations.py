"""Merge, split and links through the API and the services: what moves, what is refused,
who may, and what the events, activity and audit rows say."""

from __future__ import annotations

import io

import pytest
from sqlalchemy import select

from flask_escalated.events import Actor
from flask_escalated.models import (
    Activity,
    Attachment,
    AuditLog,
    Reply,
    Ticket,
    TicketFollower,
    TicketLink,
    Webhook,
    WebhookDelivery,
)
from flask_escalated.services import (
    attachments,
    departments,
    followers,
    relations,
    replies,
    sla_admin,
    tags,
    tickets,
)
from flask_escalated.services.errors import Conflict, NotFound, PermissionDenied
from flask_escalated.services.permissions import Principal

pytestmark = pytest.mark.all_databases


def _hook(ext, *events):
    with ext.unit_of_work():
        ext.session.add(Webhook(url="https://hooks.example.test/x", secret="s" * 32,
                                events=list(events), is_active=True, failure_count=0))


def _deliveries(ext):
    ext.session.rollback()
    return [d.event for d in ext.session.execute(
        select(WebhookDelivery).order_by(WebhookDelivery.id)).scalars()]


def _rows(ext, model, *where):
    ext.session.rollback()
    return list(ext.session.execute(select(model).where(*where)).scalars())


def test_merge_carries_the_conversation_and_closes_the_source(
        app, ext, api, users, make_ticket, fresh, signal_log):
    _hook(ext, "ticket.merged")
    source_id = make_ticket(requester=users.other, subject="Jam again")
    target_id = make_ticket()
    with ext.unit_of_work():
        source = tickets.get_ticket(source_id)
        first = replies.add_reply(source, "Any news?", Actor.customer(users.other.id))
        note = replies.add_reply(source, "Checking", Actor.agent(users.agent.id), internal=True)
        attachments.add(source, [attachments.Upload("log.txt", io.BytesIO(b"x"))],
                        Actor.customer(users.other.id))
        tags.add_tags(source, ["printer"], Actor.system())
        followers.follow(source, str(users.agent2.id), Actor.system())
        source_ref = source.reference
    target_ref = fresh(Ticket, target_id).reference

    r = api(users.agent).post(f"/tickets/{source_id}/merge", {"into": target_ref})
    assert r.status_code == 200, r.json
    data = r.json["data"]
    assert data["id"] == target_id and data["merged_into"] is None
    assert "printer" in [t["slug"] for t in data["tags"]]

    moved = _rows(ext, Reply, Reply.ticket_id == target_id, Reply.merged_from_id == source_id)
    assert {first.id, note.id} <= {m.id for m in moved}
    assert any(m.body == "Flames everywhere." and not m.is_internal for m in moved)
    notes = [n.body for n in _rows(ext, Reply, Reply.ticket_id == target_id,
                                   Reply.is_internal.is_(True))]
    assert f"Ticket {source_ref} was merged into this ticket." in notes
    assert _rows(ext, Attachment, Attachment.ticket_id == source_id) == []
    assert len(_rows(ext, Attachment, Attachment.ticket_id == target_id)) == 1
    people = {f.user_id for f in _rows(ext, TicketFollower, TicketFollower.ticket_id == target_id)}
    assert {str(users.agent2.id), str(users.other.id)} <= people
    target = fresh(Ticket, target_id)
    assert target.reply_count == 2  # the carried description and the customer's reply

    shown = api(users.agent).get(f"/tickets/{source_ref}").json["data"]
    assert shown["merged_into"] == {"id": target_id, "reference": target_ref}
    assert shown["status_category"] == "closed"
    src = fresh(Ticket, source_id)
    assert src.merged_into_id == target_id and src.sla_paused_at is not None
    assert [n.body for n in _rows(ext, Reply, Reply.ticket_id == source_id)] == [
        f"This ticket was merged into {target_ref}."]
    types = {a.type for a in _rows(ext, Activity, Activity.ticket_id.in_([source_id, target_id]))}
    assert {"merged", "merge_received"} <= types
    audit = _rows(ext, AuditLog, AuditLog.action == "ticket.merged")
    assert [a.entity_id for a in audit] == [str(source_id)]
    merged = [s for s in signal_log if s.name == "ticket_merged"]
    assert len(merged) == 1 and merged[0].kwargs["target"].id == target_id
    assert "ticket.merged" in _deliveries(ext)


def test_merge_sla_is_stopped(app, ext, api, users, make_ticket, fresh):
    with ext.unit_of_work():
        sla_admin.create_policy(Actor.system(), {
            "name": "Fast", "targets": {"medium": {"first_response": 60, "resolution": 600}}})
    source_id, target_id = make_ticket(), make_ticket()
    assert fresh(Ticket, source_id).resolution_due_at is not None
    assert api(users.agent).post(f"/tickets/{source_id}/merge",
                                 {"into": target_id}).status_code == 200
    src = fresh(Ticket, source_id)
    assert src.first_response_due_at is None and src.resolution_due_at is None


def test_merge_refusals(app, ext, api, users, make_ticket, fresh):
    a, b, c = make_ticket(), make_ticket(), make_ticket()
    agent = api(users.agent)
    r = agent.post(f"/tickets/{a}/merge", {"into": a})
    assert r.status_code == 422 and r.json["error"]["fields"]["into"] == "the same ticket"
    assert agent.post(f"/tickets/{a}/merge", {"into": "ESC-99999999"}).status_code == 404
    assert agent.post(f"/tickets/{a}/merge", {"into": b, "extra": 1}).status_code == 422
    assert agent.post(f"/tickets/{a}/merge", {"into": b}).status_code == 200
    # Merged already: refused, and the answer names where it went.
    r = agent.post(f"/tickets/{a}/merge", {"into": c})
    assert r.status_code == 409 and fresh(Ticket, b).reference in r.json["error"]["message"]
    # Into a merged ticket: followed to its live ticket.
    r = agent.post(f"/tickets/{c}/merge", {"into": a})
    assert r.status_code == 200 and r.json["data"]["id"] == b
    assert fresh(Ticket, c).merged_into_id == b
    # Back into a ticket merged into me: a cycle.
    d = make_ticket()
    assert agent.post(f"/tickets/{d}/merge", {"into": b}).status_code == 200
    e = make_ticket()
    with ext.unit_of_work():  # a broken chain written behind the service's back
        ext.session.get(Ticket, b).merged_into_id = d
        ext.session.get(Ticket, e).merged_into_id = None
    with pytest.raises(Conflict):
        relations.live_ticket(fresh(Ticket, b))
    r = agent.post(f"/tickets/{e}/merge", {"into": b})
    assert r.status_code == 409 and r.json["error"]["fields"]["merged_into"] == "cycle"
    # Customers and light agents hold no ticket.merge.
    assert api(users.customer).post(f"/tickets/{e}/merge", {"into": c}).status_code == 403


def test_merging_back_into_my_own_source_is_a_cycle(app, ext, users, make_ticket, fresh):
    a, b = make_ticket(), make_ticket()
    me = Principal.build(str(users.agent.id), is_agent=True)
    with ext.unit_of_work():
        relations.merge(me, tickets.get_ticket(a), b)
    # b is where a went: merging b back into a would make a cycle.
    with ext.unit_of_work(), pytest.raises(Conflict, match="cycle"):
        relations.merge(me, tickets.get_ticket(b), a)
    assert fresh(Ticket, b).merged_into_id is None


def test_merge_department_scope(app, ext, users, make_ticket):
    with ext.unit_of_work():
        billing = departments.create_department(Actor.system(), {"name": "Billing"}).id
        sales = departments.create_department(Actor.system(), {"name": "Sales"}).id
    mine, theirs = make_ticket(department_id=billing), make_ticket(department_id=sales)
    other = make_ticket(department_id=billing)
    sees_all = Principal.build(str(users.agent2.id), is_agent=True,
                               granted=frozenset({"ticket.view"}),
                               by_department={billing: frozenset({"ticket.merge",
                                                                  "ticket.edit"})})
    billing_only = Principal.build(str(users.agent2.id), is_agent=True, granted=frozenset(),
                                   by_department={billing: frozenset({
                                       "ticket.view", "ticket.merge", "ticket.edit"})})
    with ext.unit_of_work():
        with pytest.raises(PermissionDenied):
            relations.merge(sees_all, tickets.get_ticket(mine), theirs)
        with pytest.raises(NotFound):  # a target out of sight does not exist
            relations.merge(billing_only, tickets.get_ticket(mine), theirs)
        with pytest.raises(PermissionDenied):  # links too need both departments
            relations.link(sees_all, tickets.get_ticket(mine), theirs, "related")
        assert relations.merge(billing_only, tickets.get_ticket(mine), other).id == other


def test_split_opens_a_ticket_through_the_one_door(
        app, ext, api, users, make_ticket, fresh, signal_log):
    _hook(ext, "ticket.created", "ticket.split")
    with ext.unit_of_work():
        dept = departments.create_department(Actor.system(), {"name": "Billing"}).id
        sla_admin.create_policy(Actor.system(), {
            "name": "Fast", "targets": {"high": {"first_response": 60}}})
    tid = make_ticket(department_id=dept, priority="high", tags=["vip"])
    with ext.unit_of_work():
        t = tickets.get_ticket(tid)
        one = replies.add_reply(t, "Also the scanner is broken.", Actor.customer(users.customer.id))
        two = replies.add_reply(t, "And it smokes.", Actor.customer(users.customer.id))
        note = replies.add_reply(t, "internal", Actor.agent(users.agent.id), internal=True)
        ref = t.reference
    agent = api(users.agent)
    r = agent.post(f"/tickets/{tid}/split", {"reply_ids": [two.id, one.id]})
    assert r.status_code == 201, r.json
    new = r.json["data"]
    assert new["subject"] == f"Split from {ref}: Printer on fire"
    assert new["description"] == "Also the scanner is broken.\n\nAnd it smokes."
    assert new["channel"] == "split" and new["priority"] == "high"
    assert new["department"]["id"] == dept and [t["slug"] for t in new["tags"]] == ["vip"]
    assert new["requester"]["id"] == str(users.customer.id)
    assert fresh(Ticket, new["id"]).first_response_due_at is not None  # SLA applied
    assert [x["type"] for x in new["links"]] == ["split"]
    assert new["links"][0]["direction"] == "incoming"
    assert {one.id, two.id} <= {x.id for x in _rows(ext, Reply, Reply.ticket_id == tid)}
    source_links = agent.get(f"/tickets/{tid}/links").json["data"]
    assert [(x["type"], x["ticket"]["id"]) for x in source_links] == [("split", new["id"])]
    names = [s.name for s in signal_log]
    assert "ticket_created" in names and "ticket_split" in names
    events = _deliveries(ext)
    assert "ticket.created" in events and "ticket.split" in events

    r = agent.post(f"/tickets/{tid}/split", {"reply_ids": [one.id], "subject": "Scanner"})
    assert r.status_code == 201 and r.json["data"]["subject"] == "Scanner"
    assert agent.post(f"/tickets/{tid}/split", {"reply_ids": [note.id]}).status_code == 422
    other = make_ticket()
    assert agent.post(f"/tickets/{other}/split", {"reply_ids": [one.id]}).status_code == 404
    assert agent.post(f"/tickets/{tid}/split", {"reply_ids": []}).status_code == 422
    assert api(users.customer).post(f"/tickets/{tid}/split",
                                    {"reply_ids": [one.id]}).status_code == 403


def test_links_both_ways_without_duplicates_or_self(app, ext, api, users, make_ticket):
    _hook(ext, "ticket.linked", "ticket.unlinked")
    a, b, c = make_ticket(), make_ticket(), make_ticket()
    agent = api(users.agent)
    r = agent.post(f"/tickets/{a}/links", {"ticket": b, "type": "blocks"})
    assert r.status_code == 201, r.json
    link = r.json["data"]
    assert (link["type"], link["direction"], link["ticket"]["id"]) == ("blocks", "outgoing", b)
    seen_from_b = agent.get(f"/tickets/{b}/links").json["data"]
    assert [(x["type"], x["direction"], x["ticket"]["id"]) for x in seen_from_b] == [
        ("blocked_by", "incoming", a)]
    assert agent.get(f"/tickets/{b}").json["data"]["links"][0]["id"] == link["id"]
    # No duplicate either way round, no self-link, no unknown type.
    assert agent.post(f"/tickets/{a}/links", {"ticket": b}).status_code == 409
    assert agent.post(f"/tickets/{b}/links", {"ticket": a, "type": "related"}).status_code == 409
    assert agent.post(f"/tickets/{a}/links", {"ticket": a}).status_code == 422
    assert agent.post(f"/tickets/{a}/links", {"ticket": c, "type": "cousin"}).status_code == 422
    assert agent.post(f"/tickets/{a}/links", {"ticket": c, "type": "split"}).status_code == 422
    # The family's spellings map onto the one vocabulary.
    r = agent.post(f"/tickets/{c}/links", {"ticket": a, "type": "blocked_by"})
    assert r.status_code == 201 and r.json["data"]["type"] == "blocked_by"
    stored = _rows(ext, TicketLink, TicketLink.id == r.json["data"]["id"])[0]
    assert (stored.ticket_id, stored.linked_ticket_id, stored.link_type) == (a, c, "blocks")
    assert relations.normalize_type("Blocked-By") == "blocked_by"
    assert relations.normalize_type("duplicates") == "duplicate"
    assert relations.normalize_type("problem_incident") == "parent"
    # Removed from either side; a link of another ticket is not found.
    assert agent.delete(f"/tickets/{c}/links/{link['id']}").status_code == 404
    assert agent.delete(f"/tickets/{b}/links/{link['id']}").status_code == 204
    assert agent.get(f"/tickets/{a}/links").json["data"][0]["ticket"]["id"] == c
    assert api(users.customer).post(f"/tickets/{a}/links", {"ticket": c}).status_code == 403
    types = [x.type for x in _rows(ext, Activity, Activity.ticket_id == b)]
    assert "linked" in types and "unlinked" in types
    events = _deliveries(ext)
    assert events.count("ticket.linked") == 2 and events.count("ticket.unlinked") == 1


def test_link_list_is_one_statement_and_keyset_paged(app, ext, api, users, make_ticket,
                                                     count_queries):
    hub = make_ticket()
    me = Principal.build(str(users.agent.id), is_agent=True)
    with ext.unit_of_work():
        t = tickets.get_ticket(hub)
        relations.link(me, t, make_ticket_now(ext, users), "related")
        relations.link(me, t, make_ticket_now(ext, users), "parent")

    def counted() -> int:
        ext.session.rollback()
        t = tickets.get_ticket(hub)
        with count_queries() as q:
            rows = relations.list_links(t, me)
        return q.count, len(rows)

    few = counted()
    with ext.unit_of_work():
        t = tickets.get_ticket(hub)
        for _ in range(5):
            relations.link(me, t, make_ticket_now(ext, users), "child")
    many = counted()
    assert few == (1, 2) and many == (1, 7)
    agent = api(users.agent)
    page = agent.get(f"/tickets/{hub}/links?limit=3").json
    assert len(page["data"]) == 3 and page["next_cursor"]
    rest = agent.get(f"/tickets/{hub}/links?limit=10&cursor={page['next_cursor']}").json
    assert len(rest["data"]) == 4 and rest["next_cursor"] is None
    assert {x["id"] for x in page["data"]}.isdisjoint({x["id"] for x in rest["data"]})


def make_ticket_now(ext, users) -> int:
    """A ticket inside the caller's unit of work."""
    return tickets.create_ticket(tickets.NewTicket(
        subject="Linked", description="d", requester_user_id=str(users.customer.id)),
        Actor.system()).id


def test_replies_to_a_merged_ticket_land_on_the_live_one(app, ext, api, users, make_ticket):
    source, target = make_ticket(), make_ticket()
    assert api(users.agent).post(f"/tickets/{source}/merge", {"into": target}).status_code == 200
    r = api(users.customer).post(f"/tickets/{source}/replies", {"body": "Still broken"})
    assert r.status_code == 201
    assert [x.body for x in _rows(ext, Reply, Reply.id == r.json["data"]["id"],
                                  Reply.ticket_id == target)] == ["Still broken"]
    # A customer who cannot see the live ticket is refused on the closed one.
    other_source = make_ticket(requester=users.other)
    assert api(users.agent).post(f"/tickets/{other_source}/merge",
                                 {"into": target}).status_code == 200
    r = api(users.other).post(f"/tickets/{other_source}/replies", {"body": "Hello?"})
    assert r.status_code == 409
    assert api(users.other).get(f"/tickets/{other_source}").json["data"]["merged_into"] is None
    assert api(users.customer).get(f"/tickets/{source}").json["data"]["merged_into"]["id"] \
        == target


def test_portal_and_guest_pages_follow_the_merge(app, ext, api, users, client_as, make_ticket):
    from flask_escalated.services import guest_access

    source, target = make_ticket(), make_ticket()
    with ext.unit_of_work():
        guest_src = tickets.create_ticket(tickets.NewTicket(
            subject="Guest", description="d", requester_email="dana@example.org"),
            Actor.system())
        guest_dst = tickets.create_ticket(tickets.NewTicket(
            subject="Guest 2", description="d", requester_email="dana@example.org"),
            Actor.system())
        token = guest_access.issue_token(guest_src)
        ids = guest_src.id, guest_dst.id
    agent = api(users.agent)
    assert agent.post(f"/tickets/{source}/merge", {"into": target}).status_code == 200
    assert agent.post(f"/tickets/{ids[0]}/merge", {"into": ids[1]}).status_code == 200
    target_ref = agent.get(f"/tickets/{target}").json["data"]["reference"]
    r = client_as(users.customer).get(f"/support/tickets/{source}")
    assert r.status_code in (302, 303) and r.headers["Location"].endswith(
        f"/support/tickets/{target_ref}")
    page = app.test_client().get(f"/support/guest/{token}").get_data(as_text=True)
    assert "Guest 2" in page
