"""Merge, split and links between tickets."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import BeforeValidator, Field, WithJsonSchema

from ....services.relations import ALIASES, LINK_TYPES, MAX_SPLIT_REPLIES, USER_LINK_TYPES
from ._base import Body, Id, Out, _user_ref

#: A ticket named by id (``42``) or reference (``ESC-00042``); a number is read as its text,
#: which the ticket lookup parses either way.
TicketIdent = Annotated[
    str, Field(min_length=1, max_length=40), BeforeValidator(_user_ref),
    WithJsonSchema({"type": ["string", "integer"], "minLength": 1, "maxLength": 40,
                    "minimum": 1, "description": "A ticket id or its reference.",
                    "examples": ["ESC-00042"]}),
]
#: The vocabulary, plus the family's other spellings (mapped on input).
LINK_TYPES_IN = USER_LINK_TYPES + tuple(sorted(ALIASES))
LinkTypeIn = Literal[LINK_TYPES_IN]  # type: ignore[valid-type]
LinkType = Literal[LINK_TYPES]  # type: ignore[valid-type]


class MergeRequest(Body):
    """Merge this ticket into another (followed to its live ticket if that was merged)."""

    into: TicketIdent


class SplitRequest(Body):
    """Open a new ticket from public replies of this one; they stay where they are."""

    reply_ids: Annotated[list[Id], Field(min_length=1, max_length=MAX_SPLIT_REPLIES)]
    subject: Annotated[str, Field(min_length=1, max_length=500)] | None = Field(
        None, description="Default: 'Split from <reference>: <subject>'.")


class LinkCreate(Body):
    """Link this ticket to another, read "this ticket <type> that ticket" (``blocks``:
    this one blocks that one). ``relates_to``, ``duplicates``, ``parent_child``,
    ``problem_incident`` and the family's other spellings are accepted and mapped."""

    ticket: TicketIdent
    type: LinkTypeIn = "related"  # type: ignore[valid-type]


class LinkedTicketOut(Out):
    id: int
    reference: str
    subject: str
    status: str
    status_category: str


class LinkOut(Out):
    """A link as this ticket reads it (``direction``: whether it was made from this side)."""

    id: int
    type: LinkType
    direction: Literal["outgoing", "incoming"]
    ticket: LinkedTicketOut
    created_by: str | None
    created_at: datetime | None


class LinkEnvelope(Out):
    data: LinkOut


class LinkPage(Out):
    data: list[LinkOut]
    next_cursor: str | None


class TicketRefOut(Out):
    id: int
    reference: str
