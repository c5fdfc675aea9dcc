"""A savepoint stays inside its unit of work: rolling the request back undoes what was written
inside it (on SQLite, releasing a savepoint taken outside a transaction used to COMMIT)."""

from __future__ import annotations

from sqlalchemy import func, select

from flask_escalated.models import Contact
from flask_escalated.services import contacts


def _contacts(ext) -> int:
    return ext.session.execute(select(func.count()).select_from(Contact)).scalar_one()


def test_a_refused_request_leaves_no_contact_behind(app):
    ext = app.extensions["escalated"]
    ext.session.rollback()  # a fresh request: nothing written yet
    contacts.find_or_create("pat@example.org", "Pat")  # inside a savepoint
    ext.session.rollback()  # the request is refused after that
    assert _contacts(ext) == 0


def test_a_committed_unit_keeps_its_contact(app):
    ext = app.extensions["escalated"]
    with ext.unit_of_work():
        contacts.find_or_create("pat@example.org", "Pat")
    ext.session.rollback()
    assert _contacts(ext) == 1
