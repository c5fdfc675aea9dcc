"""The queue: filters, sorting, keyset pages, bulk actions and a flat query count."""

from __future__ import annotations

import re

import pytest

from flask_escalated.events import Actor
from flask_escalated.services import assignment, departments, sla_admin, tags, tickets

from .conftest import XSS

pytestmark = pytest.mark.all_databases

Q = "/support/agent/tickets"


def ids_on(html: str) -> list[int]:
    return [int(i) for i in re.findall(r'<tr data-ticket-id="(\d+)"', html)]


def next_link(html: str) -> str | None:
    match = re.search(r'<a href="([^"]+)" rel="next">', html)
    return match.group(1).replace("&amp;", "&") if match else None


def test_filters(browser, users, make_ticket, ext):
    system = Actor.system()
    with ext.unit_of_work():
        dept = departments.create_department(system, {"name": "Billing"})
    a = make_ticket(subject="Invoice wrong", priority="high", department_id=dept.id,
                    tags=["billing"])
    b = make_ticket(subject="Login broken", priority="low")
    c = make_ticket(subject="Closed one")
    with ext.unit_of_work():
        assignment.assign(tickets.get_ticket(b.id), str(users.agent.id), system)
        tickets.change_status(tickets.get_ticket(c.id), "closed", system)
    br = browser(users.agent)
    assert set(ids_on(br.get(Q))) == {a.id, b.id}  # open ones by default
    assert set(ids_on(br.get(Q + "?status=any"))) == {a.id, b.id, c.id}
    assert ids_on(br.get(Q + "?status=closed")) == [c.id]
    assert ids_on(br.get(Q + "?priority=high")) == [a.id]
    assert ids_on(br.get(Q + "?assignee=me")) == [b.id]
    assert ids_on(br.get(Q + "?assignee=none")) == [a.id]
    assert ids_on(br.get(Q + f"?assignee={users.agent.id}")) == [b.id]
    assert ids_on(br.get(Q + f"?department={dept.id}")) == [a.id]
    assert ids_on(br.get(Q + "?department=none")) == [b.id]
    assert ids_on(br.get(Q + "?tag=billing")) == [a.id]
    assert ids_on(br.get(Q + "?q=login")) == [b.id]
    assert ids_on(br.get(Q + f"?q={a.reference}")) == [a.id]
    assert ids_on(br.get(Q + "?tag=nope")) == []
    # Agents only ever see the agent view of everyone's tickets, not just theirs.
    assert set(ids_on(browser(users.admin).get(Q))) == {a.id, b.id}


def test_bad_filters_are_422_not_500(browser, users):
    br = browser(users.agent)
    for query in ("status=bogus", "priority=extreme", "sla=late", "sort=subject",
                  "department=abc", "cursor=forged", "q=" + "x" * 300, "assignee=zzz",
                  f"assignee={users.customer.id}"):
        html = br.get(f"{Q}?{query}", status=422)
        assert "esc-flash-error" in html, query


def test_an_assignee_filter_names_me_none_or_an_agent(browser, users, make_ticket, ext):
    from flask_escalated.services import agents

    t = make_ticket()
    with ext.unit_of_work():
        assignment.assign(tickets.get_ticket(t.id), str(users.agent2.id), Actor.system())
    br = browser(users.agent)
    html = br.get(f"{Q}?assignee=zzz", status=422)
    assert ("The filters are not valid: assignee must be me, none, unrouted or an agent&#39;s "
            "user id.") in html
    assert ids_on(br.get(f"{Q}?assignee={users.agent2.id}")) == [t.id]
    assert ids_on(br.get(f"{Q}?assignee={users.light.id}")) == []  # an agent with none
    assert ids_on(br.get(f"{Q}?assignee=unrouted")) == []
    # A former agent's tickets can still be found, to hand them on.
    with ext.unit_of_work():
        agents.remove_agent(Actor.system(), str(users.agent2.id))
    assert ids_on(br.get(f"{Q}?assignee={users.agent2.id}")) == [t.id]


def test_sla_filter(browser, users, make_ticket, ext, clock):
    with ext.unit_of_work():
        sla_admin.create_policy(Actor.system(), {
            "name": "Fast", "targets": {"medium": {"first_response": 60}},
            "warning_minutes": 30})
    late = make_ticket(subject="late")
    clock.advance(minutes=10)
    soon = make_ticket(subject="soon")
    clock.advance(minutes=40)
    fine = make_ticket(subject="fine")
    paused = make_ticket(subject="paused")
    with ext.unit_of_work():
        tickets.change_status(tickets.get_ticket(paused.id), "waiting_on_customer",
                              Actor.system())
    clock.advance(minutes=15)  # t0 + 65 min
    br = browser(users.agent)
    assert ids_on(br.get(Q + "?sla=breached")) == [late.id]
    assert ids_on(br.get(Q + "?sla=warning")) == [soon.id]
    assert ids_on(br.get(Q + "?sla=ok")) == [fine.id]
    assert ids_on(br.get(Q + "?sla=paused")) == [paused.id]
    html = br.get(Q)
    for label in ("Breached", "Due soon", "On track", "Paused"):
        assert f">{label}</span>" in html
    dash = br.get("/support/agent")
    panel = dash[dash.index('data-live-region="dashboard-sla"'):]
    panel = panel[:panel.index("</section>")]
    assert "late" in panel and "soon" in panel and "fine" not in panel


def test_keyset_pages_and_sorting(browser, users, make_ticket, clock):
    made = []
    for i in range(53):
        made.append(make_ticket(subject=f"T{i}", priority=("low", "high")[i % 2]).id)
        clock.advance(seconds=1)
    br = browser(users.agent)
    first = ids_on(br.get(Q))
    assert len(first) == 50
    assert first == sorted(made, reverse=True)[:50]  # newest update first
    assert "First page" not in br.html
    second = ids_on(br.get(next_link(br.html)))
    assert second == sorted(made, reverse=True)[50:]
    assert next_link(br.html) is None and "First page" in br.html
    # Sorting by priority, ascending then descending; the sort survives paging.
    by_priority = ids_on(br.get(Q + "?sort=priority"))
    assert 'aria-sort="ascending"' in br.html
    lows = [t for t in made if made.index(t) % 2 == 0]
    assert by_priority[:len(lows)] == sorted(lows)
    link = next_link(br.html)
    assert "sort=priority" in link
    rest = ids_on(br.get(link))
    assert len(by_priority) + len(rest) == 53 and not set(by_priority) & set(rest)
    assert ids_on(br.get(Q + "?sort=-priority"))[0] in {t for t in made if t not in lows}
    # The column header toggles the direction.
    assert 'href="/support/agent/tickets?sort=-priority"' in br.get(Q + "?sort=priority")


def test_query_count_is_flat(browser, users, make_ticket, ext, count_queries):
    def populate(n: int) -> None:
        with ext.unit_of_work():
            dept = departments.create_department(Actor.system(), {"name": f"D{n}"})
        for i in range(n):
            t = make_ticket(requester=(users.customer, users.other)[i % 2],
                            department_id=dept.id, tags=[f"t{i % 3}", "all"])
            if i % 2:
                with ext.unit_of_work():
                    assignment.assign(tickets.get_ticket(t.id),
                                      str((users.agent, users.agent2)[i % 4 // 2].id),
                                      Actor.system())

    populate(3)
    br = browser(users.agent)
    br.get(Q)  # warm up (the session's CSRF token, caches)
    counts = {}
    for url in (Q, Q + "?tag=all", "/support/agent"):
        with count_queries() as small:
            br.get(url)
        counts[url] = small.count
    populate(20)
    for url, before in counts.items():
        with count_queries() as large:
            br.get(url)
        assert large.count == before, (url, before, large.statements)
        assert large.count <= 20, url
    assert len(ids_on(br.get(Q))) == 23


def _bulk(br, ids, action, **fields):
    br.get(Q)
    return br.post(Q + "/bulk", {"ids": [str(i) for i in ids], "action": action,
                                 "back": Q + "?status=any", **fields})


def test_bulk_actions(browser, users, make_ticket, ext, fresh):
    with ext.unit_of_work():
        dept = departments.create_department(Actor.system(), {"name": "Ops"})
    a, b = make_ticket(), make_ticket()
    br = browser(users.agent)
    r = _bulk(br, [a.id, b.id], "assign", assignee=str(users.agent2.id))
    assert r.status_code == 303 and r.headers["Location"] == Q + "?status=any"
    html = br.get(r.headers["Location"])
    assert "Updated 2 tickets." in html
    r = _bulk(br, [a.id, b.id], "priority", priority="urgent")
    _bulk(br, [a.id], "add_tag", tag="vip")
    _bulk(br, [a.id, b.id], "department", department_id=str(dept.id))
    _bulk(br, [b.id], "assign", assignee="me")
    _bulk(br, [a.id], "status", status="resolved")
    ta, tb = fresh(a.id), fresh(b.id)
    assert ta.assignee_id == str(users.agent2.id) and tb.assignee_id == str(users.agent.id)
    assert ta.priority == tb.priority == "urgent"
    assert [t.slug for t in ta.tags] == ["vip"] and tb.tags == []
    assert ta.department_id == tb.department_id == dept.id
    assert ta.status == "resolved"
    _bulk(br, [a.id, b.id], "assign", assignee="none")
    _bulk(br, [a.id, b.id], "department", department_id="")
    assert fresh(a.id).assignee_id is None
    assert fresh(b.id).department_id is None


def test_bulk_merge_from_the_queue(browser, users, make_ticket, fresh):
    target, a, b = make_ticket(), make_ticket(), make_ticket()
    br = browser(users.agent)
    assert 'name="into"' in br.get(Q)
    r = _bulk(br, [a.id, b.id], "merge", into=target.reference)
    assert f"Merged into {target.reference}: 2 tickets." in br.get(r.headers["Location"])
    assert fresh(a.id).merged_into_id == fresh(b.id).merged_into_id == target.id


def test_bulk_reports_each_failure_and_keeps_the_rest(browser, users, make_ticket, ext,
                                                      fresh):
    a, b, c = make_ticket(), make_ticket(), make_ticket()
    with ext.unit_of_work():
        tickets.change_status(tickets.get_ticket(b.id), "closed", Actor.system())
    br = browser(users.agent)
    r = _bulk(br, [a.id, b.id, c.id, 987654], "status", status="escalated")
    html = br.get(r.headers["Location"])
    assert "Updated 2 tickets." in html
    assert f"{b.reference} was not changed: A ticket cannot move from" in html
    assert "#987654 was not changed: No such ticket." in html
    assert fresh(a.id).status == "escalated"
    assert fresh(b.id).status == "closed"
    assert fresh(c.id).status == "escalated"
    # A light agent may not assign: every ticket fails, nothing changes.
    light = browser(users.light)
    r = _bulk(light, [a.id], "assign", assignee="me")
    assert "You need the &#39;ticket.assign&#39; permission" in light.get(r.headers["Location"])
    assert fresh(a.id).assignee_id is None


def test_bulk_select_all_on_page_and_bad_input(browser, users, make_ticket, fresh):
    a, b = make_ticket(), make_ticket()
    br = browser(users.agent)
    br.get(Q)
    r = br.post(Q + "/bulk", {"all_on_page": "1", "page_ids": [str(a.id), str(b.id)],
                              "action": "priority", "priority": "high"})
    assert r.status_code == 303
    assert {fresh(i).priority for i in (a.id, b.id)} == {"high"}
    # A value the form's schema refuses is the 422 page naming the field (as the API does).
    for data, field in (({"ids": ["x1"], "action": "priority"}, "ids[0]"),
                        ({"ids": [str(a.id)], "action": "explode"}, "action"),
                        ({"ids": [str(a.id)], "action": "assign", "assignee": "x" * 65},
                         "assignee"),
                        ({"ids": [str(a.id)], "action": "priority", "colour": "red"},
                         "Unknown field(s): colour")):
        br.get(Q)
        r = br.post(Q + "/bulk", {**data, "back": Q})
        assert r.status_code == 422 and field in r.get_data(as_text=True), data
    assert {fresh(i).priority for i in (a.id, b.id)} == {"high"}
    # What only the service can judge is a message on the queue.
    for data, message in (({"action": "priority", "priority": "high"}, "Select at least one"),
                          ({"ids": [str(a.id)], "action": "status", "status": "nope"},
                           "Unknown status"),
                          ({"ids": [str(a.id)], "action": "add_tag", "tag": " "},
                           "Name the tag"),
                          ({"ids": [str(i) for i in range(1, 150)], "action": "priority",
                            "priority": "low"}, "at most 100")):
        br.get(Q)
        r = br.post(Q + "/bulk", {**data, "back": "https://evil.example/x"})
        assert r.status_code == 303 and r.headers["Location"] == Q, data
        assert message in br.get(Q), data


def test_queue_escapes_everything(browser, users, make_ticket, ext):
    t = make_ticket(subject=XSS, tags=[XSS])
    with ext.unit_of_work():
        departments.create_department(Actor.system(), {"name": XSS})
        tags.ensure_tags(["<b>bold</b>"])
    br = browser(users.agent)
    for url in (Q, Q + "?q=" + XSS, "/support/agent"):
        html = br.get(url)
        assert XSS not in html and "<b>bold" not in html
    assert "&lt;script&gt;" in br.get(Q)
    assert f'data-ticket-id="{t.id}"' in br.html
