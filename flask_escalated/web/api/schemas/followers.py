"""Followers of a ticket."""

from __future__ import annotations

from pydantic import Field

from ._base import Body, Out, UserRef
from .common import UserOut


class FollowerAdd(Body):
    """Follow a ticket: yourself (no body, or no user_id) or another agent."""

    user_id: UserRef | None = Field(None, description="Default: you.")


class FollowerList(Out):
    data: list[UserOut | None]
