"""The full-text search document of each ticket, and the per-database structures that index it.

One row per ticket holds the text a search may match, split by who may match it:

- ``title_text``: the subject and the reference (ranked highest);
- ``public_text``: the description, the public replies, the requester's name and e-mail;
- ``note_text``: the internal notes, which only agents' searches ever look at.

The rows are written by :mod:`flask_escalated.services.ticket_search` in the same transaction
as the change that made them stale. Each database indexes them with its own engine, which the
portable ``Index`` construct cannot express:

- **PostgreSQL**: two ``tsvector`` columns (``public_tsv``: title weight A and public text
  weight B; ``all_tsv``: the same plus the notes at weight C), written with the configured
  text-search language (``ESCALATED_SEARCH_LANGUAGE``), each with a GIN index. They are plain
  columns filled by the service rather than generated ones: a generated column would freeze the
  language into the DDL, while ``flask escalated reindex-tickets`` can rebuild them after the
  language changes.
- **MariaDB/MySQL**: three InnoDB ``FULLTEXT`` indexes (title alone, title with public text,
  all three), because ``MATCH`` must name exactly the columns of one index.
- **SQLite**: an FTS5 table over the three columns, with the document table as its external
  content, kept in step by triggers.

:data:`SEARCH_STRUCTURE_DDL` holds these statements per dialect; the table's DDL events (so
``create_all`` builds them) and migration ``0012_ticket_search`` both run them, and
:data:`SEARCH_INDEXES`, :data:`PG_VECTOR_COLUMNS` and :data:`TICKET_FTS_TABLE` name them for the
migration environment, which keeps autogenerate from proposing to drop what it cannot describe.
"""

from __future__ import annotations

from sqlalchemy import DDL, ForeignKey, event
from sqlalchemy.orm import Mapped, mapped_column

from .base import Base, BigId, LongText, table

SEARCH_TABLE = table("ticket_search")
#: SQLite: the FTS5 table (rowid = ticket id). FTS5 adds shadow tables named after it.
TICKET_FTS_TABLE = table("ticket_fts")
#: PostgreSQL: the vector customers' searches use, and the one agents' searches use.
PG_PUBLIC_VECTOR, PG_ALL_VECTOR = "public_tsv", "all_tsv"
PG_VECTOR_COLUMNS = frozenset({PG_PUBLIC_VECTOR, PG_ALL_VECTOR})
PG_PUBLIC_INDEX = "ix_escalated_ticket_search_public_tsv"
PG_ALL_INDEX = "ix_escalated_ticket_search_all_tsv"
MYSQL_TITLE_INDEX = "ix_escalated_ticket_search_ft_title"
MYSQL_PUBLIC_INDEX = "ix_escalated_ticket_search_ft_public"
MYSQL_ALL_INDEX = "ix_escalated_ticket_search_ft_all"
SEARCH_INDEXES = frozenset({PG_PUBLIC_INDEX, PG_ALL_INDEX, MYSQL_TITLE_INDEX,
                            MYSQL_PUBLIC_INDEX, MYSQL_ALL_INDEX})
#: The column lists of the MariaDB indexes, which ``MATCH`` must repeat exactly.
MYSQL_TITLE_COLUMNS = ("title_text",)
MYSQL_PUBLIC_COLUMNS = ("title_text", "public_text")
MYSQL_ALL_COLUMNS = ("title_text", "public_text", "note_text")

_FTS_COLUMNS = "title_text, public_text, note_text"
_NEW = "new.title_text, new.public_text, new.note_text"
_OLD = "old.title_text, old.public_text, old.note_text"
_FTS_DELETE = (f"INSERT INTO {TICKET_FTS_TABLE}({TICKET_FTS_TABLE}, rowid, {_FTS_COLUMNS}) "
               f"VALUES ('delete', old.ticket_id, {_OLD});")
_FTS_INSERT = (f"INSERT INTO {TICKET_FTS_TABLE}(rowid, {_FTS_COLUMNS}) "
               f"VALUES (new.ticket_id, {_NEW});")

#: The statements that build the search structures on an existing (empty or not) document
#: table, per dialect.
SEARCH_STRUCTURE_DDL: dict[str, tuple[str, ...]] = {
    "postgresql": (
        f"ALTER TABLE {SEARCH_TABLE} ADD COLUMN {PG_PUBLIC_VECTOR} tsvector, "
        f"ADD COLUMN {PG_ALL_VECTOR} tsvector",
        f"CREATE INDEX {PG_PUBLIC_INDEX} ON {SEARCH_TABLE} USING gin ({PG_PUBLIC_VECTOR})",
        f"CREATE INDEX {PG_ALL_INDEX} ON {SEARCH_TABLE} USING gin ({PG_ALL_VECTOR})",
    ),
    "mysql": (
        f"CREATE FULLTEXT INDEX {MYSQL_TITLE_INDEX} ON {SEARCH_TABLE} "
        f"({', '.join(MYSQL_TITLE_COLUMNS)})",
        f"CREATE FULLTEXT INDEX {MYSQL_PUBLIC_INDEX} ON {SEARCH_TABLE} "
        f"({', '.join(MYSQL_PUBLIC_COLUMNS)})",
        f"CREATE FULLTEXT INDEX {MYSQL_ALL_INDEX} ON {SEARCH_TABLE} "
        f"({', '.join(MYSQL_ALL_COLUMNS)})",
    ),
    "sqlite": (
        f"CREATE VIRTUAL TABLE IF NOT EXISTS {TICKET_FTS_TABLE} USING fts5({_FTS_COLUMNS}, "
        f"content='{SEARCH_TABLE}', content_rowid='ticket_id', "
        "tokenize = 'porter unicode61 remove_diacritics 2')",
        f"CREATE TRIGGER IF NOT EXISTS {TICKET_FTS_TABLE}_ai AFTER INSERT ON {SEARCH_TABLE} "
        f"BEGIN {_FTS_INSERT} END",
        f"CREATE TRIGGER IF NOT EXISTS {TICKET_FTS_TABLE}_ad AFTER DELETE ON {SEARCH_TABLE} "
        f"BEGIN {_FTS_DELETE} END",
        f"CREATE TRIGGER IF NOT EXISTS {TICKET_FTS_TABLE}_au AFTER UPDATE ON {SEARCH_TABLE} "
        f"BEGIN {_FTS_DELETE} {_FTS_INSERT} END",
    ),
}
#: What undoes :data:`SEARCH_STRUCTURE_DDL` beyond dropping the document table (its triggers,
#: columns and indexes go with it).
SEARCH_DROP_DDL: dict[str, tuple[str, ...]] = {
    "sqlite": (f"DROP TABLE IF EXISTS {TICKET_FTS_TABLE}",),
}


class TicketSearchDocument(Base):
    """The searchable text of one ticket (see the module docstring)."""

    __tablename__ = SEARCH_TABLE

    ticket_id: Mapped[int] = mapped_column(
        BigId, ForeignKey("escalated_tickets.id", ondelete="CASCADE"), primary_key=True,
        autoincrement=False)
    title_text: Mapped[str] = mapped_column(LongText, default="")
    public_text: Mapped[str] = mapped_column(LongText, default="")
    note_text: Mapped[str] = mapped_column(LongText, default="")


def _install_search_ddl() -> None:
    target = TicketSearchDocument.__table__
    for dialect, statements in SEARCH_STRUCTURE_DDL.items():
        for statement in statements:
            event.listen(target, "after_create", DDL(statement).execute_if(dialect=dialect))
    for dialect, statements in SEARCH_DROP_DDL.items():
        for statement in statements:
            event.listen(target, "before_drop", DDL(statement).execute_if(dialect=dialect))


_install_search_ddl()
