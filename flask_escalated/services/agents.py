"""Agent profiles: which host users are agents, with what roles, departments and load limit.

Escalated owns no users table: an agent is a host user (found through the host's hooks, see
:mod:`flask_escalated.hosts`) with an :class:`AgentProfile`. Removing an agent's access
deactivates the profile and takes away their roles and department places; the host user is
never touched, and making them an agent again reactivates the same profile.

An agent's roles are a base role (on the profile) plus roles granted everywhere; grants limited
to a department are managed through ``PUT /agents/<id>/roles`` and kept by the changes here.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from flask import g
from sqlalchemy import delete, select

from ..events import Actor
from ..models import AgentProfile, Department, DepartmentMember, RoleGrant
from . import audit, ext, session
from .errors import Conflict, NotFound, ValidationError
from .permissions import SYSTEM_ROLES

#: Host users loaded per step while a search walks the agents (names live in the host).
SEARCH_BATCH = 200
#: Steps one search page may take before it answers with what it found and a cursor.
SEARCH_STEPS = 10
MAX_OPEN_TICKETS = 10_000


def agents_among(user_ids: Iterable[str]) -> set[str]:
    """Those of ``user_ids`` the host counts as agents (one bulk lookup through its hooks)."""
    wanted = {str(u) for u in user_ids}
    if not wanted:
        return set()
    escalated = ext()
    users = escalated.load_users(wanted)
    return {uid for uid, user in users.items() if escalated.is_agent(user)}

def make_agent(user_id: object, actor: Actor, *, role: str = "agent") -> AgentProfile:
    """Create or update the agent profile of a host user; ``role`` is a system or custom role."""
    from .roles import role_exists

    if not role_exists(role):
        raise ValidationError(f"Unknown role '{role[:60]}'.",
                              {"role": f"one of {', '.join(SYSTEM_ROLES)} or a custom role"})
    uid = str(user_id)
    profile = _profile(uid)
    old = None
    if profile is None:
        profile = AgentProfile(user_id=uid, role=role, is_active=True)
        session().add(profile)
    else:
        old = {"role": profile.role, "is_active": profile.is_active}
        profile.role, profile.is_active = role, True
    session().flush()
    _forget()
    audit.log(actor, "agent.saved", "agent", uid, old=old,
              new={"role": role, "is_active": True})
    return profile


def list_agents() -> list[AgentProfile]:
    return list(
        session().execute(
            select(AgentProfile).where(AgentProfile.is_active.is_(True)).order_by(AgentProfile.user_id)
        ).scalars()
    )


# ---------------------------------------------------------------------------- reading
def _profile(user_id: str) -> AgentProfile | None:
    return session().execute(
        select(AgentProfile).where(AgentProfile.user_id == user_id)
    ).scalar_one_or_none()


def get_agent(user_id: object) -> AgentProfile:
    """The active agent profile of ``user_id`` (404 for anyone else)."""
    profile = _profile(str(user_id)[:64])
    if profile is None or not profile.is_active:
        raise NotFound(f"User '{str(user_id)[:64]}' is not an agent.")
    return profile


def department_ids_of(user_id: str) -> list[int]:
    return sorted(session().execute(
        select(DepartmentMember.department_id).where(DepartmentMember.user_id == user_id)
    ).scalars())


def agent_values(profile: AgentProfile) -> dict[str, Any]:
    """The profile as the API shows it (without the host's name and e-mail)."""
    from .roles import grants_of

    grants = grants_of(profile.user_id)
    return {
        "user_id": profile.user_id, "role": profile.role,
        "roles": sorted({g.role_slug for g in grants if g.department_id is None}),
        "grants": [{"role": g.role_slug, "department_id": g.department_id} for g in grants],
        "department_ids": department_ids_of(profile.user_id),
        "max_open_tickets": profile.max_open_tickets, "is_active": profile.is_active,
    }


def page_agents(q: str | None, after: int | None,
                limit: int) -> tuple[list[tuple[AgentProfile, Any]], int | None]:
    """A keyset page of active agents (by profile id) with their host users, and the cursor
    of the next page. ``q`` keeps those whose name, e-mail or user id contains it (any case):
    names live in the host, so a search loads the host users a batch at a time and stops
    after :data:`SEARCH_STEPS` batches with a cursor (the next page goes on from there)."""
    needle = q.casefold() if q else None
    found: list[tuple[AgentProfile, Any]] = []
    cursor = after
    for _ in range(SEARCH_STEPS if needle else 1):
        batch_size = SEARCH_BATCH if needle else limit + 1
        stmt = (select(AgentProfile).where(AgentProfile.is_active.is_(True))
                .order_by(AgentProfile.id).limit(batch_size))
        if cursor is not None:
            stmt = stmt.where(AgentProfile.id > cursor)
        batch = list(session().execute(stmt).scalars())
        users = ext().load_users(p.user_id for p in batch)
        for profile in batch:
            user = users.get(profile.user_id)
            if needle is None or _matches(needle, profile.user_id, user):
                if len(found) == limit:
                    return found, found[-1][0].id
                found.append((profile, user))
            cursor = profile.id
        if len(batch) < batch_size:
            return found, None
    return found, cursor


def _matches(needle: str, user_id: str, user: Any) -> bool:
    name, email = ext().display(user)
    return any(needle in (text or "").casefold() for text in (name, email, user_id))


def find_host_user(ref: str) -> str:
    """The id of the host user an admin typed: an e-mail address (the host's
    ``user_by_email`` hook) or a user id (its ``user_loader``)."""
    from ..hosts import user_id_of

    text = ref.strip()
    user = (ext().find_user_by_email(text) if "@" in text
            else ext().load_user(text) if text else None)
    uid = user_id_of(user)
    if uid is None:
        raise ValidationError("No user of the site has this e-mail address or id.",
                              {"user": "no user with this e-mail address or id"})
    return uid


# ---------------------------------------------------------------------------- changing
def create_agent(actor: Actor, data: dict[str, Any]) -> AgentProfile:
    """Make a host user an agent (``user``: their e-mail or id), with ``role`` (default
    ``agent``), everywhere-``roles``, ``department_ids`` and ``max_open_tickets``."""
    uid = find_host_user(str(data.get("user") or ""))
    profile = _profile(uid)
    if profile is not None and profile.is_active:
        raise Conflict("This user is an agent already.", {"user": "already an agent"})
    if profile is None:
        profile = AgentProfile(user_id=uid, role="agent", is_active=True)
        session().add(profile)
    profile.is_active = True  # a former agent comes back with what this request says
    _apply(profile, {"role": "agent", "max_open_tickets": None, "roles": [], **data})
    audit.log(actor, "agent.created", "agent", uid, new=agent_values(profile))
    return profile


def update_agent(actor: Actor, user_id: object, data: dict[str, Any]) -> AgentProfile:
    """Change an agent's ``role``, ``roles``, ``department_ids`` or ``max_open_tickets``."""
    profile = get_agent(user_id)
    old = agent_values(profile)
    _apply(profile, data)
    new = agent_values(profile)
    audit.log(actor, "agent.updated", "agent", profile.user_id,
              old={k: v for k, v in old.items() if new[k] != v},
              new={k: v for k, v in new.items() if old[k] != v})
    return profile


def remove_agent(actor: Actor, user_id: object) -> None:
    """Take away a user's agent access: roles, department places and the active profile.
    The host user stays; their tickets keep them as assignee until someone reassigns."""
    profile = get_agent(user_id)
    if actor.user_id == profile.user_id:
        raise Conflict("You cannot remove your own agent access.", {"user": "yourself"})
    old = agent_values(profile)
    db = session()
    db.execute(delete(RoleGrant).where(RoleGrant.user_id == profile.user_id))
    db.execute(delete(DepartmentMember).where(DepartmentMember.user_id == profile.user_id))
    profile.is_active = False
    db.flush()
    db.expire_all()  # department member lists loaded earlier must not keep the agent
    _forget()
    audit.log(actor, "agent.removed", "agent", profile.user_id, old=old)


def _apply(profile: AgentProfile, data: dict[str, Any]) -> None:
    from .roles import apply_agent_roles, grants_of

    if "max_open_tickets" in data:
        limit = data["max_open_tickets"]
        if limit is not None and (isinstance(limit, bool) or not isinstance(limit, int)
                                  or not 1 <= limit <= MAX_OPEN_TICKETS):
            raise ValidationError("The agent is not valid.", {
                "max_open_tickets": f"a whole number from 1 to {MAX_OPEN_TICKETS}, or empty"})
        profile.max_open_tickets = limit
    grants = None
    if "roles" in data:
        if not isinstance(data["roles"], list):
            raise ValidationError("The agent is not valid.", {"roles": "a list of roles"})
        scoped = [{"role": g.role_slug, "department_id": g.department_id}
                  for g in grants_of(profile.user_id) if g.department_id is not None]
        grants = [{"role": r, "department_id": None} for r in data["roles"]] + scoped
    session().flush()
    try:
        apply_agent_roles(profile, role=data.get("role"), grants=grants)
    except ValidationError as exc:  # name this form's fields
        fields = {("roles" if k == "grants" else k): v for k, v in (exc.fields or {}).items()}
        raise ValidationError(exc.message, fields) from None
    if "department_ids" in data:
        _set_departments(profile.user_id, data["department_ids"])
    session().flush()
    _forget()


def _set_departments(user_id: str, wanted: Iterable[Any]) -> None:
    ids = list(dict.fromkeys(wanted))
    if any(isinstance(i, bool) or not isinstance(i, int) for i in ids):
        raise ValidationError("The agent is not valid.", {"department_ids": "department ids"})
    db = session()
    found = set(db.execute(select(Department.id).where(Department.id.in_(ids))).scalars()) \
        if ids else set()
    if missing := [i for i in ids if i not in found]:
        raise ValidationError("Unknown department(s).",
                              {"department_ids": "unknown: " + ", ".join(map(str, missing[:10]))})
    current = set(department_ids_of(user_id))
    db.execute(delete(DepartmentMember).where(DepartmentMember.user_id == user_id,
                                              DepartmentMember.department_id.not_in(ids or [0])))
    db.add_all(DepartmentMember(department_id=i, user_id=user_id) for i in ids
               if i not in current)
    db.flush()
    db.expire_all()  # Department.members loaded earlier in the request must see the change


def _forget() -> None:
    """Drop the request's cached profiles (:meth:`Escalated.agent_profile`)."""
    g.pop("_escalated_profiles", None)
