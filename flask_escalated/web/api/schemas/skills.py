"""Skills, agents' skills, capacity and availability (skill-based routing)."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field, RootModel

from ....services.capacity import AVAILABILITY, CAPACITY_CHANNELS, MAX_CONCURRENT
from ._base import Body, Id, Out, absent
from .common import Timestamp

Name = Annotated[str, Field(min_length=1, max_length=120, examples=["Billing"])]
Slug = Annotated[str, Field(min_length=1, max_length=80, examples=["billing"])]
Ids = Annotated[list[Id], Field(max_length=500)]
Proficiency = Annotated[int, Field(ge=1, le=5, description="1 (novice) to 5 (expert).")]
Channel = Literal[CAPACITY_CHANNELS]  # type: ignore[valid-type]
Availability = Literal[AVAILABILITY]  # type: ignore[valid-type]


class SkillCreate(Body):
    name: Name
    slug: Slug | None = Field(None, description="Default: from the name.")
    description: Annotated[str, Field(max_length=2000)] | None = None
    tag_ids: Ids = Field(default_factory=list, description="Tickets with one of these tags "
                         "need the skill.")
    department_ids: Ids = Field(default_factory=list, description="Tickets of these "
                                "departments need the skill.")


class SkillUpdate(Body):
    name: Name = absent()
    slug: Slug = absent()
    description: Annotated[str, Field(max_length=2000)] | None = absent()
    tag_ids: Ids = absent(description="The whole set.")
    department_ids: Ids = absent(description="The whole set.")


class SkillOut(Out):
    id: int
    name: str
    slug: str
    description: str | None
    tag_ids: list[int]
    department_ids: list[int]
    agent_count: int
    created_at: Timestamp
    updated_at: Timestamp


class SkillEnvelope(Out):
    data: SkillOut


class SkillPage(Out):
    data: list[SkillOut]
    next_cursor: str | None


class AgentSkillIn(Body):
    skill_id: Id
    proficiency: Proficiency = 3


class AgentSkillsBody(RootModel[Annotated[list[AgentSkillIn], Field(max_length=500)]]):
    """The agent's whole set of skills."""


class AgentSkillOut(Out):
    skill_id: int
    slug: str
    name: str
    proficiency: int


class AgentSkillsEnvelope(Out):
    data: list[AgentSkillOut]


class CapacityBody(Body):
    channel: Channel = Field("default", description="'default' limits all the agent's open "
                             "tickets together; a channel only the tickets that came in "
                             "through it.")
    max_concurrent: Annotated[int, Field(ge=0, le=MAX_CONCURRENT)] | None = Field(
        description="Open tickets at once; null removes the limit.")


class CapacityEnvelope(Out):
    data: dict[str, int]


class AvailabilityBody(Body):
    status: Availability


class AvailabilityOut(Out):
    status: str


class AvailabilityEnvelope(Out):
    data: AvailabilityOut
