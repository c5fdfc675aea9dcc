"""Vocabulary shared by every layer: priorities, status categories, channels, activity types.

These are plain constants with no imports from the rest of the package, so models, services,
views and migrations can all use them.
"""

from __future__ import annotations

from typing import Final

#: Priorities in ascending urgency; ``PRIORITY_RANK`` gives the sort key stored on tickets so
#: "sort by priority" is by urgency, not alphabetical.
PRIORITIES: Final = ("low", "medium", "high", "urgent", "critical")
PRIORITY_RANK: Final = {name: rank for rank, name in enumerate(PRIORITIES, start=1)}

#: The family's eight lifecycle statuses. Custom statuses map onto exactly one of these
#: *categories*, which drive behaviour (open/closed sets, SLA pause, auto moves).
OPEN = "open"
IN_PROGRESS = "in_progress"
WAITING_ON_CUSTOMER = "waiting_on_customer"
WAITING_ON_AGENT = "waiting_on_agent"
ESCALATED = "escalated"
RESOLVED = "resolved"
CLOSED = "closed"
REOPENED = "reopened"

STATUS_CATEGORIES: Final = (
    OPEN,
    IN_PROGRESS,
    WAITING_ON_CUSTOMER,
    WAITING_ON_AGENT,
    ESCALATED,
    RESOLVED,
    CLOSED,
    REOPENED,
)
CLOSED_CATEGORIES: Final = frozenset({RESOLVED, CLOSED})
OPEN_CATEGORIES: Final = frozenset(STATUS_CATEGORIES) - CLOSED_CATEGORIES

STATUS_LABELS: Final = {
    OPEN: "Open",
    IN_PROGRESS: "In progress",
    WAITING_ON_CUSTOMER: "Waiting on customer",
    WAITING_ON_AGENT: "Waiting on agent",
    ESCALATED: "Escalated",
    RESOLVED: "Resolved",
    CLOSED: "Closed",
    REOPENED: "Reopened",
}

#: The family's transition table (Laravel reference): status -> statuses it may move to.
DEFAULT_TRANSITIONS: Final[dict[str, tuple[str, ...]]] = {
    OPEN: (IN_PROGRESS, WAITING_ON_CUSTOMER, WAITING_ON_AGENT, ESCALATED, RESOLVED, CLOSED),
    IN_PROGRESS: (WAITING_ON_CUSTOMER, WAITING_ON_AGENT, ESCALATED, RESOLVED, CLOSED),
    WAITING_ON_CUSTOMER: (OPEN, IN_PROGRESS, RESOLVED, CLOSED),
    WAITING_ON_AGENT: (OPEN, IN_PROGRESS, ESCALATED, RESOLVED, CLOSED),
    ESCALATED: (IN_PROGRESS, RESOLVED, CLOSED),
    RESOLVED: (REOPENED, CLOSED),
    CLOSED: (REOPENED,),
    REOPENED: (IN_PROGRESS, WAITING_ON_CUSTOMER, WAITING_ON_AGENT, ESCALATED, RESOLVED, CLOSED),
}

#: How a ticket was born. Every one of them goes through ``services.tickets.create_ticket``.
CHANNELS: Final = ("web", "api", "email", "widget", "split", "import", "chat")

TICKET_TYPES: Final = ("question", "problem", "incident", "task")

#: Activity timeline row types; each is written in exactly one service function.
ACTIVITY_TYPES: Final = (
    "created",
    "updated",
    "status_changed",
    "priority_changed",
    "assigned",
    "unassigned",
    "reply_added",
    "note_added",
    "note_pinned",
    "note_unpinned",
    "tag_added",
    "tag_removed",
    "department_changed",
    "follower_added",
    "follower_removed",
    "attachment_added",
    "escalated",
    "sla_breached",
    "sla_warning",
    "snoozed",
    "woken",
    "merged",
    "merge_received",
    "split",
    "linked",
    "unlinked",
    "side_conversation_started",
    "side_conversation_replied",
    "side_conversation_closed",
    "side_conversation_reopened",
)

#: Who caused a change.
ACTOR_AGENT = "agent"
ACTOR_CUSTOMER = "customer"
ACTOR_CONTACT = "contact"
ACTOR_SYSTEM = "system"
