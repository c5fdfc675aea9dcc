"""Escalation rules (admin-managed; run by ``flask escalated evaluate-escalations``)."""

from __future__ import annotations

from datetime import datetime

from . import rules


def evaluate(at: datetime | None = None, limit: int = 500) -> int:
    """Act on up to ``limit`` tickets whose escalation rules newly match."""
    return rules.evaluate("escalation", at, limit)
