"""The console's generic sections (departments, tags): list, create, edit, delete, the
schema's refusals shown on the page, and access."""

from __future__ import annotations

import re

import pytest

from flask_escalated.models import AuditLog, Department, Tag
from flask_escalated.services import session
from flask_escalated.web.api.schemas.departments import DepartmentCreate
from flask_escalated.web.forms import specs_for

from .conftest import field_error
from .test_builder import browser_form

pytestmark = pytest.mark.all_databases


def test_admin_creates_edits_and_deletes_a_department(admin, users, ext):
    admin.get("/departments/new")
    assert 'name="agent_ids"' in admin.html and f'value="{users.agent.id}"' in admin.html
    r = admin.post("/departments/new", [("name", "Billing"), ("description", "Money"),
                                       ("assignment_strategy", "round_robin"),
                                       ("agent_ids", str(users.agent.id)),
                                       ("agent_ids", str(users.agent2.id)),
                                       ("is_active", "true")], status=302)
    ext.session.rollback()  # MariaDB: read past the test's own snapshot
    dept = session().query(Department).filter_by(name="Billing").one()
    assert r.headers["Location"].endswith(f"/support/admin/departments/{dept.id}")
    assert sorted(dept.agent_ids) == sorted([str(users.agent.id), str(users.agent2.id)])
    assert dept.assignment_strategy == "round_robin"
    assert session().query(AuditLog).filter_by(action="department.created").count() == 1

    admin.get(f"/departments/{dept.id}")
    assert 'value="Billing"' in admin.html and "checked" in admin.html
    # unticking "active" and every agent saves false and an empty set
    admin.post(f"/departments/{dept.id}", {"name": "Billing EU", "description": "",
                                           "assignment_strategy": "manual"}, status=302)
    ext.session.rollback()
    dept = session().get(Department, dept.id)
    assert (dept.name, dept.is_active, dept.agent_ids) == ("Billing EU", False, [])

    listing = admin.get("/departments")
    assert "Billing EU" in listing
    admin.get(f"/departments/{dept.id}/delete")
    assert "Delete the department" in admin.html
    dept_id = dept.id
    admin.post(f"/departments/{dept_id}/delete", {}, status=302)
    ext.session.rollback()
    assert session().get(Department, dept_id) is None


def test_a_refused_form_names_the_field_and_keeps_the_text(admin, ext):
    admin.get("/departments/new")
    r = admin.post("/departments/new", {"name": "x" * 121, "description": "kept <b>text</b>",
                                        "assignment_strategy": "by_magic"}, status=422)
    html = r.get_data(as_text=True)
    assert field_error(html, "name") and field_error(html, "assignment_strategy")
    assert "kept &lt;b&gt;text&lt;/b&gt;" in html and "x" * 121 in html
    ext.session.rollback()
    assert session().query(Department).count() == 0


def test_a_member_who_is_not_an_agent_is_refused_on_the_page(admin, users, ext):
    """The checkboxes offer agents only, but a posted form is not bound to them: the service
    refuses any other id, and the page says so under the agents."""
    admin.get("/departments/new")
    r = admin.post("/departments/new", [("name", "Billing"), ("assignment_strategy", "manual"),
                                       ("agent_ids", str(users.agent.id)),
                                       ("agent_ids", str(users.customer.id))], status=422)
    assert field_error(r.get_data(as_text=True), "agent_ids") == (
        f"Agents: not agents: {users.customer.id}")
    ext.session.rollback()
    assert session().query(Department).count() == 0


def test_a_tag_name_without_a_letter_or_digit_is_refused_under_the_name(admin, ext):
    admin.get("/tags/new")
    r = admin.post("/tags/new", {"name": "!!!"}, status=422)
    assert field_error(r.get_data(as_text=True), "name") == "Name: needs a letter or a digit"
    ext.session.rollback()
    assert session().query(Tag).count() == 0


def test_an_unknown_input_is_refused_like_the_api_does(admin, ext):
    admin.get("/tags/new")
    r = admin.post("/tags/new", {"name": "vip", "colour": "#ff0000"}, status=422)
    html = r.get_data(as_text=True)
    assert "colour: unknown field" in html and 'value="vip"' in html
    ext.session.rollback()
    assert session().query(Tag).count() == 0


def test_a_service_refusal_is_a_4xx_page_not_a_500(admin):
    admin.post("/tags/new", {"name": "vip", "color": "#ff0000"}, status=302)
    admin.get("/tags/new")
    r = admin.post("/tags/new", {"name": "vip"})
    assert r.status_code in (409, 422), r.status_code
    assert "vip" in r.get_data(as_text=True)


def test_a_missing_row_is_a_404_page(admin):
    admin.get("/departments/999999", status=404)
    admin.get("/tags/999999/delete", status=404)


def test_agents_and_customers_are_kept_out(console, users, client_as):
    console(users.agent).get("/departments", status=403)
    console(users.customer).get("/tags/new", status=403)
    r = client_as(None).get("/support/admin/departments")
    assert r.status_code in (302, 401)


def test_a_post_without_the_csrf_token_is_refused(client_as, users, ext):
    r = client_as(users.admin).post("/support/admin/tags/new", data={"name": "vip"})
    assert r.status_code in (400, 403)
    ext.session.rollback()
    assert session().query(Tag).count() == 0


def test_an_optional_bounded_text_is_a_one_line_input_with_its_limit(admin):
    """``slug: Annotated[str, Field(max_length=80)] | None``: the bound sits inside the
    union; the page still shows one line that stops at 80 characters, not a textarea."""
    html = admin.get("/departments/new")
    assert '<input type="text" id="f-slug" name="slug"' in html
    assert re.search(r'<input type="text" id="f-slug"[^>]*maxlength="80"', html)
    assert re.search(r'<textarea id="f-description"[^>]*maxlength="2000"', html)
    # a list's bound counts items, so it never becomes a character limit
    spec = next(s for s in specs_for(DepartmentCreate) if s.name == "agent_ids")
    assert spec.max_length is None


def test_a_department_made_from_the_untouched_new_page_is_active(admin, ext):
    """A new department starts active, as the API's create does: one saved without a look
    at the checkbox is offered to customers."""
    html = admin.get("/departments/new")
    assert re.search(r'<input type="checkbox" id="f-is_active" name="is_active" value="true" '
                     r'checked', html)
    pairs = [(k, "Field service" if k == "name" else v)
             for k, v in browser_form(html)]
    admin.post("/departments/new", pairs, status=302)
    ext.session.rollback()
    assert session().query(Department).filter_by(name="Field service").one().is_active
