"""``flask escalated wake-snoozed | close-resolved | purge-activities``."""

from __future__ import annotations

from collections.abc import Callable

import click
from flask import current_app

from ..config import Config
from ..services import ext, lifecycle, snooze
from .group import escalated_cli


def run_batches(step: Callable[[], int], label: str) -> int:
    """Call ``step`` in its own unit of work until it reports nothing left; show progress."""
    total = 0
    while True:
        with ext().unit_of_work():
            done = step()
        if not done:
            break
        total += done
        click.echo(f"  {label}: {total}", err=True)
    return total


@escalated_cli.command("wake-snoozed")
@click.option("--batch-size", default=500, show_default=True, type=click.IntRange(1, 10_000))
def wake_snoozed(batch_size: int) -> None:
    """Wake tickets whose snooze has run out (raises ticket_woken)."""
    total = run_batches(lambda: snooze.wake_batch(limit=batch_size), "woken")
    click.echo(f"Woke {total} tickets.")


@escalated_cli.command("close-resolved")
@click.option("--days", type=click.IntRange(min=0), default=None,
              help="Resolved longer than this (default ESCALATED_AUTO_CLOSE_RESOLVED_AFTER_DAYS).")
@click.option("--batch-size", default=500, show_default=True, type=click.IntRange(1, 10_000))
def close_resolved(days: int | None, batch_size: int) -> None:
    """Close tickets that have stayed resolved for DAYS days."""
    if days is None:
        days = int(current_app.config[Config.AUTO_CLOSE_RESOLVED_AFTER_DAYS])
    total = run_batches(
        lambda: lifecycle.close_resolved_batch(days=days, limit=batch_size), "closed")
    click.echo(f"Closed {total} tickets resolved more than {days} days ago.")


@escalated_cli.command("purge-activities")
@click.option("--days", type=click.IntRange(min=1), default=365, show_default=True)
@click.option("--batch-size", default=5000, show_default=True, type=click.IntRange(1, 50_000))
def purge_activities(days: int, batch_size: int) -> None:
    """Delete activity rows older than DAYS days."""
    total = run_batches(
        lambda: lifecycle.purge_activities_batch(days=days, limit=batch_size), "deleted")
    click.echo(f"Deleted {total} activity rows older than {days} days.")
