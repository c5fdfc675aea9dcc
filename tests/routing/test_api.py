"""The skills, agent skills, capacity and availability API: happy paths, refusals, the agent
detail, the queue's ``assignee=unrouted`` filter, and no N+1 in the skill list."""

from __future__ import annotations

import pytest
from sqlalchemy import event, select

from flask_escalated.events import Actor
from flask_escalated.models import AuditLog

pytestmark = pytest.mark.all_databases
SYSTEM = Actor.system()


def test_skill_crud_and_routing(api, users, ext, crew):
    admin = api(users.admin)
    tag = admin.post("/tags", {"name": "invoice"}).json["data"]
    r = admin.post("/skills", {"name": "Billing", "tag_ids": [tag["id"]],
                               "department_ids": [crew.dept.id]})
    assert r.status_code == 201, r.json
    skill = r.json["data"]
    assert (skill["slug"], skill["tag_ids"], skill["department_ids"], skill["agent_count"]) == (
        "billing", [tag["id"]], [crew.dept.id], 0)
    assert admin.post("/skills", {"name": "billing"}).status_code == 409
    assert admin.post("/skills", {"name": "X", "tag_ids": [999999]}).status_code == 422
    assert admin.post("/skills", {"name": "X", "colour": "red"}).json["error"]["code"] == (
        "unknown_field")
    r = admin.patch(f"/skills/{skill['id']}", {"tag_ids": [], "description": "Money"})
    assert r.status_code == 200 and r.json["data"]["tag_ids"] == []
    assert admin.get(f"/skills/{skill['id']}").json["data"]["description"] == "Money"
    assert admin.get("/skills/999999").status_code == 404
    ext.session.rollback()
    actions = set(ext.session.execute(select(AuditLog.action).where(
        AuditLog.entity_type == "skill")).scalars())
    assert actions == {"skill.created", "skill.updated"}
    assert admin.delete(f"/skills/{skill['id']}").status_code == 204
    assert admin.get(f"/skills/{skill['id']}").status_code == 404


def test_skill_list_pages_without_n_plus_one(api, users, ext, crew, skill):
    for i in range(5):
        skill(f"S{i}", department_ids=[crew.dept.id])
    admin = api(users.admin)
    admin.get("/skills")  # warm the signed-in session's lookups
    statements: list[str] = []

    def count(*args):
        statements.append(args[2])

    engine = ext.session.get_bind()
    event.listen(engine, "before_cursor_execute", count)
    try:
        first = admin.get("/skills?limit=3")
    finally:
        event.remove(engine, "before_cursor_execute", count)
    skills_statements = [s for s in statements if "escalated_skill" in s
                         or "escalated_agent_skills" in s]
    assert len(skills_statements) == 4, skills_statements  # page, tags, departments, agents
    assert len(first.json["data"]) == 3 and first.json["next_cursor"]
    rest = admin.get("/skills?limit=3&cursor=" + first.json["next_cursor"]).json
    assert [s["name"] for s in rest["data"]] == ["S3", "S4"] and rest["next_cursor"] is None


def test_agent_skills_capacity_availability(api, users, crew, skill):
    admin = api(users.admin)
    s = skill("German")
    r = admin.put(f"/agents/{crew.ann}/skills", [{"skill_id": s.id, "proficiency": 5}])
    assert r.status_code == 200 and r.json["data"] == [
        {"skill_id": s.id, "slug": "german", "name": "German", "proficiency": 5}]
    assert admin.put(f"/agents/{crew.ann}/skills",
                     [{"skill_id": s.id, "proficiency": 9}]).status_code == 422
    assert admin.put(f"/agents/{crew.ann}/skills", {"skill_id": s.id}).status_code == 422
    assert admin.put(f"/agents/{crew.ann}/skills", [{"skill_id": 999999}]).status_code == 422
    assert admin.put("/agents/nobody/skills", []).status_code == 404
    r = admin.put(f"/agents/{crew.ann}/capacity", {"channel": "default", "max_concurrent": 10})
    assert r.status_code == 200 and r.json["data"] == {"default": 10}
    r = admin.put(f"/agents/{crew.ann}/capacity", {"channel": "email", "max_concurrent": 2})
    assert r.json["data"] == {"default": 10, "email": 2}
    assert admin.put(f"/agents/{crew.ann}/capacity",
                     {"channel": "fax", "max_concurrent": 2}).status_code == 422
    assert admin.put(f"/agents/{crew.ann}/capacity",
                     {"max_concurrent": -1}).status_code == 422
    r = admin.put(f"/agents/{crew.ann}/capacity", {"channel": "email", "max_concurrent": None})
    assert r.json["data"] == {"default": 10}
    assert admin.put(f"/agents/{crew.ann}/availability", {"status": "busy"}).status_code == 422
    assert admin.put(f"/agents/{crew.ann}/availability",
                     {"status": "away"}).json["data"] == {"status": "away"}
    detail = admin.get(f"/agents/{crew.ann}").json["data"]
    assert (detail["availability"], detail["capacity"], [x["slug"] for x in detail["skills"]]) \
        == ("away", {"default": 10}, ["german"])


def test_agents_switch_their_own_availability_only(api, users):
    agent = api(users.agent)
    r = agent.put("/agents/me/availability", {"status": "away"})
    assert r.status_code == 200 and r.json["data"] == {"status": "away"}
    assert agent.put(f"/agents/{users.agent.id}/availability",
                     {"status": "online"}).status_code == 200
    assert agent.put(f"/agents/{users.agent2.id}/availability",
                     {"status": "away"}).status_code == 403
    assert api(users.customer).put("/agents/me/availability",
                                   {"status": "away"}).status_code == 403


def test_queue_filter_shows_unrouted_tickets(api, users, ext, crew, strategy, new):
    strategy("skills")
    stuck = new()
    routed_by_hand = new()
    admin = api(users.admin)
    admin.post(f"/tickets/{routed_by_hand.id}/assign", {"assignee_id": crew.ann})
    r = admin.get("/tickets?assignee=unrouted")
    assert r.status_code == 200
    assert [t["id"] for t in r.json["data"]] == [stuck.id]
    none = {t["id"] for t in admin.get("/tickets?assignee=none").json["data"]}
    assert stuck.id in none and routed_by_hand.id not in none


def test_auto_assign_by_skills_through_the_api(api, users, ext, crew, skill):
    from flask_escalated.services import skills

    s = skill("Billing", department_ids=[crew.dept.id])
    with ext.unit_of_work():
        skills.set_agent_skills(SYSTEM, crew.cat, [{"skill_id": s.id, "proficiency": 4}])
    admin = api(users.admin)
    tid = admin.post("/tickets", {"subject": "s", "description": "d",
                                  "department_id": crew.dept.id}).json["data"]["id"]
    r = admin.post(f"/tickets/{tid}/assign", {"strategy": "skills"})
    assert r.status_code == 200, r.json
    assert r.json["data"]["assignee"]["id"] == crew.cat
    admin.put(f"/agents/{crew.cat}/capacity", {"max_concurrent": 1})
    other = admin.post("/tickets", {"subject": "s", "description": "d",
                                    "department_id": crew.dept.id}).json["data"]["id"]
    r = admin.post(f"/tickets/{other}/assign", {"strategy": "skills"})
    assert r.status_code == 200 and r.json["data"]["assignee"] is None
    assert [t["id"] for t in admin.get("/tickets?assignee=unrouted").json["data"]] == [other]
