"""``flask escalated openapi``: print (or write) the API's OpenAPI document.

The copy checked in at ``docs/openapi.json`` is this command's output for the demo, so a change
to the contract shows up as a diff in review; ``tests/web_api/test_openapi_snapshot.py`` fails
when the copy is stale and names the command that refreshes it.
"""

from __future__ import annotations

from pathlib import Path

import click

from .group import escalated_cli


@escalated_cli.command("openapi")
@click.option("--output", "-o", type=click.Path(dir_okay=False, writable=True, path_type=Path),
              help="Write the document to this file instead of printing it.")
def openapi(output: Path | None) -> None:
    """Print this app's OpenAPI 3.1 document (sorted keys, indented, stable between runs)."""
    from ..web.api.openapi import render_document  # the generator loads with the command only

    text = render_document()
    if output is None:
        click.echo(text, nl=False)
    else:
        output.write_text(text, encoding="utf-8")
        click.echo(f"Wrote {output}.", err=True)
