"""Snooze presets, the active queue, waking, and the housekeeping sweeps."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select

from flask_escalated.events import Actor
from flask_escalated.models import Activity, SlaPolicy, Ticket
from flask_escalated.services import lifecycle, replies, snooze, tickets
from flask_escalated.services.errors import ValidationError

pytestmark = pytest.mark.all_databases

UTC = timezone.utc
BERLIN = ZoneInfo("Europe/Berlin")


def test_presets_in_the_agent_time_zone():
    at = datetime(2026, 3, 10, 22, 30, tzinfo=UTC)  # 23:30 in Berlin, a Tuesday
    assert snooze.resolve_preset("1h", BERLIN, at) == at + timedelta(hours=1)
    assert snooze.resolve_preset("4h", BERLIN, at) == at + timedelta(hours=4)
    assert snooze.resolve_preset("tomorrow", BERLIN, at) == datetime(2026, 3, 11, 9, 0,
                                                                       tzinfo=BERLIN)
    assert snooze.resolve_preset("next_monday", BERLIN, at) == datetime(2026, 3, 16, 9, 0,
                                                                          tzinfo=BERLIN)
    # Across the spring-forward weekend: Monday 30 March 09:00 is CEST (07:00 UTC).
    friday = datetime(2026, 3, 27, 12, 0, tzinfo=UTC)
    assert snooze.resolve_preset("next_monday", BERLIN, friday) == \
        datetime(2026, 3, 30, 7, 0, tzinfo=UTC)
    # On a Monday, "next Monday" is a week later.
    monday = datetime(2026, 3, 9, 8, 0, tzinfo=UTC)
    assert snooze.resolve_preset("next_monday", BERLIN, monday).date().isoformat() == \
        "2026-03-16"
    with pytest.raises(ValidationError):
        snooze.resolve_preset("someday", BERLIN, at)


@pytest.fixture
def ext(app):
    return app.extensions["escalated"]


def new_ticket(ext, users):
    with ext.unit_of_work():
        return tickets.create_ticket(tickets.NewTicket(
            subject="Later", description="d", requester_user_id=str(users.customer.id)),
            Actor.system()).id


def test_snooze_api_queue_and_wake(app, ext, users, client_as, clock, signal_log):
    tid = new_ticket(ext, users)
    agent = client_as(users.agent)
    r = agent.post(f"/support/api/v1/tickets/{tid}/snooze", json={"preset": "4h"})
    assert r.status_code == 200, r.json
    assert r.json["data"]["snoozed_until"] is not None
    assert [t["id"] for t in agent.get("/support/api/v1/tickets").json["data"]] == []
    assert [t["id"] for t in
            agent.get("/support/api/v1/tickets?snoozed=true").json["data"]] == [tid]
    assert len(agent.get("/support/api/v1/tickets?snoozed=any").json["data"]) == 1
    for bad in ({"until": "2020-01-01T00:00:00Z"}, {"until": "2026-03-03T00:00:00"},
                {"until": "2030-01-01T00:00:00Z"}, {"until": "soon"}, {"preset": 4}, {},
                {"preset": "1h", "until": "2026-03-04T09:00:00Z"}):
        assert agent.post(f"/support/api/v1/tickets/{tid}/snooze", json=bad).status_code == 422
    assert agent.get("/support/api/v1/tickets?snoozed=maybe").status_code == 422

    clock.advance(hours=3)
    with ext.unit_of_work():
        assert snooze.wake_batch() == 0
    clock.advance(hours=2)
    with ext.unit_of_work():
        assert snooze.wake_batch() == 1
    ext.session.rollback()
    t = ext.session.get(Ticket, tid)
    assert t.snoozed_until is None and t.status == "open"
    names = [s.name for s in signal_log]
    assert "ticket_snoozed" in names and names[-1] == "ticket_woken"


def test_customer_reply_wakes_early_and_sla_pauses_while_snoozed(app, ext, users, clock):
    ext.session.add(SlaPolicy(name="Calendar", conditions={}, is_active=True,
                              targets={"medium": {"resolution": 600}}, warning_minutes=0))
    ext.session.commit()
    tid = new_ticket(ext, users)
    due = ext.session.get(Ticket, tid).resolution_due_at
    clock.advance(minutes=30)
    with ext.unit_of_work():
        snooze.snooze(tickets.get_ticket(tid), clock.current + timedelta(hours=5),
                      Actor.agent(users.agent.id))
    ext.session.rollback()
    assert ext.session.get(Ticket, tid).resolution_due_at is None
    clock.advance(hours=2)
    with ext.unit_of_work():
        replies.add_reply(tickets.get_ticket(tid), "any news?", Actor.customer(users.customer.id))
    ext.session.rollback()
    t = ext.session.get(Ticket, tid)
    assert t.snoozed_until is None
    # The two snoozed hours do not count: the due time moved out by exactly that much.
    assert t.resolution_due_at == due + timedelta(hours=2)


def test_close_resolved_and_purge(app, ext, users, clock, count_queries):
    ids = [new_ticket(ext, users) for _ in range(5)]
    with ext.unit_of_work():
        for tid in ids[:3]:
            tickets.change_status(tickets.get_ticket(tid), "resolved", Actor.system())
    clock.advance(days=8)
    with ext.unit_of_work():
        assert lifecycle.close_resolved_batch(days=7, limit=2) == 2
    with ext.unit_of_work():
        assert lifecycle.close_resolved_batch(days=7, limit=2) == 1
    with ext.unit_of_work():
        assert lifecycle.close_resolved_batch(days=7, limit=2) == 0
    ext.session.rollback()
    assert {ext.session.get(Ticket, t).status for t in ids[:3]} == {"closed"}
    total = ext.session.execute(select(func.count()).select_from(Activity)).scalar_one()
    clock.advance(days=400)
    with ext.unit_of_work():
        new_ticket(ext, users)
    with ext.unit_of_work():
        assert lifecycle.purge_activities_batch(days=365, limit=total) == total
    ext.session.rollback()
    assert ext.session.execute(select(func.count()).select_from(Activity)).scalar_one() == 1


def test_commands(app, users, ext, clock):
    runner = app.test_cli_runner()
    for args in (["wake-snoozed"], ["close-resolved", "--days", "3"],
                 ["close-resolved"], ["purge-activities", "--days", "30"]):
        result = runner.invoke(args=["escalated", *args])
        assert result.exit_code == 0, result.output
        assert result.output.strip().splitlines()[-1].split()[0] in ("Woke", "Closed", "Deleted")
