"""Resident memory of a web process serving the demo: ``python -m bench.memory``.

Prepares a fresh instance folder (``python -m examples.demo escalated status`` creates the
tables and seeds the demo, as a deploy's migrate step would), starts the demo there
(``python -m examples.demo``: SQLite, no Redis, the two-command quick start), signs in as an
agent and as a customer, and walks the pages and API calls people use (queue, ticket, portal,
knowledge base, widget, readiness) ``--rounds`` times, opening a ticket on each round. It reads
the server process's resident memory from /proc after start, after the sign-ins and at the
end. The goal is under 100 MB once it serves. The sign-ins are the demo host's own: werkzeug's
scrypt password check takes 32 MiB while it runs, by design, so the peak after them is shown
apart.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parent.parent


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def sign_in(base: str, email: str) -> requests.Session:
    session = requests.Session()
    page = session.get(f"{base}/login", timeout=30)
    token = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
    assert token, "no sign-in form"
    done = session.post(f"{base}/login", data={"csrf_token": token.group(1), "email": email,
                                               "password": "demo"},
                        allow_redirects=False, timeout=30)
    assert done.status_code == 302, done.status_code
    return session


def memory(pid: int) -> dict[str, float]:
    values = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        key, _, value = line.partition(":")
        if key in ("VmHWM", "VmRSS"):
            values[key] = round(int(value.split()[0]) / 1024, 1)
    return {"peak_mib": values["VmHWM"], "now_mib": values["VmRSS"]}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.memory", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rounds", type=int, default=200)
    args = parser.parse_args(argv)
    folder = Path(tempfile.mkdtemp(prefix="escalated-memory-"))
    port = free_port()
    env = {k: v for k, v in os.environ.items() if k not in ("REDIS_URL", "DATABASE_URL")}
    env.update(DEMO_INSTANCE_PATH=str(folder), PYTHONPATH=str(ROOT), PYTHONUNBUFFERED="1")
    # The database is prepared first (tables, migrations, the demo's seed), as a deploy's
    # migrate step does; the measured process is the web process that serves it afterwards.
    subprocess.run([sys.executable, "-m", "examples.demo", "escalated", "status"], cwd=ROOT,
                   env=env, stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT, check=False)
    server = subprocess.Popen([sys.executable, "-m", "examples.demo", "--port", str(port)],
                              cwd=ROOT, env=env, stdout=subprocess.DEVNULL,
                              stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 120
        while True:
            try:
                if requests.get(f"{base}/support/healthz", timeout=2).status_code == 200:
                    break
            except requests.RequestException:
                pass
            if time.monotonic() > deadline or server.poll() is not None:
                raise SystemExit("the demo did not start")
            time.sleep(0.3)
        started = memory(server.pid)
        agent = sign_in(base, "agent@demo.test")
        customer = sign_in(base, "customer@demo.test")
        signed_in = memory(server.pid)
        pages = 0
        for i in range(args.rounds):
            form = customer.get(f"{base}/support/tickets/new", timeout=30)
            token = re.search(r'name="csrf_token" value="([^"]+)"', form.text)
            assert token
            made = customer.post(f"{base}/support/tickets/new", allow_redirects=False,
                                 timeout=30, data={"csrf_token": token.group(1),
                                                   "subject": f"Round {i}: printer",
                                                   "description": "It jams again.",
                                                   "priority": "medium"})
            ticket = made.headers["Location"]
            for session, path in ((customer, ticket), (customer, "/support/tickets"),
                                  (agent, "/support/agent"), (agent, "/support/agent/tickets"),
                                  (agent, "/support/api/v1/tickets?limit=25"),
                                  (customer, "/support/kb"),
                                  (customer, "/support/widget/kb/search?q=password"),
                                  (agent, "/support/readyz")):
                url = path if path.startswith("http") else base + path
                session.get(url, timeout=30)
                pages += 1
        result = {"rounds": args.rounds, "requests": pages + 2 * args.rounds,
                  "after_start": started, "after_sign_ins": signed_in,
                  "after_requests": memory(server.pid),
                  "load_average": os.getloadavg()}
        print(json.dumps(result, indent=2))
        return 0 if result["after_requests"]["now_mib"] < 100 else 1
    finally:
        server.terminate()
        server.wait(30)
        shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
