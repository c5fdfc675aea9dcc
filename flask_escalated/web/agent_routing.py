"""The agent's own availability switch (online or away) in the workspace."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, flash, redirect, url_for

from ..services import agents, capacity, ext
from .api.schemas._base import Body
from .api.schemas.skills import Availability
from .page_forms import read_page, reads
from .security import current_principal, requires


class AvailabilityForm(Body):
    status: Availability


def register(bp: Blueprint) -> None:
    bp.add_url_rule("/availability", "availability", set_availability, methods=["POST"])


@requires("ticket.view")
@reads(AvailabilityForm)
def set_availability() -> Any:
    """Away agents get no automatic assignments until they are back online."""
    form = read_page(AvailabilityForm)
    principal = current_principal()
    with ext().unit_of_work():
        capacity.set_availability(principal.actor, agents.get_agent(principal.user_id),
                                  form.status)
    flash("You are online: new tickets may be assigned to you." if form.status == "online"
          else "You are away: no new tickets are assigned to you automatically.", "success")
    return redirect(url_for(".dashboard"), 303)
