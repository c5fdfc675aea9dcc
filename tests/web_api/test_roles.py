"""Custom roles, role grants per department, and what they let an agent see and do."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from flask_escalated.events import Actor
from flask_escalated.models import AuditLog
from flask_escalated.services import departments, roles, tokens


def test_custom_roles_are_validated_and_audited(api, users, ext):
    admin = api(users.admin)
    r = admin.post("/roles", {"slug": "triage", "name": "Triage",
                              "permissions": ["ticket.view", "ticket.assign", "tag.*"]})
    assert r.status_code == 201, r.json
    assert set(r.json["data"]["effective_permissions"]) == {
        "ticket.view", "ticket.assign", "tag.view", "tag.manage"}
    assert admin.post("/roles", {"slug": "triage", "name": "Again",
                                 "permissions": ["ticket.view"]}).status_code == 409
    bad = admin.post("/roles", {"slug": "agent", "name": "x", "permissions": ["ticket.nope"]})
    assert bad.status_code == 422
    assert set(bad.json["error"]["fields"]) == {"slug", "permissions"}
    assert admin.post("/roles", {"slug": "x y", "name": "", "permissions": []}).status_code == 422
    assert admin.patch("/roles/agent", {"name": "Mine"}).status_code == 409
    assert admin.delete("/roles/admin").status_code == 409
    assert admin.get("/roles/nope").status_code == 404

    assert admin.put(f"/agents/{users.agent2.id}/roles", {"role": "triage"}).status_code == 200
    in_use = admin.delete("/roles/triage")
    assert in_use.status_code == 409 and "held" in in_use.json["error"]["message"]
    assert admin.patch("/roles/triage", {"permissions": ["ticket.view"]}).status_code == 200
    assert admin.put(f"/agents/{users.agent2.id}/roles", {"role": "agent"}).status_code == 200
    assert admin.delete("/roles/triage").status_code == 204

    ext.session.rollback()  # a fresh snapshot (MariaDB reads are repeatable)
    actions = [(a.action, a.entity_id) for a in ext.session.execute(
        select(AuditLog).where(AuditLog.entity_type.in_(["role", "agent"]))
        .order_by(AuditLog.id)).scalars()]
    assert ("role.created", "triage") in actions and ("role.deleted", "triage") in actions
    changed = ext.session.execute(select(AuditLog).where(
        AuditLog.action == "agent.roles_changed").order_by(AuditLog.id)).scalars().first()
    assert changed.old_values["role"] == "agent" and changed.new_values["role"] == "triage"
    assert changed.actor_user_id == str(users.admin.id) and changed.ip_address


def test_grants_are_validated(api, users):
    admin = api(users.admin)
    path = f"/agents/{users.agent2.id}/roles"
    for grants in ([{"role": "ghost"}], [{"role": "agent", "department_id": 999999}],
                   [{"role": "agent", "department_id": "1"}], [{}], "agent"):
        r = admin.put(path, {"grants": grants})
        assert r.status_code == 422, (grants, r.json)
    assert admin.put(f"/agents/{users.customer.id}/roles", {"role": "agent"}).status_code == 404
    assert admin.get(f"/agents/{users.customer.id}/roles").status_code == 404


@pytest.mark.all_databases
def test_department_grants_scope_what_an_agent_sees_and_does(app, api, users, ext, make_ticket):
    with ext.unit_of_work():
        billing = departments.create_department(Actor.system(), {"name": "Billing"}).id
        sales = departments.create_department(Actor.system(), {"name": "Sales"}).id
        roles.create_role(Actor.system(), {"slug": "nobody", "name": "Nobody",
                                           "permissions": ["kb.view"]})
    in_billing = make_ticket(department_id=billing)
    in_sales = make_ticket(department_id=sales)
    nowhere = make_ticket()
    admin = api(users.admin)
    r = admin.put(f"/agents/{users.agent2.id}/roles", {
        "role": "nobody", "grants": [{"role": "agent", "department_id": billing}]})
    assert r.status_code == 200, r.json
    assert "ticket.edit" in r.json["data"]["permissions"][str(billing)]
    assert "ticket.view" not in r.json["data"]["permissions"]["*"]

    scoped = api(users.agent2)
    listed = [t["id"] for t in scoped.get("/tickets").json["data"]]
    assert listed == [in_billing]
    assert scoped.get(f"/tickets/{in_sales}").status_code == 404
    assert scoped.get(f"/tickets/{nowhere}").status_code == 404
    assert scoped.patch(f"/tickets/{in_billing}", {"subject": "Billing fix"}).status_code == 200
    assert scoped.post("/tickets", {"subject": "s", "description": "d"}).status_code == 403
    assert scoped.post("/tickets", {"subject": "s", "description": "d",
                                    "department_id": billing}).status_code == 201
    assert scoped.post("/tags", {"name": "x"}).status_code == 403
    me = scoped.get("/me").json["data"]
    assert "ticket.view" in me["department_permissions"][str(billing)]

    # A token narrows department permissions as it narrows the rest.
    with ext.unit_of_work():
        _, plain = tokens.create_token(str(users.agent2.id), "ro", ["tickets:read"],
                                       Actor.system())
    client = app.test_client()
    headers = {"Authorization": f"Bearer {plain}"}
    assert client.get(f"/support/api/v1/tickets/{in_billing}", headers=headers).status_code == 200
    assert client.patch(f"/support/api/v1/tickets/{in_billing}", json={"subject": "no"},
                        headers=headers).status_code == 403

    # A global grant lifts the scope; deleting the department drops its grants.
    admin.put(f"/agents/{users.agent2.id}/roles", {
        "grants": [{"role": "light_agent"}, {"role": "agent", "department_id": billing}]})
    assert {t["id"] for t in scoped.get("/tickets").json["data"]} == {
        in_billing, in_sales, nowhere, *[t["id"] for t in admin.get("/tickets").json["data"]]}
    assert admin.delete(f"/departments/{billing}").status_code == 204
    left = admin.get(f"/agents/{users.agent2.id}/roles").json["data"]["grants"]
    assert left == [{"role": "light_agent", "department_id": None}]


def test_catalogue_lists_every_group(api, users):
    data = api(users.admin).get("/permissions").json["data"]
    assert "ticket.delete" in data["groups"]["ticket"]
    assert "tickets:read" in data["abilities"]
