"""Benchmark webhook delivery: deliveries per second per RQ worker to a local receiver.

For each back end: a fresh database, one webhook subscribed to every event, and N tickets opened
through the service (each a ``ticket.created`` event, so N delivery rows written in the ticket's
own transaction and handed to the ``escalated-webhooks`` queue). Then one worker drains the queue
in burst mode while the clock runs: it claims the rows a batch at a time, signs each body, POSTs
it to a receiver in another process on 127.0.0.1 over a kept-alive connection and records the
batch's attempts. Both worker kinds are timed:
the in-process ``--simple`` worker and RQ's default forking worker (a fork per job); and the
outbox sweep (``flask escalated deliver-webhooks``) alone, after Redis lost every job; and
``per-job``: one ``deliver_webhook`` job per delivery on the in-process worker (the shape the
redeliver button and jobs queued by older versions have).

    .venv/bin/python -m bench.webhooks --backends sqlite,postgres --deliveries 2000
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from typing import Any

import sqlalchemy as sa
from redis import Redis

from flask_escalated.events import Actor
from flask_escalated.jobs import tasks
from flask_escalated.jobs.queues import WEBHOOK_QUEUE, queue
from flask_escalated.jobs.worker import worker_class
from flask_escalated.models import WebhookDelivery, metadata
from flask_escalated.services import tickets, webhooks

from .host import create_app, db
from .run import RESULTS_DIR, fresh_database

# A Redis database no other worker listens on (a worker elsewhere would take the jobs).
REDIS_URL = os.environ.get("ESCALATED_BENCH_REDIS_URL", "redis://127.0.0.1:6379/13")
MODES = ("simple", "forking", "sweep", "per-job")
RECEIVER = """
import http.server, sys
class H(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    def do_POST(self):
        self.rfile.read(int(self.headers.get("Content-Length", 0)))
        self.send_response(204); self.send_header("Content-Length", "0"); self.end_headers()
    def log_message(self, *a): pass
server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), H)
print(server.server_address[1], flush=True)
server.serve_forever()
"""


def _receiver() -> tuple[subprocess.Popen[str], int]:
    proc = subprocess.Popen([sys.executable, "-c", RECEIVER], stdout=subprocess.PIPE, text=True)
    assert proc.stdout is not None
    return proc, int(proc.stdout.readline())


def _fill(app: Any, port: int, n: int) -> None:
    ext = app.extensions["escalated"]
    with app.app_context():
        with ext.unit_of_work():
            webhooks.create_webhook(Actor.system(), {
                "url": f"http://127.0.0.1:{port}/hook", "events": ["*"]})
        for i in range(n):
            with ext.unit_of_work():
                tickets.create_ticket(tickets.NewTicket(
                    subject=f"Bench {i}", description="x", requester_email=f"c{i}@bench.test",
                ), Actor.system())


def _drain(app: Any, mode: str) -> tuple[int, float]:
    connection = Redis.from_url(REDIS_URL)
    if mode == "sweep":  # the outbox sweep alone, as after Redis lost every job
        connection.flushdb()
        with app.app_context():
            start = time.perf_counter()
            done = tasks.deliver_webhooks()["processed"]
            return done, time.perf_counter() - start
    with app.app_context():
        q = queue(WEBHOOK_QUEUE)
        if mode == "per-job":  # one job per delivery (as the redeliver button queues them)
            connection.flushdb()
            ids = db.session.execute(sa.select(WebhookDelivery.id)).scalars().all()
            db.session.rollback()
            for ident in ids:
                q.enqueue(tasks.deliver_webhook, ident)
        jobs = q.count
        worker = worker_class(app, simple=mode != "forking")([q], connection=connection)
        start = time.perf_counter()
        worker.work(burst=True, logging_level="WARNING")
        return jobs, time.perf_counter() - start


def run(backend: str, n: int, tmpdir: str) -> list[dict[str, Any]]:
    rows = []
    receiver, port = _receiver()
    try:
        for mode in MODES:
            Redis.from_url(REDIS_URL).flushdb()
            with fresh_database(backend, n, tmpdir, keep=False) as url:
                metadata.create_all(sa.create_engine(url))
                app = create_app({"SQLALCHEMY_DATABASE_URI": url,
                                  "ESCALATED_REDIS_URL": REDIS_URL,
                                  "ESCALATED_WEBHOOK_ALLOWED_HOSTS": ["127.0.0.1"]})
                _fill(app, port, n)
                jobs, seconds = _drain(app, mode)
                with app.app_context():
                    delivered = db.session.execute(
                        sa.select(sa.func.count()).select_from(WebhookDelivery)
                        .where(WebhookDelivery.status == "delivered")).scalar_one()
                    db.engine.dispose()
                rows.append({"backend": backend, "worker": mode,
                             "jobs": jobs, "delivered": delivered, "seconds": round(seconds, 2),
                             "per_second": round(delivered / seconds, 1)})
                print(json.dumps(rows[-1]), flush=True)
    finally:
        receiver.terminate()
        Redis.from_url(REDIS_URL).flushdb()
    return rows


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--backends", default="sqlite,postgres")
    parser.add_argument("--deliveries", type=int, default=2000)
    args = parser.parse_args(argv)
    results = []
    with tempfile.TemporaryDirectory() as tmpdir:
        for backend in args.backends.split(","):
            results += run(backend, args.deliveries, tmpdir)
    RESULTS_DIR.mkdir(exist_ok=True)
    out = RESULTS_DIR / f"webhooks-{int(time.time())}.json"
    out.write_text(json.dumps(results, indent=2))
    print("| back end | worker | jobs | deliveries | seconds | deliveries/s |")
    print("| --- | --- | ---: | ---: | ---: | ---: |")
    for r in results:
        print(f"| {r['backend']} | {r['worker']} | {r['jobs']:,} | {r['delivered']:,} "
              f"| {r['seconds']} | {r['per_second']} |")


if __name__ == "__main__":
    main()
