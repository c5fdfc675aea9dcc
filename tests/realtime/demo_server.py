"""Start real demo servers (``python -m examples.demo``) for the tests that need them."""

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

    def start(name: str, **env: str) -> str:
        port = free_port()
        log = tmp_path / f"{name}.log"
        with open(log, "wb") as out:
            proc = subprocess.Popen(
                [sys.executable, "-m", "examples.demo", "--host", "127.0.0.1",
                 "--port", str(port)],
                cwd=ROOT, env={**demo_env, **env}, stdout=out, stderr=subprocess.STDOUT)
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
