"""Helpers for the routing tests: a department of three fresh agents, skills, tickets."""

from __future__ import annotations

from collections.abc import Callable
from types import SimpleNamespace
from typing import Any

import pytest

from flask_escalated.events import Actor
from flask_escalated.services import agents, departments, skills, tickets
from tests.hosts import intid

SYSTEM = Actor.system()


@pytest.fixture
def ext(app):
    return app.extensions["escalated"]


@pytest.fixture
def crew(app, users) -> SimpleNamespace:
    """Three agents (user ids 7, 8, 9: they sort as their numbers) and a manual department
    with them as members."""
    ids = []
    for name in ("ann", "bob", "cat"):
        user = intid.make_user(f"{name}@example.test", name.title())
        agents.make_agent(str(user.id), SYSTEM)
        ids.append(str(user.id))
    dept = departments.create_department(SYSTEM, {"name": "Support", "agent_ids": ids})
    intid.db.session.commit()
    return SimpleNamespace(ids=ids, ann=ids[0], bob=ids[1], cat=ids[2], dept=dept)


@pytest.fixture
def strategy(ext, crew) -> Callable[[str], None]:
    def set_(name: str) -> None:
        with ext.unit_of_work():
            departments.update_department(SYSTEM, crew.dept.id, {"assignment_strategy": name})
    return set_


@pytest.fixture
def new(ext, users, crew) -> Callable[..., Any]:
    """A ticket in the crew's department (created through the one door, so it is routed)."""
    def make(**kw: Any) -> Any:
        data = {"subject": "Help", "description": "Please",
                "requester_user_id": str(users.customer.id), "department_id": crew.dept.id, **kw}
        with ext.unit_of_work():
            return tickets.create_ticket(tickets.NewTicket(**data), SYSTEM)
    return make


@pytest.fixture
def skill(ext) -> Callable[..., Any]:
    def make(name: str, **links: Any) -> Any:
        with ext.unit_of_work():
            return skills.create(SYSTEM, {"name": name, **links})
    return make
