"""The console's skills and capacity sections: skills with their routing, and an agent's
availability, overall limit and skills."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from flask_escalated.events import Actor
from flask_escalated.models import AgentProfile, Skill
from flask_escalated.services import capacity, departments, session, skills, tags

from .conftest import field_error

pytestmark = pytest.mark.all_databases


def test_admin_creates_a_skill_routed_from_a_tag_and_a_department(admin, ext):
    with ext.unit_of_work():
        (tag,) = tags.ensure_tags(["invoice"])
        dept = departments.create_department(Actor.system(), {"name": "Billing"})
    admin.get("/skills/new")
    assert 'name="tag_ids"' in admin.html and 'name="department_ids"' in admin.html
    admin.post("/skills/new", [("name", "Refunds"), ("tag_ids", str(tag.id)),
                               ("department_ids", str(dept.id))], status=302)
    ext.session.rollback()
    row = session().execute(select(Skill).where(Skill.slug == "refunds")).scalar_one()
    out = skills.serialize(row)
    assert (out["tag_ids"], out["department_ids"]) == ([tag.id], [dept.id])
    assert "Refunds" in admin.get("/skills")
    admin.get("/skills/new")
    r = admin.post("/skills/new", {"name": "refunds"}, status=409)
    assert r.status_code == 409


def test_admin_sets_an_agents_availability_limit_and_skills(admin, users, ext):
    with ext.unit_of_work():
        skills.create(Actor.system(), {"name": "Billing"})
    uid = str(users.agent.id)
    assert "Alex Agent" in admin.get("/capacity")
    admin.get(f"/capacity/{uid}")
    admin.post(f"/capacity/{uid}", {"availability": "away", "max_concurrent": "4",
                                    "skills": "billing:5"}, status=302)
    ext.session.rollback()
    profile = session().execute(select(AgentProfile).where(
        AgentProfile.user_id == uid)).scalar_one()
    assert profile.availability == "away"
    assert capacity.capacities_of([uid])[uid] == {"default": 4}
    assert [(s["slug"], s["proficiency"]) for s in skills.agent_skills([uid])[uid]] == [
        ("billing", 5)]
    listing = admin.get("/capacity")
    assert "billing:5" in listing and "default 4" in listing
    admin.get(f"/capacity/{uid}")
    r = admin.post(f"/capacity/{uid}", {"availability": "away", "skills": "billing:9"},
                   status=422)
    assert field_error(r.get_data(as_text=True), "skills")
    r = admin.post(f"/capacity/{uid}", {"availability": "away", "skills": "ghost:2"},
                   status=422)
    assert field_error(r.get_data(as_text=True), "skills")


def test_agents_without_user_manage_cannot_open_the_sections(console, users):
    agent = console(users.agent)
    agent.get("/skills", status=403)
    agent.get("/capacity", status=403)
