"""Tickets: opening, updating, status, assignment, snoozing, and the queue's filters."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, ClassVar, Literal

from pydantic import Field

from ....domain import CHANNELS, PRIORITIES, STATUS_CATEGORIES, TICKET_TYPES
from ....services.assignment import STRATEGIES
from ....services.snooze import PRESETS
from ._base import Body, Id, IsoDateTime, LongText, Out, UserRef, absent
from .common import ContactOut, Email, Paged, UserOut
from .departments import DepartmentRef
from .relations import LinkOut, TicketRefOut
from .tags import TagName, TagOut, Tags

Priority = Literal[PRIORITIES]  # type: ignore[valid-type]
TicketType = Literal[TICKET_TYPES]  # type: ignore[valid-type]
StatusCategory = Literal[STATUS_CATEGORIES]  # type: ignore[valid-type]
Strategy = Literal[STRATEGIES]  # type: ignore[valid-type]
SnoozePreset = Literal[PRESETS]  # type: ignore[valid-type]
#: A status slug: one of the eight built-in statuses or a custom one (see /statuses).
StatusSlug = Annotated[str, Field(min_length=1, max_length=40, pattern=r"^[a-z][a-z0-9_]*$",
                                  examples=["in_progress"])]
Version = Annotated[int, Field(ge=0, le=2**31 - 1, description="The ticket's version "
                               "(optimistic lock: a stale one answers 409).")]
Subject = Annotated[str, Field(min_length=1, max_length=500,
                               examples=["The printer is on fire"])]
Name = Annotated[str, Field(max_length=255)]
Metadata = Annotated[dict[str, Any], Field(description="Free-form data for integrations "
                                           "(agents).")]
CustomFieldValue = Annotated[
    str | int | float | bool | list[Annotated[str, Field(max_length=255)]] | None,
    Field(description="By the field's type: text, number, YYYY-MM-DD, true/false, an "
          "option value or a list of them; null clears."),
]
CustomFieldValues = Annotated[
    dict[Annotated[str, Field(max_length=64)], CustomFieldValue],
    Field(max_length=100, description="Custom field values by key (see /custom-fields); "
          "checked against the fields' types, options and display conditions."),
]


class TicketCreate(Body):
    """Open a ticket. Customers may choose low, medium or high priority; the requester and
    assignee fields, tags and metadata are for agents (a customer who sends them is refused
    with 403 naming them). Give a requester by requester_user_id or by requester_email (with
    requester_name for a new contact), not both."""

    subject: Subject
    description: Annotated[LongText, Field(min_length=1)]
    priority: Priority | None = None
    department_id: Id | None = None
    ticket_type: TicketType = "question"
    tags: Tags = []
    requester_user_id: UserRef | None = None
    requester_email: Email | None = None
    requester_name: Name | None = None
    assignee_id: UserRef | None = None
    metadata: Metadata | None = None
    custom_fields: CustomFieldValues = {}


class TicketUpdate(Body):
    """Change any of a ticket's properties in one request (absent fields are left alone)."""

    version: Version | None = None
    subject: Subject = absent()
    description: LongText = absent()
    ticket_type: TicketType = absent()
    metadata: Metadata | None = None
    priority: Priority = absent()
    status: StatusSlug = absent()
    department_id: Id | None = None
    assignee_id: UserRef | None = Field(None, description="null: unassign")
    tags: Tags = absent()
    custom_fields: CustomFieldValues = absent()


class StatusChange(Body):
    status: StatusSlug
    version: Version | None = None


class Assign(Body):
    """Assign to ``assignee_id`` (null or absent: unassign), or let a strategy pick."""

    assignee_id: UserRef | None = None
    strategy: Strategy = "manual"
    version: Version | None = None


class Snooze(Body):
    """Snooze until a preset (09:00 in your time zone) or until a time."""

    preset: SnoozePreset | None = None
    until: IsoDateTime | None = None


class TicketList(Paged):
    """The queue's filters. Custom fields filter with ``cf.<key>=value`` and, for number and
    date fields, ``cf.<key>__gte`` / ``cf.<key>__lte``; an unknown key answers 422."""

    open_prefixes: ClassVar[tuple[str, ...]] = ("cf.",)

    status: list[StatusSlug] | None = Field(
        None, description="Status slugs (comma-separated or repeated).")
    status_category: list[StatusCategory] | None = None
    priority: list[Priority] | None = None
    assignee: Annotated[str, Field(max_length=64)] | None = Field(
        None, description="A user id, 'me', 'none' or 'unrouted' (unassigned because "
        "automatic assignment found nobody who fits).")
    department_id: Annotated[str, Field(pattern=r"^([0-9]{1,19}|none)$")] | None = Field(
        None, description="A department id or 'none'.")
    tag: TagName | None = None
    q: Annotated[str, Field(max_length=200)] | None = Field(
        None, description="Full-text search: words in the subject, description, replies, "
        "requester name or e-mail and reference; agents also match internal notes. Hits "
        "carry search_snippet and sort by relevance unless sort says otherwise.")
    requester_user_id: UserRef | None = Field(None, description="Host user id (agents).")
    created_after: IsoDateTime | None = None
    created_before: IsoDateTime | None = None
    snoozed: Literal["false", "true", "any"] | None = Field(
        None, description="false (default: hide snoozed), true (only snoozed) or any.")
    sort: Literal["created_at", "-created_at", "updated_at", "-updated_at", "priority",
                  "-priority", "id", "-id", "relevance", "-relevance"] | None = Field(
        None, description="'-' prefix for descending (default -relevance with q, else "
        "-updated_at); relevance needs q.")


# ---------------------------------------------------------------------------- responses
class SatisfactionOut(Out):
    rating: int
    comment: str | None
    rated_at: datetime | None


class SlaTargetOut(Out):
    target: Literal["first_response", "next_response", "resolution"]
    state: str
    due_at: datetime | None
    remaining_minutes: float | None
    breached_at: datetime | None


class TicketOut(Out):
    """A ticket in a list. ``metadata`` and the last reply times are for agents only."""

    id: int
    reference: str = Field(examples=["ESC-00042"])
    subject: str
    status: str
    status_category: StatusCategory
    status_label: str
    priority: Priority
    ticket_type: TicketType
    channel: Literal[CHANNELS]  # type: ignore[valid-type]
    requester: UserOut | ContactOut | None
    assignee: UserOut | None
    department: DepartmentRef | None
    tags: list[TagOut] = absent(
        description="Agents only: a customer's copy of the ticket carries no tags.")
    reply_count: int
    version: int
    created_at: datetime | None
    updated_at: datetime | None
    last_reply_at: datetime | None
    first_response_at: datetime | None
    resolved_at: datetime | None
    closed_at: datetime | None
    snoozed_until: datetime | None
    metadata: dict[str, Any] = absent(description="Agents only.")
    last_customer_reply_at: datetime | None = absent(description="Agents only.")
    last_agent_reply_at: datetime | None = absent(description="Agents only.")
    search_snippet: str | None = absent(
        description="With q only: HTML, the matched text escaped with the matched words in "
        "<mark>; null when the match is in no text shown (a stemmed form, say).")


class TicketDetailOut(TicketOut):
    """One ticket with its description; agents also get where it may move, its SLA clocks and
    its followers."""

    description: str
    satisfaction: SatisfactionOut | None
    custom_fields: dict[str, Any] = Field(description="Custom field values by key (a "
                                          "customer sees the customer-visible ones).")
    allowed_statuses: list[str] = absent(description="Agents only.")
    sla: list[SlaTargetOut] = absent(description="Agents only.")
    followers: list[str] = absent(description="Agents only: user ids.")
    merged_into: TicketRefOut | None = Field(
        description="The live ticket this one was merged into (null when not merged).")
    links: list[LinkOut] = absent(description="Agents only: links to tickets they may see.")


class TicketEnvelope(Out):
    data: TicketDetailOut


class TicketPage(Out):
    data: list[TicketOut]
    next_cursor: str | None


class ActivityOut(Out):
    id: int
    type: str
    actor: UserOut | dict[str, Any] | None
    properties: dict[str, Any]
    created_at: datetime | None


class ActivityPage(Out):
    data: list[ActivityOut]
    next_cursor: str | None
