"""``services.bulk`` on its own: one transaction, a SAVEPOINT per ticket, events only for the
tickets that changed."""

from __future__ import annotations

import pytest

from flask_escalated.events import Actor
from flask_escalated.services import bulk, tickets
from flask_escalated.services.errors import ValidationError
from flask_escalated.services.permissions import Principal

pytestmark = pytest.mark.all_databases


def agent(users, role="agent"):
    return Principal.build(str(users.agent.id), is_agent=True, role=role)


def test_partial_failure_keeps_the_rest_and_drops_the_failed_events(
        users, make_ticket, ext, fresh, signal_log):
    a, b = make_ticket(), make_ticket()
    with ext.unit_of_work():
        tickets.change_status(tickets.get_ticket(b.id), "closed", Actor.system())
    signal_log.clear()
    with ext.unit_of_work():
        result = bulk.apply(agent(users), [a.id, b.id], "status", "waiting_on_agent")
    assert result.done == [a.id]
    assert list(result.failed) == [b.id] and "cannot move" in result.failed[b.id]
    assert fresh(a.id).status == "waiting_on_agent" and fresh(b.id).status == "closed"
    changed = [r.kwargs["ticket"].id for r in signal_log if r.name == "ticket_status_changed"]
    assert changed == [a.id]


def test_assign_me_none_and_bad_values(users, make_ticket, ext, fresh):
    a = make_ticket()
    with ext.unit_of_work():
        bulk.apply(agent(users), [a.id], "assign", "me")
    assert fresh(a.id).assignee_id == str(users.agent.id)
    with ext.unit_of_work():
        bulk.apply(agent(users), [a.id], "assign", "none")
    assert fresh(a.id).assignee_id is None
    with ext.unit_of_work():
        result = bulk.apply(agent(users), [a.id], "assign", str(users.customer.id))
    assert "not an agent" in result.failed[a.id]
    for action, value in (("explode", "x"), ("status", ""), ("status", "nope"),
                          ("add_tag", ""), ("assign", "")):
        with pytest.raises(ValidationError):
            bulk.apply(agent(users), [a.id], action, value)
    with pytest.raises(ValidationError):
        bulk.parse_ids(["1", "two"])
    assert bulk.parse_ids(["3", "1", "3"]) == [3, 1]


def test_permissions_are_checked_per_ticket(users, make_ticket, ext, fresh):
    a = make_ticket()
    light = Principal.build(str(users.light.id), is_agent=True, role="light_agent")
    customer = Principal.build(str(users.other.id))
    with ext.unit_of_work():
        r1 = bulk.apply(light, [a.id], "priority", "urgent")
        r2 = bulk.apply(customer, [a.id], "priority", "urgent")
    assert "ticket.edit" in r1.failed[a.id]
    assert r2.failed[a.id] == "No such ticket."
    assert fresh(a.id).priority == "medium"


def test_merge_several_tickets_into_one(users, make_ticket, ext, fresh, signal_log):
    """Merge one or more sources into a target in one call: each through the merge service in
    its own savepoint, the target itself reported and left alone, a refusal keeping the rest."""
    target, a, b, merged = make_ticket(), make_ticket(), make_ticket(), make_ticket()
    with ext.unit_of_work():
        tickets.get_ticket(merged.id).merged_into_id = target.id  # already merged elsewhere
    reference = fresh(target.id).reference
    with ext.unit_of_work():
        result = bulk.apply(agent(users), [a.id, target.id, b.id, merged.id], "merge", reference)
    assert result.done == [a.id, b.id]
    assert "itself" in result.failed[target.id]
    assert "already merged" in result.failed[merged.id]
    assert fresh(a.id).merged_into_id == target.id and fresh(b.id).merged_into_id == target.id
    assert fresh(a.id).status_category == "closed"
    assert fresh(target.id).merged_into_id is None
    sources = [r.kwargs["ticket"].id for r in signal_log if r.name == "ticket_merged"]
    assert sources == [a.id, b.id]
    with pytest.raises(ValidationError):
        bulk.apply(agent(users), [a.id], "merge", " ")
    light = Principal.build(str(users.light.id), is_agent=True, role="light_agent")
    c = make_ticket()
    with ext.unit_of_work():
        refused = bulk.apply(light, [c.id], "merge", reference)
    assert "ticket.merge" in refused.failed[c.id]
    assert fresh(c.id).merged_into_id is None
