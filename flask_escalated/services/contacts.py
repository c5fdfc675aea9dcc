"""Contacts: requesters without a host account, deduplicated by normalized e-mail."""

from __future__ import annotations

import re

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError

from ..models import Contact, Ticket
from . import committed_one, savepoint, session
from .errors import ValidationError

# Deliberately permissive (RFC 5322 allows a lot); rejects what can't be an address at all,
# including header-injection attempts (CR/LF) and spaces.
_ATOM = r"[^@\s<>\"',;:\x00-\x1f\x7f]"
_EMAIL = re.compile(rf"^{_ATOM}{{1,64}}@{_ATOM}+\.{_ATOM}+$")


def normalize_email(email: object) -> str:
    """Lower-cased, stripped e-mail, or a validation error naming the field."""
    if not isinstance(email, str):
        raise ValidationError("An e-mail address is required.", {"email": "required"})
    value = email.strip().lower()
    if len(value) > 320 or not _EMAIL.match(value):
        raise ValidationError(f"'{email[:80]}' is not an e-mail address.", {"email": "invalid"})
    return value


def find_or_create(email: str, name: str | None = None) -> Contact:
    """The contact for ``email``, created if new; safe when two requests race to create it."""
    address = normalize_email(email)
    db = session()
    contact = db.execute(select(Contact).where(Contact.email == address)).scalar_one_or_none()
    if contact is not None:
        if name and not contact.name:
            contact.name = name.strip()[:255]
        return contact
    values = {"email": address, "name": (name or "").strip()[:255] or None}
    dialect = db.get_bind().dialect
    # One statement where the database allows it; each dialect's own insert construct is
    # imported with that dialect already in use.
    if dialect.name in ("postgresql", "sqlite"):
        # A racing request's row wins the key and this one inserts nothing.
        if dialect.name == "postgresql":
            from sqlalchemy.dialects.postgresql import insert as dialect_insert
        else:
            from sqlalchemy.dialects.sqlite import insert as dialect_insert  # type: ignore[assignment]
        made = db.execute(dialect_insert(Contact).values(values).on_conflict_do_nothing(
            index_elements=[Contact.email]).returning(Contact)).scalar_one_or_none()
        return made if made is not None else committed_one(
            select(Contact).where(Contact.email == address))
    if dialect.insert_returning:
        # MariaDB: on a duplicate e-mail the no-op update locks the winner's row and RETURNING
        # gives it back, as committed; a new row comes back as inserted.
        from sqlalchemy.dialects.mysql import insert as mysql_insert

        statement = mysql_insert(Contact).values(values)
        return db.execute(statement.on_duplicate_key_update(email=statement.inserted.email)
                          .returning(Contact)).scalar_one()
    try:
        with savepoint():
            contact = Contact(**values)
            db.add(contact)
    except IntegrityError:
        contact = committed_one(select(Contact).where(Contact.email == address))
    return contact

def link_to_user(email: str, user_id: str) -> int:
    """Link the contact for ``email`` to a host user; their tickets follow.

    Returns the number of tickets moved to the user."""
    address = normalize_email(email)
    db = session()
    contact = db.execute(select(Contact).where(Contact.email == address)).scalar_one_or_none()
    if contact is None:
        return 0
    contact.user_id = str(user_id)
    result = db.execute(
        update(Ticket)
        .where(Ticket.contact_id == contact.id, Ticket.requester_user_id.is_(None))
        .values(requester_user_id=str(user_id))
        .execution_options(synchronize_session=False)
    )
    return int(getattr(result, "rowcount", 0) or 0)


def by_ids(ids: set[int]) -> dict[int, Contact]:
    if not ids:
        return {}
    rows = session().execute(select(Contact).where(Contact.id.in_(ids))).scalars()
    return {c.id: c for c in rows}
