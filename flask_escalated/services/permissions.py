"""Who may do what: the permission catalogue, system roles, token abilities and ticket visibility.

A :class:`Principal` is the acting person as the services see them: a host user id, whether they
are an agent or admin, their permissions (everywhere, and per department from department-scoped
role grants), and (for API tokens) the abilities that narrow them. Route guards ask
``can_anywhere(permission)``; ticket checks ask ``can_in(permission, ticket.department_id)``;
queries ask :func:`visible_tickets` for the WHERE clause that keeps each caller to the tickets
they may see.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from fnmatch import fnmatchcase
from types import MappingProxyType

from sqlalchemy import ColumnElement, false, or_, select

from ..events import Actor
from ..models import Contact, Ticket

#: The permission catalogue (the family's slugs), grouped for the role editor.
PERMISSIONS: dict[str, tuple[str, ...]] = {
    "ticket": ("view", "create", "edit", "delete", "assign", "merge", "split", "close", "export"),
    "reply": ("create", "create_internal", "edit", "delete"),
    "kb": ("view", "create", "edit", "delete", "publish"),
    "department": ("view", "create", "edit", "delete"),
    "report": ("view", "export"),
    "sla": ("view", "manage"),
    "automation": ("view", "manage"),
    "escalation": ("view", "manage"),
    "workflow": ("view", "manage"),
    "macro": ("view", "create", "manage"),
    "canned": ("view", "create", "manage"),
    "view": ("manage",),
    "tag": ("view", "manage"),
    "status": ("view", "manage"),
    "custom_field": ("view", "manage"),
    "role": ("view", "manage"),
    "user": ("view", "manage"),
    "settings": ("view", "manage"),
    "webhook": ("view", "manage"),
    "api_token": ("view", "manage"),
    "audit": ("view",),
    "inbound_email": ("view", "manage"),
    "skill": ("view", "manage"),
}
ALL_PERMISSIONS: frozenset[str] = frozenset(
    f"{group}.{action}" for group, actions in PERMISSIONS.items() for action in actions
)

#: System roles and the permission patterns they grant. Deleting tickets is an admin's
#: decision: agents close them instead. Reports (which compare agents) are for admins and the
#: roles granted ``report.view``.
SYSTEM_ROLES: dict[str, tuple[str, ...]] = {
    "admin": ("*",),
    "agent": (
        "ticket.view", "ticket.create", "ticket.edit", "ticket.assign", "ticket.merge",
        "ticket.split", "ticket.close", "ticket.export", "reply.*", "kb.view", "macro.view",
        "macro.create", "canned.view", "canned.create", "tag.view", "status.view",
        "department.view", "custom_field.view", "audit.view",
    ),
    "light_agent": ("ticket.view", "reply.create", "reply.create_internal", "kb.view",
                    "macro.view", "canned.view", "tag.view", "status.view", "department.view"),
}

#: API token abilities and the permission patterns each allows. A token acts as its owner
#: *narrowed* by these: the owner must hold a permission and a token ability must allow it.
ABILITIES: dict[str, tuple[str, ...]] = {
    "*": ("*",),
    "admin": ("*",),
    "agent": tuple(p for p in SYSTEM_ROLES["agent"]),
    "tickets:read": ("ticket.view",),
    "tickets:write": ("ticket.view", "ticket.create", "ticket.edit", "ticket.assign",
                      "ticket.close", "reply.create", "reply.create_internal"),
    "kb:read": ("kb.view",),
    "kb:write": ("kb.*",),
    "admin:read": ("*.view",),
}

#: What a customer (a signed-in host user who is not an agent) may do, on their own tickets.
CUSTOMER_PERMISSIONS: frozenset[str] = frozenset(
    {"ticket.view", "ticket.create", "ticket.close", "reply.create"}
)


def expand(patterns: Iterable[str]) -> frozenset[str]:
    """Expand ``group.*`` and ``*`` patterns into concrete permission slugs."""
    patterns = tuple(patterns)
    return frozenset(p for p in ALL_PERMISSIONS if any(fnmatchcase(p, pat) for pat in patterns))


def unknown_patterns(patterns: Iterable[str]) -> list[str]:
    """The patterns that name no permission of the catalogue (typos, retired slugs)."""
    return [pat for pat in patterns if not isinstance(pat, str) or not expand([pat])]


_NO_DEPARTMENTS: Mapping[int, frozenset[str]] = MappingProxyType({})


@dataclass(frozen=True)
class Principal:
    """The acting person. ``abilities`` is ``None`` for a session (no token narrowing)."""

    user_id: str | None
    is_agent: bool = False
    is_admin: bool = False
    role: str | None = None
    abilities: frozenset[str] | None = None
    #: Permissions held everywhere.
    permissions: frozenset[str] = field(default_factory=frozenset)
    #: Extra permissions held only on the tickets of one department.
    department_permissions: Mapping[int, frozenset[str]] = field(
        default_factory=lambda: _NO_DEPARTMENTS)

    @classmethod
    def build(
        cls,
        user_id: str | None,
        *,
        is_agent: bool = False,
        is_admin: bool = False,
        role: str | None = None,
        abilities: list[str] | None = None,
        granted: frozenset[str] | None = None,
        by_department: Mapping[int, frozenset[str]] | None = None,
    ) -> Principal:
        """The principal for a user; ``granted``/``by_department`` come from :mod:`.roles`.

        Without ``granted`` an agent holds their system role's permissions (``agent`` when the
        role is unknown here); a token's ``abilities`` then narrow every set.
        """
        departments: Mapping[int, frozenset[str]] = by_department or {}
        if is_admin:
            role, held, departments = "admin", ALL_PERMISSIONS, {}
        elif is_agent:
            role = role or "agent"
            held = granted if granted is not None else expand(
                SYSTEM_ROLES.get(role, SYSTEM_ROLES["agent"]))
        else:
            held = CUSTOMER_PERMISSIONS if user_id is not None else frozenset()
            departments = {}
        if abilities is not None:
            allowed = expand([pat for a in abilities for pat in ABILITIES.get(a, ())])
            held = held & allowed
            departments = {d: perms & allowed for d, perms in departments.items()}
        departments = {d: perms - held for d, perms in departments.items() if perms - held}
        return cls(
            user_id=user_id,
            is_agent=is_agent or is_admin,
            is_admin=is_admin,
            role=role,
            abilities=frozenset(abilities) if abilities is not None else None,
            permissions=held,
            department_permissions=MappingProxyType(departments) if departments
            else _NO_DEPARTMENTS,
        )

    @classmethod
    def anonymous(cls) -> Principal:
        return cls(user_id=None)

    @property
    def is_authenticated(self) -> bool:
        return self.user_id is not None

    def can(self, permission: str) -> bool:
        """Held everywhere (what admin resources and queue-wide actions need)."""
        return permission in self.permissions

    def can_in(self, permission: str, department_id: int | None) -> bool:
        """Held for a ticket of ``department_id``: everywhere, or through that department."""
        if permission in self.permissions:
            return True
        return department_id is not None and permission in self.department_permissions.get(
            department_id, ())

    def can_anywhere(self, permission: str) -> bool:
        """Held everywhere or in some department: what a route guard asks before the ticket
        itself is known."""
        return permission in self.permissions or any(
            permission in perms for perms in self.department_permissions.values())

    def departments_with(self, permission: str) -> list[int]:
        return sorted(d for d, perms in self.department_permissions.items() if permission in perms)

    @property
    def all_permissions(self) -> dict[str, list[str]]:
        """Everything held, for ``/me`` and the UI: ``{"*": [...], "<dept id>": [...]}``."""
        out = {"*": sorted(self.permissions)}
        for dept, perms in sorted(self.department_permissions.items()):
            out[str(dept)] = sorted(perms)
        return out

    @property
    def actor(self) -> Actor:
        if self.user_id is None:
            return Actor.system()
        return Actor.agent(self.user_id) if self.is_agent else Actor.customer(self.user_id)


def visible_tickets(principal: Principal) -> ColumnElement[bool] | None:
    """WHERE clause limiting tickets to those ``principal`` may see (``None``: no limit)."""
    if not principal.can("ticket.view"):
        departments = principal.departments_with("ticket.view") if principal.is_agent else []
        return Ticket.department_id.in_(departments) if departments else false()
    if principal.is_agent:
        return None
    own_contacts = select(Contact.id).where(Contact.user_id == principal.user_id)
    return or_(
        Ticket.requester_user_id == principal.user_id,
        Ticket.contact_id.in_(own_contacts.scalar_subquery()),
    )


def owns_ticket(principal: Principal, ticket: Ticket) -> bool:
    if principal.user_id is None:
        return False
    if ticket.requester_user_id == principal.user_id:
        return True
    if ticket.contact_id is not None:
        from . import session

        contact = session().get(Contact, ticket.contact_id)
        return contact is not None and contact.user_id == principal.user_id
    return False


def can_view_ticket(principal: Principal, ticket: Ticket) -> bool:
    return can_act_on_ticket(principal, ticket, "ticket.view")


def can_act_on_ticket(principal: Principal, ticket: Ticket, permission: str) -> bool:
    """Agents need ``permission`` (everywhere or in the ticket's department); customers need
    it *and* to own the ticket."""
    if not principal.can_in(permission, ticket.department_id):
        return False
    return principal.is_agent or owns_ticket(principal, ticket)
