"""Two workers assigning at once never push an agent over capacity: real concurrent
transactions (threads, each with its own connection) on PostgreSQL and MariaDB."""

from __future__ import annotations

import threading
import time

import pytest

from flask_escalated.events import Actor
from flask_escalated.services import agents, capacity, departments, tickets

pytestmark = pytest.mark.all_databases
SYSTEM = Actor.system()


@pytest.fixture(autouse=True)
def _servers_only(backend):
    if backend == "sqlite":
        pytest.skip("SQLite serialises writers; the race needs a server database")


def _setup(ext, crew, users, strategy, caps):
    with ext.unit_of_work():
        departments.update_department(SYSTEM, crew.dept.id, {"assignment_strategy": strategy})
        for uid, limit in caps.items():
            profile = agents.get_agent(uid)
            if limit is None:
                capacity.set_availability(SYSTEM, profile, "away")
            else:
                capacity.set_capacity(SYSTEM, profile, "default", limit)
    return {"subject": "Race", "description": "d", "department_id": crew.dept.id,
            "requester_user_id": str(users.customer.id)}


def _run(threads):
    for th in threads:
        th.start()
    for th in threads:
        th.join(90)
    assert not any(th.is_alive() for th in threads)


@pytest.mark.parametrize("strategy", ["least_loaded", "round_robin"])
def test_second_worker_waits_for_the_first_and_sees_its_ticket(app, ext, crew, users,
                                                              strategy):
    """Worker A routes a ticket to the only agent with one free seat and holds its
    transaction open; worker B routes meanwhile. B must wait on the agent's row, then count
    A's ticket and leave its own unassigned (without the lock it would read a load of 0)."""
    data = _setup(ext, crew, users, strategy, {crew.ann: 1, crew.bob: None, crew.cat: None})
    routed = threading.Event()
    results: dict[str, object] = {}

    def first() -> None:
        try:
            with app.app_context(), ext.unit_of_work():
                t = tickets.create_ticket(tickets.NewTicket(**data), SYSTEM)
                results["a"] = t.assignee_id
                routed.set()
                time.sleep(1.5)  # B is now waiting on the lock
        except Exception as exc:  # pragma: no cover - reported by the assertion below
            results["a"] = exc
            routed.set()

    def second() -> None:
        routed.wait(30)
        try:
            with app.app_context(), ext.unit_of_work():
                results["b"] = tickets.create_ticket(tickets.NewTicket(**data),
                                                     SYSTEM).assignee_id
        except Exception as exc:  # pragma: no cover
            results["b"] = exc

    _run([threading.Thread(target=first), threading.Thread(target=second)])
    assert results == {"a": crew.ann, "b": None}, results
    ext.session.rollback()  # a fresh snapshot (REPEATABLE READ on MariaDB)
    assert capacity.open_load(crew.ids)[crew.ann] == 1


def test_many_workers_never_exceed_any_limit(app, ext, crew, users):
    data = _setup(ext, crew, users, "least_loaded", {crew.ann: 2, crew.bob: 3, crew.cat: None})
    barrier = threading.Barrier(4)
    errors: list[BaseException] = []
    got: list[str | None] = []

    def worker() -> None:
        try:
            with app.app_context():
                barrier.wait()
                for _ in range(3):
                    with ext.unit_of_work():
                        got.append(tickets.create_ticket(tickets.NewTicket(**data),
                                                         SYSTEM).assignee_id)
        except BaseException as exc:
            errors.append(exc)

    _run([threading.Thread(target=worker) for _ in range(4)])
    assert not errors, errors
    assert len(got) == 12
    assert sorted(a for a in got if a) == [crew.ann] * 2 + [crew.bob] * 3
    ext.session.rollback()
    assert capacity.open_load(crew.ids) == {crew.ann: 2, crew.bob: 3, crew.cat: 0}
