"""Console sections for who may do what: agents and roles.

Agents are host users with an agent profile: the page finds the host user by e-mail address
or id (the host's hooks), and removing an agent takes their access away, never the user.
Changing someone's roles needs ``role.manage`` besides ``user.manage``, as in the API: a
person without it sees no role inputs, and a posted role is refused with 403.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from flask import Blueprint
from pydantic import BaseModel

from ...events import Actor
from ...models import AgentProfile
from ...services import agents, departments, roles, serializers
from ...services.permissions import PERMISSIONS, expand
from ..api.agents import check_role_change
from ..api.schemas.agents import AgentCreate, AgentUpdate
from ..api.schemas.roles import RoleCreate, RoleUpdate
from ..forms import FieldSpec, specs_for
from ..security import current_principal
from .crud import Column, Page, Resource, link, register, simple_rows


# ---------------------------------------------------------------------------- agents
@dataclass(frozen=True)
class AgentRow:
    """An agent profile with the host's name and e-mail for it."""

    profile: AgentProfile
    name: str
    email: str | None

    @property
    def user_id(self) -> str:
        return self.profile.user_id


def _with_user(profile: AgentProfile, user: Any = None, *, loaded: bool = False) -> AgentRow:
    if not loaded:
        user = serializers.People([profile.user_id]).user(profile.user_id)
        name, email = (user or {}).get("name"), (user or {}).get("email")
    else:
        from ...services import ext

        name, email = ext().display(user)
    return AgentRow(profile, name or profile.user_id, email)


def _agent_rows(q: str | None, cursor: Any, limit: int) -> Page:
    after = cursor if isinstance(cursor, int) and not isinstance(cursor, bool) else None
    found, next_cursor = agents.page_agents(q, after, limit)
    return Page([_with_user(p, u, loaded=True) for p, u in found], next_cursor)


def _agent_specs(model: type[BaseModel]) -> list[FieldSpec]:
    names = ["user"] if model is AgentCreate else []
    if current_principal().can("role.manage"):
        names += ["role", "roles"]
    names += ["department_ids", "max_open_tickets"]
    role_choices = [(r.slug, r.name) for r in roles.list_roles()]
    return specs_for(
        model, only=names,
        user={"label": "E-mail address or user id", "required": True,
              "help": "A user of the site: their e-mail address or their id in the host app."},
        role={"widget": "select", "choices": role_choices, "blank": None, "label": "Base role"},
        roles={"widget": "checkboxes", "choices": role_choices, "label": "Also holds",
               "help": "Roles granted everywhere besides the base role."},
        department_ids={"widget": "checkboxes", "label": "Departments", "help": None,
                        "choices": [(str(d.id), d.name)
                                    for d in departments.list_departments()]},
        max_open_tickets={"label": "Max open tickets",
                          "help": "Empty: no limit. Automatic assignment skips an agent "
                                  "who has this many open tickets."})


def _create_agent(actor: Actor, data: dict[str, Any]) -> AgentRow:
    if data.get("role", "agent") != "agent" or data.get("roles"):
        check_role_change(data)
    return _with_user(agents.create_agent(actor, data))


def _update_agent(actor: Actor, user_id: str, data: dict[str, Any]) -> AgentRow:
    check_role_change(data)
    return _with_user(agents.update_agent(actor, user_id, data))


AGENTS = Resource(
    name="agents", label="Agents", singular="agent", view="user.manage",
    create_permission="user.manage", edit_permission="user.manage",
    delete_permission="user.manage",
    load=lambda user_id: _with_user(agents.get_agent(user_id)),
    serialize=lambda row: agents.agent_values(row.profile),
    rows=_agent_rows, searchable=True,
    title=lambda row: row.name, key_rule="string", key=lambda row: row.user_id,
    columns=[Column("Name", link("agents", lambda a: a.name, key=lambda a: a.user_id)),
             Column("E-mail", lambda a: a.email or "—"),
             Column("Role", lambda a: a.profile.role.replace("_", " ")),
             Column("Max open tickets", lambda a: a.profile.max_open_tickets or "—")],
    create_model=AgentCreate, update_model=AgentUpdate,
    create=_create_agent, update=_update_agent, delete=agents.remove_agent,
    specs=_agent_specs, initial=lambda: {"role": "agent"},
    delete_note="They lose their roles and departments and can no longer work tickets. "
                "Their account on the site stays; you can make them an agent again.",
    intro="Agents are users of the site who work tickets. Make someone an agent by their "
          "e-mail address; their roles say what they may do.")


# ---------------------------------------------------------------------------- roles
def _role_specs(model: type[BaseModel]) -> list[FieldSpec]:
    choices = [(f"{group}.{action}", action.replace("_", " "))
               for group, actions in PERMISSIONS.items() for action in actions]
    return specs_for(model, description={"widget": "textarea", "rows": 3},
                     permissions={"widget": "checkboxes", "choices": choices,
                                  "help": "What holders of the role may do, by area."})


def _role_values(role: roles.RoleInfo) -> dict[str, Any]:
    """The grid ticks what the role's patterns (``ticket.*``) grant, one box a permission."""
    return {**role.as_dict(), "permissions": sorted(expand(role.permissions))}


def permission_groups() -> list[tuple[str, list[str]]]:
    """The catalogue by area, for the role editor's grid."""
    return [(group, [f"{group}.{a}" for a in actions]) for group, actions in PERMISSIONS.items()]


ROLES = Resource(
    name="roles", label="Roles", singular="role", view="role.manage",
    create_permission="role.manage", edit_permission="role.manage",
    delete_permission="role.manage",
    load=roles.get_role, serialize=lambda r: r.as_dict(), form_values=_role_values,
    rows=simple_rows(roles.list_roles),
    title=lambda r: r.name, key_rule="string", key=lambda r: r.slug,
    columns=[Column("Name", link("roles", lambda r: r.name, key=lambda r: r.slug)),
             Column("Slug", lambda r: r.slug),
             Column("Permissions", lambda r: len(expand(r.permissions))),
             Column("Kind", lambda r: "built in" if r.system else "custom")],
    create_model=RoleCreate, update_model=RoleUpdate,
    create=roles.create_role, update=roles.update_role, delete=roles.delete_role,
    specs=_role_specs, form_template="escalated/admin/role_form.html",
    context=lambda row: {"permission_groups": permission_groups()},
    locked=lambda r: ("A built-in role: it can be neither changed nor deleted. Create a "
                      "custom role instead.") if r.system else None,
    intro="A role is a set of permissions. Every agent has a base role and may hold more; "
          "a role nobody holds can be deleted.")


def register_all(bp: Blueprint) -> None:
    for res in (AGENTS, ROLES):
        register(bp, res)
