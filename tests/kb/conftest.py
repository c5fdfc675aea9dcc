"""Knowledge-base fixtures: an editor principal and an article factory that commits (MariaDB's
FULLTEXT index sees only committed rows)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from flask_escalated.services import kb
from flask_escalated.services.permissions import Principal


@pytest.fixture
def ext(app):
    return app.extensions["escalated"]


@pytest.fixture
def editor(users) -> Principal:
    return Principal.build(str(users.admin.id), is_admin=True)


@pytest.fixture
def make_article(ext, editor) -> Callable[..., Any]:
    """``make_article(title, body, **fields)``: a published public article by default."""

    def make(title: str, body: str = "Nothing to see.", **fields: Any) -> Any:
        data = {"title": title, "body": body, "status": "published", **fields}
        with ext.unit_of_work():
            row = kb.create_article(editor, data)
        return row

    return make


#: Unrelated articles: full-text relevance needs a corpus where a word is not everywhere.
FILLERS = [
    ("Download an invoice", "Invoices are listed under billing as PDF documents."),
    ("Reset your password", "Follow the emailed link to choose a new password."),
    ("Webhook retries", "Failed deliveries are retried with growing delays."),
    ("Invite teammates", "Send invitations from the team settings page."),
]


@pytest.fixture
def fillers(make_article) -> list[Any]:
    return [make_article(t, b) for t, b in FILLERS]
