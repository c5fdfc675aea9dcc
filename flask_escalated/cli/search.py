"""``flask escalated reindex-tickets``: rebuild every ticket's full-text search document."""

from __future__ import annotations

import click
from sqlalchemy import func, select

from ..models import Ticket
from ..services import ext, ticket_search
from .group import escalated_cli


@escalated_cli.command("reindex-tickets")
@click.option("--batch-size", default=ticket_search.BATCH_SIZE, show_default=True,
              type=click.IntRange(1, 10_000))
def reindex_tickets(batch_size: int) -> None:
    """Rebuild the search documents of all tickets, a batch per transaction (for data from
    before the search existed, rows written around the services, or after changing
    ESCALATED_SEARCH_LANGUAGE). Searches keep working meanwhile."""
    db = ext().session
    total = db.execute(select(func.count()).select_from(Ticket)).scalar_one()
    done = 0
    with click.progressbar(length=total, label="Indexing tickets", show_pos=True) as bar:
        for count in ticket_search.reindex(db.connection, db.commit, batch_size=batch_size):
            done += count
            bar.update(count)
    click.echo(f"Indexed {done} tickets.")
