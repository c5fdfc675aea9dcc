"""Shipped Alembic migrations: run them, and keep the host's autogenerate away from them.

Escalated's migrations live inside the package and record their state in their own version
table (``escalated_alembic_version``), so they never interfere with the host's own Alembic
history. The first revision carries the branch label ``escalated``.
"""

from __future__ import annotations

import os
from typing import Any

from alembic import command
from alembic.config import Config as AlembicConfig
from flask import current_app

from .models import TABLE_PREFIX
from .models import search as ticket_search_models

VERSION_TABLE = "escalated_alembic_version"
MIGRATIONS_DIR = os.path.join(os.path.dirname(__file__), "migrations")


def alembic_config() -> AlembicConfig:
    cfg = AlembicConfig()
    cfg.set_main_option("script_location", MIGRATIONS_DIR)
    cfg.set_main_option("path_separator", "os")
    cfg.set_main_option("version_locations", os.path.join(MIGRATIONS_DIR, "versions"))
    cfg.attributes["flask_app"] = current_app._get_current_object()  # type: ignore[attr-defined]
    return cfg


def upgrade(revision: str = "head", sql: bool = False) -> None:
    command.upgrade(alembic_config(), revision, sql=sql)


def downgrade(revision: str = "-1", sql: bool = False) -> None:
    command.downgrade(alembic_config(), revision, sql=sql)


def current() -> None:
    command.current(alembic_config(), verbose=True)


def history() -> None:
    command.history(alembic_config(), verbose=False)


def check() -> None:
    command.check(alembic_config())


def revision(message: str, autogenerate: bool = True) -> None:
    """Maintainers only: write a new revision file into the package."""
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
