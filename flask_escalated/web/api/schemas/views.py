"""Saved views: named sets of the ticket list's filters, personal or shared."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field

from ....services.views import MAX_FILTERS, MAX_NAME
from ._base import Body, Id, Out, absent
from .common import Paged, Timestamp

Name = Annotated[str, Field(min_length=1, max_length=MAX_NAME, examples=["Urgent, unassigned"])]
FilterValue = Annotated[str, Field(max_length=200)] | list[Annotated[str, Field(max_length=64)]]
Filters = Annotated[
    dict[Annotated[str, Field(max_length=80)], FilterValue],
    Field(
        max_length=MAX_FILTERS,
        examples=[{"priority": "urgent", "assignee": "none", "q": "refund"}],
        description="The ticket list's query parameters (GET /tickets), cf.<key> included; "
        "checked by the same rules, a bad one answers 422 naming filters.<key>.",
    ),
]
Sort = Literal[
    "created_at",
    "-created_at",
    "updated_at",
    "-updated_at",
    "priority",
    "-priority",
    "id",
    "-id",
    "relevance",
    "-relevance",
]


class ViewCreate(Body):
    name: Name
    filters: Filters = {}
    sort: Sort | None = None
    shared: bool = Field(False, description="Shared (view.manage); otherwise personal.")
    department_ids: list[Id] = Field(
        [],
        max_length=100,
        description="A shared view with departments is seen by their members only.",
    )
    position: Annotated[int, Field(ge=-(2**31), le=2**31 - 1)] = 0


class ViewUpdate(ViewCreate):
    name: Name = absent()
    filters: Filters = absent()
    shared: bool = absent()
    department_ids: list[Id] = absent()
    position: Annotated[int, Field(ge=-(2**31), le=2**31 - 1)] = absent()


class ViewTickets(Paged):
    pass


class ViewOut(Out):
    id: int
    name: str
    filters: dict[str, str | list[str]]
    sort: str | None
    shared: bool
    department_ids: list[int]
    position: int
    owner_user_id: str | None
    is_default: bool
    stale: list[str] = Field(
        description="Filter parts naming something deleted since "
        "(e.g. 'tag=gone'): ignored when the view is read."
    )
    created_at: Timestamp
    updated_at: Timestamp


class ViewEnvelope(Out):
    data: ViewOut


class ViewList(Out):
    data: list[ViewOut]


class ViewCount(Out):
    id: int
    count: int


class ViewCounts(Out):
    data: list[ViewCount]
