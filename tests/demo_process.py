"""The demo app served for real (``python -m examples.demo``) in a subprocess, for the tests
that need a server: the browser tests and the real-time tests across processes."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
START_TIMEOUT = 90.0


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def demo_env(folder: Path, **extra: str) -> dict[str, str]:
    """This process's environment for a demo on a fresh SQLite file in ``folder``.

    ``REDIS_URL`` is dropped: with it the demo would queue mail and webhooks on Redis, where
    another run's worker could take them.
    """
    env = {key: value for key, value in os.environ.items()
           if key not in ("REDIS_URL", "DATABASE_URL", "FLASK_APP")}
    env.update(
        DATABASE_URL=f"sqlite:///{folder / 'demo.sqlite'}",
        DEMO_INSTANCE_PATH=str(folder / "instance"),
        PYTHONPATH=os.pathsep.join(p for p in (str(ROOT), env.get("PYTHONPATH")) if p),
        PYTHONDONTWRITEBYTECODE="1",
        PYTHONUNBUFFERED="1",
        **extra,
    )
    return env


@dataclass
class DemoServer:
    url: str
    process: subprocess.Popen[bytes]
    log_path: Path

    def log_tail(self, lines: int = 40) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return ""

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=10)


def answers(url: str) -> bool:
    """Whether ``url`` answers 200 now (a server that is up)."""
    try:
        with urllib.request.urlopen(url, timeout=2) as response:
            return bool(response.status == 200)
    except (urllib.error.URLError, OSError):
        return False


def start_demo(env: Mapping[str, str], log_path: Path, port: int | None = None) -> DemoServer:
    """Start the demo and wait until it answers; raises ``RuntimeError`` with the log tail if
    it exits or does not answer within ``START_TIMEOUT`` seconds."""
    port = port or free_port()
    with open(log_path, "wb") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "examples.demo", "--host", "127.0.0.1", "--port", str(port)],
            cwd=ROOT, env=dict(env), stdout=log, stderr=subprocess.STDOUT)
    server = DemoServer(f"http://127.0.0.1:{port}", process, log_path)
    deadline = time.monotonic() + START_TIMEOUT
    while not answers(server.url + "/login"):
        if process.poll() is not None:
            raise RuntimeError(f"the demo server exited with {process.returncode}:\n"
                               f"{server.log_tail()}")
        if time.monotonic() > deadline:
            server.stop()
            raise RuntimeError(f"the demo server did not answer within {START_TIMEOUT:.0f}s:\n"
                               f"{server.log_tail()}")
        time.sleep(0.2)
    return server


def api_token(env: Mapping[str, str], user: str = "agent@demo.test") -> str:
    """A fresh API token for ``user`` of the demo whose environment is ``env``."""
    out = subprocess.run(
        [sys.executable, "-m", "flask", "--app", "examples.demo.app:create_app", "escalated",
         "create-api-token", "--user", user, "--name", "tests"],
        cwd=ROOT, env=dict(env), capture_output=True, text=True, timeout=120, check=True)
    return out.stdout.strip().splitlines()[-1]
