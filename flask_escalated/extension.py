"""The :class:`Escalated` extension object."""

from __future__ import annotations

import contextlib
import os
import weakref
from collections.abc import Callable, Iterable, Iterator
from typing import TYPE_CHECKING, Any, TypeVar

from flask import Flask, current_app, g, has_request_context, request

from . import events, hosts
from .clock import now
from .config import Config, apply_defaults
from .models import AgentProfile, metadata
from .services import notify, storage

if TYPE_CHECKING:
    from flask_sqlalchemy import SQLAlchemy
    from sqlalchemy.orm import Session

F = TypeVar("F", bound=Callable[..., Any])

EXTENSION_KEY = "escalated"


class EscalatedState:
    """Per-app state, kept by the extension in a weak dictionary keyed by the app.

    The extension object itself is what ``app.extensions["escalated"]`` holds; one extension
    object can serve several apps, each with its own state.
    """

    def __init__(self, app: Flask, db: SQLAlchemy) -> None:
        self.db = db
        self.attachment_root = app.config[Config.ATTACHMENT_STORAGE] or os.path.join(
            app.instance_path, "escalated-attachments"
        )
        self.extras: dict[str, Any] = {}
        #: This app's Flask-Limiter instance (see :mod:`flask_escalated.web.ratelimits`).
        self.limiter: Any = None

    @property
    def session(self) -> Session:
        return self.db.session  # type: ignore[return-value]


class Escalated:
    """An embeddable helpdesk for Flask.

    ``Escalated(app, db=db)`` or ``escalated = Escalated(); escalated.init_app(app, db=db)``.
    Host-user hooks can be given as keywords or set later with the decorator methods
    (``@escalated.user_loader``, ``@escalated.agent_check`` ...).
    """

    def __init__(
        self,
        app: Flask | None = None,
        db: SQLAlchemy | None = None,
        *,
        user_loader: hosts.UserLoader | None = None,
        users_loader: hosts.UsersLoader | None = None,
        user_by_email: hosts.UserByEmail | None = None,
        agent_check: hosts.UserCheck | None = None,
        admin_check: hosts.UserCheck | None = None,
        user_display: hosts.UserDisplay | None = None,
        current_user_loader: hosts.CurrentUserLoader | None = None,
        socketio: Any = None,
    ) -> None:
        self.hooks = hosts.HostHooks(
            user_loader=user_loader,
            users_loader=users_loader,
            user_by_email=user_by_email,
            agent_check=agent_check,
            admin_check=admin_check,
            user_display=user_display,
            current_user_loader=current_user_loader,
        )
        self._db = db
        self._socketio = socketio
        self._states: weakref.WeakKeyDictionary[Flask, EscalatedState] = (
            weakref.WeakKeyDictionary()
        )
        if app is not None:
            self.init_app(app, db=db)

    # ------------------------------------------------------------------ set-up
    def init_app(self, app: Flask, db: SQLAlchemy | None = None, *, socketio: Any = None) -> None:
        """Set the app up. With ``ESCALATED_ENABLE_REALTIME``, Socket.IO is attached too: the
        ``socketio`` given (here or to the constructor), else the app's own
        ``app.extensions["socketio"]``, else a new one (see :mod:`flask_escalated.realtime`)."""
        if EXTENSION_KEY in app.extensions:
            raise RuntimeError(
                "Escalated is already initialised on this app; call init_app once per app."
            )
        db = db or self._db or app.extensions.get("sqlalchemy")
        if db is None:
            raise RuntimeError(
                "Escalated needs Flask-SQLAlchemy: create SQLAlchemy(app) first or pass "
                "Escalated(app, db=db)."
            )
        apply_defaults(app.config)
        self._states[app] = EscalatedState(app, db)
        app.extensions[EXTENSION_KEY] = self
        events.install(db.session)
        storage.install(db.session)
        notify.install(db.session)
        from .cli import escalated_cli
        from .services import (  # noqa: F401  (register the before/after-commit handlers)
            mail,
            ticket_search,
            webhooks,
            workflows,
        )
        from .web import register_blueprints

        if app.config[Config.MAIL_FROM] and "mail" not in app.extensions:
            from flask_mail import Mail

            Mail(app)  # the host's MAIL_SERVER, MAIL_PORT ... settings
        register_blueprints(app)
        from . import realtime
        from .web.live import socket_principal

        realtime.install(db.session)
        # Last of the before-commit listeners: the others' handlers may still add replies.
        ticket_search.install(db.session)
        from .services import cache, fresh

        fresh.install(db.session)
        cache.install(db.session)  # after every listener that may still change configuration
        realtime.init_app(app, socket_principal, socketio or self._socketio)
        app.cli.add_command(escalated_cli, "escalated")
        app.before_request(_reset_request_caches)
        app.teardown_appcontext(_dispatch_on_teardown)
        app.context_processor(_template_context)

    # ------------------------------------------------------------------ hooks
    def _setter(name: str) -> Callable[[Escalated, F], F]:  # type: ignore[misc]
        def setter(self: Escalated, fn: F) -> F:
            setattr(self.hooks, name, fn)
            return fn

        setter.__name__ = name
        setter.__doc__ = f"Set the ``{name}`` host hook (usable as a decorator)."
        return setter

    user_loader = _setter("user_loader")
    users_loader = _setter("users_loader")
    user_by_email = _setter("user_by_email")
    agent_check = _setter("agent_check")
    admin_check = _setter("admin_check")
    user_display = _setter("user_display")
    current_user_loader = _setter("current_user_loader")
    del _setter

    # ------------------------------------------------------------------ rate limits
    def rate_limit(self, family: str = "auth") -> Callable[[F], F]:
        """Decorate a host view (a sign-in form, say) with one of Escalated's rate limits.

        ``@escalated.rate_limit("auth")`` counts the failed (4xx) form posts of each client
        address and answers 429 with ``Retry-After`` once the family's budget is spent.
        """
        import functools

        from flask import make_response

        from .web import ratelimits

        def decorator(view: F) -> F:
            @functools.wraps(view)
            def wrapper(*args: Any, **kwargs: Any) -> Any:
                if request.method in ("GET", "HEAD", "OPTIONS"):
                    return view(*args, **kwargs)
                key = "ip:" + ratelimits.client_ip()
                ratelimits.check(family, key)
                response = make_response(view(*args, **kwargs))
                if 400 <= response.status_code < 500:
                    ratelimits.hit(family, key)
                return response

            return wrapper  # type: ignore[return-value]

        return decorator

    def link_contact(self, user: Any) -> int:
        """Call when a person signs up (or confirms their e-mail) in your app: the contact with
        their address becomes theirs, and so do its tickets. Returns how many tickets moved.
        Commits."""
        from .services import contacts

        uid = hosts.user_id_of(user)
        _, email = self.display(user)
        if uid is None or not email:
            return 0
        with self.unit_of_work():
            return contacts.link_to_user(email, uid)

    # ------------------------------------------------------------------ host users
    def load_user(self, user_id: str | None) -> Any:
        if user_id is None:
            return None
        loader = self.hooks.user_loader or hosts.default_user_loader
        return loader(str(user_id))

    def load_users(self, user_ids: Iterable[str | None]) -> dict[str, Any]:
        """Load many host users in one call (the ``users_loader`` hook when set)."""
        ids = [str(u) for u in dict.fromkeys(user_ids) if u is not None]
        if not ids:
            return {}
        if self.hooks.users_loader is not None:
            return {str(k): v for k, v in self.hooks.users_loader(ids).items()}
        return hosts.bulk_load(self.load_user, ids)

    def find_user_by_email(self, email: str) -> Any:
        return self.hooks.user_by_email(email) if self.hooks.user_by_email else None

    def current_user(self) -> Any:
        loader = self.hooks.current_user_loader or hosts.default_current_user
        return loader()

    def display(self, user: Any) -> tuple[str, str | None]:
        if user is None:
            return (hosts.MISSING_USER_NAME, None)
        return (self.hooks.user_display or hosts.default_user_display)(user)

    def agent_profile(self, user_id: str | None) -> AgentProfile | None:
        """The user's agent profile (a row), from the process cache."""
        if user_id is None:
            return None
        from .services import cache as process_cache

        local = g.setdefault("_escalated_profiles", {})
        if user_id not in local:
            local[user_id] = process_cache.cached(
                f"agent_profile:{user_id}",
                lambda: self.session.execute(
                    AgentProfile.__table__.select().where(AgentProfile.user_id == user_id)
                ).first())
        return local[user_id]

    def is_agent(self, user: Any) -> bool:
        if user is None:
            return False
        if self.hooks.agent_check is not None:
            return bool(self.hooks.agent_check(user)) or self.is_admin(user)
        profile = self.agent_profile(hosts.user_id_of(user))
        return bool(profile and profile.is_active)

    def is_admin(self, user: Any) -> bool:
        if user is None:
            return False
        if self.hooks.admin_check is not None:
            return bool(self.hooks.admin_check(user))
        profile = self.agent_profile(hosts.user_id_of(user))
        return bool(profile and profile.is_active and profile.role == "admin")

    # ------------------------------------------------------------------ units of work
    @property
    def state(self) -> EscalatedState:
        """The current app's state (needs an app context)."""
        app = current_app._get_current_object()  # type: ignore[attr-defined]
        try:
            return self._states[app]
        except KeyError:
            raise RuntimeError(
                "Escalated is not initialised on this app; call escalated.init_app(app)."
            ) from None

    def state_for(self, app: Flask) -> EscalatedState:
        """``app``'s state, outside an app context (set-up code)."""
        return self._states[app]

    @property
    def session(self) -> Session:
        return self.state.session

    def wait_for_background(self, timeout: float = 10.0, app: Flask | None = None) -> bool:
        """Let the mail and webhook sends started without Redis finish (tests, shutdown).

        Returns ``True`` when none is still running after ``timeout`` seconds.
        """
        from .jobs.queues import wait_for_background

        return wait_for_background(app or current_app._get_current_object(), timeout)  # type: ignore[attr-defined]

    @contextlib.contextmanager
    def unit_of_work(self) -> Iterator[Session]:
        """Run the block as one transaction; dispatch its domain events after commit."""
        session = self.session
        try:
            yield session
            session.commit()
        except BaseException:
            session.rollback()
            raise
        events.dispatch(current_app._get_current_object(), session)  # type: ignore[attr-defined]

    def commit(self) -> None:
        """Commit the current session and dispatch the committed domain events."""
        session = self.session
        session.commit()
        events.dispatch(current_app._get_current_object(), session)  # type: ignore[attr-defined]

    @property
    def metadata(self) -> Any:
        """The extension's SQLAlchemy ``MetaData`` (all ``escalated_*`` tables)."""
        return metadata

    def create_all(self) -> None:
        """Create the tables directly (tests); use ``flask escalated db upgrade`` otherwise."""
        metadata.create_all(self.session.get_bind())

    @staticmethod
    def now() -> Any:
        return now()

    @staticmethod
    def alembic_include_name(name: str | None, type_: str, parent_names: Any) -> bool:
        """Alembic ``include_name`` hook that hides Escalated's tables from the host's
        autogenerate: ``Migrate(app, db, include_name=Escalated.alembic_include_name)``."""
        from .migrate import include_host_name

        return include_host_name(name, type_, parent_names)


def _reset_request_caches() -> None:
    """Per-request caches live on ``g``; clear them in case an app context spans requests."""
    for key in ("_escalated_profiles", "_escalated_principal", "_escalated_via_token",
                "_escalated_status_cache", "_escalated_settings"):
        g.pop(key, None)


def _dispatch_on_teardown(exc: BaseException | None) -> None:
    """Send events committed during the request by code that committed the session directly."""
    ext = current_app.extensions.get(EXTENSION_KEY)
    if ext is not None:
        events.dispatch(current_app._get_current_object(), ext.session)  # type: ignore[attr-defined]


def _template_context() -> dict[str, Any]:
    """Name, branding and layout for Escalated's pages. Admins' run-time settings win over the
    config, read (once per request) only when one of our pages renders."""
    cfg = current_app.config
    context: dict[str, Any] = {
        "escalated_app_name": cfg[Config.APP_NAME],
        "escalated_layout": cfg[Config.LAYOUT_TEMPLATE] or "escalated/base.html",
        "escalated_branding": cfg[Config.BRANDING],
    }
    if has_request_context() and (request.blueprint or "").startswith(EXTENSION_KEY):
        from .services import settings

        values = settings.effective()
        context["escalated_app_name"] = values["app_name"]
        context["escalated_branding"] = {**cfg[Config.BRANDING], **values["branding"]}
    from .services.settings import theme

    context["escalated_theme"] = theme(context["escalated_branding"])
    return context


def current_escalated() -> Escalated:
    """The :class:`Escalated` object of the current app."""
    return current_app.extensions[EXTENSION_KEY]  # type: ignore[no-any-return]
