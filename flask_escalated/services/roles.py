"""Roles: the system roles in code, custom roles in the database, and agents' role grants.

An agent's permissions are their base role's (on the agent profile) plus every role granted to
them everywhere; a grant limited to a department adds its permissions for that department's
tickets only. :func:`resolve` turns this into the two sets a
:class:`~flask_escalated.services.permissions.Principal` holds, in at most two queries.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import delete, func, select

from ..events import Actor
from ..models import AgentProfile, Department, Role, RoleGrant
from . import audit, cache, session
from .errors import Conflict, NotFound, ValidationError
from .permissions import SYSTEM_ROLES, expand, unknown_patterns

SLUG = re.compile(r"^[a-z][a-z0-9_-]{1,59}$")

SYSTEM_ROLE_NAMES = {"admin": "Admin", "agent": "Agent", "light_agent": "Light agent"}


@dataclass(frozen=True)
class RoleInfo:
    slug: str
    name: str
    description: str | None
    permissions: tuple[str, ...]
    system: bool

    def as_dict(self) -> dict[str, Any]:
        return {
            "slug": self.slug, "name": self.name, "description": self.description,
            "permissions": list(self.permissions), "system": self.system,
            "effective_permissions": sorted(expand(self.permissions)),
        }


def _system(slug: str) -> RoleInfo:
    return RoleInfo(slug, SYSTEM_ROLE_NAMES[slug], None, SYSTEM_ROLES[slug], True)


def _custom(row: Role) -> RoleInfo:
    return RoleInfo(row.slug, row.name, row.description, tuple(row.permissions), False)


def list_roles() -> list[RoleInfo]:
    rows = session().execute(select(Role).order_by(Role.slug)).scalars()
    return [_system(s) for s in SYSTEM_ROLES] + [_custom(r) for r in rows]


def _row(slug: str) -> Role:
    row = session().execute(select(Role).where(Role.slug == slug)).scalar_one_or_none()
    if row is None:
        raise NotFound(f"No role '{slug[:60]}'.")
    return row


def get_role(slug: str) -> RoleInfo:
    return _system(slug) if slug in SYSTEM_ROLES else _custom(_row(slug))


def role_exists(slug: str) -> bool:
    if slug in SYSTEM_ROLES:
        return True
    return session().execute(select(Role.id).where(Role.slug == slug)).first() is not None


def _clean(data: dict[str, Any], *, creating: bool) -> dict[str, Any]:
    out: dict[str, Any] = {}
    errors: dict[str, str] = {}
    if creating:
        slug = data.get("slug")
        if not isinstance(slug, str) or not SLUG.match(slug):
            errors["slug"] = "2-60 characters: lower-case letters, digits, '_' or '-'"
        elif slug in SYSTEM_ROLES:
            errors["slug"] = "reserved for a system role"
        else:
            out["slug"] = slug
    if "name" in data or creating:
        name = data.get("name")
        if not isinstance(name, str) or not name.strip() or len(name) > 120:
            errors["name"] = "required, at most 120 characters"
        else:
            out["name"] = name.strip()
    if "description" in data:
        desc = data["description"]
        if desc is not None and (not isinstance(desc, str) or len(desc) > 2000):
            errors["description"] = "text of at most 2000 characters"
        else:
            out["description"] = desc
    if "permissions" in data or creating:
        perms = data.get("permissions")
        if not isinstance(perms, list) or not perms:
            errors["permissions"] = "a non-empty list of permission slugs or patterns"
        elif bad := unknown_patterns(perms):
            errors["permissions"] = "unknown: " + ", ".join(str(p)[:60] for p in bad[:10])
        else:
            out["permissions"] = sorted(set(perms))
    if errors:
        raise ValidationError("The role is not valid.", errors)
    return out


def create_role(actor: Actor, data: dict[str, Any]) -> RoleInfo:
    values = _clean(data, creating=True)
    if role_exists(values["slug"]):
        raise Conflict(f"A role '{values['slug']}' already exists.", {"slug": "taken"})
    row = Role(**values)
    session().add(row)
    session().flush()
    audit.log(actor, "role.created", "role", row.slug, new=values)
    return _custom(row)


def update_role(actor: Actor, slug: str, data: dict[str, Any]) -> RoleInfo:
    if slug in SYSTEM_ROLES:
        raise Conflict("System roles cannot be changed; create a custom role instead.")
    row = _row(slug)
    values = _clean(data, creating=False)
    old = {k: getattr(row, k) for k in values}
    for key, value in values.items():
        setattr(row, key, value)
    session().flush()
    audit.log(actor, "role.updated", "role", slug, old=old, new=values)
    return _custom(row)


def delete_role(actor: Actor, slug: str) -> None:
    """Delete a custom role that nobody holds (refused with 409 while anyone does)."""
    if slug in SYSTEM_ROLES:
        raise Conflict("System roles cannot be deleted.")
    row = _row(slug)
    db = session()
    holders = db.execute(select(func.count()).select_from(AgentProfile)
                         .where(AgentProfile.role == slug)).scalar_one()
    holders += db.execute(select(func.count()).select_from(RoleGrant)
                          .where(RoleGrant.role_slug == slug)).scalar_one()
    if holders:
        raise Conflict(f"The role '{slug}' is still held {holders} time(s); take it away first.",
                       {"slug": "in use"})
    audit.log(actor, "role.deleted", "role", slug, old=_custom(row).as_dict())
    db.delete(row)
    db.flush()


# ---------------------------------------------------------------------------- grants
def grants_of(user_id: str) -> list[RoleGrant]:
    return list(session().execute(
        select(RoleGrant).where(RoleGrant.user_id == user_id)
        .order_by(RoleGrant.department_id.is_not(None), RoleGrant.department_id,
                  RoleGrant.role_slug)
    ).scalars())


def _grant_values(grants: Iterable[RoleGrant]) -> list[dict[str, Any]]:
    return [{"role": g.role_slug, "department_id": g.department_id} for g in grants]


def set_agent_roles(
    actor: Actor, user_id: str, *, role: str | None = None, grants: list[Any] | None = None
) -> tuple[AgentProfile, list[RoleGrant]]:
    """Set an agent's base role and/or replace their grants (each ``{role, department_id}``)."""
    db = session()
    profile = db.execute(
        select(AgentProfile).where(AgentProfile.user_id == user_id)
    ).scalar_one_or_none()
    if profile is None:
        raise NotFound(f"User '{user_id[:64]}' is not an agent.")
    old = {"role": profile.role, "grants": _grant_values(grants_of(user_id))}
    apply_agent_roles(profile, role=role, grants=grants)
    current = grants_of(user_id)
    audit.log(actor, "agent.roles_changed", "agent", user_id, old=old,
              new={"role": profile.role, "grants": _grant_values(current)})
    return profile, current


def apply_agent_roles(profile: AgentProfile, *, role: str | None = None,
                      grants: list[Any] | None = None) -> None:
    """Check and apply a base role and/or a new set of grants (no audit row: the caller writes
    the one row that describes its whole change)."""
    db = session()
    if role is not None and (not isinstance(role, str) or not role_exists(role)):
        raise ValidationError(f"Unknown role '{str(role)[:60]}'.", {"role": "unknown"})
    wanted = _clean_grants(grants) if grants is not None else None
    if role is not None:
        profile.role = role
    if wanted is not None:
        db.execute(delete(RoleGrant).where(RoleGrant.user_id == profile.user_id))
        db.add_all(RoleGrant(user_id=profile.user_id, role_slug=slug, department_id=dept)
                   for slug, dept in wanted)
    db.flush()


def _clean_grants(grants: list[Any]) -> list[tuple[str, int | None]]:
    if not isinstance(grants, list) or len(grants) > 200:
        raise ValidationError("grants must be a list of at most 200 items.", {"grants": "list"})
    wanted: dict[tuple[str, int | None], None] = {}
    for i, item in enumerate(grants):
        if not isinstance(item, dict) or not isinstance(item.get("role"), str):
            raise ValidationError("Each grant needs a role.", {f"grants[{i}]": "role required"})
        dept = item.get("department_id")
        if dept is not None and (isinstance(dept, bool) or not isinstance(dept, int)):
            raise ValidationError("department_id must be a whole number or null.",
                                  {f"grants[{i}].department_id": "not a number"})
        wanted[(item["role"], dept)] = None
    slugs = {slug for slug, _ in wanted}
    known = set(SYSTEM_ROLES) | set(session().execute(
        select(Role.slug).where(Role.slug.in_(slugs))).scalars())
    if unknown := sorted(slugs - known):
        raise ValidationError("Unknown role(s).", {"grants": ", ".join(unknown)[:200]})
    depts = {d for _, d in wanted if d is not None}
    found = set(session().execute(
        select(Department.id).where(Department.id.in_(depts))).scalars()) if depts else set()
    if missing := sorted(depts - found):
        raise ValidationError("Unknown department(s).",
                              {"grants": ", ".join(map(str, missing))})
    return list(wanted)


def resolve(user_id: str, base_role: str) -> tuple[frozenset[str], dict[int, frozenset[str]]]:
    """The permissions ``user_id`` holds everywhere, and per department, from their roles
    (from the process cache: read on every request)."""
    return cache.cached(f"roles:{user_id}:{base_role}", lambda: _resolve(user_id, base_role))


def _resolve(user_id: str, base_role: str) -> tuple[frozenset[str], dict[int, frozenset[str]]]:
    db = session()
    grants = db.execute(
        select(RoleGrant.role_slug, RoleGrant.department_id).where(RoleGrant.user_id == user_id)
    ).all()
    slugs = {base_role} | {slug for slug, _ in grants}
    patterns: dict[str, tuple[str, ...]] = {s: SYSTEM_ROLES[s] for s in slugs if s in SYSTEM_ROLES}
    custom = slugs - set(patterns)
    if custom:
        for slug, stored in db.execute(select(Role.slug, Role.permissions)
                                       .where(Role.slug.in_(custom))):
            patterns[slug] = tuple(stored)
    everywhere = expand(patterns.get(base_role, ()))
    by_department: dict[int, set[str]] = {}
    for slug, dept in grants:
        held = expand(patterns.get(slug, ()))
        if dept is None:
            everywhere |= held
        else:
            by_department.setdefault(dept, set()).update(held)
    return everywhere, {d: frozenset(p) for d, p in by_department.items()}
