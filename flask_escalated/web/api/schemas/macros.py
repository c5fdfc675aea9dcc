"""Macros: an agent's saved set of actions, applied by hand."""

from __future__ import annotations

from pydantic import Field

from ._base import Body, Out, Position, absent
from .common import Timestamp
from .rules import ActionOut, Actions, Description, RuleName


class MacroCreate(Body):
    name: RuleName
    description: Description | None = None
    actions: Actions
    is_shared: bool = Field(False, description="Shared with every agent (macro.manage).")
    position: Position = absent()


class MacroUpdate(MacroCreate):
    name: RuleName = absent()
    actions: Actions = absent()
    is_shared: bool = absent()


# ---------------------------------------------------------------------------- responses
class MacroOut(Out):
    id: int
    name: str
    description: str | None
    actions: list[ActionOut]
    is_shared: bool
    position: int
    owner_user_id: str | None
    created_at: Timestamp
    updated_at: Timestamp


class MacroEnvelope(Out):
    data: MacroOut


class MacroList(Out):
    data: list[MacroOut]
