"""The facts the agents report groups by, stored on the rows it counts (migration 0015): the
department on timeline rows, replies and ratings, and the assignee on ``assigned`` rows. The
services write them when the event happens; a later department move leaves them alone; the
migration fills them in for existing rows."""

from __future__ import annotations

from datetime import date, datetime, timezone

import pytest
import sqlalchemy as sa
from sqlalchemy import select

from flask_escalated.events import Actor
from flask_escalated.models import Activity, Reply, SatisfactionRating, metadata
from flask_escalated.services import (
    assignment,
    csat,
    departments,
    replies,
    reports,
    session,
    tickets,
)
from tests.hosts import intid

from .conftest import at

pytestmark = pytest.mark.all_databases  # new columns, the report's SQL and the backfill

MARCH = dict(first=date(2026, 3, 2), last=date(2026, 3, 4))


def agents(**params) -> dict[str, dict]:
    rows = reports.run("agents", reports.Params(**{**MARCH, **params})).data["agents"]
    return {r["agent_id"]: r for r in rows}


@pytest.fixture
def moved(app, ext, users, clock):
    """One ticket in Hardware: assigned to agent, answered, rated; then moved to Software
    and assigned to agent2, who answers there."""
    system, agent = Actor.system(), Actor.agent(str(users.agent.id))
    agent2 = Actor.agent(str(users.agent2.id))
    clock.current = at(2, 8)
    with ext.unit_of_work():
        hardware = departments.create_department(system, {"name": "Hardware"}).id
        software = departments.create_department(system, {"name": "Software"}).id
        ticket = tickets.create_ticket(tickets.NewTicket(
            requester_user_id=str(users.customer.id), subject="Printer", description="On fire",
            department_id=hardware), Actor.customer(str(users.customer.id)))
        ident = ticket.id
    for when, step in (
            (at(2, 9), lambda t: assignment.assign(t, str(users.agent.id), system)),
            (at(2, 10), lambda t: replies.add_reply(t, "On it", agent)),
            (at(2, 11), lambda t: tickets.change_status(t, "resolved", agent)),
            (at(2, 12), lambda t: csat.submit_for_ticket(t, 5, "fine")),
            (at(3, 9), lambda t: tickets.change_department(t, software, agent)),
            (at(3, 10), lambda t: assignment.assign(t, str(users.agent2.id), system)),
            (at(3, 11), lambda t: replies.add_reply(t, "Here too", agent2))):
        clock.current = when
        with ext.unit_of_work():
            step(tickets.get_ticket(str(ident)))
    return ident, hardware, software


def test_services_stamp_the_department_and_assignee_at_the_event(moved, users):
    ident, hardware, software = moved
    db = session()
    timeline = db.execute(select(Activity.type, Activity.department_id, Activity.assignee_id)
                          .where(Activity.ticket_id == ident).order_by(Activity.id)).all()
    assigned = [(d, a) for kind, d, a in timeline if kind == "assigned"]
    assert assigned == [(hardware, str(users.agent.id)), (software, str(users.agent2.id))]
    assert all(a is None for kind, _, a in timeline if kind != "assigned")
    assert [d for kind, d, _ in timeline if kind == "created"] == [hardware]
    assert db.execute(select(Reply.department_id).where(Reply.ticket_id == ident)
                      .order_by(Reply.id)).scalars().all() == [hardware, software]
    assert db.execute(select(SatisfactionRating.department_id)
                      .where(SatisfactionRating.ticket_id == ident)).scalar_one() == hardware


def test_the_report_counts_each_event_in_its_department_at_the_time(moved, users):
    _, hardware, software = moved
    agent, agent2 = str(users.agent.id), str(users.agent2.id)
    in_hardware = agents(department_id=hardware)
    assert (in_hardware[agent]["assigned"], in_hardware[agent]["replies"]) == (1, 1)
    assert (in_hardware[agent]["csat_average"], in_hardware[agent]["csat_count"]) == (5.0, 1)
    assert agent2 not in in_hardware
    in_software = agents(department_id=software)
    assert (in_software[agent2]["assigned"], in_software[agent2]["replies"]) == (1, 1)
    assert in_software.get(agent, {}).get("assigned", 0) == 0
    everywhere = agents()
    assert (everywhere[agent]["assigned"], everywhere[agent2]["assigned"]) == (1, 1)


def test_a_department_filter_adds_no_statement(moved, app, ext, count_queries):
    _, hardware, _ = moved

    def count(**params) -> int:
        ext.session.expire_all()
        with app.app_context(), count_queries() as q:
            agents(**params)
        return q.count

    assert count(department_id=hardware) == count() <= 8


# ---------------------------------------------------------------------------- the backfill
def test_migration_backfills_the_facts(backend, test_databases, tmp_path):
    """Rows written before 0015 get their ticket's department, and ``assigned`` rows the
    assignee their properties name."""
    url = test_databases.fresh(backend, "facts")
    app = intid.create_app({"SQLALCHEMY_DATABASE_URI": url,
                            "ESCALATED_ATTACHMENT_STORAGE": str(tmp_path)})
    runner = app.test_cli_runner()
    result = runner.invoke(args=["escalated", "db", "upgrade", "0014_custom_fields"])
    assert result.exit_code == 0, result.output
    t = metadata.tables
    now = datetime(2026, 3, 1, tzinfo=timezone.utc)
    engine = sa.create_engine(url)
    with engine.begin() as conn:
        conn.execute(t["escalated_departments"].insert(), [
            {"id": 7, "name": "Seven", "slug": "seven", "is_active": True,
             "assignment_strategy": "manual", "created_at": now, "updated_at": now}])
        conn.execute(t["escalated_tickets"].insert(), [
            {"id": i, "subject": "s", "description": "d", "status": "open",
             "status_category": "open", "priority": "medium", "priority_rank": 2,
             "department_id": dept, "created_at": now, "updated_at": now}
            for i, dept in ((1, 7), (2, None))])
        conn.execute(sa.table("escalated_activities", *(sa.column(c) for c in (
            "id", "ticket_id", "type", "actor_type", "properties", "created_at"))).insert(), [
            {"id": 1, "ticket_id": 1, "type": "assigned", "actor_type": "system",
             "properties": '{"assignee_id": "42", "previous": null}', "created_at": now},
            {"id": 2, "ticket_id": 1, "type": "tag_added", "actor_type": "system",
             "properties": '{"tag": "x", "assignee_id": "9"}', "created_at": now},
            {"id": 3, "ticket_id": 2, "type": "assigned", "actor_type": "system",
             "properties": '{"assignee_id": "43"}', "created_at": now}])
        conn.execute(t["escalated_replies"].insert(), [
            {"id": i, "ticket_id": i, "author_type": "agent", "body": "b", "is_internal": False,
             "is_pinned": False, "channel": "web", "created_at": now, "updated_at": now}
            for i in (1, 2)])
        conn.execute(sa.table("escalated_satisfaction_ratings", sa.column("ticket_id"),
                              sa.column("created_at")).insert(),
                     [{"ticket_id": 1, "created_at": now}])
    result = runner.invoke(args=["escalated", "db", "upgrade"])
    assert result.exit_code == 0, result.output
    with engine.connect() as conn:
        acts = conn.execute(sa.text("SELECT id, department_id, assignee_id "
                                    "FROM escalated_activities ORDER BY id")).all()
        reps = conn.execute(sa.text("SELECT ticket_id, department_id FROM escalated_replies "
                                    "ORDER BY ticket_id")).all()
        rated = conn.execute(sa.text("SELECT department_id FROM "
                                     "escalated_satisfaction_ratings")).scalar_one()
    engine.dispose()
    with app.app_context():
        intid.db.engine.dispose()
    assert [tuple(r) for r in acts] == [(1, 7, "42"), (2, 7, None), (3, None, "43")]
    assert [tuple(r) for r in reps] == [(1, 7), (2, None)]
    assert rated == 7
