"""The agent's side panel keeps a requester's name and address whole: each on its own line,
cut with an ellipsis when too long (the full value in a title), never broken mid-word."""

from __future__ import annotations

import re
from pathlib import Path

from flask_escalated.events import Actor
from flask_escalated.services import tickets

CSS = Path(__file__).resolve().parents[2] / "flask_escalated/static/escalated/escalated.css"
LONG_EMAIL = "bartholomew.featherstonehaugh-smythe@accounts-payable.subsidiary.example.test"
LONG_NAME = "Bartholomew Featherstonehaugh-Smythe of the Accounts Payable Department"


def _rule(selector: str) -> str:
    css = CSS.read_text()
    match = re.search(re.escape(selector) + r"\s*\{([^}]*)\}", css)
    assert match, f"no rule for {selector}"
    return match.group(1)


def test_requester_name_and_address_truncate_with_a_title(app, users, ext, client_as):
    with ext.unit_of_work():
        t = tickets.create_ticket(tickets.NewTicket(
            subject="Invoice", description="Hi", requester_email=LONG_EMAIL,
            requester_name=LONG_NAME), Actor.system())
    html = client_as(users.agent).get(f"/support/agent/tickets/{t.reference}") \
        .get_data(as_text=True)
    panel = html.split('aria-label="Ticket properties"')[1].split("</dl>")[0]
    assert '<dd class="esc-person">' in panel
    assert f'<span class="esc-person-name" title="{LONG_NAME}">{LONG_NAME}</span>' in panel
    assert f'<span class="esc-person-email esc-meta" title="{LONG_EMAIL}">{LONG_EMAIL}</span>' \
        in panel
    assert "&lt;" + LONG_EMAIL not in panel  # no angle brackets to strand on a line of their own

    each = _rule(".esc-person > span")
    for declaration in ("white-space: nowrap", "overflow: hidden", "text-overflow: ellipsis",
                        "max-width: 100%"):
        assert declaration in each, declaration
    assert "overflow-wrap: normal" in _rule(".esc-facts dd.esc-person")
    assert "min-width: 0" in _rule(".esc-facts dd")  # lets the flex item shrink to truncate
