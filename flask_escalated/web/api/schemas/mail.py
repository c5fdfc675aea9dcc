"""The inbound mail log."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from ._base import Id
from .common import Paged


class InboundList(Paged):
    status: Literal["received", "processed", "ignored", "duplicate", "failed"] | None = None
    ticket_id: Id | None = Field(None, description="Messages that reached this ticket.")
