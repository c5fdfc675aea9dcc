"""Webhook endpoints."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field

from ....services.webhooks import EVENTS
from ._base import Body, Out, absent
from .common import Timestamp

Url = Annotated[str, Field(min_length=1, max_length=2000, pattern=r"^[hH][tT][tT][pP][sS]?://",
                           json_schema_extra={"format": "uri"},
                           examples=["https://hooks.example.com/escalated"])]
EVENT_NAMES = ("*", *EVENTS)
Events = Annotated[list[Literal[EVENT_NAMES]],  # type: ignore[valid-type]
                   Field(min_length=1, max_length=len(EVENTS) + 1,
                         description="Event names, or ['*'] for all.",
                         examples=[["ticket.created", "reply.created"]])]
Secret = Annotated[str, Field(min_length=16, max_length=128, description="Signs each delivery "
                              "(generated when absent; shown once).")]


class WebhookCreate(Body):
    url: Url = Field(description="A public http(s) address.")
    events: Events
    description: Annotated[str, Field(max_length=255)] | None = None
    is_active: bool = absent()
    secret: Secret = absent()


class WebhookUpdate(WebhookCreate):
    url: Url = absent()
    events: Events = absent()


# ---------------------------------------------------------------------------- responses
class WebhookOut(Out):
    id: int
    url: str = Field(json_schema_extra={"format": "uri"})
    description: str | None
    events: list[str]
    is_active: bool
    failure_count: int
    last_delivered_at: Timestamp
    created_at: Timestamp
    secret_hint: str = Field(description="The secret's first characters.")
    secret: str = absent(description="Only when it is created or changed: shown once.")


class WebhookEnvelope(Out):
    data: WebhookOut


class WebhookList(Out):
    data: list[WebhookOut]
    events: list[str] = Field(description="Every event name a webhook may subscribe to.")


class AttemptOut(Out):
    number: int
    status_code: int | None
    duration_ms: int | None
    response_excerpt: str | None
    error: str | None
    created_at: Timestamp


DeliveryStatus = Literal["pending", "delivered", "failed", "dead"]


class DeliveryOut(Out):
    id: int
    uid: str
    event: str
    status: str = Field(examples=["delivered"], description="pending, delivered, failed "
                        "(retrying) or dead.")
    attempts: int
    next_attempt_at: Timestamp
    last_status_code: int | None
    last_error: str | None
    delivered_at: Timestamp
    created_at: Timestamp
    attempt_log: list[AttemptOut]


class DeliveryPage(Out):
    data: list[DeliveryOut]
    next_cursor: str | None


class Redelivery(Out):
    id: int
    status: Literal["queued"]


class RedeliveryEnvelope(Out):
    data: Redelivery
