"""Macros: an agent's saved set of actions, applied by hand."""

from __future__ import annotations

from pydantic import Field

from ._base import Body, Position, absent
from .rules import Actions, Description, RuleName


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
