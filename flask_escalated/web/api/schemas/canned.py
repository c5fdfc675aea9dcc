"""Canned responses: an agent's saved reply texts, and one rendered for a ticket."""

from __future__ import annotations

from typing import Annotated

from pydantic import Field

from ....services.canned import MAX_QUERY, MAX_TITLE
from ._base import Body, Id, LongText, Out, absent
from .common import Paged, Timestamp

Title = Annotated[str, Field(min_length=1, max_length=MAX_TITLE, examples=["Refund issued"])]
Shortcut = Annotated[
    str,
    Field(
        max_length=41,
        pattern=r"^/?[A-Za-z0-9][A-Za-z0-9_.-]{0,39}$",
        examples=["refund"],
        description="Typed after '/' in the composer; stored in "
        "lower case, unique among the shared responses "
        "and among each agent's own.",
    ),
]
Text = Annotated[
    LongText,
    Field(
        min_length=1,
        examples=["Hi {{requester.name}}, ticket {{ticket.reference}} is refunded. {{agent.name}}"],
    ),
]


class CannedCreate(Body):
    title: Title
    body: Text = Field(
        description="Markdown with {{placeholders}}: ticket.reference, "
        "ticket.subject, ticket.status, ticket.priority, "
        "requester.name, requester.email, agent.name, "
        "department.name, custom_field.<key>."
    )
    shortcut: Shortcut | None = None
    department_id: Id | None = Field(
        None, description="Shared responses with a department are offered to its members only."
    )
    shared: bool = Field(
        False, description="Shared with every agent (canned.manage); otherwise personal."
    )


class CannedUpdate(CannedCreate):
    title: Title = absent()
    body: Text = absent()
    shared: bool = absent()


class CannedList(Paged):
    q: Annotated[str, Field(max_length=MAX_QUERY)] | None = Field(
        None, description="Type-ahead: the title contains it or the shortcut starts with it."
    )
    shared: bool | None = Field(None, description="Only shared (true) or personal (false).")
    department_id: Annotated[int, Field(ge=1, le=2**62)] | None = None


class CannedOut(Out):
    id: int
    title: str
    body: str
    shortcut: str | None
    department_id: int | None
    shared: bool
    owner_user_id: str | None
    created_at: Timestamp
    updated_at: Timestamp


class CannedEnvelope(Out):
    data: CannedOut


class CannedPage(Out):
    data: list[CannedOut]
    next_cursor: str | None


class RenderedOut(Out):
    body: str = Field(
        description="The body with the ticket's values in place (plain text: "
        "escape it where you show it)."
    )


class RenderedEnvelope(Out):
    data: RenderedOut
