"""Migrations 0009 and 0020 and ``create_all`` build the same search structure on each database
(0009 one of each database's own, 0020 the postings table in its place, backfilled), each
downgrade restores what came before, and search works on a database built by ``upgrade head``."""

from __future__ import annotations

from datetime import datetime, timezone

import pytest
import sqlalchemy as sa

from flask_escalated.models import metadata
from flask_escalated.models.kb import (
    LEGACY_FTS_TABLE,
    LEGACY_MYSQL_TEXT_INDEX,
    LEGACY_MYSQL_TITLE_INDEX,
    LEGACY_PG_SEARCH_INDEX,
    POSTINGS_TABLE,
)
from tests.hosts import intid

pytestmark = pytest.mark.all_databases


def search_structures(url: str) -> set[str]:
    """The postings table if there, and the per-database structures of 0009 found."""
    engine = sa.create_engine(url)
    try:
        tables = set(sa.inspect(engine).get_table_names())
    finally:
        engine.dispose()
    return legacy_structures(url) | ({POSTINGS_TABLE} & tables)


def legacy_structures(url: str) -> set[str]:
    engine = sa.create_engine(url)
    try:
        with engine.connect() as conn:
            if engine.dialect.name == "postgresql":
                return set(
                    conn.exec_driver_sql(
                        "SELECT indexname FROM pg_indexes WHERE indexdef ILIKE '%%USING gin%%'"
                        " AND tablename = 'escalated_kb_articles'"
                    ).scalars()
                )
            if engine.dialect.name == "mysql":
                return set(
                    conn.exec_driver_sql(
                        "SELECT DISTINCT index_name FROM information_schema.statistics WHERE "
                        "table_schema = DATABASE() AND index_type = 'FULLTEXT'"
                        " AND table_name = 'escalated_kb_articles'"
                    ).scalars()
                )
            return set(
                conn.exec_driver_sql(
                    "SELECT name FROM sqlite_master WHERE type = 'table' AND sql LIKE "
                    "'CREATE VIRTUAL TABLE%%fts5%%' AND name LIKE 'escalated_kb%%'"
                ).scalars()
            )
    finally:
        engine.dispose()


LEGACY = {
    "postgres": {LEGACY_PG_SEARCH_INDEX},
    "mariadb": {LEGACY_MYSQL_TITLE_INDEX, LEGACY_MYSQL_TEXT_INDEX},
    "sqlite": {LEGACY_FTS_TABLE},
}
EXPECTED = {POSTINGS_TABLE}


def test_create_all_builds_the_search_structure(backend, test_databases):
    url = test_databases.fresh(backend, "kbca")
    engine = sa.create_engine(url)
    metadata.create_all(engine)
    engine.dispose()
    assert search_structures(url) == EXPECTED
    engine = sa.create_engine(url)
    metadata.drop_all(engine)
    engine.dispose()
    assert search_structures(url) == set()


def test_upgrade_builds_it_downgrade_removes_it_and_search_works(backend, test_databases, tmp_path):
    url = test_databases.fresh(backend, "kbmig")
    app = intid.create_app(
        {"SQLALCHEMY_DATABASE_URI": url, "ESCALATED_ATTACHMENT_STORAGE": str(tmp_path)}
    )
    runner = app.test_cli_runner()
    assert runner.invoke(args=["escalated", "db", "upgrade"]).exit_code == 0
    assert search_structures(url) == EXPECTED
    down = runner.invoke(args=["escalated", "db", "downgrade", "0007_guest_access"])
    assert down.exit_code == 0, down.output
    assert search_structures(url) == set()
    assert runner.invoke(args=["escalated", "db", "upgrade"]).exit_code == 0
    assert search_structures(url) == EXPECTED
    from flask_escalated.services import kb, kb_search
    from flask_escalated.services.permissions import Principal

    with app.app_context():
        intid.db.create_all()
        ext = app.extensions["escalated"]
        editor = Principal.build("1", is_admin=True)
        with ext.unit_of_work():
            for title in ("Printer jams", "Invoice copies", "Password resets", "Team invites"):
                kb.create_article(
                    editor, {"title": title, "body": "Some help text.", "status": "published"}
                )
        assert [h.title for h in kb_search.search("printer")] == ["Printer jams"]
        result = runner.invoke(args=["escalated", "reindex-kb"])
        assert result.exit_code == 0 and "Indexed" in result.output
        assert [h.title for h in kb_search.search("invoice")] == ["Invoice copies"]
        ext.session.remove()
        intid.db.engine.dispose()


def _postings(url: str) -> list[tuple[str, int, int, bool]]:
    engine = sa.create_engine(url)
    try:
        with engine.connect() as conn:
            return [
                (r[0], r[1], r[2], bool(r[3]))
                for r in conn.exec_driver_sql(
                    f"SELECT term, field, article_id, public FROM {POSTINGS_TABLE} "
                    "ORDER BY article_id, field, term"
                )
            ]
    finally:
        engine.dispose()


def test_0020_backfills_the_postings_and_its_downgrade_restores_0009(
    backend, test_databases, tmp_path
):
    """0020 replaces the per-database structure by the postings table, filled for the published
    articles already there (drafts stay out); its downgrade builds the old structure again."""
    url = test_databases.fresh(backend, "kbpost")
    app = intid.create_app(
        {"SQLALCHEMY_DATABASE_URI": url, "ESCALATED_ATTACHMENT_STORAGE": str(tmp_path)}
    )
    runner = app.test_cli_runner()
    result = runner.invoke(args=["escalated", "db", "upgrade", "0019_skills_capacity"])
    assert result.exit_code == 0, result.output
    assert search_structures(url) == LEGACY[backend]
    engine = sa.create_engine(url)
    with engine.begin() as conn:
        for ident, title, body, status, visibility in (
            (1, "Printer jams", "Open the trays.", "published", "public"),
            (2, "Secret plans", "Printer codes.", "published", "internal"),
            (3, "Draft printer", "Not yet.", "draft", "public"),
        ):
            conn.execute(
                sa.text(
                    "INSERT INTO escalated_kb_articles (id, title, slug, body, body_html, "
                    "body_text, status, visibility, tags, view_count, helpful_count, "
                    "not_helpful_count, "
                    "created_at, updated_at) VALUES (:id, :title, :slug, :body, '', :body, "
                    ":status, :visibility, '[]', 0, 0, 0, :now, :now)"
                ),
                {
                    "id": ident,
                    "title": title,
                    "slug": f"a{ident}",
                    "body": body,
                    "status": status,
                    "visibility": visibility,
                    "now": datetime(2026, 12, 1, tzinfo=timezone.utc),
                },
            )
        if backend == "sqlite":
            conn.exec_driver_sql(
                f"INSERT INTO {LEGACY_FTS_TABLE} (rowid, title, body) "
                "SELECT id, title, body_text FROM escalated_kb_articles"
            )
    engine.dispose()
    result = runner.invoke(args=["escalated", "db", "upgrade", "0020_kb_search_vector"])
    assert result.exit_code == 0, result.output
    assert search_structures(url) == EXPECTED
    if backend == "sqlite":  # stored in key order, as create_all builds it
        engine = sa.create_engine(url)
        with engine.connect() as conn:
            ddl = conn.exec_driver_sql(
                "SELECT sql FROM sqlite_master WHERE name = :n", {"n": POSTINGS_TABLE}
            ).scalar()
        engine.dispose()
        assert ddl.rstrip().upper().endswith("WITHOUT ROWID")
    assert _postings(url) == [
        ("jam", 0, 1, True),
        ("open", 0, 1, True),
        ("printer", 0, 1, True),
        ("the", 0, 1, True),
        ("tray", 0, 1, True),
        ("jam", 1, 1, True),
        ("printer", 1, 1, True),
        ("code", 0, 2, False),
        ("plan", 0, 2, False),
        ("printer", 0, 2, False),
        ("secret", 0, 2, False),
        ("plan", 1, 2, False),
        ("secret", 1, 2, False),
    ]
    result = runner.invoke(args=["escalated", "db", "downgrade", "0019_skills_capacity"])
    assert result.exit_code == 0, result.output
    assert search_structures(url) == LEGACY[backend]
    if backend == "sqlite":  # the FTS5 table is filled again
        engine = sa.create_engine(url)
        with engine.connect() as conn:
            assert conn.exec_driver_sql(
                f"SELECT rowid FROM {LEGACY_FTS_TABLE} WHERE "
                f"{LEGACY_FTS_TABLE} MATCH 'printer' ORDER BY rowid"
            ).scalars().all() == [1, 2, 3]
        engine.dispose()
    with app.app_context():
        intid.db.engine.dispose()
