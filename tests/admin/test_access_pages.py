"""The console's people and lifecycle sections: agents, roles (the permission grid), statuses
and the transition grid. Each change goes through the API's service (audit rows included); a
refused form names the field and keeps the text; built-in rows are locked."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from flask_escalated.events import Actor
from flask_escalated.models import AgentProfile, AuditLog, Role, TicketStatus
from flask_escalated.services import agents, departments, roles, settings, statuses

from ..hosts import intid
from .conftest import db, field_error

pytestmark = pytest.mark.all_databases


def _audit(action: str) -> list[AuditLog]:
    return list(db().execute(select(AuditLog).where(AuditLog.action == action)
                             .order_by(AuditLog.id)).scalars())


def _profile(user_id: object) -> AgentProfile | None:
    return db().execute(select(AgentProfile).where(
        AgentProfile.user_id == str(user_id))).scalar_one_or_none()


# ---------------------------------------------------------------------------- agents
def test_admin_makes_edits_and_removes_an_agent(admin, users, ext):
    with ext.unit_of_work():
        dept = departments.create_department(Actor.system(), {"name": "Billing"})
        roles.create_role(Actor.system(), {"slug": "billing", "name": "Billing lead",
                                           "permissions": ["report.view"]})
    admin.get("/agents/new")
    assert 'name="user"' in admin.html and f'value="{dept.id}"' in admin.html
    r = admin.post("/agents/new", [("user", "other@example.test"), ("role", "agent"),
                                   ("roles", "billing"), ("department_ids", str(dept.id)),
                                   ("max_open_tickets", "7")], status=302)
    uid = str(users.other.id)
    assert r.headers["Location"].endswith(f"/support/admin/agents/{uid}")
    profile = _profile(uid)
    assert (profile.role, profile.max_open_tickets, profile.is_active) == ("agent", 7, True)
    assert agents.agent_values(profile)["roles"] == ["billing"]
    assert agents.department_ids_of(uid) == [dept.id]
    assert _audit("agent.created")[0].actor_user_id == str(users.admin.id)

    admin.get(f"/agents/{uid}")
    assert 'value="7"' in admin.html and "Oscar Other" in admin.html
    # unticking every role and department, emptying the limit: none of them
    admin.post(f"/agents/{uid}", {"role": "light_agent", "max_open_tickets": ""}, status=302)
    profile = _profile(uid)
    assert (profile.role, profile.max_open_tickets) == ("light_agent", None)
    assert agents.agent_values(profile)["roles"] == [] and agents.department_ids_of(uid) == []
    assert _audit("agent.updated")[0].new_values["role"] == "light_agent"

    assert "Oscar Other" in admin.get("/agents")
    admin.get(f"/agents/{uid}/delete")
    assert "account on the site stays" in admin.html
    admin.post(f"/agents/{uid}/delete", {}, status=302)
    assert _profile(uid).is_active is False
    assert db().get(intid.User, users.other.id) is not None
    assert f'/support/admin/agents/{uid}"' not in admin.get("/agents")
    assert _audit("agent.removed")[0].entity_id == uid


def test_the_agent_list_searches_by_name_and_email_and_pages(admin, users, ext,
                                                           monkeypatch, count_queries):
    from flask_escalated.web.admin import crud

    assert "Alex Agent" in admin.get("/agents?q=ALEX")
    assert "Sam Support" not in admin.html
    assert "Sam Support" in admin.get("/agents?q=agent2@")
    assert "No agents match" in admin.get("/agents?q=nobody")
    monkeypatch.setattr(crud, "PAGE_SIZE", 2)
    first = admin.get("/agents")
    assert "Ada Admin" in first and "Lee Light" not in first
    cursor = first.split("cursor=")[1].split('"')[0]
    assert "Lee Light" in admin.get(f"/agents?cursor={cursor}")
    with ext.unit_of_work():
        for i in range(20):
            agents.make_agent(str(intid.make_user(f"x{i}@example.test", f"X {i}").id),
                              Actor.system())
    monkeypatch.setattr(crud, "PAGE_SIZE", 50)
    with count_queries() as few:
        admin.get("/agents")
    with ext.unit_of_work():
        for i in range(20, 40):
            agents.make_agent(str(intid.make_user(f"x{i}@example.test", f"X {i}").id),
                              Actor.system())
    with count_queries() as more:
        admin.get("/agents")
    assert more.count == few.count


@pytest.mark.parametrize(("data", "field", "kept"), [
    ({"user": "nobody <b>@example.test"}, "user", "nobody &lt;b&gt;@example.test"),
    ({"user": "other@example.test", "max_open_tickets": "0"}, "max_open_tickets", 'value="0"'),
    ({"user": "other@example.test", "max_open_tickets": "many"}, "max_open_tickets",
     'value="many"'),
    ({"user": "agent@example.test"}, "user", 'value="agent@example.test"'),
])
def test_a_refused_agent_form_names_the_field_and_keeps_the_text(admin, users, data, field,
                                                                 kept):
    admin.get("/agents/new")
    r = admin.post("/agents/new", data)
    assert r.status_code in (409, 422), r.status_code
    html = r.get_data(as_text=True)
    assert field_error(html, field), html[:2000]
    assert kept in html
    assert _profile(users.other.id) is None


def test_role_inputs_need_role_manage(console, users, ext):
    with ext.unit_of_work():
        roles.create_role(Actor.system(), {"slug": "people", "name": "People",
                                           "permissions": ["user.manage"]})
        agents.make_agent(str(users.agent.id), Actor.system(), role="people")
    page = console(users.agent)
    page.get(f"/agents/{users.agent2.id}")
    assert 'name="max_open_tickets"' in page.html and 'name="role"' not in page.html
    r = page.post(f"/agents/{users.agent2.id}", {"role": "admin"}, status=403)
    assert "role.manage" in r.get_data(as_text=True)
    assert _profile(users.agent2.id).role == "agent"
    page.get(f"/agents/{users.agent2.id}")
    page.post(f"/agents/{users.agent2.id}", {"max_open_tickets": "2"}, status=302)
    assert _profile(users.agent2.id).max_open_tickets == 2
    page.get("/roles", status=403)


def test_an_admin_cannot_remove_their_own_access(admin, users):
    admin.get(f"/agents/{users.admin.id}/delete")
    r = admin.post(f"/agents/{users.admin.id}/delete", {}, status=409)
    assert "your own agent access" in r.get_data(as_text=True)
    assert _profile(users.admin.id).is_active


# ---------------------------------------------------------------------------- roles
def test_admin_creates_edits_and_deletes_a_role_with_the_grid(admin):
    admin.get("/roles/new")
    assert 'name="permissions" value="ticket.view"' in admin.html
    admin.post("/roles/new", [("slug", "triage"), ("name", "Triage"), ("description", ""),
                              ("permissions", "ticket.view"), ("permissions", "tag.manage")],
               status=302)
    row = db().execute(select(Role).where(Role.slug == "triage")).scalar_one()
    assert sorted(row.permissions) == ["tag.manage", "ticket.view"]
    assert _audit("role.created")[0].entity_id == "triage"

    admin.get("/roles/triage")
    assert 'value="tag.manage" checked' in admin.html
    admin.post("/roles/triage", [("name", "Triage desk"), ("description", "First line"),
                                 ("permissions", "ticket.view")], status=302)
    row = db().execute(select(Role).where(Role.slug == "triage")).scalar_one()
    assert (row.name, row.description, row.permissions) == (
        "Triage desk", "First line", ["ticket.view"])

    admin.get("/roles/triage/delete")
    admin.post("/roles/triage/delete", {}, status=302)
    assert db().execute(select(Role).where(Role.slug == "triage")).first() is None
    assert _audit("role.deleted")[0].entity_id == "triage"


def test_a_pattern_role_shows_every_permission_it_grants(admin, ext):
    with ext.unit_of_work():
        roles.create_role(Actor.system(), {"slug": "kbeditor", "name": "KB",
                                           "permissions": ["kb.*"]})
    admin.get("/roles/kbeditor")
    for slug in ("kb.view", "kb.create", "kb.publish"):
        assert f'value="{slug}" checked' in admin.html
    assert 'value="ticket.view" checked' not in admin.html


def test_a_refused_role_names_the_field_and_keeps_the_text(admin):
    admin.get("/roles/new")
    r = admin.post("/roles/new", {"slug": "Not A Slug", "name": "Kept <i>name</i>"},
                   status=422)
    html = r.get_data(as_text=True)
    assert field_error(html, "slug") and field_error(html, "permissions")
    assert "Kept &lt;i&gt;name&lt;/i&gt;" in html and 'value="Not A Slug"' in html
    admin.get("/roles/new")
    r = admin.post("/roles/new", [("slug", "agent"), ("name", "Mine"),
                                  ("permissions", "ticket.view")], status=422)
    assert field_error(r.get_data(as_text=True), "slug") == "Slug: reserved for a system role"
    assert db().execute(select(Role)).first() is None


def test_a_held_role_is_not_deleted(admin, users, ext):
    with ext.unit_of_work():
        roles.create_role(Actor.system(), {"slug": "held", "name": "Held",
                                           "permissions": ["ticket.view"]})
        roles.set_agent_roles(Actor.system(), str(users.agent.id), role="held")
    admin.get("/roles/held/delete")
    r = admin.post("/roles/held/delete", {}, status=409)
    assert "still held" in r.get_data(as_text=True)


def test_system_roles_are_locked(admin):
    listing = admin.get("/roles")
    assert "/roles/admin/delete" not in listing and "/roles/agent/delete" not in listing
    page = admin.get("/roles/agent")
    assert "neither changed nor deleted" in page and 'name="csrf_token"' not in page
    assert 'value="ticket.view" checked disabled' in page
    r = admin.client.get("/support/admin/roles/admin/delete")
    assert r.status_code == 409 and "neither changed nor deleted" in r.get_data(as_text=True)
    admin.get("/roles/new")
    for url in ("/roles/agent/delete", "/roles/agent"):
        r = admin.post(url, {"name": "Mine"}, status=409)
    assert len(roles.list_roles()) == 3 and roles.get_role("agent").name == "Agent"


# ---------------------------------------------------------------------------- statuses
def test_admin_creates_edits_and_deletes_a_status(admin):
    admin.get("/statuses/new")
    admin.post("/statuses/new", {"slug": "parked", "label": "Parked", "color": "#112233",
                                 "category": "waiting_on_agent", "position": "2",
                                 "pauses_sla": "true"}, status=302)
    row = db().execute(select(TicketStatus).where(TicketStatus.slug == "parked")).scalar_one()
    assert (row.category, row.pauses_sla, row.position) == ("waiting_on_agent", True, 2)
    assert _audit("status.created")

    admin.get("/statuses/parked")
    admin.post("/statuses/parked", {"label": "Parked for now", "color": "#445566",
                                    "position": "2", "is_active": "true"}, status=302)
    row = db().execute(select(TicketStatus).where(TicketStatus.slug == "parked")).scalar_one()
    assert (row.label, row.pauses_sla, row.is_active) == ("Parked for now", False, True)
    assert "Parked for now" in admin.get("/statuses")

    admin.get("/statuses/parked/delete")
    admin.post("/statuses/parked/delete", {}, status=302)
    assert db().execute(select(TicketStatus)).first() is None
    assert _audit("status.deleted")


def test_a_refused_status_names_the_field_and_keeps_the_text(admin):
    admin.get("/statuses/new")
    r = admin.post("/statuses/new", {"slug": "open", "label": "Kept label",
                                     "category": "sideways", "color": "#112233"}, status=422)
    html = r.get_data(as_text=True)
    assert field_error(html, "category") and 'value="Kept label"' in html
    admin.get("/statuses/new")
    r = admin.post("/statuses/new", {"slug": "open", "label": "Again",
                                     "category": "open", "color": "#112233"}, status=422)
    assert field_error(r.get_data(as_text=True), "slug") == "Slug: is a built-in status"
    assert db().execute(select(TicketStatus)).first() is None


def test_built_in_statuses_are_locked(admin):
    listing = admin.get("/statuses")
    assert "/statuses/open/delete" not in listing and "Built in" in listing
    assert "neither changed nor deleted" in admin.get("/statuses/open")
    admin.get("/statuses/open/delete", status=409)
    admin.get("/statuses/new")
    admin.post("/statuses/open", {"label": "Mine"}, status=409)
    assert statuses.resolve("open").label == "Open"


# ---------------------------------------------------------------------------- transitions
def _stored_table() -> dict[str, list[str]] | None:
    """The table as committed (the test's own status cache would show its first read)."""
    db()
    return settings.get(statuses.TRANSITIONS_KEY)


def _grid_posts(table: dict[str, list[str]]) -> list[tuple[str, str]]:
    pairs = [("row", s.slug) for s in statuses.all_statuses()]
    return pairs + [(f"to-{src}", to) for src, tos in table.items() for to in tos]


def test_the_transition_grid_saves_the_table_as_the_api_does(admin, ext):
    with ext.unit_of_work():
        statuses.create_status(Actor.system(), slug="parked", label="Parked",
                               category="waiting_on_agent")
    page = admin.get("/status-transitions")
    assert 'name="to-open" value="in_progress" checked' in page
    assert "follows waiting on agent" in page
    table = statuses.transition_table()
    table["open"] = ["closed", "parked"]
    table["parked"] = ["open"]
    admin.post("/status-transitions", _grid_posts(table), status=302)
    saved = _stored_table()
    assert saved["open"] == ["closed", "parked"] and saved["parked"] == ["open"]
    assert saved["closed"] == table["closed"]
    (row,) = _audit("status_transitions.updated")
    assert row.new_values["open"] == ["closed", "parked"]
    assert 'name="to-parked" value="open" checked' in admin.get("/status-transitions")


def test_an_invalid_table_is_a_422_page_that_says_why(admin, ext):
    admin.get("/status-transitions")
    before = statuses.transition_table()
    r = admin.post("/status-transitions",
                   _grid_posts({"open": ["closed", "ghost"]}), status=422)
    html = r.get_data(as_text=True)
    assert "Unknown statuses in the table: ghost" in html
    assert 'name="to-open" value="closed" checked' in html  # what was ticked stays ticked
    admin.get("/status-transitions")
    r = admin.post("/status-transitions", [*_grid_posts({}), ("colour", "x")], status=422)
    assert "colour: unknown field" in r.get_data(as_text=True)
    admin.get("/status-transitions")
    r = admin.post("/status-transitions", [*_grid_posts({}), ("to-Bad Name", "open")],
                   status=422)
    assert "Bad Name" in r.get_data(as_text=True)
    assert _stored_table() in (None, before) and not _audit("status_transitions.updated")


# ---------------------------------------------------------------------------- access
@pytest.mark.parametrize("who", ["agent", "light", "customer"])
def test_agents_and_customers_get_403(console, users, who):
    page = console(getattr(users, who))
    for path in ("/agents", "/agents/new", f"/agents/{users.agent.id}", "/roles",
                 "/roles/new", "/roles/agent", "/statuses", "/statuses/new",
                 "/status-transitions"):
        page.get(path, status=403)


def test_status_manage_alone_opens_statuses_but_not_agents_or_roles(console, users, ext):
    with ext.unit_of_work():
        roles.create_role(Actor.system(), {"slug": "lifecycle", "name": "Lifecycle",
                                           "permissions": ["status.manage"]})
        agents.make_agent(str(users.agent.id), Actor.system(), role="lifecycle")
    page = console(users.agent)
    page.get("/status-transitions")
    page.get("/statuses")
    assert 'href="/support/admin/agents"' not in page.html
    for path in ("/agents", "/roles"):
        page.get(path, status=403)
