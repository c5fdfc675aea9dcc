"""Console sections for skill-based routing: skills (and the tags and departments routed to
them) and each agent's availability, capacity and skills."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Annotated, Any

from flask import Blueprint
from pydantic import BaseModel, Field

from ...events import Actor
from ...services import agents, capacity, departments, serializers, skills, tags
from ...services.errors import ValidationError
from ..api.schemas._base import Body, absent
from ..api.schemas.skills import Availability, SkillCreate, SkillUpdate
from ..forms import FieldSpec, specs_for
from .crud import Column, Page, Resource, link, register, simple_rows


# ---------------------------------------------------------------------------- skills
def _skill_rows() -> list[SimpleNamespace]:
    return [SimpleNamespace(**row) for row in skills.serialize_many(skills.all_skills())]


def _skill_specs(model: type[BaseModel]) -> list[FieldSpec]:
    return specs_for(
        model, description={"widget": "textarea", "rows": 3},
        tag_ids={"widget": "checkboxes", "label": "Routed from tags",
                 "choices": [(str(t.id), t.name) for t in tags.list_tags()],
                 "help": "A ticket with one of these tags needs the skill."},
        department_ids={"widget": "checkboxes", "label": "Routed from departments",
                        "choices": [(str(d.id), d.name)
                                    for d in departments.list_departments()],
                        "help": "A ticket of one of these departments needs the skill."})


SKILLS = Resource(
    name="skills", label="Skills", singular="skill", view="skill.view",
    create_permission="skill.manage", edit_permission="skill.manage",
    delete_permission="skill.manage",
    load=skills.get, serialize=skills.serialize, rows=simple_rows(_skill_rows),
    columns=[Column("Name", link("skills", lambda s: s.name)), Column("Slug", lambda s: s.slug),
             Column("Routing tags", lambda s: len(s.tag_ids)),
             Column("Routing departments", lambda s: len(s.department_ids)),
             Column("Agents", lambda s: s.agent_count)],
    create_model=SkillCreate, update_model=SkillUpdate,
    create=skills.create, update=skills.update, delete=skills.remove, specs=_skill_specs,
    delete_note="Agents lose the skill, and tags and departments no longer route to it.",
    intro="A ticket needs every skill routed from its tags and its department; departments "
          "with the 'skills' strategy give it to the agent who holds them all best.")


# ---------------------------------------------------------------------------- capacity
SKILL_LIST = r"^\s*([a-z0-9][a-z0-9-]*\s*:\s*[1-5]\s*(,\s*|$))*$"


class AgentRoutingForm(Body):
    """The console's form: availability, the overall limit and skills as ``slug:level``."""

    availability: Availability = absent()
    max_concurrent: Annotated[int, Field(ge=0, le=capacity.MAX_CONCURRENT)] | None = Field(
        None, description="Open tickets at once over all channels; empty: no limit.")
    skills: Annotated[str, Field(max_length=2000, pattern=SKILL_LIST)] = Field(
        "", description="Skill slugs with a proficiency from 1 to 5, e.g. 'billing:5, "
        "german:3'.")


def _agent_routing_rows(q: Any, cursor: Any, limit: int) -> Page:
    profiles = agents.list_agents()
    ids = [p.user_id for p in profiles]
    people = serializers.People(ids)
    caps, held, load = (capacity.capacities_of(ids), skills.agent_skills(ids),
                        capacity.open_load(ids))
    return Page([SimpleNamespace(
        user_id=p.user_id, availability=p.availability, capacity=caps[p.user_id],
        skills=held[p.user_id], load=load[p.user_id],
        name=(people.user(p.user_id) or {}).get("name") or p.user_id) for p in profiles])


def _load(user_id: str) -> SimpleNamespace:
    profile = agents.get_agent(user_id)
    user = serializers.People([profile.user_id]).user(profile.user_id) or {}
    return SimpleNamespace(user_id=profile.user_id, profile=profile,
                           name=user.get("name") or profile.user_id)


def _values(row: SimpleNamespace) -> dict[str, Any]:
    uid = row.user_id
    return {"availability": row.profile.availability,
            "max_concurrent": capacity.capacities_of([uid])[uid].get(capacity.DEFAULT_CHANNEL),
            "skills": _skill_text(skills.agent_skills([uid])[uid])}


def _skill_text(held: list[dict[str, Any]]) -> str:
    return ", ".join(f"{s['slug']}:{s['proficiency']}" for s in held)


def _update(actor: Actor, user_id: str, data: dict[str, Any]) -> SimpleNamespace:
    row = _load(user_id)
    if "availability" in data:
        capacity.set_availability(actor, row.profile, data["availability"])
    if "max_concurrent" in data:
        capacity.set_capacity(actor, row.profile, capacity.DEFAULT_CHANNEL,
                              data["max_concurrent"])
    if "skills" in data:
        by_slug = {s.slug: s.id for s in skills.all_skills()}
        items = []
        for part in filter(None, (p.strip() for p in (data["skills"] or "").split(","))):
            slug, _, level = (x.strip() for x in part.partition(":"))
            if slug not in by_slug:
                raise ValidationError("Unknown skill.", {"skills": f"no skill '{slug[:40]}'"})
            items.append({"skill_id": by_slug[slug], "proficiency": int(level)})
        skills.set_agent_skills(actor, row.user_id, items)
    return row


AGENT_ROUTING = Resource(
    name="capacity", label="Capacity", singular="agent", view="user.manage",
    edit_permission="user.manage", load=_load, serialize=_values,
    rows=_agent_routing_rows, title=lambda row: row.name, key_rule="string",
    key=lambda row: row.user_id,
    columns=[Column("Agent", link("capacity", lambda a: a.name, key=lambda a: a.user_id)),
             Column("Availability", lambda a: a.availability),
             Column("Open tickets", lambda a: a.load),
             Column("Limits", lambda a: ", ".join(f"{c} {n}" for c, n in a.capacity.items())
                    or "—"),
             Column("Skills", lambda a: _skill_text(a.skills) or "—")],
    update_model=AgentRoutingForm, update=_update,
    specs=lambda model: specs_for(model, availability={"widget": "select"},
                                  max_concurrent={"label": "Max open tickets at once"}),
    intro="Automatic assignment passes over agents who are away or at their limit; the load "
          "is counted from their open tickets. Limits per channel are set through the API.")


def register_all(bp: Blueprint) -> None:
    for res in (SKILLS, AGENT_ROUTING):
        register(bp, res)
