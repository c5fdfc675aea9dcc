"""Tickets opened and answered at the same time, by strangers writing in for the first time:
real concurrent transactions (threads, each with its own connection) on PostgreSQL and
MariaDB. The contact's insert and the search document's upsert must neither deadlock nor
lose a row (on MariaDB a statement that finds no row can lock the gap where it would be)."""

from __future__ import annotations

import threading

import pytest
from sqlalchemy import func, select

from flask_escalated.events import Actor
from flask_escalated.models import Contact, Ticket, TicketSearchDocument
from flask_escalated.services import replies, tickets

pytestmark = pytest.mark.all_databases
SYSTEM = Actor.system()
WORKERS, ROUNDS = 4, 6


@pytest.fixture(autouse=True)
def _servers_only(backend):
    if backend == "sqlite":
        pytest.skip("SQLite serialises writers; the race needs a server database")


def test_strangers_writing_at_once_leave_one_contact_each_and_every_document(app, ext, users):
    barrier = threading.Barrier(WORKERS)
    errors: list[BaseException] = []
    made: list[int] = []
    agent = Actor.agent(users.agent.id)  # read here: the fixture's row is the main thread's

    def worker(n: int) -> None:
        try:
            with app.app_context():
                barrier.wait(30)
                for i in range(ROUNDS):
                    # Every worker writes in as the same stranger in each round: the contact's
                    # insert races, and the tickets are numbered next to each other.
                    with ext.unit_of_work():
                        ticket = tickets.create_ticket(tickets.NewTicket(
                            subject=f"Round {i} from worker {n}", description="Help",
                            requester_email=f"stranger{i}@example.org"), SYSTEM)
                    with ext.unit_of_work():
                        replies.add_reply(tickets.get_ticket(ticket.id), f"Answer {n}.{i}",
                                          agent)
                    made.append(ticket.id)
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(WORKERS)]
    for th in threads:
        th.start()
    for th in threads:
        th.join(120)
    assert not any(th.is_alive() for th in threads)
    assert not errors, errors
    db = ext.session
    db.rollback()  # a fresh snapshot (REPEATABLE READ on MariaDB)
    assert len(made) == WORKERS * ROUNDS
    contacts = db.execute(select(Contact.email, func.count()).group_by(Contact.email)).all()
    assert sorted(contacts) == [(f"stranger{i}@example.org", 1) for i in range(ROUNDS)]
    owners = db.execute(select(Ticket.id, Ticket.contact_id).where(Ticket.id.in_(made))).all()
    assert len({contact for _, contact in owners}) == ROUNDS
    documents = dict(db.execute(select(TicketSearchDocument.ticket_id,
                                       TicketSearchDocument.public_text)
                                .where(TicketSearchDocument.ticket_id.in_(made))).all())
    assert sorted(documents) == sorted(made)
    assert all("Answer " in text for text in documents.values())
