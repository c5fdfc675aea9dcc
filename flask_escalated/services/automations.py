"""Time-based automations (run by ``flask escalated run-automations``)."""

from __future__ import annotations

from datetime import datetime

from . import rules


def run(at: datetime | None = None, limit: int = 500) -> int:
    """Act on up to ``limit`` tickets whose automations newly match."""
    return rules.evaluate("automation", at, limit)
