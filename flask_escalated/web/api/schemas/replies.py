"""Replies and internal notes.

The family's other helpdesks name a reply's visibility in several ways; each is accepted on
``POST /tickets/<id>/replies`` as an alias (README, "API contract"), and any two that disagree
are refused. A key that names a visibility in any other way is an unknown field (422): a text
meant to stay internal is never published by default.

=====================  ===========================  ===========================
field                  internal note                public reply
=====================  ===========================  ===========================
``is_internal``        ``true``                     ``false``
``internal``           ``true``                     ``false``
``private``            ``true``                     ``false``
``visibility``         ``"internal"``               ``"public"``
``kind``               ``"note"``                   ``"reply"``
``type``               ``"note"``                   ``"reply"``
=====================  ===========================  ===========================
"""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import Field, model_validator

from ._base import Body, LongText, ModelError, Out, absent
from .attachments import AttachmentOut
from .common import ContactOut, UserOut

#: Each alias and the value of it that means "internal note" (any other allowed value means
#: "public reply").
VISIBILITY_ALIASES: dict[str, object] = {
    "is_internal": True, "internal": True, "private": True,
    "visibility": "internal", "kind": "note", "type": "note",
}


class ReplyCreate(Body):
    """A reply to the customer, or (with any of the visibility aliases) an internal note,
    which needs the ``reply.create_internal`` permission."""

    body: LongText = Field(examples=["Could you send a photo of the label?"])
    is_internal: bool = absent(description="true: an internal note.")
    internal: bool = absent(description="Alias of is_internal.")
    private: bool = absent(description="Alias of is_internal.")
    visibility: Literal["public", "internal"] = absent(
        description="Alias: 'internal' is an internal note.")
    kind: Literal["reply", "note"] = absent(description="Alias: 'note' is an internal note.")
    type: Literal["reply", "note"] = absent(description="Alias: 'note' is an internal note.")

    @model_validator(mode="after")
    def _one_visibility(self) -> ReplyCreate:
        said = {name: getattr(self, name) == VISIBILITY_ALIASES[name]
                for name in self.model_fields_set & set(VISIBILITY_ALIASES)}
        if len(set(said.values())) > 1:
            raise ModelError("the visibility fields disagree: "
                             + ", ".join(f"{k}={getattr(self, k)!r}" for k in sorted(said)),
                             *sorted(said))
        return self

    @property
    def is_note(self) -> bool:
        """Whether the caller asked for an internal note (the aliases agree: see above)."""
        return any(getattr(self, name) == VISIBILITY_ALIASES[name]
                   for name in self.model_fields_set & set(VISIBILITY_ALIASES))


class NoteCreate(Body):
    """An internal note (visible to agents only)."""

    body: LongText = Field(examples=["Customer is on the enterprise plan."])


class ReplyOut(Out):
    id: int
    body: str
    author: UserOut | ContactOut | None
    author_type: str
    is_internal: bool
    is_pinned: bool
    channel: str
    attachments: list[AttachmentOut]
    created_at: datetime | None


class ReplyEnvelope(Out):
    data: ReplyOut


class ReplyList(Out):
    data: list[ReplyOut]
