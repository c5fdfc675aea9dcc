"""Deleting rows with their dependants, the same way on every database.

The schema declares ``ON DELETE CASCADE`` / ``SET NULL``, but SQLite only enforces foreign keys
when the connection enables them, and the host owns the engine. So deletions apply the declared
actions themselves, one statement per referencing table, then delete the row.
"""

from __future__ import annotations

from typing import Any, cast

from sqlalchemy import Table, delete, select, update

from ..models import Base, metadata
from . import session


def _referencing(target: Table) -> list[tuple[Table, str, str]]:
    found = []
    for table in metadata.sorted_tables:
        for fk in table.foreign_keys:
            if fk.column.table is target and table is not target:
                found.append((table, fk.parent.name, (fk.ondelete or "").upper()))
    return found


def _apply_actions(target: Table, keys: Any, depth: int = 0) -> None:
    """Apply the ON DELETE actions of every table referencing the ``target`` rows whose id is
    in ``keys`` (a list or a subquery); a cascaded table's own dependants first (a side
    conversation's replies go with the ticket's side conversations)."""
    db = session()
    for child, column, action in _referencing(target):
        if action == "CASCADE":
            if depth < 3 and "id" in child.c and _referencing(child):
                _apply_actions(child, select(child.c.id).where(child.c[column].in_(keys)),
                               depth + 1)
            db.execute(delete(child).where(child.c[column].in_(keys)))
        elif action == "SET NULL":
            db.execute(update(child).where(child.c[column].in_(keys)).values({column: None}))


def delete_with_dependants(row: Base) -> None:
    """Delete ``row`` after applying its tables' declared ON DELETE actions explicitly."""
    db = session()
    db.flush()
    table = cast(Table, row.__table__)
    key = row.id  # type: ignore[attr-defined]
    _apply_actions(table, [key])
    # Self-references (merged_into_id) are cleared too.
    for fk in table.foreign_keys:
        if fk.column.table is table and (fk.ondelete or "").upper() == "SET NULL":
            db.execute(update(table).where(table.c[fk.parent.name] == key)
                       .values({fk.parent.name: None}))
    db.execute(delete(table).where(table.c.id == key))
    # The ORM did not do the delete, so it must not try to (or keep the row as live).
    db.expunge(row)
