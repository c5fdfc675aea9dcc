"""The audit log."""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import Field

from ....services import audit
from ._base import Out
from .common import Paged, Timestamp
from .reports import LocalDate

Filter = Annotated[str, Field(max_length=100)]


class AuditList(Paged):
    entity_type: Filter | None = Field(None, examples=["ticket"])
    entity_id: Filter | None = None
    actor_user_id: Filter | None = None
    action: Filter | None = Field(None, examples=["role.updated"])
    first: LocalDate | None = Field(
        None, alias="from", description="From this day on, YYYY-MM-DD in the desk's time "
                                        "zone (the reports' days).")
    last: LocalDate | None = Field(
        None, alias="to", description="Up to and including this day, YYYY-MM-DD.")

    def filters(self) -> audit.Filters:
        return audit.Filters(entity_type=self.entity_type, entity_id=self.entity_id,
                             actor_user_id=self.actor_user_id, action=self.action,
                             first=self.first, last=self.last)


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
