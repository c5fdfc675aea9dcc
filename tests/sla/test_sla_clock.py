"""The SLA clock and the sweep: attach, pause/resume, re-projection, exactly-once recording."""

from __future__ import annotations

import json
import threading
from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import func, select

from flask_escalated.clock import FrozenClock, set_clock
from flask_escalated.events import Actor
from flask_escalated.models import (
    Activity,
    BusinessSchedule,
    Department,
    Holiday,
    SlaPolicy,
    Ticket,
    Webhook,
    WebhookDelivery,
)
from flask_escalated.services import assignment, replies, sla, sla_sweep, tickets
from flask_escalated.signals import sla_breached

pytestmark = pytest.mark.all_databases

UTC = timezone.utc
TARGETS = {
    "urgent": {"first_response": 30, "resolution": 240},
    "high": {"first_response": 60, "next_response": 60, "resolution": 480},
    "medium": {"first_response": 120, "next_response": 120, "resolution": 960},
    "low": {"first_response": 240, "resolution": 2880},
}


def make_policy(db, *, schedule=None, warning=30, conditions=None, position=0, name="Default"):
    policy = SlaPolicy(
        name=name,
        conditions=conditions or {},
        targets=TARGETS,
        schedule=schedule,
        warning_minutes=warning,
        position=position,
        is_active=True,
    )
    db.add(policy)
    db.commit()
    return policy


def open_ticket(ext, users, priority="high", **kw):
    with ext.unit_of_work():
        t = tickets.create_ticket(
            tickets.NewTicket(
                subject="Down",
                description="Everything is down",
                priority=priority,
                requester_user_id=str(users.customer.id),
                **kw,
            ),
            Actor.customer(users.customer.id)
            if priority in ("low", "medium", "high")
            else Actor.system(),
        )
    return t.id


@pytest.fixture
def ext(app):
    return app.extensions["escalated"]


def reload(ext, ticket_id):
    ext.session.rollback()
    return ext.session.get(Ticket, ticket_id)


def test_policy_attaches_and_projects_due_times(app, ext, users, clock):
    make_policy(ext.session)
    tid = open_ticket(ext, users)
    t = reload(ext, tid)
    start = clock.current
    assert t.sla_policy_id is not None
    assert t.first_response_due_at == start + timedelta(minutes=60)
    assert t.first_response_warning_at == start + timedelta(minutes=30)
    assert t.resolution_due_at == start + timedelta(minutes=480)
    assert t.next_response_due_at is None
    states = {s.target: s.state for s in sla.state(t)}
    assert states == {"first_response": "ok", "resolution": "ok"}


def test_conditions_pick_the_policy(app, ext, users, clock):
    make_policy(ext.session, conditions={"priorities": ["urgent"]}, name="Urgent only")
    tid = open_ticket(ext, users, priority="low")
    assert reload(ext, tid).sla_policy_id is None
    tid = open_ticket(ext, users, priority="urgent")
    assert reload(ext, tid).sla_policy_id is not None


def test_first_agent_reply_fulfils_first_response_and_next_response_cycle(app, ext, users, clock):
    make_policy(ext.session)
    tid = open_ticket(ext, users)
    clock.advance(minutes=10)
    with ext.unit_of_work():
        replies.add_reply(reload(ext, tid), "On it", Actor.agent(users.agent.id))
    t = reload(ext, tid)
    assert t.first_response_due_at is None
    # Waiting on the customer pauses the clock: the resolution due disappears.
    assert t.status == "waiting_on_customer" and t.sla_paused_at is not None
    assert t.resolution_due_at is None
    clock.advance(hours=5)
    with ext.unit_of_work():
        replies.add_reply(reload(ext, tid), "Still broken", Actor.customer(users.customer.id))
    t = reload(ext, tid)
    assert t.sla_paused_at is None
    # 10 minutes used before the pause; 470 left of the 480-minute resolution target.
    assert t.resolution_due_at == clock.current + timedelta(minutes=470)
    assert t.next_response_due_at == clock.current + timedelta(minutes=60)
    clock.advance(minutes=15)
    with ext.unit_of_work():
        replies.add_reply(reload(ext, tid), "Fixed?", Actor.agent(users.agent.id))
    assert reload(ext, tid).next_response_due_at is None


def test_priority_change_mid_flight_keeps_used_time(app, ext, users, clock):
    make_policy(ext.session)
    tid = open_ticket(ext, users, priority="high")
    clock.advance(minutes=20)
    with ext.unit_of_work():
        tickets.change_priority(reload(ext, tid), "low", Actor.agent(users.agent.id))
    t = reload(ext, tid)
    assert t.first_response_due_at == clock.current + timedelta(minutes=220)
    assert t.sla_used_seconds == 20 * 60


def test_business_hours_policy_berlin(app, ext, users, clock):
    hours = {
        d: [{"start": "09:00", "end": "17:00"}]
        for d in ("monday", "tuesday", "wednesday", "thursday", "friday")
    }
    schedule = BusinessSchedule(name="Berlin", timezone="Europe/Berlin", hours=hours)
    schedule.holidays = [
        Holiday(name="Labour day", date=datetime(2026, 5, 1).date(), recurring=True)
    ]
    ext.session.add(schedule)
    make_policy(ext.session, schedule=schedule)
    # Thursday 30 April 2026, 16:30 Berlin (14:30 UTC); Friday 1 May is a holiday.
    clock.current = datetime(2026, 4, 30, 14, 30, tzinfo=UTC)
    tid = open_ticket(ext, users, priority="high")
    t = reload(ext, tid)
    # 30 minutes on Thursday, 30 more on Monday 4 May from 09:00 Berlin (07:00 UTC).
    assert t.first_response_due_at == datetime(2026, 5, 4, 7, 30, tzinfo=UTC)


def test_sweep_records_warning_then_breach_exactly_once(app, ext, users, clock, signal_log):
    make_policy(ext.session)
    tid = open_ticket(ext, users)
    signal_log.clear()
    clock.advance(minutes=35)
    with ext.unit_of_work():
        assert sla_sweep.sweep_batch() == 1
    with ext.unit_of_work():
        assert sla_sweep.sweep_batch() == 0
    assert [(s.name, s.kwargs["warning_type"]) for s in signal_log] == [
        ("sla_warning", "first_response")
    ]
    clock.advance(minutes=30)
    with ext.unit_of_work():
        assert sla_sweep.sweep_batch() == 1
    with ext.unit_of_work():
        assert sla_sweep.sweep_batch() == 0
    assert [s.name for s in signal_log] == ["sla_warning", "sla_breached"]
    t = reload(ext, tid)
    assert t.first_response_breached_at == clock.current
    kinds = (
        ext.session.execute(
            select(Activity.type)
            .where(Activity.ticket_id == tid, Activity.type.like("sla_%"))
            .order_by(Activity.id)
        )
        .scalars()
        .all()
    )
    assert kinds == ["sla_warning", "sla_breached"]
    assert {s.target: s.state for s in sla.state(t)}["first_response"] == "breached"


def test_sweep_signals_only_after_commit(app, ext, users, clock, signal_log):
    make_policy(ext.session)
    open_ticket(ext, users)
    signal_log.clear()
    clock.advance(hours=2)
    with pytest.raises(RuntimeError), ext.unit_of_work():
        assert sla_sweep.sweep_batch() >= 1
        raise RuntimeError("worker died")
    assert signal_log == []
    with ext.unit_of_work():
        assert sla_sweep.sweep_batch() >= 1
    assert {s.name for s in signal_log} == {"sla_breached"}


def test_sweep_is_a_constant_number_of_statements(app, ext, users, clock, count_queries):
    make_policy(ext.session, warning=0)
    for _ in range(12):
        open_ticket(ext, users, priority="urgent")
    clock.advance(hours=1)
    counts = []
    for _ in range(3):
        with count_queries() as q, ext.unit_of_work():
            sla_sweep.sweep_batch(limit=4)
        counts.append(q.count)
    assert counts[0] == counts[1] == counts[2], counts
    assert counts[0] <= 12


def test_sweep_statements_do_not_grow_with_the_batch(app, ext, users, clock, count_queries):
    make_policy(ext.session, warning=0)
    for _ in range(24):
        open_ticket(ext, users, priority="urgent")
    clock.advance(hours=1)  # 24 first responses due
    counts = []
    for limit in (4, 20):
        with count_queries() as q, ext.unit_of_work():
            assert sla_sweep.sweep_batch(limit=limit) == limit
        counts.append(q.count)
    # The probe, then per target an UPDATE ... RETURNING (a SELECT and an UPDATE on MariaDB)
    # and one INSERT ... SELECT, and the webhook outbox's look-up of subscribers.
    assert counts[0] == counts[1] <= 6, counts


def test_a_sweep_with_nothing_due_is_one_statement(app, ext, users, clock, count_queries, backend):
    make_policy(ext.session)
    for _ in range(5):
        open_ticket(ext, users, priority="low")
    clock.advance(minutes=5)
    with count_queries() as q, ext.unit_of_work():
        assert sla_sweep.sweep_batch() == 0
    # SQLite first takes its write lock (a no-op UPDATE) so sweeps serialise.
    assert q.count == (2 if backend == "sqlite" else 1), q.statements


def test_breach_rows_carry_the_due_time_and_department(app, ext, users, clock):
    make_policy(ext.session, warning=0)
    dept = Department(name="Ops", slug="ops")
    ext.session.add(dept)
    ext.session.commit()
    plain = open_ticket(ext, users, priority="urgent", department_id=dept.id)
    odd = open_ticket(ext, users, priority="urgent")
    with ext.unit_of_work():
        t = reload(ext, odd)
        t.first_response_due_at = t.first_response_due_at.replace(microsecond=1500)
        t.first_response_warning_at = t.first_response_due_at
    clock.advance(hours=1)
    with ext.unit_of_work():
        assert sla_sweep.sweep_batch() == 2
    for tid in (plain, odd):
        t = reload(ext, tid)
        row = ext.session.execute(
            select(Activity).where(Activity.ticket_id == tid, Activity.type == "sla_breached")
        ).scalar_one()
        assert row.properties == {
            "target": "first_response",
            "due_at": t.first_response_due_at.isoformat(),
        }
        assert row.department_id == t.department_id
        assert row.actor_type == "system" and row.created_at == clock.current
        # The breach settles the warning: none is recorded for this due time any more.
        assert t.first_response_warned_at == clock.current
    assert reload(ext, odd).first_response_due_at.microsecond == 1500
    assert reload(ext, plain).department_id == dept.id


def test_two_workers_record_each_breach_once(app, ext, users, clock, backend):
    make_policy(ext.session, warning=0)
    ids = [open_ticket(ext, users, priority="urgent") for _ in range(30)]
    # The events a breach raises stay once per breach too: the signal and the webhook outbox.
    ext.session.add(
        Webhook(
            url="http://127.0.0.1:9/hook",
            secret="s" * 32,
            events=["sla.breached"],
            is_active=True,
            failure_count=0,
        )
    )
    ext.session.commit()
    seen: list[tuple[int, str]] = []

    def on_breach(sender, ticket, breach_type, **kwargs) -> None:
        seen.append((ticket.id, breach_type))

    sla_breached.connect(on_breach, weak=False)
    clock.advance(hours=6)
    barrier = threading.Barrier(2)
    errors: list[BaseException] = []

    def worker() -> None:
        try:
            with app.app_context():
                set_clock(clock)
                barrier.wait()
                while True:
                    with ext.unit_of_work():
                        if not sla_sweep.sweep_batch(limit=5):
                            break
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=worker) for _ in range(2)]
    for th in threads:
        th.start()
    for th in threads:
        th.join(60)
    assert not errors, errors
    # A worker stops when everything left is locked by the other (MariaDB's next-key locks can
    # hide more rows than the other worker returned): the next scheduled run picks those up.
    ext.session.rollback()  # end this test's own snapshot (REPEATABLE READ on MariaDB)
    while True:
        with ext.unit_of_work():
            if not sla_sweep.sweep_batch(limit=5):
                break
    breached = ext.session.execute(
        select(Activity.ticket_id, func.count())
        .where(Activity.type == "sla_breached")
        .group_by(Activity.ticket_id)
    ).all()
    sla_breached.disconnect(on_breach)
    # Two targets (first response and resolution) per ticket, each once.
    assert sorted(breached) == sorted((i, 2) for i in ids)
    expected = sorted((i, target) for i in ids for target in ("first_response", "resolution"))
    assert sorted(seen) == expected
    bodies = ext.session.execute(select(WebhookDelivery.body)).scalars().all()
    outbox = sorted(
        (json.loads(b)["payload"]["ticket"]["id"], json.loads(b)["payload"]["breach_type"])
        for b in bodies
    )
    assert outbox == expected


def test_assignment_does_not_disturb_the_clock(app, ext, users, clock):
    make_policy(ext.session)
    tid = open_ticket(ext, users)
    due = reload(ext, tid).resolution_due_at
    clock.advance(minutes=5)
    with ext.unit_of_work():
        assignment.assign(reload(ext, tid), str(users.agent.id), Actor.agent(users.agent.id))
    assert reload(ext, tid).resolution_due_at == due


def test_frozen_clock_fixture_is_restored():
    assert isinstance(FrozenClock(datetime(2026, 1, 1, tzinfo=UTC)).current, datetime)
