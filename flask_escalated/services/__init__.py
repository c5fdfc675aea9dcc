"""Services: every state change and every non-trivial query.

A service function is one unit of work's worth of change: it validates, changes rows, writes
activity and audit rows, records domain events, and leaves the commit to its caller.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from flask import current_app

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from ..extension import Escalated


def ext() -> Escalated:
    """The current app's :class:`~flask_escalated.Escalated` object."""
    return current_app.extensions["escalated"]  # type: ignore[no-any-return]


def session() -> Session:
    """The host's SQLAlchemy session, which every service uses."""
    return current_app.extensions["escalated"].session  # type: ignore[no-any-return]


def config(key: str) -> object:
    return current_app.config[key]
