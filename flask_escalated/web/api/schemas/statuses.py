"""Custom statuses and the transition table."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field, RootModel

from ....domain import STATUS_CATEGORIES
from ._base import Body, Color, Out, Position, absent
from .tickets import StatusSlug

Label = Annotated[str, Field(min_length=1, max_length=80, examples=["Parked"])]


class StatusCreate(Body):
    slug: StatusSlug
    label: Label
    category: Literal[STATUS_CATEGORIES] = Field(  # type: ignore[valid-type]
        description="The built-in status whose behaviour it takes.")
    color: Color | None = None
    position: Position = 0
    pauses_sla: bool = Field(False, description="Stops the SLA clock.")


class StatusUpdate(Body):
    label: Label = absent()
    color: Color = absent()
    position: Position = absent()
    is_active: bool = absent()
    pauses_sla: bool = absent()


class TransitionTable(RootModel[dict[StatusSlug, Annotated[list[StatusSlug],
                                                           Field(max_length=100)]]]):
    """Every status and the statuses it may move to."""

    model_config = {"strict": True}


# ---------------------------------------------------------------------------- responses
class StatusOut(Out):
    slug: str
    label: str
    category: Literal[STATUS_CATEGORIES]  # type: ignore[valid-type]
    color: str
    builtin: bool
    position: int
    is_active: bool = absent(description="After an update.")
    pauses_sla: bool = absent(description="After an update.")


class StatusEnvelope(Out):
    data: StatusOut


class StatusList(Out):
    data: list[StatusOut]


class TransitionsEnvelope(Out):
    data: dict[str, list[str]] = Field(description="Every status and where it may move.")
