"""Admin updates answer as the creates do: a value another row holds is a 409 naming the field
(never a 500 from the database's unique key, met when a changed row was written before it was
checked), a department's members must be agents, and a tag name without a letter or a digit
is refused naming the field sent."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from flask_escalated.models import Department, DepartmentMember, Tag

pytestmark = pytest.mark.all_databases


def _refused(r, status, field):
    assert r.status_code == status, r.get_data(as_text=True)
    error = r.json["error"]
    assert field in error["fields"], error
    return error


# ---------------------------------------------------------------------------- taken values
def test_a_department_renamed_to_a_slug_in_use_is_a_409(api, users, ext):
    admin = api(users.admin)
    first = admin.post("/departments", {"name": "Billing"}).json["data"]
    admin.post("/departments", {"name": "Technical support"})
    r = admin.patch(f"/departments/{first['id']}", {"slug": "technical-support",
                                                    "description": "changed"})
    error = _refused(r, 409, "slug")
    assert error["fields"]["slug"] == "taken"
    ext.session.rollback()
    row = ext.session.get(Department, first["id"])
    assert (row.slug, row.description) == ("billing", None)  # nothing of it was kept
    assert admin.patch(f"/departments/{first['id']}", {"slug": "billing"}).status_code == 200


def test_a_skill_given_a_slug_in_use_is_a_409(api, users):
    admin = api(users.admin)
    admin.post("/skills", {"name": "Billing"})
    other = admin.post("/skills", {"name": "Refunds"}).json["data"]
    r = admin.patch(f"/skills/{other['id']}", {"slug": "billing"})
    assert _refused(r, 409, "slug")["fields"]["slug"] == "taken"
    r = admin.patch(f"/skills/{other['id']}", {"name": "Billing", "description": "x"})
    assert r.status_code == 200 and r.json["data"]["slug"] == "refunds"  # a name is no slug


def test_a_canned_shortcut_in_use_is_a_409_with_a_department_too(api, users):
    admin = api(users.admin)
    dept = admin.post("/departments", {"name": "Billing"}).json["data"]
    admin.post("/canned-responses", {"title": "Refund", "body": "b", "shortcut": "refund",
                                     "shared": True})
    other = admin.post("/canned-responses", {"title": "Other", "body": "b", "shared": True})
    r = admin.patch(f"/canned-responses/{other.json['data']['id']}",
                    {"shortcut": "refund", "department_id": dept["id"]})
    assert _refused(r, 409, "shortcut")["fields"]["shortcut"] == "taken"
    r = admin.patch(f"/canned-responses/{other.json['data']['id']}",
                    {"shortcut": "refund", "department_id": 999999})
    _refused(r, 422, "department_id")


def test_a_tag_renamed_to_a_name_in_use_is_a_409(api, users, ext):
    admin = api(users.admin)
    admin.post("/tags", {"name": "api"})
    other = admin.post("/tags", {"name": "bug"}).json["data"]
    for name in ("api", "API", " api! "):
        r = admin.patch(f"/tags/{other['id']}", {"name": name})
        assert _refused(r, 409, "name")["fields"]["name"] == "taken"
    ext.session.rollback()
    assert ext.session.execute(select(func.count()).select_from(Tag)
                               .where(Tag.name == "api")).scalar_one() == 1
    # its own name, in another case or with a new colour, is no clash
    r = admin.patch(f"/tags/{other['id']}", {"name": "Bug", "color": "#112233"})
    assert r.status_code == 200 and r.json["data"]["name"] == "Bug"
    assert admin.patch(f"/tags/{other['id']}", {"name": "defect"}).status_code == 200
    # a renamed tag keeps its slug ("bug"), and its new name is taken all the same
    third = admin.post("/tags", {"name": "ui"}).json["data"]
    _refused(admin.patch(f"/tags/{third['id']}", {"name": "defect"}), 409, "name")


# ---------------------------------------------------------------------------- members
def test_department_members_must_be_agents(api, users, ext):
    admin = api(users.admin)
    dept = admin.post("/departments", {"name": "Billing",
                                       "agent_ids": [str(users.agent.id)]}).json["data"]
    for ids, bad in (([str(users.agent.id), "not-a-user"], "not-a-user"),
                     (["999999"], "999999"),
                     ([str(users.customer.id), 424242], f"{users.customer.id}, 424242")):
        r = admin.patch(f"/departments/{dept['id']}", {"agent_ids": ids})
        error = _refused(r, 422, "agent_ids")
        assert error["fields"]["agent_ids"] == f"not agents: {bad}", error
    r = admin.post("/departments", {"name": "Sales", "agent_ids": [str(users.other.id)]})
    _refused(r, 422, "agent_ids")
    ext.session.rollback()
    assert ext.session.get(Department, dept["id"]).agent_ids == [str(users.agent.id)]
    r = admin.patch(f"/departments/{dept['id']}",
                    {"agent_ids": [users.agent2.id, str(users.light.id)]})
    assert r.status_code == 200, r.json
    assert sorted(r.json["data"]["agent_ids"]) == sorted([str(users.agent2.id),
                                                          str(users.light.id)])
    # a member the host no longer counts as an agent does not block the next edit
    ext.session.add(DepartmentMember(department_id=dept["id"], user_id="gone"))
    ext.session.commit()
    ids = [str(users.agent2.id), "gone", str(users.agent.id)]
    r = admin.patch(f"/departments/{dept['id']}", {"agent_ids": ids})
    assert r.status_code == 200 and sorted(r.json["data"]["agent_ids"]) == sorted(ids)
    r = admin.patch(f"/departments/{dept['id']}", {"agent_ids": [str(users.agent.id)]})
    assert r.status_code == 200 and r.json["data"]["agent_ids"] == [str(users.agent.id)]


# ---------------------------------------------------------------------------- tag names
NO_LETTER = "A tag needs at least one letter or digit to make its slug from."


def test_a_tag_without_a_letter_or_digit_says_so(api, users, make_ticket):
    admin, agent = api(users.admin), api(users.agent)
    r = agent.post("/tickets", {"subject": "s", "description": "d", "tags": ["ok", "!!!"]})
    error = _refused(r, 422, "tags")
    assert error["message"] == NO_LETTER, error
    tid = make_ticket()
    error = _refused(agent.post(f"/tickets/{tid}/tags", {"tags": ["!!!"]}), 422, "tags")
    assert error["message"] == NO_LETTER and set(error["fields"]) == {"tags"}
    error = _refused(admin.post("/tags", {"name": "!!!"}), 422, "name")
    assert error["message"] == NO_LETTER and set(error["fields"]) == {"name"}
    tag = admin.post("/tags", {"name": "vip"}).json["data"]
    error = _refused(admin.patch(f"/tags/{tag['id']}", {"name": "- -"}), 422, "name")
    assert error["message"] == NO_LETTER and set(error["fields"]) == {"name"}
    # the other refusals keep their message
    error = _refused(admin.post("/tags", {"name": "x" * 81}), 422, "name")
    assert error["message"] != NO_LETTER


def test_tag_and_department_names_in_any_script_get_a_slug(api, users):
    """Accents are folded, letters of other scripts kept: "café" is not "caf", "日本語" is a
    tag, and two department names that differ only in their non-Latin words do not clash."""
    admin = api(users.admin)
    for name, slug in (("café", "cafe"), ("Straße", "strasse"), ("日本語", "日本語"),
                       ("🔥hot", "hot")):
        r = admin.post("/tags", {"name": name})
        assert r.status_code == 201, (name, r.json)
        assert r.json["data"]["slug"] == slug
    assert _refused(admin.post("/tags", {"name": "🔥"}), 422, "name")["message"] == NO_LETTER
    assert admin.post("/tags", {"name": "caf"}).status_code == 201  # no longer taken
    first = admin.post("/departments", {"name": "日本語 Support"})
    second = admin.post("/departments", {"name": "Support 日本"})
    assert first.status_code == second.status_code == 201, (first.json, second.json)
    assert {first.json["data"]["slug"], second.json["data"]["slug"]} == {"日本語-support",
                                                                         "support-日本"}
