"""The audit log and reports."""

from __future__ import annotations

from typing import Annotated

from pydantic import Field

from .common import Paged

Filter = Annotated[str, Field(max_length=100)]


class AuditList(Paged):
    entity_type: Filter | None = Field(None, examples=["ticket"])
    entity_id: Filter | None = None
    actor_user_id: Filter | None = None
    action: Filter | None = Field(None, examples=["role.updated"])

