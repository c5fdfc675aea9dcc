"""The shipped migrations: upgrade, downgrade, upgrade again on each database; the same schema
as the models; and a host's own autogenerate leaving our tables alone."""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from flask_escalated import Escalated
from flask_escalated.migrate import VERSION_TABLE, include_own_name
from flask_escalated.models import metadata
from tests.hosts import intid

pytestmark = pytest.mark.all_databases


def _tables(url: str) -> set[str]:
    engine = sa.create_engine(url)
    try:
        return set(sa.inspect(engine).get_table_names())
    finally:
        engine.dispose()


def test_upgrade_downgrade_upgrade(backend, test_databases, tmp_path):
    url = test_databases.fresh(backend, "mig")
    app = intid.create_app({"SQLALCHEMY_DATABASE_URI": url,
                            "ESCALATED_ATTACHMENT_STORAGE": str(tmp_path)})
    runner = app.test_cli_runner()
    ours = {t for t in metadata.tables}

    result = runner.invoke(args=["escalated", "db", "upgrade"])
    assert result.exit_code == 0, result.output
    assert ours | {VERSION_TABLE} <= _tables(url)

    engine = sa.create_engine(url)
    with engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={
            "include_name": include_own_name, "compare_type": True})
        diff = compare_metadata(context, metadata)
    engine.dispose()
    assert diff == [], diff

    assert runner.invoke(args=["escalated", "db", "check"]).exit_code == 0
    assert runner.invoke(args=["escalated", "db", "current"]).exit_code == 0
    assert runner.invoke(args=["escalated", "db", "history"]).exit_code == 0

    result = runner.invoke(args=["escalated", "db", "downgrade", "base"])
    assert result.exit_code == 0, result.output
    assert not {t for t in _tables(url) if t.startswith("escalated_") and t != VERSION_TABLE}

    result = runner.invoke(args=["escalated", "db", "upgrade"])
    assert result.exit_code == 0, result.output
    assert ours <= _tables(url)
    # Idempotent on every deploy.
    assert runner.invoke(args=["escalated", "db", "upgrade"]).exit_code == 0
    with app.app_context():
        intid.db.engine.dispose()


def test_host_autogenerate_ignores_our_tables(backend, test_databases, tmp_path):
    """A host comparing its own models with a database holding our tables proposes nothing
    about them, through the documented include_name hook."""
    url = test_databases.fresh(backend, "host")
    engine = sa.create_engine(url)
    metadata.create_all(engine)
    host = sa.MetaData()
    sa.Table("host_things", host, sa.Column("id", sa.Integer, primary_key=True))
    with engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={
            "include_name": Escalated.alembic_include_name})
        diff = compare_metadata(context, host)
    engine.dispose()
    names = {op[1].name for op in diff if op[0] in ("add_table", "remove_table")}
    assert names == {"host_things"}, diff


def test_create_all_and_upgrade_agree_with_flask_migrate_host(backend, test_databases, tmp_path):
    """The same check through a Flask-Migrate host: its env sees no escalated_ tables."""
    from flask_migrate import Migrate

    url = test_databases.fresh(backend, "fm")
    app = intid.create_app({"SQLALCHEMY_DATABASE_URI": url,
                            "ESCALATED_ATTACHMENT_STORAGE": str(tmp_path)})
    Migrate(app, intid.db, include_name=Escalated.alembic_include_name)
    assert app.test_cli_runner().invoke(args=["escalated", "db", "upgrade"]).exit_code == 0
    with app.app_context():
        intid.db.create_all()
        with intid.db.engine.connect() as conn:
            context = MigrationContext.configure(conn, opts={
                "include_name": Escalated.alembic_include_name})
            diff = compare_metadata(context, intid.db.metadata)
        intid.db.engine.dispose()
    assert diff == []


def test_canned_responses_migration_up_and_down(backend, test_databases, tmp_path):
    """0013 creates the canned responses with the shortcut unique per scope, and its
    downgrade drops them and nothing else."""
    url = test_databases.fresh(backend, "canned")
    app = intid.create_app({"SQLALCHEMY_DATABASE_URI": url,
                            "ESCALATED_ATTACHMENT_STORAGE": str(tmp_path)})
    runner = app.test_cli_runner()
    result = runner.invoke(args=["escalated", "db", "upgrade", "0013_canned_responses"])
    assert result.exit_code == 0, result.output
    engine = sa.create_engine(url)
    inspector = sa.inspect(engine)
    table = "escalated_canned_responses"
    assert table in inspector.get_table_names()
    uniques = {tuple(u["column_names"]) for u in inspector.get_unique_constraints(table)}
    indexes = {tuple(i["column_names"]) for i in inspector.get_indexes(table)}
    assert ("scope", "shortcut") in uniques | indexes
    assert {("owner_user_id", "is_shared", "title", "id"),
            ("is_shared", "department_id", "title", "id"), ("title",), ("shortcut",)} <= indexes
    before = set(inspector.get_table_names())
    engine.dispose()
    result = runner.invoke(args=["escalated", "db", "downgrade", "0012_ticket_search"])
    assert result.exit_code == 0, result.output
    assert _tables(url) == before - {table}
    with app.app_context():
        intid.db.engine.dispose()


def test_saved_views_migration_up_and_down(backend, test_databases, tmp_path):
    """0016 creates the saved views, their department links and the per-agent defaults, and
    its downgrade drops those three and nothing else."""
    url = test_databases.fresh(backend, "views")
    app = intid.create_app({"SQLALCHEMY_DATABASE_URI": url,
                            "ESCALATED_ATTACHMENT_STORAGE": str(tmp_path)})
    runner = app.test_cli_runner()
    result = runner.invoke(args=["escalated", "db", "upgrade", "0016_saved_views"])
    assert result.exit_code == 0, result.output
    ours = {"escalated_saved_views", "escalated_saved_view_departments",
            "escalated_saved_view_defaults"}
    before = _tables(url)
    assert ours <= before
    result = runner.invoke(args=["escalated", "db", "downgrade", "0015_agent_report_facts"])
    assert result.exit_code == 0, result.output
    assert _tables(url) == before - ours
    with app.app_context():
        intid.db.engine.dispose()


def test_side_conversations_migration_up_and_down(backend, test_databases, tmp_path):
    """0018 creates the side conversations and their replies, and its downgrade drops those
    two and nothing else."""
    url = test_databases.fresh(backend, "sides")
    app = intid.create_app({"SQLALCHEMY_DATABASE_URI": url,
                            "ESCALATED_ATTACHMENT_STORAGE": str(tmp_path)})
    runner = app.test_cli_runner()
    result = runner.invoke(args=["escalated", "db", "upgrade", "0018_side_conversations"])
    assert result.exit_code == 0, result.output
    ours = {"escalated_side_conversations", "escalated_side_conversation_replies"}
    before = _tables(url)
    assert ours <= before
    result = runner.invoke(args=["escalated", "db", "downgrade", "0017_ticket_relations"])
    assert result.exit_code == 0, result.output
    assert _tables(url) == before - ours


def test_skills_capacity_migration_up_and_down(backend, test_databases, tmp_path):
    """0019 creates the skills, their routing links, agents' skills and capacities and the
    unrouted tickets, adds the agents' availability, and its downgrade takes back exactly that."""
    url = test_databases.fresh(backend, "routing")
    app = intid.create_app({"SQLALCHEMY_DATABASE_URI": url,
                            "ESCALATED_ATTACHMENT_STORAGE": str(tmp_path)})
    runner = app.test_cli_runner()
    result = runner.invoke(args=["escalated", "db", "upgrade", "0019_skills_capacity"])
    assert result.exit_code == 0, result.output
    ours = {"escalated_skills", "escalated_skill_tags", "escalated_skill_departments",
            "escalated_agent_skills", "escalated_agent_capacities", "escalated_unrouted_tickets"}
    before = _tables(url)
    assert ours <= before
    engine = sa.create_engine(url)
    columns = {c["name"] for c in sa.inspect(engine).get_columns("escalated_agent_profiles")}
    engine.dispose()
    assert "availability" in columns
    result = runner.invoke(args=["escalated", "db", "downgrade", "0018_side_conversations"])
    assert result.exit_code == 0, result.output
    assert _tables(url) == before - ours
    engine = sa.create_engine(url)
    columns = {c["name"] for c in sa.inspect(engine).get_columns("escalated_agent_profiles")}
    engine.dispose()
    assert "availability" not in columns


def test_ticket_relations_migration_up_and_down(backend, test_databases, tmp_path):
    """0017 creates the ticket links and the replies' ``merged_from_id``; its downgrade drops
    exactly those."""
    url = test_databases.fresh(backend, "relations")
    app = intid.create_app({"SQLALCHEMY_DATABASE_URI": url,
                            "ESCALATED_ATTACHMENT_STORAGE": str(tmp_path)})
    runner = app.test_cli_runner()
    result = runner.invoke(args=["escalated", "db", "upgrade", "0017_ticket_relations"])
    assert result.exit_code == 0, result.output
    before = _tables(url)
    assert "escalated_ticket_links" in before
    engine = sa.create_engine(url)
    columns = {c["name"] for c in sa.inspect(engine).get_columns("escalated_replies")}
    engine.dispose()
    assert "merged_from_id" in columns
    result = runner.invoke(args=["escalated", "db", "downgrade", "0016_saved_views"])
    assert result.exit_code == 0, result.output
    assert _tables(url) == before - {"escalated_ticket_links"}
    engine = sa.create_engine(url)
    columns = {c["name"] for c in sa.inspect(engine).get_columns("escalated_replies")}
    engine.dispose()
    assert "merged_from_id" not in columns
    with app.app_context():
        intid.db.engine.dispose()
