"""Skill-based routing, capacity and availability in every automatic assignment, and the
tickets left unrouted when nobody fits."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from flask_escalated.clock import now
from flask_escalated.events import Actor
from flask_escalated.models import AgentProfile, RuleLog, UnroutedTicket
from flask_escalated.services import (
    agents,
    assignment,
    capacity,
    departments,
    queries,
    routing,
    rules,
    skills,
    tags,
    tickets,
)
from flask_escalated.services.errors import Conflict, ValidationError
from flask_escalated.services.permissions import Principal

pytestmark = pytest.mark.all_databases
SYSTEM = Actor.system()


def set_skills(ext, user_id, pairs):
    with ext.unit_of_work():
        skills.set_agent_skills(SYSTEM, user_id, [{"skill_id": s.id, "proficiency": p}
                                                  for s, p in pairs])


def set_cap(ext, user_id, limit, channel="default"):
    with ext.unit_of_work():
        capacity.set_capacity(SYSTEM, agents.get_agent(user_id), channel, limit)


def set_away(ext, user_id, status="away"):
    with ext.unit_of_work():
        capacity.set_availability(SYSTEM, agents.get_agent(user_id), status)


def reason(ext, ticket):
    row = ext.session.get(UnroutedTicket, ticket.id)
    return row.reason if row is not None else None


def test_skills_order_proficiency_then_load_then_user_id(ext, crew, strategy, new, skill):
    """Required = skills from the tags and the department; candidates hold all of them;
    highest proficiency sum first, then fewest open tickets, then user id."""
    billing = skill("Billing")
    german = skill("German")
    with ext.unit_of_work():
        tags.ensure_tags(["invoice"])
        skills.update(SYSTEM, billing.id, {"tag_ids": [t.id for t in tags.ensure_tags(
            ["invoice"])]})
        skills.update(SYSTEM, german.id, {"department_ids": [crew.dept.id]})
    set_skills(ext, crew.ann, [(billing, 2), (german, 2)])   # sum 4
    set_skills(ext, crew.bob, [(billing, 5), (german, 4)])   # sum 9
    set_skills(ext, crew.cat, [(billing, 5)])                # lacks German: never a candidate
    strategy("skills")
    t = new(tags=["invoice"])
    assert skills.required_for(t) == {billing.id, german.id}
    ranked, why = routing.rank(t, "skills", crew.dept)
    assert (ranked, why) == ([crew.bob, crew.ann], None)
    assert t.assignee_id == crew.bob
    # Same sums: the load decides, then the user id.
    set_skills(ext, crew.ann, [(billing, 5), (german, 4)])
    assert new(tags=["invoice"]).assignee_id == crew.ann      # bob has 1 open, ann 0
    assert new(tags=["invoice"]).assignee_id == crew.ann      # 1 each: lower user id


def test_skills_nobody_fits_stays_unrouted_and_visible(ext, users, crew, strategy, new, skill):
    strategy("skills")
    t = new()
    assert t.assignee_id is None and reason(ext, t) == routing.NO_SKILLS
    rare = skill("Klingon", department_ids=[crew.dept.id])
    t2 = new()
    assert t2.assignee_id is None and reason(ext, t2) == routing.NO_SKILLED_AGENT
    assert skills.required_for(t2) == {rare.id}
    admin = Principal.build(str(users.admin.id), is_admin=True)
    rows, _ = queries.list_tickets(admin, queries.TicketFilter(assignee="unrouted"), limit=10)
    assert {r.id for r in rows} == {t.id, t2.id}
    assert routing.unrouted_count() == 2
    assert routing.reasons_of([t.id])[t.id] == routing.REASONS[routing.NO_SKILLS]
    # Assigning by hand clears the mark; a closed one no longer counts.
    with ext.unit_of_work():
        assignment.assign(t, crew.ann, Actor.agent(crew.ann))
    assert reason(ext, t) is None and routing.unrouted_count() == 1
    with ext.unit_of_work():
        tickets.change_status(t2, "closed", SYSTEM, auto=True)
    assert routing.unrouted_count() == 0


@pytest.mark.parametrize("name", ["round_robin", "least_loaded", "skills"])
def test_every_strategy_respects_capacity_and_availability(ext, crew, strategy, new, skill,
                                                           name):
    topic = skill("Topic", department_ids=[crew.dept.id])
    for uid in crew.ids:
        set_skills(ext, uid, [(topic, 3)])
    strategy(name)
    set_cap(ext, crew.ann, 1)
    set_cap(ext, crew.bob, 2)
    set_away(ext, crew.cat)
    got = [new().assignee_id for _ in range(4)]
    assert sorted(a for a in got if a) == [crew.ann, crew.bob, crew.bob]
    last = new()
    assert got[3] is None and last.assignee_id is None
    assert reason(ext, last) == capacity.AT_CAPACITY
    assert capacity.open_load(crew.ids) == {crew.ann: 1, crew.bob: 2, crew.cat: 0}
    # Everyone away: a different reason. Back online with room: routed again.
    set_away(ext, crew.ann)
    set_away(ext, crew.bob)
    assert reason(ext, new()) == capacity.ALL_AWAY
    set_away(ext, crew.cat, "online")
    assert new().assignee_id == crew.cat


def test_load_counts_live_open_tickets_only(ext, crew, strategy, new):
    strategy("least_loaded")
    set_cap(ext, crew.ann, 1)
    set_away(ext, crew.bob)
    set_away(ext, crew.cat)
    first = new()
    assert first.assignee_id == crew.ann
    assert new().assignee_id is None
    with ext.unit_of_work():  # closing frees the seat: nothing to decrement by hand
        tickets.change_status(first, "closed", SYSTEM, auto=True)
    assert new().assignee_id == crew.ann


def test_channel_capacity_counts_that_channel(ext, crew, strategy, new):
    strategy("least_loaded")
    set_away(ext, crew.bob)
    set_away(ext, crew.cat)
    set_cap(ext, crew.ann, 1, channel="email")
    assert new(channel="email").assignee_id == crew.ann
    assert new(channel="email").assignee_id is None
    assert new(channel="web").assignee_id == crew.ann   # the web has no limit of its own
    set_cap(ext, crew.ann, 2)                          # default: all channels together
    assert new(channel="web").assignee_id is None
    set_cap(ext, crew.ann, None)                       # removed
    assert new(channel="web").assignee_id == crew.ann
    assert capacity.capacities_of([crew.ann])[crew.ann] == {"email": 1}


def test_legacy_max_open_tickets_still_limits(ext, crew, strategy, new):
    strategy("round_robin")
    with ext.unit_of_work():
        agents.update_agent(SYSTEM, crew.ann, {"max_open_tickets": 1})
    got = [new().assignee_id for _ in range(5)]
    assert got.count(crew.ann) == 1 and None not in got


def test_rule_assign_agent_respects_capacity(ext, users, crew, new):
    set_cap(ext, crew.ann, 1)
    action = {"type": "assign_agent", "value": crew.ann}

    class Rule:
        name, actions, id = "To Ann", [action], 1

    t1, t2 = new(), new()
    with ext.unit_of_work():
        rules.apply_action(action, t1, Rule)
    assert t1.assignee_id == crew.ann
    with pytest.raises(Conflict), ext.unit_of_work():
        rules.apply_action(action, t2, Rule)
    assert t2.assignee_id is None
    # A rule run logs the refusal, leaves the ticket unassigned and marks it unrouted.
    with ext.unit_of_work():
        rules.run_logged("automation", Rule, t2, now())
    log = ext.session.execute(select(RuleLog).where(RuleLog.ticket_id == t2.id)).scalar_one()
    assert log.actions == [] and "capacity" in (log.error or "")
    assert t2.assignee_id is None and reason(ext, t2) == routing.AGENT_AT_CAPACITY
    set_away(ext, crew.ann)
    set_cap(ext, crew.ann, None)
    with ext.unit_of_work():
        rules.run_logged("automation", Rule, t2, now())
    assert t2.assignee_id is None and reason(ext, t2) == routing.AGENT_AWAY
    # A macro an agent runs by hand is their decision: no limit applies.
    with ext.unit_of_work():
        rules.apply_action(action, t2, Rule, Actor.agent(users.agent.id))
    assert t2.assignee_id == crew.ann and reason(ext, t2) is None


def test_assign_department_action_routes_with_capacity(ext, crew, strategy, users):
    strategy("least_loaded")
    for uid in crew.ids:
        set_cap(ext, uid, 0)
    with ext.unit_of_work():
        t = tickets.create_ticket(tickets.NewTicket(
            subject="x", description="y", requester_user_id=str(users.customer.id)), SYSTEM)

    class Rule:
        name, id = "Move", 1

    with ext.unit_of_work():
        rules.apply_action({"type": "assign_department", "value": crew.dept.id}, t, Rule)
    assert t.assignee_id is None and reason(ext, t) == capacity.AT_CAPACITY


def test_refusals(ext, crew, skill):
    s = skill("Billing")
    with pytest.raises(Conflict), ext.unit_of_work():
        skills.create(SYSTEM, {"name": "billing"})
    for bad in ({"name": ""}, {"name": "x", "tag_ids": [999999]},
                {"name": "x", "department_ids": ["a"]}, {"name": "!!!"}):
        with pytest.raises(ValidationError), ext.unit_of_work():
            skills.create(SYSTEM, bad)
    for items in ([{"skill_id": s.id, "proficiency": 6}], [{"skill_id": 999999}],
                  [{"skill_id": s.id}, {"skill_id": s.id}], "x"):
        with pytest.raises(ValidationError), ext.unit_of_work():
            skills.set_agent_skills(SYSTEM, crew.ann, items)
    profile = agents.get_agent(crew.ann)
    for channel, limit in (("fax", 1), ("default", -1), ("default", True)):
        with pytest.raises(ValidationError), ext.unit_of_work():
            capacity.set_capacity(SYSTEM, profile, channel, limit)
    with pytest.raises(ValidationError), ext.unit_of_work():
        capacity.set_availability(SYSTEM, profile, "busy")
    with pytest.raises(ValidationError), ext.unit_of_work():
        departments.update_department(SYSTEM, crew.dept.id, {"assignment_strategy": "magic"})


def test_deleting_a_skill_takes_its_links(ext, crew, skill):
    s = skill("Billing", department_ids=[crew.dept.id])
    set_skills(ext, crew.ann, [(s, 4)])
    assert skills.serialize(s)["agent_count"] == 1
    with ext.unit_of_work():
        skills.remove(SYSTEM, s.id)
    assert skills.agent_skills([crew.ann])[crew.ann] == []
    profile = ext.session.execute(select(AgentProfile).where(
        AgentProfile.user_id == crew.ann)).scalar_one()
    assert profile.availability == "online"
