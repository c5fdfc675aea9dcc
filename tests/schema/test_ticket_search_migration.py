"""Migration 0012 on each database: it builds the ticket search structure, fills the documents
of the tickets already there, and its downgrade removes all of it; ``create_all`` builds the
same structure."""

from __future__ import annotations

from datetime import datetime, timezone

import pytest
import sqlalchemy as sa

from flask_escalated.models import Contact, Reply, Ticket, metadata
from flask_escalated.models.search import (
    MYSQL_ALL_INDEX,
    MYSQL_PUBLIC_INDEX,
    MYSQL_TITLE_INDEX,
    PG_ALL_INDEX,
    PG_PUBLIC_INDEX,
    SEARCH_TABLE,
    TICKET_FTS_TABLE,
)
from tests.hosts import intid

pytestmark = pytest.mark.all_databases

EXPECTED = {"postgres": {PG_PUBLIC_INDEX, PG_ALL_INDEX},
            "mariadb": {MYSQL_TITLE_INDEX, MYSQL_PUBLIC_INDEX, MYSQL_ALL_INDEX},
            "sqlite": {TICKET_FTS_TABLE, f"{TICKET_FTS_TABLE}_ai", f"{TICKET_FTS_TABLE}_ad",
                       f"{TICKET_FTS_TABLE}_au"}}


def structures(url: str) -> set[str]:
    engine = sa.create_engine(url)
    try:
        with engine.connect() as conn:
            if engine.dialect.name == "postgresql":
                return set(conn.execute(sa.text(
                    "SELECT indexname FROM pg_indexes WHERE tablename = :t "
                    "AND indexdef ILIKE :gin"), {"t": SEARCH_TABLE, "gin": "%using gin%"})
                    .scalars())
            if engine.dialect.name == "mysql":
                return set(conn.execute(sa.text(
                    "SELECT DISTINCT index_name FROM information_schema.statistics WHERE "
                    "table_schema = DATABASE() AND table_name = :t AND index_type = 'FULLTEXT'"),
                    {"t": SEARCH_TABLE}).scalars())
            return set(conn.execute(sa.text(
                "SELECT name FROM sqlite_master WHERE name LIKE :p AND type IN "
                "('table', 'trigger') AND (type = 'trigger' OR sql LIKE :v)"),
                {"p": TICKET_FTS_TABLE + "%", "v": "CREATE VIRTUAL TABLE%"}).scalars())
    finally:
        engine.dispose()


def test_create_all_builds_the_structure(backend, test_databases):
    url = test_databases.fresh(backend, "tsca")
    engine = sa.create_engine(url)
    metadata.create_all(engine)
    engine.dispose()
    assert structures(url) == EXPECTED[backend]
    engine = sa.create_engine(url)
    metadata.drop_all(engine)
    engine.dispose()
    assert structures(url) == set()


def _seed(url: str) -> int:
    """A ticket with a contact, a reply and a note, written at revision 0010 (no search)."""
    stamp = datetime(2026, 1, 5, tzinfo=timezone.utc)
    engine = sa.create_engine(url)
    with engine.begin() as conn:
        contact_id = conn.execute(sa.insert(Contact.__table__).values(
            email="ivy.quartz@example.test", name="Ivy Quartz")).inserted_primary_key[0]
        ticket_id = conn.execute(sa.insert(Ticket.__table__).values(
            reference="ESC-00077", subject="Legacy lighthouse", description="old description",
            status="open", status_category="open", priority="medium", priority_rank=2,
            contact_id=contact_id, created_at=stamp, updated_at=stamp,
            version=1)).inserted_primary_key[0]
        for body, internal in (("a public albatross", False), ("a private cormorant", True)):
            conn.execute(sa.insert(Reply.__table__).values(
                ticket_id=ticket_id, author_type="agent", body=body, is_internal=internal,
                created_at=stamp, updated_at=stamp))
    engine.dispose()
    return ticket_id


def test_upgrade_backfills_and_downgrade_removes(backend, test_databases, tmp_path):
    url = test_databases.fresh(backend, "tsmig")
    app = intid.create_app({"SQLALCHEMY_DATABASE_URI": url,
                            "ESCALATED_ATTACHMENT_STORAGE": str(tmp_path)})
    runner = app.test_cli_runner()
    result = runner.invoke(args=["escalated", "db", "upgrade", "0011_response_timings"])
    assert result.exit_code == 0, result.output
    assert structures(url) == set()
    ticket_id = _seed(url)

    result = runner.invoke(args=["escalated", "db", "upgrade", "0012_ticket_search"])
    assert result.exit_code == 0, result.output
    assert structures(url) == EXPECTED[backend]
    from flask_escalated.services import queries
    from flask_escalated.services.permissions import Principal
    from flask_escalated.services.queries import TicketFilter

    with app.app_context():
        agent = Principal.build("1", is_agent=True)
        customer = Principal.build("2")

        def search(principal: Principal, q: str) -> list[int]:
            flt = TicketFilter(q=q, snoozed=False)
            return [t.id for t in queries.list_tickets(principal, flt, limit=10)[0]]

        for word in ("lighthouse", "albatross", "cormorant", "quartz", "ESC-00077"):
            assert search(agent, word) == [ticket_id], word
        # Not the customer's ticket, and notes never match for customers anyway.
        assert search(customer, "albatross") == []
        app.extensions["escalated"].session.remove()
        intid.db.engine.dispose()

    result = runner.invoke(args=["escalated", "db", "downgrade", "0011_response_timings"])
    assert result.exit_code == 0, result.output
    assert structures(url) == set()
    engine = sa.create_engine(url)
    tables = set(sa.inspect(engine).get_table_names())
    engine.dispose()
    assert SEARCH_TABLE not in tables and not any(t.startswith(TICKET_FTS_TABLE) for t in tables)
    result = runner.invoke(args=["escalated", "db", "upgrade"])
    assert result.exit_code == 0, result.output
    assert structures(url) == EXPECTED[backend]
