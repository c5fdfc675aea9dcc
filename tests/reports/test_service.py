"""Report numbers against the hand-checked desk in ``conftest.py`` (times in its docstring)."""

from __future__ import annotations

from datetime import date, datetime, timezone

import pytest

from flask_escalated.events import Actor
from flask_escalated.services import business_hours as bh
from flask_escalated.services import reports, sla_admin
from flask_escalated.services.errors import ValidationError
from flask_escalated.services.reports.window import Window

pytestmark = pytest.mark.all_databases  # grouped SQL and date bucketing per dialect

MARCH = dict(first=date(2026, 3, 2), last=date(2026, 3, 4))


def run(name, **params):
    return reports.run(name, reports.Params(**{**MARCH, **params})).data


def test_volume_buckets_days_in_the_desk_zone_and_counts_the_reopen(desk):
    data = run("volume")
    assert data["timezone"] == "Europe/Berlin" and data["from"] == "2026-03-02"
    # T2 was created at 23:30 UTC on the 2nd: the 3rd in Berlin. T3 (23:30 UTC on the 4th) is
    # the 5th in Berlin, outside the period.
    assert data["days"] == [
        {"date": "2026-03-02", "created": 2, "resolved": 1, "reopened": 0},
        {"date": "2026-03-03", "created": 1, "resolved": 1, "reopened": 1},
        {"date": "2026-03-04", "created": 0, "resolved": 0, "reopened": 0},
    ]
    assert data["totals"] == {"created": 3, "resolved": 2, "reopened": 1}


def test_one_berlin_day_is_not_the_utc_day(desk):
    data = run("volume", first=date(2026, 3, 3), last=date(2026, 3, 3))
    assert data["totals"] == {"created": 1, "resolved": 1, "reopened": 1}
    data = run("volume", first=date(2026, 3, 5), last=date(2026, 3, 5))
    assert data["totals"]["created"] == 1


def test_backlog_is_worked_back_from_today(desk):
    days = run("backlog")["days"]
    assert [(d["date"], d["open"], d["waiting_on_customer"], d["total"]) for d in days] == [
        ("2026-03-02", 1, 0, 1),  # T4 open; T1 resolved by the evening
        ("2026-03-03", 1, 1, 2),  # T2 waits on the customer; T1 resolved again
        ("2026-03-04", 1, 1, 2),  # T3 arrives after midnight Berlin time
    ]
    assert all(d["in_progress"] == 0 and d["reopened"] == 0 for d in days)


def test_filters_narrow_every_report(desk):
    volume = run("volume", department_id=desk.hardware)
    assert volume["totals"] == {"created": 1, "resolved": 0, "reopened": 0}
    assert [d["open"] for d in run("backlog", department_id=desk.hardware)["days"]] == [1, 1, 1]
    assert run("volume", channel="email")["totals"]["created"] == 1
    assert run("volume", tag="Billing")["totals"] == {"created": 2, "resolved": 2, "reopened": 1}
    assert run("channels", tag="nope")["total"] == 0


def test_response_times_calendar_and_business(desk):
    data = run("response-times")
    first, resolution = data["first_response"], data["resolution"]
    # T1 answered after 2 h (inside hours); T2 after 10 h, 1.5 h of it business time.
    assert first["calendar"] == {"count": 2, "median": 21600, "p90": 33120}
    assert first["business"] == {"count": 2, "median": 6300, "p90": 7020}
    assert {b["bucket"]: b["count"] for b in first["histogram"]}["1-4 h"] == 1
    # T1's resolution counts from birth to its last resolution: 25 h, 7 h + 2 h of business.
    assert resolution["calendar"] == {"count": 1, "median": 90000, "p90": 90000}
    assert resolution["business"] == {"count": 1, "median": 32400, "p90": 32400}


def test_sla_compliance_per_target_and_priority(desk):
    rows = {(r["target"], r["priority"]): r for r in run("sla")["rows"]}
    assert rows[("first_response", "medium")] == {
        "target": "first_response", "priority": "medium", "tickets": 3, "met": 0,
        "breached": 3, "pending": 0, "compliance": 0.0}
    assert rows[("resolution", "medium")] == {
        "target": "resolution", "priority": "medium", "tickets": 3, "met": 1,
        "breached": 1, "pending": 1, "compliance": 0.5}
    # T1's customer wrote again at 08:00 and nobody answered within the hour.
    assert rows[("next_response", "medium")] == {
        "target": "next_response", "priority": "medium", "tickets": 2, "met": 1,
        "breached": 1, "pending": 0, "compliance": 0.5}


def test_csat(desk, users):
    data = run("csat")
    assert data["average"] == 4.0 and data["total"] == 1 and data["satisfied_share"] == 1.0
    assert data["distribution"] == {"1": 0, "2": 0, "3": 0, "4": 1, "5": 0}
    assert data["response_rate"] == 1.0
    assert data["by_agent"] == [{"agent_id": str(users.agent.id), "average": 4.0, "count": 1}]
    assert [c["comment"] for c in data["comments"]] == ["Quick & kind <3"]
    assert run("csat", agent=str(users.agent2.id))["total"] == 0


def test_agent_table(desk, users):
    rows = {r["agent_id"]: r for r in run("agents")["agents"]}
    agent, agent2 = rows[str(users.agent.id)], rows[str(users.agent2.id)]
    assert (agent["name"], agent["assigned"], agent["resolved"], agent["replies"]) == (
        "Alex Agent", 1, 1, 1)
    assert agent["median_first_response"] == 7200
    assert agent["median_first_response_business"] == 7200
    assert (agent["csat_average"], agent["csat_count"]) == (4.0, 1)
    assert (agent2["assigned"], agent2["resolved"], agent2["replies"]) == (0, 0, 1)
    only = run("agents", agent=str(users.agent2.id))["agents"]
    assert [r["agent_id"] for r in only] == [str(users.agent2.id)]


def test_tags_and_channels(desk):
    assert run("tags")["tags"] == [{"slug": "billing", "name": "billing", "tickets": 2}]
    channels = run("channels")
    assert channels["total"] == 3
    assert [(c["channel"], c["tickets"]) for c in channels["channels"]] == [
        ("api", 1), ("email", 1), ("web", 1)]


def test_every_report_runs_a_fixed_number_of_queries(desk, app, ext, users, make_more,
                                                     count_queries):
    def counts():
        out = {}
        for name in reports.REPORTS:
            ext.session.expire_all()
            with app.app_context(), count_queries() as q:  # a fresh `g`: no cached statuses
                reports.run(name, reports.Params(**MARCH))
            out[name] = q.count
        return out

    before = counts()
    make_more(6)
    after = counts()
    assert before == after
    assert max(after.values()) <= 8, after


def test_the_period_is_validated(app, users, clock):
    with pytest.raises(ValidationError) as err:
        reports.run("volume", reports.Params(first=date(2026, 3, 5), last=date(2026, 3, 1)))
    assert "from" in err.value.fields
    with pytest.raises(ValidationError) as err:
        reports.run("volume", reports.Params(first=date(2024, 1, 1), last=date(2026, 1, 1)))
    assert "to" in err.value.fields


def test_default_period_is_the_last_30_days_in_the_desk_zone(app, ext, users, clock):
    clock.current = datetime(2026, 3, 2, 23, 30, tzinfo=timezone.utc)
    data = reports.run("channels", reports.Params()).data
    assert (data["from"], data["to"], data["timezone"]) == ("2026-02-01", "2026-03-02", "UTC")
    assert len(reports.run("volume", reports.Params()).data["days"]) == 30
    with ext.unit_of_work():
        sla_admin.create_schedule(Actor.system(), {
            "name": "Tokyo", "timezone": "Asia/Tokyo", "is_default": True,
            "hours": {"monday": [{"start": "09:00", "end": "17:00"}]}})
    data = reports.run("channels", reports.Params()).data  # already 3 March in Tokyo
    assert (data["from"], data["to"], data["timezone"]) == ("2026-02-02", "2026-03-03",
                                                            "Asia/Tokyo")
    data = reports.run("channels", reports.Params(first=date(2026, 1, 1))).data
    assert (data["from"], data["to"]) == ("2026-01-01", "2026-01-30")


def test_dst_offsets_bucket_both_sides_of_the_change():
    window = Window(date(2026, 3, 28), date(2026, 3, 30), bh.zone("Europe/Berlin"))
    end = window.end
    segments = window.offsets(end)
    assert [off for _, off in segments] == [3600, 7200]
    assert segments[1][0] == datetime(2026, 3, 29, 1, 0, tzinfo=timezone.utc)
    assert window.end == datetime(2026, 3, 30, 22, 0, tzinfo=timezone.utc)
