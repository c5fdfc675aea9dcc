"""The ``flask escalated`` command group; each command calls a service and commits."""

from __future__ import annotations

from . import (  # noqa: F401  (command registration)
    db,
    jobs,
    kb,
    lifecycle,
    openapi,
    rules,
    search,
    sla,
    status,
    users,
    webhooks,
)
from .group import escalated_cli

__all__ = ["escalated_cli"]
