"""``flask escalated evaluate-escalations`` and ``run-automations``."""

from __future__ import annotations

import click

from ..services import automations, escalation
from .group import escalated_cli
from .lifecycle import run_batches


@escalated_cli.command("evaluate-escalations")
@click.option("--batch-size", default=500, show_default=True, type=click.IntRange(1, 10_000))
def evaluate_escalations(batch_size: int) -> None:
    """Apply escalation rules to the tickets that newly match them."""
    total = run_batches(lambda: escalation.evaluate(limit=batch_size), "acted on")
    click.echo(f"Escalation rules acted on {total} tickets.")


@escalated_cli.command("run-automations")
@click.option("--batch-size", default=500, show_default=True, type=click.IntRange(1, 10_000))
def run_automations(batch_size: int) -> None:
    """Apply time-based automations to the tickets that newly match them."""
    total = run_batches(lambda: automations.run(limit=batch_size), "acted on")
    click.echo(f"Automations acted on {total} tickets.")
