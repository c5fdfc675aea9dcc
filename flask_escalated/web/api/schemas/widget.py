"""The embeddable widget's JSON endpoints (``/widget/...``): what each one reads.

The widget is not part of ``openapi.json`` (it is the host page's script talking to its own
helpdesk, not an integration API), but it reads through the same strict models as the API:
unknown keys are refused with 422 ``unknown_field``, a wrong type, an over-long text or a bad
e-mail address is a 422 naming the field, and nothing is coerced into another meaning. The
field types and bounds are the API's own (a widget ticket's subject is a ticket's subject).
"""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, Field

from ....services.kb_search import MAX_QUERY_LENGTH
from ._base import Body, EmptyQuery, Id, LongText, Query
from .common import Email
from .feedback import RatingIn
from .tickets import Name, Subject

#: The id ``POST /widget/verify`` answered (a UUID); longer is never one.
VerificationId = Annotated[str, Field(max_length=36)]
#: The code mailed to the address (eight digits; the service strips spaces around it).
VerificationCode = Annotated[str, Field(max_length=20, examples=["04711123"])]


class WidgetVerify(Body):
    """``POST /widget/verify``: mail a code to this address (when mailbox proof is on)."""

    email: Email


class WidgetTicketCreate(Body):
    """``POST /widget/tickets``: a visitor's request. The verification pair is needed only
    while mailbox proof is on."""

    name: Name | None = None
    email: Email
    subject: Subject
    description: LongText
    department_id: Id | None = None
    verification_id: VerificationId | None = None
    verification_code: VerificationCode | None = None


class WidgetReply(Body):
    """``POST /widget/tickets/<token>/replies``."""

    body: LongText


class WidgetRating(RatingIn):
    """``POST /widget/tickets/<token>/rate``: the API's rating (1 to 5, optional comment)."""


class WidgetArticleVote(Body):
    """``POST /widget/kb/articles/<id>/feedback``: a JSON boolean (the pages' form sends
    yes/no instead); the optional address makes one vote per person behind a shared address."""

    helpful: bool
    email: Email | None = None


class WidgetKbSearch(Query):
    """``GET /widget/kb/search?q=``: required, but a blank one is the service's 422 (after the
    404 of a switched-off knowledge base)."""

    q: Annotated[str, Field(max_length=MAX_QUERY_LENGTH)] | None = None


#: What each widget view reads, by endpoint name (``escalated.widget.<name>``): its body model
#: and its query model. Tests and the hostile-input corpus read this table, so a new endpoint
#: is covered once it is listed here.
WIDGET_INPUTS: dict[str, tuple[type[BaseModel] | None, type[BaseModel]]] = {
    "verify": (WidgetVerify, EmptyQuery),
    "create_ticket": (WidgetTicketCreate, EmptyQuery),
    "show_ticket": (None, EmptyQuery),
    "reply": (WidgetReply, EmptyQuery),
    "rate": (WidgetRating, EmptyQuery),
    "kb_search": (None, WidgetKbSearch),
    "kb_feedback": (WidgetArticleVote, EmptyQuery),
}
