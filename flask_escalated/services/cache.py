"""Per-process caches of the configuration admins edit, invalidated across processes.

Every write reads the same few rows: statuses, SLA policies, departments, tags, webhooks,
workflow triggers, custom-field definitions, agent roles. They change a few times a day, so each
process keeps them in memory, per app, tagged with a *generation stamp*: a random token stored
in the settings table under :data:`STAMP_KEY`.

- Any transaction that changes a watched row (an ORM insert, update or delete, or a bulk
  ``update()``/``delete()`` on a watched table, or a service calling :func:`changed`) writes a
  new stamp in the same transaction, just before it commits; so a process that sees the new
  stamp also sees the change. The committing process drops its own copies at once.
- A process reads the stamp once per request (and once per app context); a value cached under
  another stamp is loaded again. An app context outside any request (a script, the service
  layer called directly) re-reads it when its last reading is more than
  :data:`BARE_CONTEXT_SECONDS` old.
- Inside a transaction that has changed watched rows, lookups bypass the cache and read the
  database, so a change is visible to the code that made it before the commit.

Nothing here needs Redis; it works on SQLite files shared by several processes as well as on
the database servers.
"""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar

from flask import current_app, g, has_app_context, has_request_context
from sqlalchemy import event, insert, select, update
from sqlalchemy import inspect as sa_inspect
from sqlalchemy.orm import ORMExecuteState, Session, UOWTransaction

from ..config import Config
from ..models.base import utcnow
from . import session

T = TypeVar("T")

#: The settings key holding the generation stamp.
STAMP_KEY = "cache_generation"
#: How long an app context outside a request trusts the process's last stamp reading.
BARE_CONTEXT_SECONDS = 1.0

_FLAG = "escalated.config_changed"
_EXT_KEY = "escalated.process_cache"
_G_STAMP = "_escalated_cache_stamp"
_UNREAD = object()

#: Watched models by class name, each with the attributes whose change does not matter:
#: bookkeeping (a workflow's ``last_run_at``, a webhook's delivery counters, the round-robin
#: cursor), or every run, delivery and assignment would empty every process's cache.
WATCHED: dict[str, frozenset[str]] = {
    name: frozenset({"updated_at", *ignored}) for name, ignored in {
        "TicketStatus": (), "SlaPolicy": (), "BusinessSchedule": (), "Holiday": (),
        "Department": ("last_assigned_user_id",), "DepartmentMember": (), "Tag": (),
        "CustomField": (), "AgentProfile": (), "RoleGrant": (), "Role": (), "Setting": (),
        "Webhook": ("failure_count", "last_delivered_at"), "Workflow": ("last_run_at",),
    }.items()
}
#: Models whose new rows leave the cache right: only looked up by key, misses are not cached.
INSERTS_IGNORED = frozenset({"Tag"})


@dataclass
class _Store:
    stamp: Any = _UNREAD
    checked_at: float = 0.0
    values: dict[str, tuple[Any, Any]] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)


def _store() -> _Store:
    exts = current_app.extensions
    store = exts.get(_EXT_KEY)
    if store is None:
        store = exts.setdefault(_EXT_KEY, _Store())
    return store  # type: ignore[no-any-return]


def _read_stamp() -> Any:
    from ..models import Setting

    row = session().execute(select(Setting.value).where(Setting.key == STAMP_KEY)).first()
    return None if row is None else row[0]


def stamp() -> Any:
    """The generation stamp this app context works with (read at most once per context)."""
    if _G_STAMP in g:
        return g.get(_G_STAMP)
    store = _store()
    fresh = time.monotonic() - store.checked_at < BARE_CONTEXT_SECONDS
    if store.stamp is not _UNREAD and fresh and not has_request_context():
        value = store.stamp
    else:
        value = _read_stamp()
        store.stamp, store.checked_at = value, time.monotonic()
    setattr(g, _G_STAMP, value)
    return value


def check() -> None:
    """Read the stamp now (a new request, a new job): the next lookups are current."""
    g.pop(_G_STAMP, None)
    _store().checked_at = 0.0
    stamp()


def cached(key: str, loader: Callable[[], T]) -> T:
    """``loader()``'s value, from this process's memory while the stamp has not moved.

    ``loader`` must return plain values or detached objects: the value is shared by every
    session and thread of the process, and must not be changed by its readers."""
    if session().info.get(_FLAG) or not current_app.config.get(Config.PROCESS_CACHE, True):
        return loader()
    current = stamp()
    store = _store()
    hit = store.values.get(key)
    if hit is not None and hit[0] == current:
        return hit[1]  # type: ignore[no-any-return]
    value = loader()
    store.values[key] = (current, value)
    return value


def peek(key: str) -> Any:
    """The value cached under ``key`` if it is current, else ``None``."""
    if session().info.get(_FLAG) or not current_app.config.get(Config.PROCESS_CACHE, True):
        return None
    hit = _store().values.get(key)
    return hit[1] if hit is not None and hit[0] == stamp() else None


def put(key: str, value: Any) -> None:
    """Cache ``value`` under ``key`` for the current stamp (not inside a changing transaction)."""
    if not session().info.get(_FLAG):
        _store().values[key] = (stamp(), value)


def attach(db: Session, obj: T) -> T:
    """The session's instance of a cached detached ``obj``: the one already in its identity map
    (which may carry changes of this transaction that the cached copy must not overwrite), or
    a copy merged in without a query."""
    state = sa_inspect(obj)
    existing = db.identity_map.get(state.key) if state.key is not None else None
    return existing if existing is not None else db.merge(obj, load=False)  # type: ignore[return-value]


def changed(db: Session | None = None) -> None:
    """Note that this transaction changed cached configuration (for changes the flush does not
    see, and for pending objects that lookups later in the transaction must find)."""
    db = db or session()
    db.info[_FLAG] = True
    if has_app_context():
        _forget_local()


def _forget_local() -> None:
    store = current_app.extensions.get(_EXT_KEY)
    if store is not None:
        store.values.clear()
        store.stamp, store.checked_at = _UNREAD, 0.0
    g.pop(_G_STAMP, None)


# ---------------------------------------------------------------------------- listeners
def _changes(obj: Any) -> bool:
    ignored = WATCHED[type(obj).__name__]
    return any(attr.history.has_changes() for attr in sa_inspect(obj).attrs
               if attr.key not in ignored)


def _after_flush(db: Session, _flush: UOWTransaction) -> None:
    if db.info.get(_FLAG):
        return
    if any(type(o).__name__ in WATCHED and type(o).__name__ not in INSERTS_IGNORED
           for o in db.new) \
            or any(type(o).__name__ in WATCHED for o in db.deleted) \
            or any(type(o).__name__ in WATCHED and _changes(o) for o in db.dirty):
        db.info[_FLAG] = True


def _watched_tables() -> set[str]:
    from ..models import Base

    return {m.local_table.name for m in Base.registry.mappers  # type: ignore[attr-defined]
            if m.class_.__name__ in WATCHED}


_TABLES: set[str] = set()


def _do_orm_execute(state: ORMExecuteState) -> None:
    if not (state.is_update or state.is_delete):
        return
    if not _TABLES:
        _TABLES.update(_watched_tables())
    table = getattr(state.statement, "table", None)
    if getattr(table, "name", None) in _TABLES:
        state.session.info[_FLAG] = True


def _before_commit(db: Session) -> None:
    if db.in_nested_transaction():
        return
    if db.new or db.dirty or db.deleted:
        db.flush()
    if not db.info.get(_FLAG):
        return
    from ..models import Setting

    token, at = uuid.uuid4().hex, utcnow()
    conn = db.connection()  # core statements: no flush, no ORM events about Setting
    done = conn.execute(update(Setting).where(Setting.key == STAMP_KEY)
                        .values(value=token, updated_at=at))
    if not done.rowcount:
        conn.execute(insert(Setting).values(key=STAMP_KEY, value=token, created_at=at,
                                            updated_at=at))


def _after_commit(db: Session) -> None:
    if db.info.pop(_FLAG, None) and has_app_context():
        _forget_local()


def _after_rollback(db: Session) -> None:
    db.info.pop(_FLAG, None)


def install(session_factory: Any) -> None:
    """Attach the listeners to a (scoped) session factory, once. Attach last: other
    ``before_commit`` listeners (workflows, rules) may still change watched rows."""
    if event.contains(session_factory, "after_commit", _after_commit):
        return
    event.listen(session_factory, "after_flush", _after_flush)
    event.listen(session_factory, "do_orm_execute", _do_orm_execute)
    event.listen(session_factory, "before_commit", _before_commit)
    event.listen(session_factory, "after_commit", _after_commit)
    event.listen(session_factory, "after_rollback", _after_rollback)
