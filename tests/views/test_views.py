"""Saved views: who sees which, counts in one statement, stale filters, keyset paging,
filters refused at save."""

from __future__ import annotations

import pytest

from flask_escalated.events import Actor
from flask_escalated.services import departments, tags

pytestmark = pytest.mark.all_databases


def _ids(response):
    assert response.status_code == 200, response.get_data(True)
    return [row["id"] for row in response.get_json()["data"]]


def _save(api, who, **body):
    r = api(who).post("/views", json={"name": "V", **body})
    assert r.status_code == 201, r.get_data(True)
    return r.get_json()["data"]["id"]


def test_personal_shared_and_department_views(api, users, ext):
    with ext.unit_of_work():
        billing = departments.create_department(
            Actor.system(), {"name": "Billing", "agent_ids": [str(users.agent.id)]}
        )
    mine = _save(api, users.agent, filters={"priority": "urgent"})
    everyone = _save(api, users.admin, shared=True)
    scoped = _save(api, users.admin, shared=True, department_ids=[billing.id])
    assert set(_ids(api(users.agent).get("/views"))) == {mine, everyone, scoped}
    other = set(_ids(api(users.agent2).get("/views")))
    assert other == {everyone}
    assert api(users.agent2).get(f"/views/{mine}").status_code == 404
    assert api(users.agent2).get(f"/views/{scoped}/tickets").status_code == 404
    # Sharing and changing shared views needs view.manage.
    r = api(users.agent).post("/views", json={"name": "S", "shared": True})
    assert r.status_code == 403
    assert api(users.agent).patch(f"/views/{everyone}", json={"name": "x"}).status_code == 403
    assert api(users.agent).patch(f"/views/{mine}", json={"name": "Mine"}).status_code == 200
    assert api(users.customer).post("/views", json={"name": "c"}).status_code == 403
    assert api(users.agent).delete(f"/views/{mine}").status_code == 204
    assert mine not in _ids(api(users.agent).get("/views"))


@pytest.mark.parametrize(
    ("filters", "field"),
    [
        ({"priority": "burning"}, "filters.priority"),
        ({"colour": "red"}, "filters.colour"),
        ({"department_id": "x"}, "filters.department_id"),
        ({"created_after": "yesterday"}, "filters.created_after"),
        ({"cf.nothing": "1"}, "filters.cf.nothing"),
        ({"limit": "5"}, "filters.limit"),
        ({"assignee": "zzz"}, "filters.assignee"),
    ],
)
def test_bad_filters_are_refused_at_save(api, users, filters, field):
    r = api(users.agent).post("/views", json={"name": "Bad", "filters": filters})
    assert r.status_code == 422, r.get_data(True)
    assert field in r.get_json()["error"]["fields"]


def test_relevance_sort_needs_a_search(api, users):
    r = api(users.agent).post("/views", json={"name": "R", "sort": "-relevance"})
    assert r.status_code == 422 and "sort" in r.get_json()["error"]["fields"]


@pytest.mark.parametrize("how_many", [1, 10])
def test_counts_in_one_statement(api, users, ticket_of, count_queries, how_many):
    for priority in ("urgent", "low", "urgent"):
        ticket_of(priority=priority)
    made = [
        _save(
            api,
            users.agent,
            name=f"V{i}",
            filters={"priority": "urgent"} if i % 2 == 0 else {"q": "printer"},
        )
        for i in range(how_many)
    ]
    client = api(users.agent)
    client.get("/views/counts")  # warm the session's lookups
    with count_queries() as q:
        r = client.get("/views/counts")
    assert r.status_code == 200
    counts = {row["id"]: row["count"] for row in r.get_json()["data"]}
    assert counts == {v: (2 if i % 2 == 0 else 3) for i, v in enumerate(made)}
    over_tickets = [
        s for s in q.statements if "escalated_tickets" in s and "escalated_saved_views" not in s
    ]
    assert len(over_tickets) == 1, over_tickets


def test_counts_statement_count_does_not_grow(api, users, ticket_of, count_queries):
    ticket_of()
    _save(api, users.agent, filters={"tag": "vip", "priority": "urgent"})
    client = api(users.agent)
    with count_queries() as one:
        client.get("/views/counts")
    for i in range(9):
        _save(api, users.agent, name=f"V{i}", filters={"tag": "vip", "assignee": "none"})
    with count_queries() as ten:
        client.get("/views/counts")
    assert ten.count == one.count


def test_stale_tag_still_loads_and_is_ignored(api, users, ext, ticket_of):
    ticket_of(priority="urgent", tags=["gone"])
    ticket_of(priority="urgent")
    ticket_of(priority="low")
    view = _save(api, users.agent, filters={"tag": "gone", "priority": "urgent"})
    assert len(_ids(api(users.agent).get(f"/views/{view}/tickets"))) == 1
    with ext.unit_of_work():
        tag = tags.get_by_slug("gone") if hasattr(tags, "get_by_slug") else None
        if tag is None:
            from sqlalchemy import select

            from flask_escalated.models import Tag
            from flask_escalated.services import session

            tag = session().execute(select(Tag).where(Tag.slug == "gone")).scalar_one()
        from flask_escalated.services import session

        session().delete(tag)
    data = api(users.agent).get(f"/views/{view}").get_json()["data"]
    assert data["stale"] == ["tag=gone"]
    assert len(_ids(api(users.agent).get(f"/views/{view}/tickets"))) == 2
    counts = api(users.agent).get("/views/counts").get_json()["data"]
    assert {"id": view, "count": 2} in counts


def test_a_former_agent_as_assignee_is_stale(api, users, ext, ticket_of):
    from flask_escalated.events import Actor
    from flask_escalated.services import agents

    ticket_of(priority="urgent")
    view = _save(api, users.agent, filters={"assignee": str(users.agent2.id),
                                            "priority": "urgent"})
    assert _ids(api(users.agent).get(f"/views/{view}/tickets")) == []
    with ext.unit_of_work():
        agents.remove_agent(Actor.system(), str(users.agent2.id))
    data = api(users.agent).get(f"/views/{view}").get_json()["data"]
    assert data["stale"] == [f"assignee={users.agent2.id}"]
    assert len(_ids(api(users.agent).get(f"/views/{view}/tickets"))) == 1
    assert {"id": view, "count": 1} in api(users.agent).get("/views/counts").get_json()["data"]


def test_paging_without_gaps(api, users, ticket_of):
    made = {ticket_of(priority="high") for _ in range(7)}
    ticket_of(priority="low")
    view = _save(api, users.agent, filters={"priority": ["high"]}, sort="id")
    seen, cursor = [], None
    while True:
        r = api(users.agent).get(
            f"/views/{view}/tickets",
            query_string={"limit": 3, **({"cursor": cursor} if cursor else {})},
        )
        page = r.get_json()
        seen += [t["id"] for t in page["data"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert seen == sorted(made)


def test_default_view_per_agent(api, users):
    first = _save(api, users.agent, name="A")
    second = _save(api, users.agent, name="B")
    r = api(users.agent).post(f"/views/{second}/default", json={})
    assert r.status_code == 200 and r.get_json()["data"]["is_default"] is True
    listed = {v["id"]: v["is_default"] for v in api(users.agent).get("/views").get_json()["data"]}
    assert listed == {first: False, second: True}
    assert api(users.agent2).post(f"/views/{second}/default", json={}).status_code == 404


def test_queue_lists_views_with_counts_and_applies_one(
    app, api, users, ticket_of, client_as, count_queries
):
    ticket_of(priority="urgent", subject="Urgent thing")
    ticket_of(priority="low", subject="Calm thing")
    view = _save(api, users.agent, name="Only urgent", filters={"priority": "urgent"})
    _save(api, users.agent, name="Everything", filters={})
    web = client_as(users.agent)
    page = web.get("/support/agent/tickets")
    html = page.get_data(True)
    assert page.status_code == 200 and "Only urgent" in html and "Everything" in html
    page = web.get(f"/support/agent/tickets?view={view}")
    html = page.get_data(True)
    assert page.status_code == 200 and "Urgent thing" in html and "Calm thing" not in html
    # The default view opens when the queue is opened without filters.
    assert api(users.agent).post(f"/views/{view}/default", json={}).status_code == 200
    html = web.get("/support/agent/tickets").get_data(True)
    assert "Urgent thing" in html and "Calm thing" not in html
    assert "Calm thing" in web.get("/support/agent/tickets?status=any").get_data(True)
    assert web.get("/support/agent/tickets?view=999999").status_code == 404


def test_save_as_view_from_the_queue(app, api, users, ticket_of, client_as):
    ticket_of(priority="urgent", subject="Urgent thing")
    ticket_of(priority="low", subject="Calm thing")
    web = client_as(users.agent)
    html = web.get("/support/agent/tickets?priority=urgent").get_data(True)
    assert "Save as view" in html and 'name="shared"' not in html  # sharing needs view.manage
    with web.session_transaction() as s:
        token = s.get("_escalated_csrf") or s.get("csrf_token")
    r = web.post(
        "/support/agent/tickets/views",
        data={"name": "Urgent ones", "priority": "urgent", "csrf_token": token},
    )
    assert r.status_code == 303, r.get_data(True)[:300]
    saved = api(users.agent).get("/views").get_json()["data"]
    assert [(v["name"], v["filters"]["priority"]) for v in saved] == [("Urgent ones", ["urgent"])]
