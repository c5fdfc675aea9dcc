"""The console's saved views (``view.manage``): every shared view, everyone's personal ones for
admins only, edited and deleted through the API's service and checks."""

from __future__ import annotations

import pytest

from flask_escalated.events import Actor
from flask_escalated.models import SavedView
from flask_escalated.services import departments, roles

from ..admin.conftest import console, db, field_error  # noqa: F401  (fixtures)
from .test_views import _save

pytestmark = pytest.mark.all_databases


@pytest.fixture
def curator(ext, users):
    """agent2 with a custom role holding ``view.manage`` (and nothing else of the console)."""
    with ext.unit_of_work():
        roles.create_role(
            Actor.system(), {"slug": "curator", "name": "Curator", "permissions": ["view.manage"]}
        )
        roles.set_agent_roles(Actor.system(), str(users.agent2.id), grants=[{"role": "curator"}])
    return users.agent2


def test_admin_lists_shared_and_personal_views_and_edits_them(
    api, users, ext, console, count_queries  # noqa: F811
):
    with ext.unit_of_work():
        billing = departments.create_department(Actor.system(), {"name": "Billing"})
    shared = _save(api, users.admin, name="Urgent <all>", shared=True,
                   filters={"priority": ["urgent"]})
    personal = _save(api, users.agent, name="Agent's own", filters={"q": "refund"})
    for i in range(3):
        _save(api, users.agent2, name=f"Other {i}")
    admin = console(users.admin)
    html = admin.get("/views")
    assert "Urgent &lt;all&gt;" in html and "Agent&#39;s own" in html and "Other 2" in html
    assert "priority=urgent" in html and "Shared" in html and "Personal (" in html
    # One page of views costs the same however many there are (owners and departments in bulk).
    with count_queries() as few:
        admin.get("/views")
    for i in range(6):
        _save(api, users.agent, name=f"More {i}", shared=False)
    with count_queries() as more:
        admin.get("/views")
    assert more.count == few.count

    admin.get(f"/views/{shared}")
    assert 'name="filters"' in admin.html and 'name="department_ids"' in admin.html
    admin.post(f"/views/{shared}", [("name", "Urgent, billing"), ("shared", "true"),
                                    ("filters", '{"priority": ["urgent"], "assignee": "none"}'),
                                    ("sort", "-updated_at"), ("department_ids", str(billing.id)),
                                    ("position", "3")], status=302)
    row = db().get(SavedView, shared)
    assert (row.name, row.sort, row.position) == ("Urgent, billing", "-updated_at", 3)
    assert row.filters == {"priority": ["urgent"], "assignee": "none"}
    data = api(users.admin).get(f"/views/{shared}").get_json()["data"]
    assert data["department_ids"] == [billing.id]

    # Bad filters are refused the way the API refuses them, naming the filter.
    admin.get(f"/views/{shared}")
    r = admin.post(f"/views/{shared}", {"name": "x", "filters": '{"priority": "burning"}'})
    assert r.status_code == 422 and "filters.priority" in r.get_data(True)
    assert db().get(SavedView, shared).name == "Urgent, billing"

    # An admin may tidy an agent's personal view; it stays the agent's.
    admin.get(f"/views/{personal}")
    admin.post(f"/views/{personal}", {"name": "Refunds", "filters": '{"q": "refund"}'},
               status=302)
    row = db().get(SavedView, personal)
    assert (row.name, row.owner_user_id, row.is_shared) == ("Refunds", str(users.agent.id), False)

    admin.get(f"/views/{personal}/delete")
    assert "Refunds" in admin.html
    admin.post(f"/views/{personal}/delete", {}, status=302)
    assert db().get(SavedView, personal) is None


def test_view_manage_without_admin_sees_shared_views_only(api, users, console, curator):  # noqa: F811
    shared = _save(api, users.admin, name="Everyone's", shared=True)
    personal = _save(api, users.agent, name="Private one")
    desk = console(curator)
    html = desk.get("/views")
    assert "Everyone&#39;s" in html and "Private one" not in html
    desk.get(f"/views/{personal}", status=404)
    desk.client.get(f"/support/admin/views/{personal}/delete")
    r = desk.client.post(f"/support/admin/views/{personal}/delete",
                         data={"csrf_token": "x"})
    assert r.status_code in (400, 403, 404)
    assert db().get(SavedView, personal) is not None
    desk.get(f"/views/{shared}")
    desk.post(f"/views/{shared}", {"name": "Everyone", "shared": "true", "filters": "{}"},
              status=302)
    assert db().get(SavedView, shared).name == "Everyone"


def test_agents_without_view_manage_stay_out(console, users, api):  # noqa: F811
    view = _save(api, users.agent, name="Mine")
    for path in ("/support/admin/views", f"/support/admin/views/{view}"):
        assert console(users.agent).client.get(path).status_code == 403


# ---------------------------------------------------------------------------- the queue
def _token(web):
    html = web.get("/support/agent/tickets").get_data(True)
    import re

    return re.search(r'name="csrf_token" value="([^"]+)"', html).group(1)


def test_refiltering_an_open_view_and_updating_it(api, users, ticket_of, client_as):
    ticket_of(priority="urgent", subject="Urgent thing")
    ticket_of(priority="low", subject="Calm thing")
    view = _save(api, users.agent, name="Hot", filters={"priority": "urgent",
                                                        "created_after": "2000-01-01T00:00:00Z"})
    web = client_as(users.agent)
    html = web.get(f"/support/agent/tickets?view={view}").get_data(True)
    # Opened as saved: the filter form shows the view's filters and carries the view.
    assert 'value="urgent" selected' in html and f'name="view" value="{view}"' in html
    assert "Update view" not in html and "Rename or delete this view" in html
    assert 'aria-label="Save as view"' not in html
    # The agent changes the filters: the queue shows them, and offers to update the view.
    html = web.get(f"/support/agent/tickets?view={view}&status=&priority=low&q=").get_data(True)
    assert "Calm thing" in html and "Urgent thing" not in html
    assert "Update view" in html and "Filters changed" in html
    # Sorting a view keeps its filters: the column links carry them.
    html = web.get(f"/support/agent/tickets?view={view}").get_data(True)
    import html as markup
    import re

    link = next(markup.unescape(h) for h in re.findall(r'href="([^"]+)"', html)
                if "sort=" in h and "priority" in h)
    assert f"view={view}" in link and "priority=urgent" in link
    html = web.get(link).get_data(True)
    assert "Urgent thing" in html and "Calm thing" not in html
    r = web.post(f"/support/agent/tickets/views/{view}/filters",
                 data={"priority": "low", "sort": "-updated_at", "csrf_token": _token(web)})
    assert r.status_code == 303, r.get_data(True)[:500]
    data = api(users.agent).get(f"/views/{view}").get_json()["data"]
    # The queue's filters replace the view's; what the queue cannot show is kept.
    assert data["filters"]["priority"] == ["low"] and data["sort"] == "-updated_at"
    assert data["filters"]["created_after"] == "2000-01-01T00:00:00Z"
    r = web.post(f"/support/agent/tickets/views/{view}/rename",
                 data={"name": "Calm ones", "csrf_token": _token(web)})
    assert r.status_code == 303
    assert api(users.agent).get(f"/views/{view}").get_json()["data"]["name"] == "Calm ones"
    r = web.post(f"/support/agent/tickets/views/{view}/delete", data={"csrf_token": _token(web)})
    assert r.status_code == 303
    assert api(users.agent).get(f"/views/{view}").status_code == 404


def test_queue_refuses_changes_to_views_not_ones_own(api, users, client_as, curator):
    shared = _save(api, users.admin, name="Everyone", shared=True, filters={"priority": "high"})
    others = _save(api, users.agent2, name="Not yours")
    web = client_as(users.agent)
    html = web.get(f"/support/agent/tickets?view={shared}&priority=low").get_data(True)
    assert "Update view" not in html and "Rename or delete" not in html
    assert 'aria-label="Save as view"' in html  # a copy of one's own, though
    token = _token(web)
    for ident, status in ((shared, 403), (others, 404)):
        for action, data in (("filters", {"priority": "low"}), ("rename", {"name": "Mine"}),
                             ("delete", {})):
            r = web.post(f"/support/agent/tickets/views/{ident}/{action}",
                         data={**data, "csrf_token": token})
            assert r.status_code == status, (ident, action, r.status_code)
    assert api(users.admin).get(f"/views/{shared}").get_json()["data"]["name"] == "Everyone"
    # Someone who manages views may update a shared one from the queue.
    desk = client_as(curator)
    html = desk.get(f"/support/agent/tickets?view={shared}&priority=low").get_data(True)
    assert "Update view" in html
    r = desk.post(f"/support/agent/tickets/views/{shared}/filters",
                  data={"priority": "low", "csrf_token": _token(desk)})
    assert r.status_code == 303
    assert api(users.admin).get(f"/views/{shared}").get_json()["data"]["filters"]["priority"] \
        == ["low"]


@pytest.mark.parametrize(
    ("filters", "status"),
    [
        ({}, "any"),
        ({"status": ["resolved", "closed"]}, "resolved"),
        ({"snoozed": "true"}, "snoozed"),
        ({"status_category": ["closed"]}, "any"),
    ],
)
def test_the_queue_form_shows_an_open_view_s_status(api, users, client_as, filters, status):
    view = _save(api, users.agent, filters=filters)
    html = client_as(users.agent).get(f"/support/agent/tickets?view={view}").get_data(True)
    select = html[html.index('id="f-status"'):]
    select = select[:select.index("</select>")]
    assert f'value="{status}" selected' in select
