"""Skills: what agents are good at, and which tags and departments need which skill.

A ticket *requires* every skill routed from one of its tags or from its department; an agent
*holds* a skill with a proficiency from 1 to 5 (the family's default 3). The ``skills``
assignment strategy (:mod:`.routing`) gives a ticket to an agent holding all of them.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from sqlalchemy import delete, func, insert, select

from ..events import Actor
from ..models import AgentSkill, Department, Skill, Tag, Ticket, skill_departments, skill_tags
from ..models.tickets import ticket_tags
from . import audit, session
from .errors import Conflict, NotFound, ValidationError
from .ids import parse_id
from .serializers import iso
from .tags import slugify

MAX_NAME = 120
MAX_LINKS = 500
DEFAULT_PROFICIENCY = 3


# ---------------------------------------------------------------------------- reading
def get(skill_id: object) -> Skill:
    ident = parse_id(str(skill_id))
    row = session().get(Skill, ident) if ident is not None else None
    if row is None:
        raise NotFound("No such skill.")
    return row


def list_page(*, limit: int, after: int | None = None) -> tuple[list[Skill], bool]:
    """A keyset page of skills by id, and whether more follow."""
    stmt = select(Skill).order_by(Skill.id).limit(limit + 1)
    if after is not None:
        stmt = stmt.where(Skill.id > after)
    rows = list(session().execute(stmt).scalars())
    return rows[:limit], len(rows) > limit


def all_skills() -> list[Skill]:
    return list(session().execute(select(Skill).order_by(Skill.name, Skill.id)).scalars())


def _grouped(stmt: Any) -> dict[int, list[Any]]:
    out: dict[int, list[Any]] = {}
    for key, value in session().execute(stmt):
        out.setdefault(key, []).append(value)
    return out


def serialize_many(rows: Sequence[Skill]) -> list[dict[str, Any]]:
    """Skills with their routing tags and departments and their number of agents, in three
    queries whatever the number of skills."""
    ids = [r.id for r in rows]
    if not ids:
        return []
    tags = _grouped(select(skill_tags.c.skill_id, skill_tags.c.tag_id)
                    .where(skill_tags.c.skill_id.in_(ids)).order_by(skill_tags.c.tag_id))
    depts = _grouped(select(skill_departments.c.skill_id, skill_departments.c.department_id)
                     .where(skill_departments.c.skill_id.in_(ids))
                     .order_by(skill_departments.c.department_id))
    agents = dict(session().execute(
        select(AgentSkill.skill_id, func.count()).where(AgentSkill.skill_id.in_(ids))
        .group_by(AgentSkill.skill_id)).all())
    return [{
        "id": r.id, "name": r.name, "slug": r.slug, "description": r.description,
        "tag_ids": tags.get(r.id, []), "department_ids": depts.get(r.id, []),
        "agent_count": int(agents.get(r.id, 0)),
        "created_at": iso(r.created_at), "updated_at": iso(r.updated_at),
    } for r in rows]


def serialize(row: Skill) -> dict[str, Any]:
    return serialize_many([row])[0]


def agent_skills(user_ids: Iterable[str]) -> dict[str, list[dict[str, Any]]]:
    """``{user_id: [{skill_id, slug, name, proficiency}]}`` in one query."""
    ids = list(user_ids)
    out: dict[str, list[dict[str, Any]]] = {uid: [] for uid in ids}
    if ids:
        for link, skill in session().execute(
            select(AgentSkill, Skill).join(Skill, Skill.id == AgentSkill.skill_id)
            .where(AgentSkill.user_id.in_(ids)).order_by(AgentSkill.user_id, Skill.name)
        ):
            out[link.user_id].append({"skill_id": skill.id, "slug": skill.slug,
                                      "name": skill.name, "proficiency": link.proficiency})
    return out


def required_for(ticket: Ticket) -> set[int]:
    """The skills the ticket needs: the union of those routed from its tags and from its
    department."""
    by_tag = (select(skill_tags.c.skill_id)
              .join(ticket_tags, ticket_tags.c.tag_id == skill_tags.c.tag_id)
              .where(ticket_tags.c.ticket_id == ticket.id))
    if ticket.department_id is None:
        return {int(s) for s in session().execute(by_tag).scalars()}
    both = by_tag.union(select(skill_departments.c.skill_id)
                        .where(skill_departments.c.department_id == ticket.department_id))
    return {int(s) for s in session().execute(both).scalars()}


def proficiency_sums(user_ids: Sequence[str], required: set[int]) -> dict[str, int]:
    """For the agents of ``user_ids`` holding *every* required skill, the sum of their
    proficiencies in them (one grouped query)."""
    if not user_ids or not required:
        return {}
    rows = session().execute(
        select(AgentSkill.user_id, func.sum(AgentSkill.proficiency))
        .where(AgentSkill.user_id.in_(list(user_ids)), AgentSkill.skill_id.in_(required))
        .group_by(AgentSkill.user_id)
        .having(func.count() == len(required))
    )
    return {str(uid): int(total) for uid, total in rows}


# ---------------------------------------------------------------------------- changing
def _ids(value: Any, field: str, model: Any) -> list[int]:
    if not isinstance(value, list) or len(value) > MAX_LINKS or any(
            isinstance(i, bool) or not isinstance(i, int) for i in value):
        raise ValidationError("The skill is not valid.", {field: "a list of ids"})
    ids = list(dict.fromkeys(value))
    found = set(session().execute(select(model.id).where(model.id.in_(ids))).scalars()) \
        if ids else set()
    if missing := [i for i in ids if i not in found]:
        raise ValidationError("The skill is not valid.",
                              {field: "unknown: " + ", ".join(map(str, missing[:10]))})
    return ids


def _apply(row: Skill, data: dict[str, Any], *, creating: bool) -> None:
    errors: dict[str, str] = {}
    if creating or "name" in data:
        name = data.get("name")
        if not isinstance(name, str) or not name.strip() or len(name) > MAX_NAME:
            errors["name"] = f"required, at most {MAX_NAME} characters"
        else:
            row.name = name.strip()
            if creating and not data.get("slug"):
                row.slug = slugify(name)
    if data.get("slug") is not None:
        if not isinstance(data["slug"], str) or not slugify(data["slug"]):
            errors["slug"] = "letters, digits and dashes"
        else:
            row.slug = slugify(data["slug"])
    if "description" in data:
        if data["description"] is not None and not isinstance(data["description"], str):
            errors["description"] = "must be a string"
        else:
            row.description = data["description"] or None
    if not errors and not row.slug:
        errors["name"] = "needs a letter or a digit"
    if errors:
        raise ValidationError("The skill is not valid.", errors)
    clash = select(Skill.id).where(Skill.slug == row.slug)
    if row.id is not None:
        clash = clash.where(Skill.id != row.id)
    db = session()
    with db.no_autoflush:  # a taken slug written first would meet the unique key: a 500
        taken = db.execute(clash).first()
    if taken:
        raise Conflict(f"A skill '{row.slug}' already exists.", {"slug": "taken"})


def _set_links(skill_id: int, data: dict[str, Any]) -> None:
    db = session()
    for field, table, column, model in (("tag_ids", skill_tags, "tag_id", Tag),
                                        ("department_ids", skill_departments, "department_id",
                                         Department)):
        if field not in data:
            continue
        ids = _ids(data[field], field, model)
        db.execute(delete(table).where(table.c.skill_id == skill_id))
        if ids:
            db.execute(insert(table), [{"skill_id": skill_id, column: i} for i in ids])


def _values(row: Skill) -> dict[str, Any]:
    out = serialize(row)
    return {k: out[k] for k in ("name", "slug", "description", "tag_ids", "department_ids")}


def create(actor: Actor, data: dict[str, Any]) -> Skill:
    """A new skill: ``name``, optional ``slug``, ``description``, ``tag_ids`` and
    ``department_ids`` (the tags and departments that route to it)."""
    row = Skill(slug="")
    _apply(row, data, creating=True)
    db = session()
    db.add(row)
    db.flush()
    _set_links(row.id, data)
    audit.log(actor, "skill.created", "skill", row.id, new=_values(row))
    return row


def update(actor: Actor, skill_id: object, data: dict[str, Any]) -> Skill:
    row = get(skill_id)
    old = _values(row)
    _apply(row, data, creating=False)
    session().flush()
    _set_links(row.id, data)
    new = _values(row)
    audit.log(actor, "skill.updated", "skill", row.id,
              old={k: v for k, v in old.items() if new[k] != v},
              new={k: v for k, v in new.items() if old[k] != v})
    return row


def remove(actor: Actor, skill_id: object) -> None:
    """Delete a skill; the agents' proficiencies and routing links go with it."""
    row = get(skill_id)
    old = _values(row)
    db = session()
    for table in (skill_tags, skill_departments):
        db.execute(delete(table).where(table.c.skill_id == row.id))
    db.execute(delete(AgentSkill).where(AgentSkill.skill_id == row.id))
    db.delete(row)
    db.flush()
    audit.log(actor, "skill.deleted", "skill", old["slug"], old=old)


def set_agent_skills(actor: Actor, user_id: str, items: Any) -> list[dict[str, Any]]:
    """Replace the agent's skills with ``[{"skill_id", "proficiency"}]`` (proficiency 1 to 5,
    default 3); the agent's skills afterwards."""
    if not isinstance(items, list) or len(items) > MAX_LINKS:
        raise ValidationError("The skills are not valid.", {"skills": "a list"})
    wanted: dict[int, int] = {}
    for i, item in enumerate(items):
        skill_id = item.get("skill_id") if isinstance(item, dict) else None
        level = item.get("proficiency", DEFAULT_PROFICIENCY) if isinstance(item, dict) else None
        if isinstance(skill_id, bool) or not isinstance(skill_id, int):
            raise ValidationError("The skills are not valid.", {f"{i}.skill_id": "a skill id"})
        if isinstance(level, bool) or not isinstance(level, int) or not 1 <= level <= 5:
            raise ValidationError("The skills are not valid.",
                                  {f"{i}.proficiency": "a whole number from 1 to 5"})
        if skill_id in wanted:
            raise ValidationError("The skills are not valid.", {f"{i}.skill_id": "twice"})
        wanted[skill_id] = level
    _ids(list(wanted), "skill_id", Skill)
    db = session()
    old = agent_skills([user_id])[user_id]
    db.execute(delete(AgentSkill).where(AgentSkill.user_id == user_id))
    db.add_all(AgentSkill(user_id=user_id, skill_id=s, proficiency=p) for s, p in wanted.items())
    db.flush()
    new = agent_skills([user_id])[user_id]
    if new != old:
        audit.log(actor, "agent.skills_changed", "agent", user_id,
                  old={"skills": {s["slug"]: s["proficiency"] for s in old}},
                  new={"skills": {s["slug"]: s["proficiency"] for s in new}})
    return new
