"""Who may do what: the permission catalogue, system roles, token abilities and ticket visibility.

A :class:`Principal` is the acting person as the services see them: a host user id, whether they
are an agent or admin, their role, and (for API tokens) the abilities that narrow them. Every
view builds one and asks it ``can(permission)``; queries ask :func:`visible_tickets` for the
WHERE clause that keeps customers to their own tickets.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from fnmatch import fnmatchcase

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
    "tag": ("view", "manage"),
    "status": ("view", "manage"),
    "custom_field": ("view", "manage"),
    "role": ("view", "manage"),
    "user": ("view", "manage"),
    "settings": ("view", "manage"),
    "webhook": ("view", "manage"),
    "api_token": ("view", "manage"),
    "audit": ("view",),
}
ALL_PERMISSIONS: frozenset[str] = frozenset(
    f"{group}.{action}" for group, actions in PERMISSIONS.items() for action in actions
)

#: System roles and the permission patterns they grant. Deleting tickets is an admin's
#: decision: agents close them instead.
SYSTEM_ROLES: dict[str, tuple[str, ...]] = {
    "admin": ("*",),
    "agent": (
        "ticket.view", "ticket.create", "ticket.edit", "ticket.assign", "ticket.merge",
        "ticket.split", "ticket.close", "ticket.export", "reply.*", "kb.view", "report.view",
        "macro.view", "macro.create", "tag.view", "status.view", "department.view",
        "custom_field.view", "audit.view",
    ),
    "light_agent": ("ticket.view", "reply.create", "reply.create_internal", "kb.view",
                    "macro.view", "tag.view", "status.view", "department.view"),
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
}

#: What a customer (a signed-in host user who is not an agent) may do, on their own tickets.
CUSTOMER_PERMISSIONS: frozenset[str] = frozenset(
    {"ticket.view", "ticket.create", "ticket.close", "reply.create"}
)


def expand(patterns: tuple[str, ...] | list[str]) -> frozenset[str]:
    """Expand ``group.*`` and ``*`` patterns into concrete permission slugs."""
    return frozenset(p for p in ALL_PERMISSIONS if any(fnmatchcase(p, pat) for pat in patterns))


@dataclass(frozen=True)
class Principal:
    """The acting person. ``abilities`` is ``None`` for a session (no token narrowing)."""

    user_id: str | None
    is_agent: bool = False
    is_admin: bool = False
    role: str | None = None
    abilities: frozenset[str] | None = None
    permissions: frozenset[str] = field(default_factory=frozenset)

    @classmethod
    def build(
        cls,
        user_id: str | None,
        *,
        is_agent: bool = False,
        is_admin: bool = False,
        role: str | None = None,
        abilities: list[str] | None = None,
    ) -> Principal:
        if is_admin:
            role = "admin"
            granted = ALL_PERMISSIONS
        elif is_agent:
            role = role if role in SYSTEM_ROLES else "agent"
            granted = expand(SYSTEM_ROLES[role])
        elif user_id is not None:
            granted = CUSTOMER_PERMISSIONS
        else:
            granted = frozenset()
        if abilities is not None:
            allowed = expand([pat for a in abilities for pat in ABILITIES.get(a, ())])
            granted = granted & allowed
        return cls(
            user_id=user_id,
            is_agent=is_agent or is_admin,
            is_admin=is_admin,
            role=role,
            abilities=frozenset(abilities) if abilities is not None else None,
            permissions=granted,
        )

    @classmethod
    def anonymous(cls) -> Principal:
        return cls(user_id=None)

    @property
    def is_authenticated(self) -> bool:
        return self.user_id is not None

    def can(self, permission: str) -> bool:
        return permission in self.permissions

    @property
    def actor(self) -> Actor:
        if self.user_id is None:
            return Actor.system()
        return Actor.agent(self.user_id) if self.is_agent else Actor.customer(self.user_id)


def visible_tickets(principal: Principal) -> ColumnElement[bool] | None:
    """WHERE clause limiting tickets to those ``principal`` may see (``None``: no limit)."""
    if not principal.can("ticket.view"):
        return false()
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
    if not principal.can("ticket.view"):
        return False
    return principal.is_agent or owns_ticket(principal, ticket)


def can_act_on_ticket(principal: Principal, ticket: Ticket, permission: str) -> bool:
    """Agents need ``permission``; customers need it *and* to own the ticket."""
    if not principal.can(permission):
        return False
    return principal.is_agent or owns_ticket(principal, ticket)
