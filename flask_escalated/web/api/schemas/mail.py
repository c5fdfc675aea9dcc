"""The inbound mail log."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field, StringConstraints

from ._base import Id
from .common import Paged

#: The states of a message in the log (``InboundEmail.status``).
STATUSES = ("received", "processed", "ignored", "duplicate", "failed")


class InboundList(Paged):
    status: Literal[STATUSES] | None = None  # type: ignore[valid-type]
    ticket_id: Id | None = Field(None, description="Messages that reached this ticket.")
    q: Annotated[str, StringConstraints(strip_whitespace=True, max_length=200)] | None = Field(
        None, description="Text in the sender's address or name, or in the subject.")
