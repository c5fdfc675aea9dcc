"""Benchmark inbound e-mail: messages processed per second through the webhook.

For each back end: a fresh database, then N raw RFC 5322 messages POSTed in-process to
``/support/webhook/email/inbound?adapter=raw`` (Flask test client, one request per message,
each stored, parsed and applied in its own transactions): half open new tickets from new
senders, half are replies from those senders threaded by In-Reply-To, with a small attachment
on every tenth. Reports messages per second (messages over the time spent in the requests;
composing each test message is left out) and the median / p95 latency per message.

    .venv/bin/python -m bench.inbound --backends sqlite,postgres,mariadb --messages 1000
"""

from __future__ import annotations

import argparse
import json
import statistics
import tempfile
import time
from email.message import EmailMessage
from typing import Any

import sqlalchemy as sa

from flask_escalated.models import metadata

from .host import create_app, db
from .run import fresh_database, save_results

DOMAIN = "support.bench.test"
SECRET = "bench-inbound"


def _message(i: int, reply_to_ticket: int | None) -> bytes:
    msg = EmailMessage()
    sender = f"customer{i // 2}@example.org"
    msg["From"] = f"Customer {i // 2} <{sender}>"
    msg["To"] = f"support@{DOMAIN}"
    msg["Message-ID"] = f"<bench-{i}@example.org>"
    if reply_to_ticket is None:
        msg["Subject"] = f"Problem number {i}"
        msg.set_content(f"Hello,\n\nSomething is broken ({i}).\n\nThanks")
    else:
        msg["Subject"] = f"Re: Problem number {i - 1}"
        msg["In-Reply-To"] = f"<ticket-{reply_to_ticket}@{DOMAIN}>"
        msg.set_content("Any news?\n\nOn Monday, Support wrote:\n> We are looking into it.")
    if i % 10 == 0:
        msg.add_attachment(b"%PDF-1.4 bench" * 100, maintype="application", subtype="pdf",
                           filename=f"report-{i}.pdf")
    return msg.as_bytes()


def run(backend: str, n: int, tmpdir: str) -> dict[str, Any]:
    with fresh_database(backend, n, tmpdir, keep=False) as url:
        metadata.create_all(sa.create_engine(url))
        app = create_app({"SQLALCHEMY_DATABASE_URI": url, "ESCALATED_INBOUND_SECRET": SECRET,
                          "ESCALATED_MAIL_DOMAIN": DOMAIN,
                          "ESCALATED_RATE_LIMIT_ENABLED": False,
                          "ESCALATED_ATTACHMENT_STORAGE": f"{tmpdir}/att-{backend}"})
        with app.app_context():
            db.create_all()  # the host's users table (Escalated looks senders up in it)
        client = app.test_client()
        headers = {"X-Escalated-Inbound-Secret": SECRET}
        times: list[float] = []
        statements = [0]
        with app.app_context():
            engine = db.engine

        def count(*_args: Any) -> None:
            statements[0] += 1

        sa.event.listen(engine, "before_cursor_execute", count)
        per_kind: dict[str, list[int]] = {"new": [], "reply": []}
        last_ticket = None
        for i in range(n):
            # Built outside the timing: composing the test message is the sender's work.
            body = _message(i, last_ticket if i % 2 else None)
            statements[0] = 0
            t0 = time.perf_counter()
            r = client.post("/support/webhook/email/inbound?adapter=raw", data=body,
                            content_type="message/rfc822", headers=headers)
            times.append((time.perf_counter() - t0) * 1000)
            per_kind["reply" if i % 2 else "new"].append(statements[0])
            assert r.status_code in (200, 201), r.get_data(True)
            if i % 2 == 0:
                last_ticket = r.get_json()["ticket_id"]
            else:
                assert r.get_json()["outcome"] == "reply_added", r.get_json()
        seconds = sum(times) / 1000
        sa.event.remove(engine, "before_cursor_execute", count)
        with app.app_context():
            db.engine.dispose()
    times.sort()
    return {"backend": backend, "messages": n, "seconds": round(seconds, 2),
            "per_second": round(n / seconds, 1), "median_ms": round(statistics.median(times), 2),
            "p95_ms": round(times[int(len(times) * 0.95) - 1], 2),
            # statements per message (SAVEPOINT and RELEASE included), the median of each kind
            "statements_new": statistics.median(per_kind["new"]),
            "statements_reply": statistics.median(per_kind["reply"])}


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--backends", default="sqlite,postgres")
    parser.add_argument("--messages", type=int, default=1000)
    args = parser.parse_args(argv)
    results = []
    with tempfile.TemporaryDirectory() as tmpdir:
        for backend in args.backends.split(","):
            results.append(run(backend, args.messages, tmpdir))
            print(json.dumps(results[-1]), flush=True)
    save_results("inbound", results)
    print("| back end | messages | seconds | messages/s | median ms | p95 ms "
          "| statements (new / reply) |")
    print("| --- | ---: | ---: | ---: | ---: | ---: | ---: |")
    for r in results:
        print(f"| {r['backend']} | {r['messages']:,} | {r['seconds']} | {r['per_second']} "
              f"| {r['median_ms']} | {r['p95_ms']} "
              f"| {r['statements_new']:g} / {r['statements_reply']:g} |")


if __name__ == "__main__":
    main()
