"""The ``flask escalated`` command group; each command calls a service and commits."""

from __future__ import annotations

from . import db, jobs, kb, lifecycle, rules, sla, users, webhooks  # noqa: F401  (command registration)
from .group import escalated_cli

__all__ = ["escalated_cli"]
