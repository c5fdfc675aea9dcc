"""Escalation rules, automations and workflows (one shape each), and macros' actions."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import Field

from ....services.rules import ACTION_TYPES
from ....services.webhooks import EVENTS
from ._base import Body, Out, Position, absent
from .common import Timestamp

RuleName = Annotated[str, Field(min_length=1, max_length=120, examples=["Escalate urgent"])]
Description = Annotated[str, Field(max_length=2000)]


ACTION_NAMES = tuple(ACTION_TYPES)


class Action(Body):
    """One action; which types a kind of rule takes, and each value's shape, is checked by the
    rules service (the error names the action)."""

    type: Literal[ACTION_NAMES] = Field(  # type: ignore[valid-type]
        examples=["add_tag"])
    value: Any = Field(None, description="The action's argument (a tag, a status, a text, a "
                       "user id, ...); none for close and escalate.", examples=["vip"])


Actions = Annotated[list[Action], Field(min_length=1, max_length=20)]
Conditions = Annotated[dict[str, Any], Field(
    description='A group: {"all"|"any": [{"field", "operator", "value"} | group]}, nested at '
                "most 5 deep, 1 to 50 items a group.",
    examples=[{"all": [{"field": "priority", "operator": "eq", "value": "urgent"}]}])]
TriggerEvents = Annotated[list[Literal[EVENTS]], Field(  # type: ignore[valid-type]
    min_length=1, max_length=len(EVENTS))]


class RuleCreate(Body):
    """An escalation rule or an automation (both run on a schedule)."""

    name: RuleName
    description: Description | None = None
    is_active: bool = absent()
    position: Position = absent()
    conditions: Conditions
    actions: Actions


class RuleUpdate(RuleCreate):
    name: RuleName = absent()
    conditions: Conditions = absent()
    actions: Actions = absent()


class WorkflowCreate(RuleCreate):
    """A workflow: conditions and actions run on the events it names."""

    trigger_events: TriggerEvents


class WorkflowUpdate(RuleUpdate):
    trigger_events: TriggerEvents = absent()


# ---------------------------------------------------------------------------- responses
class ActionOut(Out):
    type: str
    value: Any = None


class RuleOut(Out):
    """An escalation rule, an automation or a workflow (``trigger_events``: workflows)."""

    id: int
    name: str
    description: str | None
    is_active: bool
    position: int
    conditions: dict[str, Any]
    actions: list[ActionOut]
    trigger_events: list[str] = absent(description="Workflows only.")
    last_run_at: Timestamp
    created_at: Timestamp
    updated_at: Timestamp


class RuleEnvelope(Out):
    data: RuleOut


class RuleList(Out):
    data: list[RuleOut]


class RuleLogOut(Out):
    id: int
    ticket_id: int | None
    actions: Any = Field(description="What the rule did to the ticket.")
    error: str | None
    created_at: Timestamp


class RuleLogPage(Out):
    data: list[RuleLogOut]
    next_cursor: str | None
