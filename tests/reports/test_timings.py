"""Stored response timings (``services.timings``): kept by the services when a ticket is first
answered, resolved and reopened; filled in by migration 0011 for existing tickets; and the SQL
percentiles the reports compute over them."""

from __future__ import annotations

import random
from datetime import date, datetime, timedelta, timezone

import pytest
import sqlalchemy as sa

from flask_escalated.events import Actor
from flask_escalated.models import Ticket, metadata
from flask_escalated.services import business_hours as bh
from flask_escalated.services import replies, reports, sla_admin, tickets, timings
from flask_escalated.services.reports import sql
from tests.hosts import intid

from .conftest import at

pytestmark = pytest.mark.all_databases  # stored values, SQL percentiles and the backfill

MARCH = dict(first=date(2026, 3, 2), last=date(2026, 3, 4))
BERLIN = {d: [{"start": "09:00", "end": "17:00"}]
          for d in ("monday", "tuesday", "wednesday", "thursday", "friday")}


def stored(ident: int) -> tuple[int | None, int | None, int | None, int | None]:
    t = tickets.get_ticket(str(ident))
    return (t.first_response_seconds, t.first_response_business_seconds,
            t.resolution_seconds, t.resolution_business_seconds)


def test_first_response_and_resolution_are_stored_as_they_happen(desk):
    # T1 (conftest): created Mon 09:00 UTC (10:00 Berlin), answered 11:00, resolved 15:00,
    # reopened Tue 08:00, resolved again Tue 10:00: 25 h from birth, 7 h + 2 h in hours.
    assert stored(desk.t1) == (7200, 7200, 90000, 32400)
    # T2: created Mon 23:30 UTC, answered Tue 09:30 UTC (10:30 Berlin): 1.5 business hours.
    assert stored(desk.t2) == (36000, 5400, None, None)
    assert stored(desk.t3) == stored(desk.t4) == (None, None, None, None)


def test_a_reopen_clears_the_resolution_and_the_next_one_counts_from_birth(
        app, ext, users, clock):
    agent, customer = Actor.agent(str(users.agent.id)), Actor.customer(str(users.customer.id))
    clock.current = at(2, 9)  # Monday 09:00 UTC, desk on UTC 09:00-17:00 (the config default)
    with ext.unit_of_work():
        ident = tickets.create_ticket(tickets.NewTicket(
            requester_user_id=str(users.customer.id), subject="Fan", description="Loud"),
            customer).id
    clock.current = at(2, 10)
    with ext.unit_of_work():
        tickets.change_status(tickets.get_ticket(str(ident)), "resolved", agent)
    assert stored(ident) == (None, None, 3600, 3600)
    clock.current = at(2, 20)
    with ext.unit_of_work():
        replies.add_reply(tickets.get_ticket(str(ident)), "Still loud", customer)
    assert tickets.get_ticket(str(ident)).status == "reopened"
    assert stored(ident) == (None, None, None, None)
    clock.current = at(3, 10)
    with ext.unit_of_work():
        replies.add_reply(tickets.get_ticket(str(ident)), "Fixed", agent)
        tickets.change_status(tickets.get_ticket(str(ident)), "resolved", agent)
    # 25 h after birth; business: Mon 09-17 (8 h) + Tue 09-10 (1 h).
    assert stored(ident) == (90000, 32400, 90000, 32400)
    clock.current = at(4, 10)
    with ext.unit_of_work():  # closing a resolved ticket keeps its resolution time
        tickets.change_status(tickets.get_ticket(str(ident)), "closed", agent)
    assert stored(ident) == (90000, 32400, 90000, 32400)


def test_business_time_counts_on_the_policy_schedule_when_it_names_one(app, ext, users, clock):
    """Desk: Berlin 09:00-17:00. A night-shift policy counts 22:00-06:00 UTC instead."""
    system, agent = Actor.system(), Actor.agent(str(users.agent.id))
    clock.current = at(1, 12)
    with ext.unit_of_work():
        sla_admin.create_schedule(system, {"name": "Berlin", "timezone": "Europe/Berlin",
                                           "is_default": True, "hours": BERLIN})
        night = sla_admin.create_schedule(system, {
            "name": "Night", "timezone": "UTC",
            "hours": {d: [{"start": "22:00", "end": "06:00"}] for d in BERLIN}})
        sla_admin.create_policy(system, {
            "name": "Night", "conditions": {"priorities": ["urgent"]}, "schedule_id": night.id,
            "targets": {"urgent": {"first_response": 60}}})

    def answered(priority: str) -> int:
        clock.current = at(2, 20)  # Monday 20:00 UTC
        with ext.unit_of_work():
            t = tickets.create_ticket(tickets.NewTicket(
                requester_user_id=str(users.customer.id), subject="Down", description="x",
                priority=priority), agent)
        clock.current = at(3, 10)  # Tuesday 10:00 UTC = 11:00 Berlin
        with ext.unit_of_work():
            replies.add_reply(t, "Looking", agent)
        return t.id

    night_ticket, desk_ticket = answered("urgent"), answered("low")
    assert tickets.get_ticket(str(night_ticket)).sla_policy_id is not None
    assert stored(night_ticket)[:2] == (50400, 8 * 3600)  # Mon 22:00 - Tue 06:00
    assert stored(desk_ticket)[:2] == (50400, 2 * 3600)  # Tue 09:00 - 11:00 Berlin


def test_internal_notes_and_later_replies_leave_the_first_response_alone(app, ext, users, clock):
    agent = Actor.agent(str(users.agent.id))
    clock.current = at(2, 9)
    with ext.unit_of_work():
        t = tickets.create_ticket(tickets.NewTicket(
            requester_user_id=str(users.customer.id), subject="Hi", description="x"),
            Actor.customer(str(users.customer.id)))
    clock.current = at(2, 9, 30)
    with ext.unit_of_work():
        replies.add_reply(t, "Note", agent, internal=True)
    assert stored(t.id)[:2] == (None, None)
    clock.current = at(2, 10)
    with ext.unit_of_work():
        replies.add_reply(t, "First", agent)
    clock.current = at(2, 12)
    with ext.unit_of_work():
        replies.add_reply(t, "Second", agent)
    assert stored(t.id)[:2] == (3600, 3600)


def test_recording_a_first_response_costs_no_query_per_reply(app, ext, users, clock,
                                                             count_queries):
    """The schedule lookups are cached per request: after the first, a reply that records a
    first response runs as many statements as one that does not."""
    agent = Actor.agent(str(users.agent.id))

    def ticket():
        with ext.unit_of_work():
            return tickets.create_ticket(tickets.NewTicket(
                requester_user_id=str(users.customer.id), subject="Hi", description="x"),
                Actor.customer(str(users.customer.id)))

    first, second, third = ticket(), ticket(), ticket()
    with ext.unit_of_work():
        replies.add_reply(third, "Warm the cache", agent)
    with ext.unit_of_work():
        replies.add_reply(first, "Hello", agent)
    with ext.unit_of_work(), count_queries() as recorded:
        replies.add_reply(second, "Hello", agent)  # records its first response
    with ext.unit_of_work(), count_queries() as later:
        replies.add_reply(first, "Again", agent)  # already answered
    # The first agent reply also moves the status (its UPDATE and timeline row); what must
    # not differ is the reading: no lookup of schedules or policies per reply.
    def reads(counter):
        return [s for s in counter.statements if s.lstrip().upper().startswith("SELECT")]

    assert len(reads(recorded)) == len(reads(later)), (reads(recorded), reads(later))


# ---------------------------------------------------------------------------- SQL percentiles
def reference(values: list[float], q: float) -> float:
    ordered = sorted(values)
    position = (len(ordered) - 1) * q
    lo = int(position)
    hi = min(lo + 1, len(ordered) - 1)
    return ordered[lo] + (ordered[hi] - ordered[lo]) * (position - lo)


def test_sql_percentiles_match_percentile_cont_on_every_database(app, ext, users, count_queries):
    """Groups of 1, 2, 3, 10 and 37 tickets (ties included): count, median and p90 per group
    in one statement, as PostgreSQL's percentile_cont interpolates them."""
    rng = random.Random(12)
    sizes = {"a1": 1, "a2": 2, "a3": 3, "a10": 10, "a37": 37}
    stamp = datetime(2026, 3, 2, 12, tzinfo=timezone.utc)
    rows, expected = [], {}
    for agent, n in sizes.items():
        calendar = [rng.choice([60, 600, 3600, rng.randrange(0, 10 ** 6)]) for _ in range(n)]
        business = [rng.randrange(0, 5 * 10 ** 4) for _ in range(n)]
        expected[agent] = (n, calendar, business)
        for c, b in zip(calendar, business, strict=True):
            rows.append({"subject": "s", "description": "d", "status": "resolved",
                         "status_category": "resolved", "priority": "medium",
                         "priority_rank": 2, "assignee_id": agent, "created_at": stamp,
                         "updated_at": stamp, "first_response_at": stamp,
                         "first_response_seconds": c, "first_response_business_seconds": b})
    rows.append({**rows[0], "assignee_id": "a1", "first_response_seconds": None})  # ignored
    ext.session.execute(sa.insert(Ticket), rows)
    ext.session.flush()
    with count_queries() as q:
        found = sql.spread([Ticket.first_response_at.is_not(None)],
                           [Ticket.first_response_seconds, Ticket.first_response_business_seconds],
                           group=Ticket.assignee_id, counts=[Ticket.first_response_seconds < 3600])
    assert q.count == 1
    assert set(found) == set(sizes)
    for agent, (n, calendar, business) in expected.items():
        spread = found[agent]
        assert spread.count == n
        for column, values in enumerate((calendar, business)):
            for quantile in (0.5, 0.9):
                assert spread.quantiles[column][quantile] == pytest.approx(
                    reference(values, quantile)), (agent, column, quantile)
        assert spread.counts == [sum(1 for c in calendar if c < 3600)]
    whole = sql.spread([Ticket.first_response_at.is_not(None)], [Ticket.first_response_seconds])
    everything = [c for _, calendar, _ in expected.values() for c in calendar]
    assert whole[None].count == len(everything)
    assert whole[None].quantiles[0][0.9] == pytest.approx(reference(everything, 0.9))
    assert sql.spread([Ticket.id < 0], [Ticket.first_response_seconds]) == {}


def test_timing_reports_run_a_fixed_handful_of_statements(desk, app, ext, make_more,
                                                          count_queries):
    def count(name: str) -> int:
        ext.session.expire_all()
        with app.app_context(), count_queries() as q:
            reports.run(name, reports.Params(**MARCH))
        return q.count

    before = {name: count(name) for name in ("response-times", "agents")}
    make_more(12)
    assert {name: count(name) for name in ("response-times", "agents")} == before
    # The desk's schedule (and its holidays), then one statement per timing.
    assert before["response-times"] == 4


# ---------------------------------------------------------------------------- the backfill
def test_migration_backfills_the_timings(backend, test_databases, tmp_path):
    """Tickets written before 0011 get the values the services would have stored: business
    time on the policy's own schedule, else on the default schedule (with its holidays)."""
    url = test_databases.fresh(backend, "timings")
    app = intid.create_app({"SQLALCHEMY_DATABASE_URI": url,
                            "ESCALATED_ATTACHMENT_STORAGE": str(tmp_path)})
    runner = app.test_cli_runner()
    result = runner.invoke(args=["escalated", "db", "upgrade", "0010_reports"])
    assert result.exit_code == 0, result.output
    t = metadata.tables
    engine = sa.create_engine(url)
    now = datetime(2026, 3, 1, tzinfo=timezone.utc)
    berlin = bh.build("Europe/Berlin", BERLIN, holidays=[date(2026, 3, 3)])
    night = bh.build("UTC", {d: [{"start": "22:00", "end": "06:00"}] for d in BERLIN})
    base = datetime(2026, 3, 2, 8, 15, 30, 250000, tzinfo=timezone.utc)
    rng = random.Random(3)
    cases = []
    for i in range(60):
        created = base + timedelta(minutes=rng.randrange(0, 60 * 24 * 10))
        answered = (created + timedelta(seconds=rng.randrange(0, 86400 * 3))
                    if i % 4 else None)
        resolved = (created + timedelta(seconds=rng.randrange(0, 86400 * 12))
                    if i % 3 else None)
        if i == 7:
            resolved = created - timedelta(minutes=5)  # bad data: before creation
        cases.append((i + 1, created, answered, resolved, 1 if i % 5 == 0 else None))
    with engine.begin() as conn:
        conn.execute(t["escalated_business_schedules"].insert(), [
            {"id": 1, "name": "Berlin", "timezone": "Europe/Berlin", "hours": BERLIN,
             "is_default": True, "created_at": now, "updated_at": now},
            {"id": 2, "name": "Night", "timezone": "UTC", "is_default": False,
             "hours": {d: [{"start": "22:00", "end": "06:00"}] for d in BERLIN},
             "created_at": now, "updated_at": now}])
        conn.execute(t["escalated_holidays"].insert(), [
            {"schedule_id": 1, "name": "Closed", "date": date(2026, 3, 3), "recurring": False,
             "created_at": now, "updated_at": now}])
        conn.execute(t["escalated_sla_policies"].insert(), [
            {"id": 1, "name": "Night", "is_active": True, "position": 0, "conditions": {},
             "targets": {}, "schedule_id": 2, "warning_minutes": 0, "created_at": now,
             "updated_at": now}])
        conn.execute(t["escalated_tickets"].insert(), [
            {"id": ident, "subject": "s", "description": "d", "status": "open",
             "status_category": "open", "priority": "medium", "priority_rank": 2,
             "created_at": created, "updated_at": created, "first_response_at": answered,
             "resolved_at": resolved, "sla_policy_id": policy}
            for ident, created, answered, resolved, policy in cases])
    result = runner.invoke(args=["escalated", "db", "upgrade"])
    assert result.exit_code == 0, result.output
    with engine.connect() as conn:
        got = {row.id: tuple(row)[1:] for row in conn.execute(sa.select(
            t["escalated_tickets"].c.id, t["escalated_tickets"].c.first_response_seconds,
            t["escalated_tickets"].c.first_response_business_seconds,
            t["escalated_tickets"].c.resolution_seconds,
            t["escalated_tickets"].c.resolution_business_seconds))}
        assert not sa.inspect(conn).has_table("escalated_tmp_timing_intervals")
    engine.dispose()
    with app.app_context():
        intid.db.engine.dispose()
    for ident, created, answered, resolved, policy in cases:
        schedule = night if policy else berlin
        want: tuple[int | None, ...] = ()
        for end in (answered, resolved):
            want += timings.measure(schedule, created, end) if end else (None, None)
        assert got[ident] == want, (ident, created, answered, resolved, policy)
    assert sum(1 for v in got.values() if v[1]) > 20  # the cases do exercise business time
