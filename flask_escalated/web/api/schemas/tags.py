"""Tags: the catalogue and the tags on a ticket."""

from __future__ import annotations

from typing import Annotated

from pydantic import Field

from ._base import Body, Color, Out, absent

TagName = Annotated[str, Field(min_length=1, max_length=80, examples=["billing"])]
Tags = Annotated[list[TagName], Field(max_length=50)]

TagLabel = Annotated[str, Field(min_length=1, max_length=80, examples=["Billing"])]


class TicketTags(Body):
    """The tags to add (POST) or the whole new set (PUT); unknown names are created."""

    tags: Tags


class TagCreate(Body):
    name: TagLabel
    color: Color | None = None


class TagUpdate(Body):
    name: TagLabel = absent()
    color: Color = absent()




class TagOut(Out):
    id: int
    name: str
    slug: str
    color: str


class TagEnvelope(Out):
    data: TagOut


class TagList(Out):
    data: list[TagOut]
