"""The host-user contract: how Escalated finds, names and classifies the host's users.

Escalated never owns a users table. It stores host user ids as strings and asks the host,
through hooks on the extension object, for everything else. Each hook has a default that works
with Flask-Login and the ``name``/``email`` attributes most user models have.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any, Protocol

#: Name shown for a user id the host no longer knows (deleted account).
MISSING_USER_NAME = "Deleted user"


class HostUser(Protocol):
    """What Escalated reads from a host user by default (``name``, ``email``, ``get_id()``)."""

    def get_id(self) -> str: ...


UserLoader = Callable[[str], Any]
UsersLoader = Callable[[list[str]], dict[str, Any]]
UserByEmail = Callable[[str], Any]
UserCheck = Callable[[Any], bool]
UserDisplay = Callable[[Any], tuple[str, str | None]]
CurrentUserLoader = Callable[[], Any]


@dataclass
class HostHooks:
    """The hooks a host can set; ``None`` means "use the default"."""

    user_loader: UserLoader | None = None
    users_loader: UsersLoader | None = None
    user_by_email: UserByEmail | None = None
    agent_check: UserCheck | None = None
    admin_check: UserCheck | None = None
    user_display: UserDisplay | None = None
    current_user_loader: CurrentUserLoader | None = None
    extra: dict[str, Any] = field(default_factory=dict)


def user_id_of(user: Any) -> str | None:
    """The string id of a host user (Flask-Login's ``get_id()``, else ``id``)."""
    if user is None:
        return None
    get_id = getattr(user, "get_id", None)
    value = get_id() if callable(get_id) else getattr(user, "id", None)
    return None if value is None else str(value)


def default_user_display(user: Any) -> tuple[str, str | None]:
    email = getattr(user, "email", None)
    name = getattr(user, "name", None) or getattr(user, "username", None) or email
    return (str(name) if name else f"User {user_id_of(user)}", email)


def default_current_user() -> Any:
    """The signed-in user from Flask-Login, or ``None`` if Flask-Login is not set up."""
    from flask import current_app

    if getattr(current_app, "login_manager", None) is None:
        return None
    from flask_login import current_user

    user = current_user._get_current_object()
    return user if getattr(user, "is_authenticated", False) else None


def default_user_loader(user_id: str) -> Any:
    from flask import current_app

    manager = getattr(current_app, "login_manager", None)
    callback = getattr(manager, "_user_callback", None)
    return callback(user_id) if callback else None


def bulk_load(loader: UserLoader, ids: Iterable[str]) -> dict[str, Any]:
    """Fallback bulk loader built on the single-user loader."""
    found: dict[str, Any] = {}
    for uid in dict.fromkeys(ids):
        user = loader(uid)
        if user is not None:
            found[uid] = user
    return found
