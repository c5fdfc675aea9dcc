"""Who sees and changes which canned response: personal ones are their author's, shared ones
need canned.manage to change, and a shared one with a department is offered to its members."""

from __future__ import annotations

import pytest

from flask_escalated.events import Actor
from flask_escalated.services import departments

pytestmark = pytest.mark.all_databases


def _ids(response):
    assert response.status_code == 200, response.get_data(True)[:300]
    return [row["id"] for row in response.get_json()["data"]]


def test_personal_responses_are_their_authors(api, users, make_canned):
    mine = make_canned("agent", title="Mine", shared=False)
    assert mine in _ids(api(users.agent).get("/canned-responses"))
    for stranger in (users.agent2, users.admin):
        assert mine not in _ids(api(stranger).get("/canned-responses"))
        assert api(stranger).get(f"/canned-responses/{mine}").status_code == 404
        assert api(stranger).patch(f"/canned-responses/{mine}",
                                   json={"title": "Taken"}).status_code == 404
        assert api(stranger).delete(f"/canned-responses/{mine}").status_code == 404
    r = api(users.agent).patch(f"/canned-responses/{mine}", json={"title": "Still mine"})
    assert r.status_code == 200 and r.get_json()["data"]["title"] == "Still mine"
    assert api(users.agent).delete(f"/canned-responses/{mine}").status_code == 204


def test_shared_responses_need_canned_manage(api, users, make_canned):
    r = api(users.agent).post("/canned-responses",
                              json={"title": "For all", "body": "x", "shared": True})
    assert r.status_code == 403 and "canned.manage" in r.get_json()["error"]["message"]
    shared = make_canned("admin", title="House style", shared=True)
    assert shared in _ids(api(users.agent).get("/canned-responses"))
    assert shared in _ids(api(users.light).get("/canned-responses"))
    assert api(users.agent).patch(f"/canned-responses/{shared}",
                                  json={"body": "mine now"}).status_code == 403
    assert api(users.agent).delete(f"/canned-responses/{shared}").status_code == 403
    personal = make_canned("agent", title="Mine")
    r = api(users.agent).patch(f"/canned-responses/{personal}", json={"shared": True})
    assert r.status_code == 403
    r = api(users.admin).patch(f"/canned-responses/{shared}", json={"body": "Updated"})
    assert r.status_code == 200 and r.get_json()["data"]["body"] == "Updated"


def test_customers_and_light_agents(api, users, make_canned):
    shared = make_canned("admin", shared=True)
    assert api(users.customer).get("/canned-responses").status_code == 403
    assert api(users.customer).get(f"/canned-responses/{shared}").status_code == 403
    assert api(users.light).post("/canned-responses",
                                 json={"title": "t", "body": "b"}).status_code == 403


def test_department_responses_reach_its_members_only(api, users, ext, make_canned):
    with ext.unit_of_work():
        billing = departments.create_department(Actor.system(), {
            "name": "Billing", "agent_ids": [str(users.agent.id)]})
    scoped = make_canned("admin", title="Refunds", shared=True, department_id=billing.id)
    everyone = make_canned("admin", title="Hello", shared=True)
    assert {scoped, everyone} <= set(_ids(api(users.agent).get("/canned-responses")))
    outsider = _ids(api(users.agent2).get("/canned-responses"))
    assert everyone in outsider and scoped not in outsider
    assert api(users.agent2).get(f"/canned-responses/{scoped}").status_code == 404
    assert scoped in _ids(api(users.admin).get("/canned-responses"))  # the manager sees all


def test_shortcuts_are_unique_per_scope(api, users, make_canned):
    make_canned("agent", title="A", shortcut="hi")
    # Another agent's own, and a shared one, may use the same shortcut.
    assert api(users.agent2).post("/canned-responses", json={
        "title": "B", "body": "b", "shortcut": "hi"}).status_code == 201
    assert api(users.admin).post("/canned-responses", json={
        "title": "C", "body": "c", "shortcut": "/HI", "shared": True}).status_code == 201
    r = api(users.agent).post("/canned-responses", json={"title": "D", "body": "d",
                                                         "shortcut": "Hi"})
    assert r.status_code == 409 and r.get_json()["error"]["fields"] == {"shortcut": "taken"}
    r = api(users.admin).post("/canned-responses", json={"title": "E", "body": "e",
                                                         "shortcut": "hi", "shared": True})
    assert r.status_code == 409


def test_changes_are_audited_and_signalled(api, users, ext, signal_log):
    from sqlalchemy import select

    from flask_escalated.models import AuditLog

    r = api(users.agent).post("/canned-responses", json={"title": "T", "body": "b"})
    ident = r.get_json()["data"]["id"]
    api(users.agent).patch(f"/canned-responses/{ident}", json={"title": "T2"})
    api(users.agent).delete(f"/canned-responses/{ident}")
    ext.session.rollback()
    actions = [a.action for a in ext.session.execute(
        select(AuditLog).where(AuditLog.entity_type == "canned_response")
        .order_by(AuditLog.id)).scalars()]
    assert actions == ["canned_response.created", "canned_response.updated",
                       "canned_response.deleted"]
    names = [s.name for s in signal_log if s.name.startswith("canned_")]
    assert names == ["canned_created", "canned_updated", "canned_deleted"]
    updated = next(s for s in signal_log if s.name == "canned_updated")
    assert updated.kwargs["changes"] == {"title": {"old": "T", "new": "T2"}}
