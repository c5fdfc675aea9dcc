"""``flask escalated status``: the readiness check, for an operator at a terminal."""

from __future__ import annotations

import json

import click

from ..services.readiness import readiness
from .group import escalated_cli


@escalated_cli.command("status")
@click.option("--json", "as_json", is_flag=True, help="Print what GET /readyz answers.")
def status(as_json: bool) -> None:
    """Database, schema, Redis and queues, and the oldest waiting outbox rows (the same checks
    as GET /readyz). Exits 1 when this install cannot serve."""
    found = readiness()
    if as_json:
        click.echo(json.dumps(found.as_dict(), indent=2))
    else:
        for name, check in found.checks.items():
            mark = "ok  " if check.ok else "FAIL"
            facts = ", ".join(f"{k}: {_text(v)}" for k, v in check.detail.items())
            reason = f" ({check.error})" if check.error else ""
            click.echo(f"{mark} {name:<9} {check.ms:7.1f} ms  {facts}{reason}".rstrip())
        click.echo(f"Status: {found.status}.")
    if not found.ready:
        raise SystemExit(1)


def _text(value: object) -> str:
    if isinstance(value, dict):
        return ", ".join(f"{k} {'-' if v is None else v}" for k, v in value.items())
    return "-" if value is None else str(value)
