"""``flask escalated worker`` and ``flask escalated cron``."""

from __future__ import annotations

import time

import click
from flask import current_app

from .. import logs
from ..config import Config
from ..jobs import QUEUES, redis_connection
from ..jobs.schedule import InlineScheduler, active_schedule
from .group import escalated_cli

LOG_FORMAT = click.option(
    "--log-format", type=click.Choice(["text", "json"]), default=None,
    help="Log to stderr in this format, each line with its request id (default: leave "
         "logging as the host app set it up).")


def _configure_logging(log_format: str | None) -> None:
    if log_format:
        logs.configure_logging(log_format)


@escalated_cli.command("worker")
@click.option("--queue", "queues", multiple=True, type=click.Choice(QUEUES),
              help="Queues to listen on (default: all of Escalated's).")
@click.option("--burst", is_flag=True, help="Stop when the queues are empty.")
@click.option("--simple/--fork", default=None,
              help="Run jobs in this process, or fork a child per job. Default: in this "
                   "process for a worker on the escalated-webhooks queue alone, else fork.")
@LOG_FORMAT
def worker(queues: tuple[str, ...], burst: bool, simple: bool | None,
           log_format: str | None) -> None:
    """Run an RQ worker on the Escalated queues, each job inside this app's context.

    A worker on the webhook queue alone runs its jobs in its own process: a fork costs more
    than a batch of deliveries, and keeping the process keeps the keep-alive connections to
    the receivers (see ``services.webhook_sender``).
    """
    _configure_logging(log_format)
    # rq is loaded by the commands that run it only
    from ..jobs.worker import runs_in_process, worker_class

    if simple is None:
        simple = runs_in_process(queues)
    conn = redis_connection()
    if conn is None:
        raise click.ClickException(
            f"Set {Config.REDIS_URL} to use a worker; without it jobs run in-process "
            "(see `flask escalated cron`)."
        )
    cls = worker_class(current_app._get_current_object(), simple=simple)  # type: ignore[attr-defined]
    w = cls(list(queues or QUEUES), connection=conn)
    w.work(burst=burst, with_scheduler=False)


@escalated_cli.command("cron")
@click.option("--once", is_flag=True, help="Run every job once now and exit (inline mode).")
@LOG_FORMAT
def cron(once: bool, log_format: str | None) -> None:
    """Run the periodic schedule: RQ's cron scheduler with Redis, in-process without."""
    _configure_logging(log_format)
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    schedule = active_schedule()
    conn = redis_connection()
    if conn is None or once:
        if conn is None:
            click.echo("No ESCALATED_REDIS_URL: running the schedule in this process.")
        scheduler = InlineScheduler(app, schedule)
        if once:
            ran = scheduler.run_due()
            click.echo(f"Ran {len(ran)} jobs: {', '.join(ran)}.")
            return
        scheduler.start()
        try:
            while True:
                time.sleep(3600)
        except KeyboardInterrupt:
            scheduler.stop()
        return
    from rq.cron import CronScheduler

    scheduler_ = CronScheduler(connection=conn, name=f"escalated-{app.name}")
    for periodic in schedule:
        scheduler_.register(periodic.function(), queue_name=periodic.queue,
                            interval=periodic.interval, name=periodic.name)
    click.echo(f"Scheduling {len(schedule)} jobs on RQ: "
               + ", ".join(f"{p.name} every {p.interval}s" for p in schedule))
    scheduler_.start()
