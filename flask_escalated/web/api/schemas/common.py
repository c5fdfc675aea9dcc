"""Shapes shared by every resource: e-mail addresses, paging, the error envelope."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from ._base import Out, Query, absent

#: An e-mail address. The contacts service normalises and fully checks it (one rule for the
#: API, the portal, the widget and inbound mail); here it is bounded and has no white space,
#: so no line break can reach a header.
Email = Annotated[str, Field(max_length=320, pattern=r"^ *[^\s@]+@[^\s@]+ *$",
                             json_schema_extra={"format": "email"},
                             examples=["ada@example.com"])]

LIMIT_DOC = ("Rows per page: 1 to ESCALATED_API_MAX_PAGE_SIZE (default "
             "ESCALATED_API_PAGE_SIZE).")
CURSOR_DOC = "next_cursor from the previous page (opaque, signed)."
#: The page size: 1 to ``ESCALATED_API_MAX_PAGE_SIZE`` (checked against the config).
Limit = Annotated[int, Field(ge=1)]
Cursor = Annotated[str, Field(max_length=500)]


class Paged(Query):
    """Keyset paging: ``?limit=&cursor=`` (the cursor is the previous page's next_cursor)."""

    limit: Limit | None = Field(None, description=LIMIT_DOC)
    cursor: Cursor | None = Field(None, description=CURSOR_DOC)


class ErrorDetail(BaseModel):
    model_config = ConfigDict(title="ErrorDetail", extra="forbid")

    code: str = Field(examples=["unknown_field"], description="validation_error, "
                      "unknown_field, not_found, forbidden, conflict, stale_version, "
                      "rate_limited, ...")
    message: str = Field(examples=["Unknown field(s): statuss."])
    fields: dict[str, Any] = Field(description="Each field at fault and why.",
                                   examples=[{"statuss": "unknown field"}])
    unknown_fields: list[str] = absent(description="unknown_field only: every key the "
                                       "operation does not take, as sent (nested: "
                                       "conditions.zz, grants[0].zz).",
                                       examples=[["statuss"]])


class Error(BaseModel):
    """Every error the API answers: ``{"error": {"code", "message", "fields"}}``."""

    model_config = ConfigDict(extra="forbid")

    error: ErrorDetail


# ---------------------------------------------------------------------------- responses
class UserOut(Out):
    """A host user, as the host app names them."""

    type: Literal["user"]
    id: str
    name: str | None
    email: str | None


class ContactOut(Out):
    """A requester known only by e-mail address."""

    type: Literal["contact"]
    id: int
    name: str | None
    email: str


Timestamp = datetime | None


class AgentOut(UserOut):
    role: str
    max_open_tickets: int | None


class AgentList(Out):
    data: list[AgentOut]


class Me(Out):
    user: UserOut | None
    is_agent: bool
    is_admin: bool
    role: str | None
    permissions: list[str]
    department_permissions: dict[str, list[str]] = Field(
        description="Permissions held in one department only, by department id.")
    abilities: list[str] | None = Field(description="A token's abilities (null: a session).")


class MeEnvelope(Out):
    data: Me
