"""Services: every state change and every non-trivial query.

A service function is one unit of work's worth of change: it validates, changes rows, writes
activity and audit rows, records domain events, and leaves the commit to its caller.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from flask import current_app

if TYPE_CHECKING:
    from sqlalchemy import Select
    from sqlalchemy.orm import Session, SessionTransaction

    from ..extension import Escalated


def ext() -> Escalated:
    """The current app's :class:`~flask_escalated.Escalated` object."""
    return current_app.extensions["escalated"]  # type: ignore[no-any-return]


def session() -> Session:
    """The host's SQLAlchemy session, which every service uses."""
    return current_app.extensions["escalated"].session  # type: ignore[no-any-return]


def plain_session() -> Session:
    """The session itself behind :func:`session` (which may be a ``scoped_session`` proxy),
    for what the proxy does not pass on: its current transaction, its settings."""
    from sqlalchemy.orm import scoped_session

    db: Any = session()
    return db() if isinstance(db, scoped_session) else db  # type: ignore[no-any-return]


def config(key: str) -> object:
    return current_app.config[key]


def committed_one(stmt: Select[Any]) -> Any:
    """The one row ``stmt`` finds, as another transaction has just committed it.

    For the insert that lost a race on a unique key: under MariaDB/MySQL's REPEATABLE READ a
    plain SELECT still reads this transaction's older snapshot and finds nothing; a locking
    read (``LOCK IN SHARE MODE``) sees the newest committed row. Elsewhere it is harmless.
    """
    return session().execute(stmt.with_for_update(read=True)).scalar_one()


def savepoint() -> SessionTransaction:
    """``session().begin_nested()`` that stays inside the unit of work on every database.

    Python's sqlite3 driver opens its transaction only before a write, so a SAVEPOINT taken
    first opens one of its own and releasing it COMMITs: a refused request would leave the
    rows written inside the savepoint behind. On SQLite the outer transaction is opened first.
    """
    db = session()
    conn = db.connection()
    if conn.dialect.name == "sqlite":
        raw = conn.connection.dbapi_connection
        if raw is not None and not getattr(raw, "in_transaction", True):
            conn.exec_driver_sql("BEGIN")
    return db.begin_nested()
