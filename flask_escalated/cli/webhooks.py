"""``flask escalated deliver-webhooks`` and ``deliver-mail``: sweep the outboxes."""

from __future__ import annotations

import click

from ..jobs.tasks import deliver_mails as mail_sweep
from ..jobs.tasks import deliver_webhooks as sweep
from .group import escalated_cli


@escalated_cli.command("deliver-webhooks")
@click.option("--batch-size", default=200, show_default=True, type=click.IntRange(1, 5000))
def deliver_webhooks(batch_size: int) -> None:
    """Send every webhook delivery that is due (new or waiting for a retry)."""
    _report(sweep(batch_size=batch_size), "webhook deliveries")


@escalated_cli.command("deliver-mail")
@click.option("--batch-size", default=200, show_default=True, type=click.IntRange(1, 5000))
def deliver_mail(batch_size: int) -> None:
    """Send every outbound e-mail that is due (new or waiting for a retry)."""
    _report(mail_sweep(batch_size=batch_size), "e-mails")


def _report(result: dict[str, object], what: str) -> None:
    if "skipped" in result:
        click.echo(f"Skipped: {result['skipped']}.")
    else:
        click.echo(f"Attempted {result['processed']} {what}.")
