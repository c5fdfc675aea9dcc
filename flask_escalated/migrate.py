"""Shipped Alembic migrations: run them, and keep the host's autogenerate away from them.

Escalated's migrations live inside the package and record their state in their own version
table (``escalated_alembic_version``), so they never interfere with the host's own Alembic
history. The first revision carries the branch label ``escalated``.
"""

from __future__ import annotations

import ast
import os
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa
from flask import current_app

from .models import TABLE_PREFIX
from .models import search as ticket_search_models

if TYPE_CHECKING:
    from alembic.config import Config as AlembicConfig

VERSION_TABLE = "escalated_alembic_version"
MIGRATIONS_DIR = os.path.join(os.path.dirname(__file__), "migrations")

# Alembic is imported inside the functions that run it: a web process that never migrates
# (or, at start-up, finds the database at head) does not carry it (about 10 MB).


@cache
def shipped_head() -> str:
    """The head revision of the migrations in the package, read from each revision file's
    own ``revision`` and ``down_revision`` assignments (without loading Alembic; a test
    checks the answer against Alembic's). Several heads are joined with commas."""
    revisions: set[str] = set()
    parents: set[str] = set()
    for path in sorted(Path(MIGRATIONS_DIR, "versions").glob("*.py")):
        values: dict[str, Any] = {}
        for node in ast.parse(path.read_text(encoding="utf-8")).body:
            target: ast.expr
            if isinstance(node, ast.AnnAssign):
                target, value = node.target, node.value
            elif isinstance(node, ast.Assign) and len(node.targets) == 1:
                target, value = node.targets[0], node.value
            else:
                continue
            if isinstance(target, ast.Name) and value is not None \
                    and target.id in ("revision", "down_revision"):
                values[target.id] = ast.literal_eval(value)
        if "revision" not in values:
            continue
        revisions.add(values["revision"])
        down = values.get("down_revision")
        parents.update([down] if isinstance(down, str) else (down or ()))
    return ",".join(sorted(revisions - parents))


def recorded_revision() -> str | None:
    """The revision the database records (``None``: none, or no version table yet)."""
    engine = current_app.extensions["escalated"].state.db.engine
    try:
        with engine.connect() as conn:
            rows = conn.execute(sa.text(f"SELECT version_num FROM {VERSION_TABLE}")).scalars()
            return ",".join(sorted(rows)) or None
    except sa.exc.SQLAlchemyError:
        return None


def alembic_config() -> AlembicConfig:
    from alembic.config import Config as AlembicConfig

    cfg = AlembicConfig()
    cfg.set_main_option("script_location", MIGRATIONS_DIR)
    cfg.set_main_option("path_separator", "os")
    cfg.set_main_option("version_locations", os.path.join(MIGRATIONS_DIR, "versions"))
    cfg.attributes["flask_app"] = current_app._get_current_object()  # type: ignore[attr-defined]
    return cfg


def upgrade(revision: str = "head", sql: bool = False) -> None:
    """Upgrade to ``revision``; a database already at the shipped head is left as it is
    without loading Alembic (every start of the demo, every deploy that brings nothing)."""
    if revision == "head" and not sql and recorded_revision() == shipped_head():
        return
    from alembic import command

    command.upgrade(alembic_config(), revision, sql=sql)


def downgrade(revision: str = "-1", sql: bool = False) -> None:
    from alembic import command

    command.downgrade(alembic_config(), revision, sql=sql)


def current() -> None:
    from alembic import command

    command.current(alembic_config(), verbose=True)


def history() -> None:
    from alembic import command

    command.history(alembic_config(), verbose=False)


def check() -> None:
    from alembic import command

    command.check(alembic_config())


def revision(message: str, autogenerate: bool = True) -> None:
    """Maintainers only: write a new revision file into the package."""
    from alembic import command

    command.revision(alembic_config(), message=message, autogenerate=autogenerate)


def include_own_name(name: str | None, type_: str, parent_names: Any) -> bool:
    """``include_name`` for our env: only our tables (and not our version table).

    The ticket search's full-text structures (see :mod:`flask_escalated.models.search`: its
    FTS5 table, its PostgreSQL ``tsvector`` columns and GIN indexes, its MariaDB FULLTEXT
    indexes) exist on one database each and are built by DDL events and by migrations, not
    described by portable metadata; they are left out of the comparison so autogenerate never
    proposes to drop them. (The knowledge base's search index is a plain table.)
    """
    if type_ == "table":
        return (bool(name) and name.startswith(TABLE_PREFIX)  # type: ignore[union-attr]
                and name != VERSION_TABLE
                and not name.startswith(ticket_search_models.TICKET_FTS_TABLE))  # type: ignore[union-attr]
    if type_ == "index":
        return name not in ticket_search_models.SEARCH_INDEXES
    if type_ == "column":
        return not (name in ticket_search_models.PG_VECTOR_COLUMNS
                    and parent_names.get("table_name") == ticket_search_models.SEARCH_TABLE)
    return True


def include_host_name(name: str | None, type_: str, parent_names: Any) -> bool:
    """``include_name`` for the host's env: everything except our tables and version table."""
    if type_ == "table":
        return not (name or "").startswith(TABLE_PREFIX)
    return True
