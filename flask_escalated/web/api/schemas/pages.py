"""Forms that only pages have: the agent workspace's one-property forms, the queue's bulk
form, two-factor codes, the portal's new ticket.

Each reuses the API's field types (the same bounds and enums), so a value the API refuses is
refused the same way in a page. Where a page does exactly what an API operation does, the
view reads the API's own model instead (``ReplyCreate``, ``StatusChange``); those that carry
the ticket's ``version`` (the optimistic lock every workspace form sends) add it here.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field

from ....services.bulk import ACTIONS
from ....services.snooze import PRESETS
from ....services.tickets import CUSTOMER_PRIORITIES
from ._base import Body, Id, LongText, UserRef
from .relations import TicketIdent
from .replies import ReplyCreate
from .tags import TagName, Tags
from .tickets import Priority, StatusSlug, Subject, Version

BulkActionName = Literal[ACTIONS]  # type: ignore[valid-type]


class Versioned(Body):
    """A workspace form: the ticket's version as the agent saw it (a stale one is a 409)."""

    version: Version | None = None


class CannedInsert(Versioned):
    """The composer's "Insert" button: the canned response chosen and the draft it joins
    (the draft's inputs are the composer's, bounded as a reply is)."""

    canned_id: Id
    body: LongText | None = None
    kind: Literal["reply", "note"] | None = None


#: The priorities a customer may choose (the form offers these; the others are the team's).
CustomerPriority = Literal[CUSTOMER_PRIORITIES]  # type: ignore[valid-type]


class PortalTicket(Body):
    """A customer opens a ticket (the fields of ``TicketCreate`` a customer may set)."""

    subject: Subject
    description: LongText
    priority: CustomerPriority | None = None
    department_id: Id | None = None


class AgentReply(ReplyCreate):
    """The composer: ``ReplyCreate`` (``kind`` is one of its visibility aliases) and the
    ticket's version."""

    version: Version | None = None


class PriorityChange(Versioned):
    priority: Priority


class AssigneeChange(Versioned):
    """An agent's user id, ``me``, or ``none`` (unassign)."""

    assignee: UserRef | None = None


class DepartmentChange(Versioned):
    department_id: Id | None = None


class TagsAdd(Versioned):
    """The page sends one comma-separated text; the view splits it into ``tags``."""

    tags: Tags


class TagRemove(Versioned):
    tag: TagName


class SnoozeChange(Versioned):
    """A preset of ``Snooze`` (the API's), or ``wake``."""

    preset: Literal[PRESETS + ("wake",)]  # type: ignore[valid-type]  # noqa: RUF005


class MacroApply(Versioned):
    macro_id: Id


class FollowChange(Versioned):
    action: Literal["follow", "unfollow"] = "follow"


class PinChange(Versioned):
    pinned: Literal["0", "1"] = "1"


class BulkChange(Body):
    """The queue's bulk form: every input is on the page at once; ``action`` (the button
    pressed) says which value is used."""

    action: BulkActionName
    ids: Annotated[list[Id], Field(max_length=1000)] = []
    page_ids: Annotated[list[Id], Field(max_length=1000)] = []
    all_on_page: Literal["1"] | None = None
    assignee: UserRef | None = None
    status: StatusSlug | None = None
    priority: Priority | None = None
    tag: TagName | None = None
    department_id: Id | None = None
    into: TicketIdent | None = None


class TwoFactorCode(Body):
    """A code from an authenticator app, or a recovery code."""

    code: Annotated[str, Field(min_length=1, max_length=20)]

