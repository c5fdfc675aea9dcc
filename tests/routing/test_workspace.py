"""The agent workspace: the dashboard's unrouted count and the agent's availability switch."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from flask_escalated.models import AgentProfile

pytestmark = pytest.mark.all_databases


def _csrf(html: str) -> str:
    match = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert match
    return match.group(1)


def test_dashboard_counts_unrouted_and_the_agent_goes_away_and_back(client_as, users, ext,
                                                                     crew, strategy, new):
    strategy("skills")
    new()
    new()
    client = client_as(users.agent)
    html = client.get("/support/agent").get_data(as_text=True)
    assert re.search(r">2 unrouted</a>", html), html
    assert "You are <strong>online</strong>" in html
    r = client.post("/support/agent/availability",
                    data={"csrf_token": _csrf(html), "status": "away"})
    assert r.status_code == 303
    ext.session.rollback()
    profile = ext.session.execute(select(AgentProfile).where(
        AgentProfile.user_id == str(users.agent.id))).scalar_one()
    assert profile.availability == "away"
    html = client.get("/support/agent").get_data(as_text=True)
    assert "You are <strong>away</strong>" in html and 'value="online"' in html
    queue = client.get("/support/agent/tickets?assignee=unrouted")
    assert queue.status_code == 200
