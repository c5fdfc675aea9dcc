"""Reports: how the desk is doing over a period, as a handful of grouped SQL queries each.

``run(name, params)`` answers one report as a :class:`Report` (JSON data plus one table for CSV
and screen readers). Every report filters on the same :class:`Params`: a period of local dates
in the desk's time zone (default: the last 30 days) and optional department, agent (host user
id), channel and tag. No report loops over tickets issuing queries; the number of statements a
report runs is fixed (tests assert it).

Caveats, by design: resolved/reopened counts and the backlog history come from the activity
timeline, which ``ESCALATED_PURGE_ACTIVITIES_AFTER_DAYS`` trims; filters match a ticket's
*current* department, assignee, channel and tags.
"""

from __future__ import annotations

from .catalogue import REPORTS, run
from .core import Params, Report

__all__ = ["REPORTS", "Params", "Report", "run"]
