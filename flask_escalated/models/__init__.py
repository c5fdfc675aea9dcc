"""SQLAlchemy models, split by domain, on the extension's own metadata."""

from .audit import AuditLog
from .base import TABLE_PREFIX, Base, metadata
from .people import AgentProfile, Contact, Department, DepartmentMember
from .settings import Setting
from .statuses import TicketStatus
from .tickets import Activity, Attachment, Reply, Tag, Ticket, TicketFollower, ticket_tags
from .tokens import ApiToken

__all__ = [
    "TABLE_PREFIX",
    "Activity",
    "AgentProfile",
    "ApiToken",
    "Attachment",
    "AuditLog",
    "Base",
    "Contact",
    "Department",
    "DepartmentMember",
    "Reply",
    "Setting",
    "Tag",
    "Ticket",
    "TicketFollower",
    "TicketStatus",
    "metadata",
    "ticket_tags",
]
