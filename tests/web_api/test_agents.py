"""Agents through the API and their service: making a host user an agent, changing roles,
departments and load limit, taking access away (never the host user), and who may do it."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from flask_escalated.events import Actor
from flask_escalated.models import AgentProfile, AuditLog, DepartmentMember, RoleGrant
from flask_escalated.services import agents, departments, roles
from flask_escalated.services.errors import Conflict, NotFound, ValidationError

from ..hosts import intid

pytestmark = pytest.mark.all_databases


def _audit(ext, action):
    ext.session.rollback()  # MariaDB: read what the requests committed
    return list(ext.session.execute(
        select(AuditLog).where(AuditLog.action == action).order_by(AuditLog.id)).scalars())


def test_an_admin_makes_a_host_user_an_agent_by_email_and_by_id(api, users, ext):
    admin = api(users.admin)
    with ext.unit_of_work():
        dept = departments.create_department(Actor.system(), {"name": "Billing"})
        roles.create_role(Actor.system(), {"slug": "billing", "name": "Billing",
                                           "permissions": ["report.view"]})
    r = admin.post("/agents", {"user": "other@example.test", "roles": ["billing"],
                               "department_ids": [dept.id], "max_open_tickets": 12})
    assert r.status_code == 201, r.json
    data = r.json["data"]
    assert (data["user_id"], data["name"], data["email"]) == (
        str(users.other.id), "Oscar Other", "other@example.test")
    assert (data["role"], data["roles"], data["department_ids"], data["max_open_tickets"]) == (
        "agent", ["billing"], [dept.id], 12)
    (row,) = _audit(ext, "agent.created")
    assert row.entity_id == str(users.other.id) and row.new_values["roles"] == ["billing"]
    assert row.actor_user_id == str(users.admin.id)

    by_id = admin.post("/agents", {"user": str(users.customer.id)})
    assert by_id.status_code == 201 and by_id.json["data"]["role"] == "agent"
    assert admin.get(f"/agents/{users.customer.id}").json["data"]["email"] == (
        "customer@example.test")
    again = admin.post("/agents", {"user": "other@example.test"})
    assert again.status_code == 409 and again.json["error"]["fields"] == {
        "user": "already an agent"}


@pytest.mark.parametrize(("body", "field"), [
    ({"user": "nobody@example.test"}, "user"),
    ({"user": "424242"}, "user"),
    ({"user": "other@example.test", "role": "ghost"}, "role"),
    ({"user": "other@example.test", "roles": ["ghost"]}, "roles"),
    ({"user": "other@example.test", "department_ids": [999999]}, "department_ids"),
    ({"user": "other@example.test", "max_open_tickets": 0}, "max_open_tickets"),
    ({"user": "other@example.test", "skills": []}, "skills"),
])
def test_a_refused_agent_names_the_field_and_creates_nothing(api, users, ext, body, field):
    r = api(users.admin).post("/agents", body)
    assert r.status_code == 422, r.json
    assert field in r.json["error"]["fields"], r.json
    ext.session.rollback()
    assert ext.session.execute(select(AgentProfile).where(
        AgentProfile.user_id == str(users.other.id))).first() is None


def test_patch_changes_only_what_was_sent_and_keeps_department_grants(api, users, ext):
    admin = api(users.admin)
    uid = str(users.agent2.id)
    with ext.unit_of_work():
        dept = departments.create_department(Actor.system(), {"name": "Ops"})
        roles.create_role(Actor.system(), {"slug": "lead", "name": "Lead",
                                           "permissions": ["report.view"]})
        roles.set_agent_roles(Actor.system(), uid,
                              grants=[{"role": "lead", "department_id": dept.id}])
    r = admin.patch(f"/agents/{uid}", {"roles": ["lead"], "department_ids": [dept.id],
                                       "max_open_tickets": 3})
    assert r.status_code == 200, r.json
    data = r.json["data"]
    assert data["roles"] == ["lead"] and data["max_open_tickets"] == 3
    assert {"role": "lead", "department_id": dept.id} in data["grants"]
    assert {"role": "lead", "department_id": None} in data["grants"]
    r = admin.patch(f"/agents/{uid}", {"max_open_tickets": None, "role": "light_agent"})
    data = r.json["data"]
    assert (data["max_open_tickets"], data["role"], data["department_ids"]) == (
        None, "light_agent", [dept.id])
    changed = _audit(ext, "agent.updated")[-1]
    assert changed.old_values == {"role": "agent", "max_open_tickets": 3}
    assert changed.new_values == {"role": "light_agent", "max_open_tickets": None}
    assert admin.patch(f"/agents/{users.customer.id}", {"max_open_tickets": 1}).status_code == 404


def test_removing_access_keeps_the_host_user_and_can_be_undone(api, users, ext, client_as):
    admin = api(users.admin)
    uid = str(users.agent2.id)
    with ext.unit_of_work():
        dept = departments.create_department(Actor.system(), {"name": "Ops",
                                                              "agent_ids": [uid]})
    assert admin.delete(f"/agents/{uid}").status_code == 204
    ext.session.rollback()
    assert ext.session.get(intid.User, users.agent2.id) is not None
    profile = ext.session.execute(select(AgentProfile).where(
        AgentProfile.user_id == uid)).scalar_one()
    assert profile.is_active is False
    assert ext.session.execute(select(DepartmentMember).where(
        DepartmentMember.user_id == uid)).first() is None
    assert ext.session.execute(select(RoleGrant).where(RoleGrant.user_id == uid)).first() is None
    assert _audit(ext, "agent.removed")[0].old_values["department_ids"] == [dept.id]
    assert admin.get(f"/agents/{uid}").status_code == 404
    # the former agent is a customer now: the agent API refuses them
    assert api(users.agent2).get("/agents").status_code == 403
    assert admin.post("/agents", {"user": uid}).status_code == 201
    assert api(users.agent2).get("/agents").status_code == 200


def test_admins_cannot_remove_their_own_access(api, users):
    r = api(users.admin).delete(f"/agents/{users.admin.id}")
    assert r.status_code == 409 and "your own" in r.json["error"]["message"]


def test_changing_roles_needs_role_manage_besides_user_manage(api, users, ext):
    with ext.unit_of_work():
        roles.create_role(Actor.system(), {"slug": "people", "name": "People",
                                           "permissions": ["user.view", "user.manage"]})
        agents.make_agent(str(users.agent.id), Actor.system(), role="people")
    people = api(users.agent)
    uid = str(users.agent2.id)
    assert people.patch(f"/agents/{uid}", {"max_open_tickets": 4}).status_code == 200
    refused = people.patch(f"/agents/{uid}", {"role": "admin"})
    assert refused.status_code == 403 and "role.manage" in refused.json["error"]["message"]
    assert people.post("/agents", {"user": "other@example.test", "role": "admin"}
                       ).status_code == 403
    assert people.post("/agents", {"user": "other@example.test"}).status_code == 201


def test_service_refusals(app, users, ext):
    system = Actor.system()
    with ext.unit_of_work():
        with pytest.raises(NotFound):
            agents.get_agent(str(users.customer.id))
        with pytest.raises(ValidationError) as exc:
            agents.create_agent(system, {"user": "   "})
        assert exc.value.fields == {"user": "no user with this e-mail address or id"}
        with pytest.raises(Conflict):
            agents.create_agent(system, {"user": "agent@example.test"})
        with pytest.raises(ValidationError) as exc:
            agents.update_agent(system, str(users.agent.id), {"department_ids": [True]})
        assert "department_ids" in exc.value.fields


def test_a_search_page_walks_the_host_users_in_batches(app, users, ext, monkeypatch,
                                                       count_queries):
    with ext.unit_of_work():
        for i in range(7):
            user = intid.make_user(f"extra{i}@example.test", f"Extra {i}")
            agents.make_agent(str(user.id), Actor.system())
    monkeypatch.setattr(agents, "SEARCH_BATCH", 3)
    with count_queries() as q:
        rows, cursor = agents.page_agents("EXTRA", None, 4)
    assert [u.name for _, u in rows] == ["Extra 0", "Extra 1", "Extra 2", "Extra 3"]
    assert q.count <= 2 * 3  # per batch: the profiles and the host users
    rows, cursor = agents.page_agents("extra", cursor, 4)
    assert [u.name for _, u in rows] == ["Extra 4", "Extra 5", "Extra 6"] and cursor is None
    rows, cursor = agents.page_agents(None, None, 2)
    assert len(rows) == 2 and cursor == rows[-1][0].id
    assert agents.page_agents("@example.test", None, 50)[0][0][1].name == "Ada Admin"


def test_a_former_agent_comes_back_with_what_the_request_says(api, users, ext):
    admin = api(users.admin)
    uid = str(users.agent2.id)
    assert admin.patch(f"/agents/{uid}", {"max_open_tickets": 9, "role": "light_agent"}
                       ).status_code == 200
    assert admin.delete(f"/agents/{uid}").status_code == 204
    data = admin.post("/agents", {"user": "agent2@example.test"}).json["data"]
    assert (data["role"], data["max_open_tickets"], data["roles"]) == ("agent", None, [])
