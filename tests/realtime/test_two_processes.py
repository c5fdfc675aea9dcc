"""Two real demo servers sharing Redis as the Socket.IO message queue: a change made through
process A reaches a client connected to process B."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests
import socketio

ROOT = Path(__file__).resolve().parents[2]
REDIS = os.environ.get("ESCALATED_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")
START_TIMEOUT = 90.0


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_until_serving(proc: subprocess.Popen, url: str, log: Path) -> None:
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise AssertionError(f"the demo server exited:\n{log.read_text()[-3000:]}")
        try:
            if requests.get(url, timeout=2).status_code == 200:
                return
        except requests.RequestException:
            pass
        time.sleep(0.2)
    raise AssertionError(f"the demo server did not start in time:\n{log.read_text()[-3000:]}")


@pytest.fixture
def demo_env(tmp_path: Path) -> dict[str, str]:
    try:
        socket.create_connection(("127.0.0.1", 6379), timeout=3).close()
    except OSError as exc:
        pytest.fail(f"this test needs Redis on 127.0.0.1:6379 ({exc})")
    env = {k: v for k, v in os.environ.items() if k not in ("REDIS_URL", "DATABASE_URL")}
    env.update(
        DEMO_INSTANCE_PATH=str(tmp_path),
        DATABASE_URL=f"sqlite:///{tmp_path / 'demo.sqlite'}",
        ESCALATED_ENABLE_REALTIME="1",
        SOCKETIO_MESSAGE_QUEUE=REDIS,
        PYTHONPATH=str(ROOT) + os.pathsep + env.get("PYTHONPATH", ""),
        PYTHONDONTWRITEBYTECODE="1",
    )
    return env


@pytest.fixture
def start_demo(demo_env: dict[str, str], tmp_path: Path) -> Iterator:
    procs: list[subprocess.Popen] = []

    def start(name: str) -> str:
        port = free_port()
        log = tmp_path / f"{name}.log"
        with open(log, "wb") as out:
            proc = subprocess.Popen(
                [sys.executable, "-m", "examples.demo", "--host", "127.0.0.1",
                 "--port", str(port)],
                cwd=ROOT, env=demo_env, stdout=out, stderr=subprocess.STDOUT)
        procs.append(proc)
        base = f"http://127.0.0.1:{port}"
        wait_until_serving(proc, base + "/", log)
        return base

    yield start
    for proc in procs:
        proc.terminate()
    for proc in procs:
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=10)


def api_token(env: dict[str, str]) -> str:
    out = subprocess.run(
        [sys.executable, "-m", "flask", "--app", "examples.demo.app:create_app", "escalated",
         "create-api-token", "--user", "agent@demo.test", "--name", "two processes"],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=120, check=True)
    return out.stdout.strip().splitlines()[-1]


@pytest.mark.slow
@pytest.mark.parametrize("transport", ["websocket", "polling"])
def test_a_change_in_process_a_reaches_a_client_of_process_b(start_demo, demo_env, transport):
    a = start_demo("a")  # seeds the demo database first
    b = start_demo("b")
    token = api_token(demo_env)
    auth = {"Authorization": f"Bearer {token}"}
    listing = requests.get(a + "/support/api/v1/tickets?limit=1", headers=auth, timeout=10)
    assert listing.status_code == 200, listing.text
    ticket_id = listing.json()["data"][0]["id"]

    received: list[tuple[str, dict]] = []
    client = socketio.Client(reconnection=False)
    client.on("*", lambda event, data: received.append((event, data)), namespace="/escalated")
    client.connect(b, headers=auth, namespaces=["/escalated"], transports=[transport],
                   socketio_path="support/socket.io", wait_timeout=10)
    try:
        ack = client.call("join", {"channel": f"escalated.tickets.{ticket_id}"},
                          namespace="/escalated", timeout=10)
        assert ack == {"ok": True, "channel": f"escalated.tickets.{ticket_id}"}
        reply = requests.post(f"{a}/support/api/v1/tickets/{ticket_id}/replies",
                              json={"body": "Sent through process A"}, headers=auth, timeout=10)
        assert reply.status_code == 201, reply.text
        reply_id = reply.json()["data"]["id"]
        expected = ("ticket:reply", {"ticket_id": ticket_id, "reply_id": reply_id,
                                     "internal": False})
        deadline = time.monotonic() + 10
        while expected not in received and time.monotonic() < deadline:
            time.sleep(0.05)
        assert expected in received, received
    finally:
        client.disconnect()


def test_anonymous_socket_clients_are_refused_by_a_real_server(start_demo):
    base = start_demo("solo")
    client = socketio.Client(reconnection=False)
    with pytest.raises(socketio.exceptions.ConnectionError):
        client.connect(base, namespaces=["/escalated"], transports=["websocket"],
                       socketio_path="support/socket.io", wait_timeout=10)
    client.disconnect()
