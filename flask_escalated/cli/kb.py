"""``flask escalated flush-kb-views`` and ``reindex-kb``."""

from __future__ import annotations

import click

from ..services import ext, kb_search, kb_views
from .group import escalated_cli
from .lifecycle import run_batches


@escalated_cli.command("flush-kb-views")
@click.option("--batch-size", default=1000, show_default=True, type=click.IntRange(1, 50_000))
def flush_kb_views(batch_size: int) -> None:
    """Add buffered knowledge-base page views to each article's view count."""
    with ext().unit_of_work():
        spilled = kb_views.spill(in_session=True)
    total = run_batches(lambda: kb_views.fold_batch(limit=batch_size), "pending rows")
    click.echo(f"Folded {total} pending view rows ({spilled} views from this process).")


@escalated_cli.command("reindex-kb")
def reindex_kb() -> None:
    """Rebuild the knowledge-base search index from the published articles (after a bulk
    load, or to repair it)."""
    with ext().unit_of_work():
        count = kb_search.rebuild_index()
    click.echo(f"Indexed {count} articles.")
