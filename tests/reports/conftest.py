"""A small desk with a hand-checked history, for the report tests.

Desk time zone Europe/Berlin (the default business schedule, Mon-Fri 09:00-17:00 local).
Times below are UTC; local (CET) is one hour later.

- T1 (web, tag billing, assigned to agent): created Mon 2 Mar 09:00, agent reply 11:00,
  resolved 15:00; customer reply Tue 3 Mar 08:00 reopens it; resolved again 10:00; rated 4
  ("Quick & kind <3") at 10:30.
- T4 (api, department Hardware): created Mon 2 Mar 12:00; never touched.
- T2 (email, tag billing): created Mon 2 Mar 23:30 = Tue 3 Mar 00:30 local; agent2 replies Tue
  3 Mar 09:30.
- T3 (web): created Wed 4 Mar 23:30 = Thu 5 Mar 00:30 local, outside a 2-4 Mar report.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timezone

import pytest

from flask_escalated.events import Actor
from flask_escalated.services import (
    assignment,
    csat,
    departments,
    replies,
    sla_admin,
    sla_sweep,
    tickets,
)

UTC = timezone.utc


@pytest.fixture
def ext(app):
    return app.extensions["escalated"]


@dataclass
class Desk:
    t1: int
    t2: int
    t3: int
    t4: int
    hardware: int


def at(day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2026, 3, day, hour, minute, tzinfo=UTC)


@pytest.fixture
def desk(app, ext, users, clock) -> Desk:
    system = Actor.system()
    agent, agent2 = Actor.agent(str(users.agent.id)), Actor.agent(str(users.agent2.id))
    customer = Actor.customer(str(users.customer.id))
    clock.current = at(1, 12)
    with ext.unit_of_work():
        sla_admin.create_schedule(system, {
            "name": "Berlin office", "timezone": "Europe/Berlin", "is_default": True,
            "hours": {d: [{"start": "09:00", "end": "17:00"}]
                      for d in ("monday", "tuesday", "wednesday", "thursday", "friday")}})
        sla_admin.create_policy(system, {
            "name": "Standard", "conditions": {},
            "targets": {"medium": {"first_response": 60, "resolution": 24 * 60,
                                   "next_response": 60}}})
        hardware = departments.create_department(system, {"name": "Hardware"}).id

    def new(channel: str, tags: list[str] | None = None, **extra) -> int:
        with ext.unit_of_work():
            t = tickets.create_ticket(tickets.NewTicket(
                requester_user_id=str(users.customer.id), subject="Printer", description="On fire",
                channel=channel, tags=tags or [], **extra), customer)
        return t.id

    def step(when: datetime, fn) -> None:
        """Move the clock; the SLA sweep (every minute in production) catches up first."""
        clock.current = when
        with ext.unit_of_work():
            sla_sweep.sweep_batch(when)
        with ext.unit_of_work():
            fn()

    def get(ident: int):
        return tickets.get_ticket(str(ident))

    clock.current = at(2, 9)
    t1 = new("web", ["billing"])
    step(at(2, 9), lambda: assignment.assign(get(t1), str(users.agent.id), system))
    step(at(2, 11), lambda: replies.add_reply(get(t1), "On it", agent))
    clock.current = at(2, 12)
    t4 = new("api", department_id=hardware)
    step(at(2, 15), lambda: tickets.change_status(get(t1), "resolved", agent))
    clock.current = at(2, 23, 30)
    t2 = new("email", ["billing"])
    step(at(3, 8), lambda: replies.add_reply(get(t1), "Still broken", customer))
    step(at(3, 9, 30), lambda: replies.add_reply(get(t2), "Hello", agent2))
    step(at(3, 10), lambda: tickets.change_status(get(t1), "resolved", agent))
    step(at(3, 10, 30), lambda: csat.submit_for_ticket(get(t1), 4, "Quick & kind <3"))
    clock.current = at(4, 23, 30)
    t3 = new("web")
    step(at(5, 12), lambda: None)
    return Desk(t1, t2, t3, t4, hardware)


@pytest.fixture
def make_more(ext, users, clock):
    """``make_more(n)``: n more tickets in the period, tagged, answered and resolved."""
    agent = Actor.agent(str(users.agent.id))

    def make(n: int) -> None:
        saved = clock.current
        for i in range(n):
            clock.current = at(3, 12, i)
            with ext.unit_of_work():
                t = tickets.create_ticket(tickets.NewTicket(
                    requester_user_id=str(users.customer.id), subject=f"More {i}",
                    description="x", channel="widget", tags=["extra", f"t{i}"]),
                    Actor.customer(str(users.customer.id)))
                assignment.assign(t, str(users.agent.id), Actor.system())
                replies.add_reply(t, "Done", agent)
                tickets.change_status(t, "resolved", agent)
                csat.submit_for_ticket(t, 5, f"great {i}")
        clock.current = saved

    return make
