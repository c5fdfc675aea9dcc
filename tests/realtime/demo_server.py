"""Real demo servers sharing Redis as the Socket.IO message queue, for the cross-process tests."""

from __future__ import annotations

import os
import socket
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.demo_process import DemoServer
from tests.demo_process import demo_env as base_env
from tests.demo_process import start_demo as start

REDIS = os.environ.get("ESCALATED_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")


@pytest.fixture
def demo_env(tmp_path: Path) -> dict[str, str]:
    try:
        socket.create_connection(("127.0.0.1", 6379), timeout=3).close()
    except OSError as exc:
        pytest.fail(f"this test needs Redis on 127.0.0.1:6379 ({exc})")
    return base_env(tmp_path, ESCALATED_ENABLE_REALTIME="1", SOCKETIO_MESSAGE_QUEUE=REDIS)


@pytest.fixture
def start_demo(demo_env: dict[str, str], tmp_path: Path) -> Iterator[Callable[..., str]]:
    """``start_demo(name, **env)``: one more demo process on the same database; its URL."""
    servers: list[DemoServer] = []

    def launch(name: str, **env: str) -> str:
        server = start({**demo_env, **env}, tmp_path / f"{name}.log")
        servers.append(server)
        return server.url

    yield launch
    for server in servers:
        server.stop()
