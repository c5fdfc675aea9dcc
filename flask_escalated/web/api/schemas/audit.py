"""The audit log and reports."""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import Field

from ._base import Out
from .common import Paged, Timestamp

Filter = Annotated[str, Field(max_length=100)]


class AuditList(Paged):
    entity_type: Filter | None = Field(None, examples=["ticket"])
    entity_id: Filter | None = None
    actor_user_id: Filter | None = None
    action: Filter | None = Field(None, examples=["role.updated"])


# ---------------------------------------------------------------------------- responses
class AuditEntryOut(Out):
    id: int
    action: str
    entity_type: str
    entity_id: str | None
    actor_type: str
    actor_user_id: str | None
    old_values: dict[str, Any] | None
    new_values: dict[str, Any] | None
    ip_address: str | None
    user_agent: str | None
    created_at: Timestamp


class AuditPage(Out):
    data: list[AuditEntryOut]
    next_cursor: str | None
