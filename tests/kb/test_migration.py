"""Migrations 0009 and 0020 and ``create_all`` build the same full-text structure on each
database, the downgrade removes it, and search works on a database built by ``upgrade head``."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from flask_escalated.models import metadata
from flask_escalated.models.kb import (
    FTS_TABLE,
    MYSQL_TEXT_INDEX,
    MYSQL_TITLE_INDEX,
    PG_SEARCH_INDEX,
    PG_TITLE_INDEX,
)
from tests.hosts import intid

pytestmark = pytest.mark.all_databases


def search_structures(url: str) -> set[str]:
    engine = sa.create_engine(url)
    try:
        with engine.connect() as conn:
            if engine.dialect.name == "postgresql":
                return set(conn.exec_driver_sql(
                    "SELECT indexname FROM pg_indexes WHERE indexdef ILIKE '%%USING gin%%'"
                    " AND tablename = 'escalated_kb_articles'").scalars())
            if engine.dialect.name == "mysql":
                return set(conn.exec_driver_sql(
                    "SELECT DISTINCT index_name FROM information_schema.statistics WHERE "
                    "table_schema = DATABASE() AND index_type = 'FULLTEXT'"
                    " AND table_name = 'escalated_kb_articles'").scalars())
            return set(conn.exec_driver_sql(
                "SELECT name FROM sqlite_master WHERE type = 'table' AND sql LIKE "
                "'CREATE VIRTUAL TABLE%%fts5%%' AND name LIKE 'escalated_kb%%'").scalars())
    finally:
        engine.dispose()


EXPECTED = {"postgres": {PG_SEARCH_INDEX, PG_TITLE_INDEX},
            "mariadb": {MYSQL_TITLE_INDEX, MYSQL_TEXT_INDEX}, "sqlite": {FTS_TABLE}}


def test_create_all_builds_the_search_structure(backend, test_databases):
    url = test_databases.fresh(backend, "kbca")
    engine = sa.create_engine(url)
    metadata.create_all(engine)
    engine.dispose()
    assert search_structures(url) == EXPECTED[backend]
    engine = sa.create_engine(url)
    metadata.drop_all(engine)
    engine.dispose()
    assert search_structures(url) == set()


def test_upgrade_builds_it_downgrade_removes_it_and_search_works(backend, test_databases,
                                                                  tmp_path):
    url = test_databases.fresh(backend, "kbmig")
    app = intid.create_app({"SQLALCHEMY_DATABASE_URI": url,
                            "ESCALATED_ATTACHMENT_STORAGE": str(tmp_path)})
    runner = app.test_cli_runner()
    assert runner.invoke(args=["escalated", "db", "upgrade"]).exit_code == 0
    assert search_structures(url) == EXPECTED[backend]
    down = runner.invoke(args=["escalated", "db", "downgrade", "0007_guest_access"])
    assert down.exit_code == 0, down.output
    assert search_structures(url) == set()
    assert runner.invoke(args=["escalated", "db", "upgrade"]).exit_code == 0
    assert search_structures(url) == EXPECTED[backend]
    from flask_escalated.services import kb, kb_search
    from flask_escalated.services.permissions import Principal

    with app.app_context():
        intid.db.create_all()
        ext = app.extensions["escalated"]
        editor = Principal.build("1", is_admin=True)
        with ext.unit_of_work():
            for title in ("Printer jams", "Invoice copies", "Password resets", "Team invites"):
                kb.create_article(editor, {"title": title, "body": "Some help text.",
                                           "status": "published"})
        assert [h.title for h in kb_search.search("printer")] == ["Printer jams"]
        result = runner.invoke(args=["escalated", "reindex-kb"])
        assert result.exit_code == 0 and "Indexed" in result.output
        assert [h.title for h in kb_search.search("invoice")] == ["Invoice copies"]
        ext.session.remove()
        intid.db.engine.dispose()
