"""``flask escalated deliver-webhooks``: sweep the webhook outbox."""

from __future__ import annotations

import click

from ..jobs.tasks import deliver_webhooks as sweep
from .group import escalated_cli


@escalated_cli.command("deliver-webhooks")
@click.option("--batch-size", default=200, show_default=True, type=click.IntRange(1, 5000))
def deliver_webhooks(batch_size: int) -> None:
    """Send every webhook delivery that is due (new or waiting for a retry)."""
    result = sweep(batch_size=batch_size)
    if "skipped" in result:
        click.echo(f"Skipped: {result['skipped']}.")
    else:
        click.echo(f"Attempted {result['processed']} webhook deliveries.")
