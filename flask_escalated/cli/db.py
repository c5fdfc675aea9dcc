"""``flask escalated db ...``: run the shipped migrations."""

from __future__ import annotations

import click

from .. import migrate
from .group import escalated_cli


@escalated_cli.group("db")
def db_group() -> None:
    """Create and upgrade Escalated's tables (its own Alembic history)."""


@db_group.command("upgrade")
@click.argument("revision", default="head")
@click.option("--sql", is_flag=True, help="Print the SQL instead of running it.")
def upgrade(revision: str, sql: bool) -> None:
    """Upgrade Escalated's tables to REVISION (default: head)."""
    migrate.upgrade(revision, sql=sql)
    if not sql:
        click.echo(f"Escalated tables are at {revision}.")


@db_group.command("downgrade")
@click.argument("revision", default="-1")
@click.option("--sql", is_flag=True, help="Print the SQL instead of running it.")
def downgrade(revision: str, sql: bool) -> None:
    """Downgrade Escalated's tables to REVISION (default: one step; 'base' drops them)."""
    migrate.downgrade(revision, sql=sql)


@db_group.command("current")
def current() -> None:
    """Show the revision the database is at."""
    migrate.current()


@db_group.command("history")
def history() -> None:
    """List the shipped revisions."""
    migrate.history()


@db_group.command("check")
def check() -> None:
    """Fail if the models and the migrations disagree."""
    migrate.check()
