"""Workflows: event-driven rules, run inside the transaction of the change that triggers them.

When a domain event named in a workflow's ``trigger_events`` happens to a ticket and the
workflow's conditions hold for it, its actions run as the system, just before the commit, so
the change and its consequences land (or roll back) together. A failing action is logged and
skipped; it never undoes the change that triggered it. Events caused by workflow actions do not
trigger workflows again, so two workflows can never ping-pong.
"""

from __future__ import annotations

import logging
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from ..clock import now
from ..events import DomainEvent, on_before_commit, pending
from ..models import Ticket, Workflow
from ..signals import webhook_event_name
from . import cache, conditions, session
from .errors import ValidationError
from .rules import run_logged

log = logging.getLogger("flask_escalated.workflows")
_CAUSED = "escalated.workflow_events"


@on_before_commit
def run_workflows(db: Session, events: list[DomainEvent]) -> None:
    caused: set[int] = db.info.setdefault(_CAUSED, set())
    todo = [e for e in events if e.has_ticket and id(e) not in caused]
    if not todo:
        return
    # Most events trigger no workflow: the process cache knows which names do, without a query.
    names = {webhook_event_name(e.name) for e in todo}
    if not names & cache.cached("workflows:triggers", _load_triggers):
        return
    flows = list(db.execute(select(Workflow).where(Workflow.is_active.is_(True))
                            .order_by(Workflow.position, Workflow.id)).scalars())
    if not flows:
        return
    at = now()
    for event in todo:
        name = webhook_event_name(event.name)
        for flow in flows:
            if name not in (flow.trigger_events or []):
                continue
            ticket = event.ticket
            assert ticket is not None
            if not _matches(db, flow, ticket, at):
                continue
            before = {id(e) for e in pending(db)}
            run_logged("workflow", flow, ticket, at)
            caused.update(id(e) for e in pending(db) if id(e) not in before)
            flow.last_run_at = at


def _load_triggers() -> frozenset[str]:
    """The event names any active workflow is triggered by."""
    rows = session().execute(select(Workflow.trigger_events).where(Workflow.is_active.is_(True)))
    return frozenset(name for (events,) in rows for name in (events or ()))


def _matches(db: Session, flow: Workflow, ticket: Ticket, at: Any) -> bool:
    if not next(iter((flow.conditions or {"all": []}).values())):
        return True  # no conditions: every triggering event
    try:
        cond = conditions.compile_group(conditions.validate(flow.conditions), at)
    except ValidationError as exc:
        log.warning("workflow %s has invalid conditions: %s", flow.id, exc.message)
        return False
    db.flush()
    return db.execute(select(Ticket.id).where(Ticket.id == ticket.id, cond)).first() is not None

