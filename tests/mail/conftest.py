"""A real SMTP server (aiosmtpd) on 127.0.0.1 and an app that sends mail to it."""

from __future__ import annotations

import email
import email.policy
import socket
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from flask import Flask

DOMAIN = "support.example.test"
REPLY_SECRET = "reply-secret-for-tests"


class Inbox:
    """What the SMTP server received: parsed messages with their envelope recipients."""

    def __init__(self) -> None:
        self.messages: list[tuple[list[str], email.message.EmailMessage]] = []
        self.raw: list[bytes] = []  # the bytes as received (UTF-8 headers under SMTPUTF8)
        self.refuse = False

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        if self.refuse:
            return "451 Try again later"
        msg = email.message_from_bytes(envelope.content, policy=email.policy.default)
        self.raw.append(envelope.content)
        self.messages.append((list(envelope.rcpt_tos), msg))  # type: ignore[arg-type]
        return "250 OK"

    def wait(self, count: int, timeout: float = 10) -> list[email.message.EmailMessage]:
        deadline = time.time() + timeout
        while time.time() < deadline and len(self.messages) < count:
            time.sleep(0.02)
        return [m for _, m in self.messages]

    def wait_for(self, predicate: Any, timeout: float = 10) -> bool:
        deadline = time.time() + timeout
        while time.time() < deadline:
            if predicate():
                return True
            time.sleep(0.02)
        return False

    def to(self, address: str) -> list[email.message.EmailMessage]:
        return [m for rcpts, m in self.messages if address in rcpts]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _serve(**options: Any) -> Iterator[Inbox]:
    inbox = Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=_free_port(), **options)
    controller.start()
    inbox.port = controller.port  # type: ignore[attr-defined]
    yield inbox
    controller.stop()


@pytest.fixture
def smtp() -> Iterator[Inbox]:
    """A server that does not offer SMTPUTF8."""
    yield from _serve(enable_SMTPUTF8=False)


@pytest.fixture
def smtp_utf8() -> Iterator[Inbox]:
    """A server that offers SMTPUTF8 (international local parts)."""
    yield from _serve(enable_SMTPUTF8=True)


def mail_config(port: int, **extra: Any) -> dict[str, Any]:
    return {
        "ESCALATED_MAIL_FROM": f"help@{DOMAIN}",
        "ESCALATED_MAIL_DOMAIN": DOMAIN,
        "ESCALATED_REPLY_SECRET": REPLY_SECRET,
        "ESCALATED_APP_URL": "https://help.example.test",
        "ESCALATED_BRANDING": {"logo_url": None, "primary_color": "#0f766e",
                               "footer": "Acme Inc, 1 Main St"},
        "MAIL_SERVER": "127.0.0.1",
        "MAIL_PORT": port,
        "MAIL_SUPPRESS_SEND": False,
        **extra,
    }


@pytest.fixture
def app(make_app: Callable[..., Flask], smtp: Inbox) -> Iterator[Flask]:
    """The module's app sends mail to the test SMTP server."""
    app = make_app(**mail_config(smtp.port))  # type: ignore[attr-defined]
    with app.app_context():
        yield app


@pytest.fixture
def ext(app: Flask) -> Any:
    return app.extensions["escalated"]
