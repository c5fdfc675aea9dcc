"""Helpers for the admin console tests: a signed-in browser that posts forms with their CSRF
token, and the checks every console section shares."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import pytest

ADMIN = "/support/admin"


def csrf(html: str) -> str:
    match = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert match, "no CSRF token on the page"
    return match.group(1)


class Console:
    """A signed-in browser on the console: GET a page, POST its form with the page's token."""

    def __init__(self, client: Any) -> None:
        self.client = client
        self.html = ""

    def get(self, path: str, status: int = 200) -> str:
        r = self.client.get(ADMIN + path)
        assert r.status_code == status, (r.status_code, r.get_data(as_text=True)[:800])
        self.html = r.get_data(as_text=True)
        return self.html

    def post(self, path: str, data: dict[str, Any] | list[tuple[str, str]] | None = None,
             status: int | None = None) -> Any:
        """POST ``data`` (a dict, or pairs for repeated inputs) to ``path`` with the token of
        the page last fetched (fetched first if none was); ``status`` is checked if given."""
        if not self.html:
            self.get(path)
        pairs = list(data.items()) if isinstance(data, dict) else list(data or [])
        from werkzeug.datastructures import MultiDict

        body = MultiDict([("csrf_token", csrf(self.html)), *pairs])
        r = self.client.post(ADMIN + path, data=body)
        if status is not None:
            assert r.status_code == status, (r.status_code, r.get_data(as_text=True)[:1500])
        if r.status_code < 300:
            self.html = r.get_data(as_text=True)
        return r


@pytest.fixture
def ext(app):
    return app.extensions["escalated"]


@pytest.fixture
def console(client_as) -> Callable[[Any], Console]:
    return lambda user: Console(client_as(user))


@pytest.fixture
def admin(console, users) -> Console:
    return console(users.admin)


def field_error(html: str, name: str) -> str | None:
    """The error text shown under input ``name`` (``None`` when there is none)."""
    match = re.search(rf'id="f-{re.escape(name)}-error">([^<]*)<', html)
    return match.group(1) if match else None


def db(ext: Any = None) -> Any:
    """The test's session, reading what the requests committed (MariaDB's REPEATABLE READ
    would otherwise keep showing the snapshot of this session's first read)."""
    from flask_escalated.services import session

    current = session()
    current.rollback()
    return current
