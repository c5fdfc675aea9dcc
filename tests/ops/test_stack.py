"""The production stack (``python -m examples.stack``) as an operator runs it: two gunicorn
web processes, two RQ workers and the cron process on PostgreSQL and Redis. A ticket opened
through one web process is read through the other, its webhook is delivered once by a worker
under the request's id, and Ctrl+C stops every process."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
import requests
import sqlalchemy as sa

from tests.conftest import SERVER_URLS

ROOT = Path(__file__).resolve().parents[2]
REDIS_URL = "redis://127.0.0.1:6379/8"

pytestmark = pytest.mark.xdist_group("stack")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Receiver(BaseHTTPRequestHandler):
    seen: list[dict] = []

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers["Content-Length"]))
        Receiver.seen.append(
            {
                "delivery": self.headers["X-Escalated-Delivery"],
                "event": self.headers["X-Escalated-Event"],
                "body": json.loads(body),
            }
        )
        self.send_response(204)
        self.end_headers()

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def database():
    name = f"escalated_stack_{os.getpid()}_{uuid.uuid4().hex[:6]}"
    url = sa.make_url(SERVER_URLS["postgres"]).set(database=name)
    yield url.render_as_string(hide_password=False)
    admin = sa.create_engine(sa.make_url(SERVER_URLS["postgres"]), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


@pytest.fixture
def receiver():
    Receiver.seen = []
    server = ThreadingHTTPServer(("127.0.0.1", 0), Receiver)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}/hook"
    server.shutdown()


def _token(env: dict[str, str], email: str) -> str:
    out = subprocess.run(
        [
            sys.executable,
            "-m",
            "examples.demo",
            "escalated",
            "create-api-token",
            "--user",
            email,
            "--name",
            "stack test",
        ],
        env=env,
        cwd=ROOT,
        check=True,
        capture_output=True,
        text=True,
        timeout=120,
    )
    return out.stdout.strip().splitlines()[-1]


def _wait_for(predicate, timeout: float, what: str):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.2)
    raise AssertionError(f"timed out waiting for {what}")


def test_the_stack_serves_delivers_and_stops_cleanly(database, receiver, tmp_path):
    ports = [free_port(), free_port()]
    env = {**os.environ, "PYTHONPATH": str(ROOT), "PYTHONUNBUFFERED": "1"}
    stack = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "examples.stack",
            "--fresh",
            "--database-url",
            database,
            "--redis-url",
            REDIS_URL,
            "--ports",
            ",".join(map(str, ports)),
            "--dir",
            str(tmp_path),
            "--for",
            "240",
            "--grace",
            "10",
        ],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    output: list[str] = []
    try:
        assert stack.stdout is not None
        for line in stack.stdout:
            output.append(line)
            if line.startswith("Ctrl+C stops everything") or line.startswith("The stack did"):
                break
        assert output and output[-1].startswith("Ctrl+C"), "".join(output)
        pids = [int(line.split("pid")[1].split()[0]) for line in output if " pid " in line]
        assert len(pids) == 5  # two web processes, two workers, cron

        demo_env = {
            **env,
            "DATABASE_URL": database,
            "REDIS_URL": REDIS_URL,
            "DEMO_INSTANCE_PATH": str(tmp_path / "instance"),
        }
        admin = {"Authorization": f"Bearer {_token(demo_env, 'admin@demo.test')}"}
        customer = {"Authorization": f"Bearer {_token(demo_env, 'customer@demo.test')}"}
        first, second = (f"http://127.0.0.1:{port}/support" for port in ports)

        for base in (first, second):
            ready = requests.get(f"{base}/readyz", timeout=10)
            assert ready.status_code == 200, ready.text
        hook = requests.post(
            f"{first}/api/v1/webhooks",
            headers=admin,
            timeout=30,
            json={"url": receiver, "events": ["ticket.created"]},
        )
        assert hook.status_code == 201, hook.text

        created = requests.post(
            f"{first}/api/v1/tickets",
            headers={**customer, "X-Request-Id": "stack-test-1"},
            json={"subject": "Through the stack", "description": "Two web processes."},
            timeout=30,
        )
        assert created.status_code == 201, created.text
        assert created.headers["X-Request-Id"] == "stack-test-1"
        ident = created.json()["data"]["reference"]
        read = requests.get(f"{second}/api/v1/tickets/{ident}", headers=customer, timeout=30)
        assert read.status_code == 200 and read.json()["data"]["subject"] == "Through the stack"

        seen = _wait_for(
            lambda: [s for s in Receiver.seen if ident in json.dumps(s["body"])],
            60,
            f"the webhook delivery (seen: {Receiver.seen}, logs in {tmp_path})",
        )
        time.sleep(2)  # a second delivery, if there were one, would come now
        seen = [s for s in Receiver.seen if s["delivery"] == seen[0]["delivery"]]
        assert len(seen) == 1 and seen[0]["event"] == "ticket.created"
        worker_logs = "".join((tmp_path / "logs" / f"worker-{i}.log").read_text() for i in (1, 2))
        assert any(
            json.loads(line).get("request_id") == "stack-test-1"
            for line in worker_logs.splitlines()
            if line.startswith("{")
        )

        stack.send_signal(signal.SIGINT)
        rest = stack.communicate(timeout=60)[0]
        assert stack.returncode == 0, rest
        assert "Stopped." in rest
        for pid in pids:
            with pytest.raises(ProcessLookupError):
                os.kill(pid, 0)
    finally:
        if stack.poll() is None:
            stack.send_signal(signal.SIGINT)
            try:
                stack.wait(60)
            except subprocess.TimeoutExpired:
                stack.kill()
