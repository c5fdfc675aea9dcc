"""``flask escalated check-sla``: record due SLA warnings and breaches."""

from __future__ import annotations

import click

from ..services import ext, sla_sweep
from .group import escalated_cli


@escalated_cli.command("check-sla")
@click.option(
    "--batch-size", default=sla_sweep.BATCH, show_default=True, type=click.IntRange(1, 10_000)
)
def check_sla(batch_size: int) -> None:
    """Record SLA warnings and breaches that are due (each exactly once)."""
    result = sla_sweep.SweepResult()
    batches = 0
    while True:
        with ext().unit_of_work():
            handled = sla_sweep.sweep_batch(limit=batch_size, result=result)
        if not handled:
            break
        batches += 1
        click.echo(f"  batch {batches}: {handled} recorded", err=True)
    click.echo(
        f"SLA check: {result.breaches} breaches and {result.warnings} warnings recorded"
        f" in {batches} batches."
    )
