"""Webhook endpoints."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field

from ....services.webhooks import EVENTS
from ._base import Body, absent

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
