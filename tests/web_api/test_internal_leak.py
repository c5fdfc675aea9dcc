"""A text meant to be internal never reaches the customer, whatever the caller called it.

Regression for the reply that the family's ``is_internal: true`` published (and mailed): every
accepted spelling makes an internal note (JSON and multipart), every other spelling is refused
with nothing stored, and the customer sees none of them in the API, the portal or their mail.
Also: unknown keys are refused instead of misread (``{"assignee": "3"}`` used to unassign).
"""

from __future__ import annotations

import io
import re
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from flask import Flask

from flask_escalated.events import Actor
from flask_escalated.services import assignment, tickets
from flask_escalated.web.api.schemas.replies import VISIBILITY_ALIASES

from ..mail.conftest import mail_config, smtp  # noqa: F401  (the real SMTP server fixture)

#: Every accepted spelling of "internal note", as JSON.
JSON_NOTE = [{name: value} for name, value in VISIBILITY_ALIASES.items()]
#: The same in a multipart form (booleans spelled exactly true).
FORM_NOTE = [{name: "true" if value is True else value}
             for name, value in VISIBILITY_ALIASES.items()]
#: Spellings that must be refused (422), never read as public.
JSON_REFUSED = [
    {"is_internal": "true"}, {"is_internal": 1}, {"internal": "yes"}, {"private": None},
    {"visibility": "Internal"}, {"visibility": "private"}, {"kind": "Note"},
    {"kind": "NOTE"}, {"type": "internal_note"}, {"is_private": True}, {"hidden": True},
    {"note": True}, {"isInternal": True}, {"is_internal": True, "visibility": "public"},
    {"kind": "note", "private": False},
]
FORM_REFUSED = [{"is_internal": "True"}, {"is_internal": "1"}, {"kind": "Note"},
                {"kind": "NOTE"}, {"visibility": "INTERNAL"}, {"is_private": "true"},
                {"is_internal": ["true", "false"]}]


@pytest.fixture
def app(make_app: Callable[..., Flask], smtp: Any) -> Iterator[Flask]:  # noqa: F811
    app = make_app(**mail_config(smtp.port))
    with app.app_context():
        yield app


def _reply_count(api, users, tid: int) -> int:
    return len(api(users.agent).get(f"/tickets/{tid}/replies").json["data"])


def test_every_internal_spelling_is_a_note_the_customer_never_sees(
        api, users, make_ticket, client_as, bearer, smtp):  # noqa: F811
    tid = make_ticket()
    agent = api(users.agent)
    token = bearer(users.agent)
    secrets = []
    for i, alias in enumerate(JSON_NOTE):
        text = f"secret-json-{i}"
        r = agent.post(f"/tickets/{tid}/replies", {"body": text, **alias})
        assert r.status_code == 201, (alias, r.json)
        assert r.json["data"]["is_internal"] is True, alias
        secrets.append(text)
    for i, alias in enumerate(FORM_NOTE):
        text = f"secret-form-{i}"
        r = api(None).client.post(f"/support/api/v1/tickets/{tid}/replies",
                                  data={"body": text, **alias,
                                        "files": [(io.BytesIO(b"x"), "n.txt")]},
                                  content_type="multipart/form-data", headers=token)
        assert r.status_code == 201, (alias, r.json)
        assert r.json["data"]["is_internal"] is True, alias
        secrets.append(text)
    # The public spellings still make a public reply (and it is mailed: the control).
    for alias in ({}, {"is_internal": False}, {"visibility": "public"}, {"kind": "reply"}):
        r = agent.post(f"/tickets/{tid}/replies", {"body": "public-answer", **alias})
        assert r.status_code == 201 and r.json["data"]["is_internal"] is False, alias

    customer = api(users.customer)
    seen = customer.get(f"/tickets/{tid}/replies").get_data(as_text=True)
    seen += customer.get(f"/tickets/{tid}").get_data(as_text=True)
    seen += customer.get(f"/tickets/{tid}/activity").get_data(as_text=True)
    seen += customer.get(f"/tickets/{tid}/attachments").get_data(as_text=True)
    reference = customer.get(f"/tickets/{tid}").json["data"]["reference"]
    page = client_as(users.customer).get(f"/support/tickets/{reference}")
    assert page.status_code == 200
    seen += page.get_data(as_text=True)
    assert "public-answer" in seen
    assert smtp.wait_for(lambda: any("public-answer" in str(m)
                                     for m in smtp.to("customer@example.test")))
    time.sleep(0.3)
    mailed = "".join(str(m) for m in smtp.to("customer@example.test"))
    for text in secrets:
        assert text not in seen, text
        assert text not in mailed, text
        assert "n.txt" not in seen


@pytest.mark.parametrize("alias", JSON_REFUSED, ids=lambda a: repr(a)[:40])
def test_other_visibility_spellings_are_refused(api, users, make_ticket, alias):
    tid = make_ticket()
    before = _reply_count(api, users, tid)
    r = api(users.agent).post(f"/tickets/{tid}/replies", {"body": "should not exist", **alias})
    assert r.status_code == 422, r.json
    fields = r.json["error"]["fields"]
    assert fields and set(fields) <= set(alias), fields
    assert not any("Value error" in why for why in fields.values()), fields
    assert _reply_count(api, users, tid) == before


@pytest.mark.parametrize("alias", FORM_REFUSED, ids=lambda a: repr(a)[:40])
def test_the_multipart_path_is_as_strict(api, users, make_ticket, bearer, alias):
    tid = make_ticket()
    before = _reply_count(api, users, tid)
    r = api(None).client.post(f"/support/api/v1/tickets/{tid}/replies",
                              data={"body": "should not exist", **alias},
                              content_type="multipart/form-data", headers=bearer(users.agent))
    assert r.status_code == 422, r.json
    assert set(r.json["error"]["fields"]) <= set(alias), r.json
    assert _reply_count(api, users, tid) == before


def test_unknown_form_keys_are_named(api, users, make_ticket, bearer):
    tid = make_ticket()
    r = api(None).client.post(f"/support/api/v1/tickets/{tid}/replies",
                              data={"body": "x", "is_private": "true"},
                              content_type="multipart/form-data", headers=bearer(users.agent))
    assert r.status_code == 422
    assert r.json["error"]["code"] == "unknown_field"
    assert r.json["error"]["fields"] == {"is_private": "unknown field"}


@pytest.mark.parametrize("alias", JSON_NOTE, ids=lambda a: repr(a))
def test_a_note_needs_the_note_permission(api, users, make_ticket, alias):
    tid = make_ticket()
    before = _reply_count(api, users, tid)
    r = api(users.customer).post(f"/tickets/{tid}/replies", {"body": "secret", **alias})
    assert r.status_code == 403, r.json
    assert _reply_count(api, users, tid) == before


def test_unknown_keys_are_refused_not_misread(api, users, make_ticket, ext):
    tid = make_ticket()
    with ext.unit_of_work():
        assignment.assign(tickets.get_ticket(tid), str(users.agent.id), Actor.system())
    agent = api(users.agent)
    before = agent.get(f"/tickets/{tid}").json["data"]
    r = agent.post(f"/tickets/{tid}/assign", {"assignee": "3"})
    assert r.status_code == 422 and r.json["error"]["code"] == "unknown_field"
    assert r.json["error"]["fields"] == {"assignee": "unknown field"}
    assert "assignee" in r.json["error"]["message"]
    r = agent.patch(f"/tickets/{tid}", {"statuss": "closed", "priorty": "high"})
    assert r.status_code == 422 and r.json["error"]["code"] == "unknown_field"
    assert set(r.json["error"]["fields"]) == {"statuss", "priorty"}
    ticket = agent.get(f"/tickets/{tid}").json["data"]
    keys = ("status", "priority", "assignee", "version", "updated_at")
    assert {k: ticket.get(k) for k in keys} == {k: before.get(k) for k in keys}
    assert ticket["assignee"]["id"] == str(users.agent.id) and ticket["status"] != "closed"


@pytest.mark.parametrize("kind", ["Note", "NOTE", "private", "internal", "", None])
def test_the_agent_form_takes_the_kind_exactly(client_as, users, make_ticket, api, kind):
    tid = make_ticket()
    reference = api(users.agent).get(f"/tickets/{tid}").json["data"]["reference"]
    client = client_as(users.agent)
    page = client.get(f"/support/agent/tickets/{reference}").get_data(as_text=True)
    token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    data = {"csrf_token": token, "body": "typed & kept <text>"}
    if kind is not None:
        data["kind"] = kind
    r = client.post(f"/support/agent/tickets/{reference}/reply", data=data)
    assert r.status_code == 422
    html = r.get_data(as_text=True)
    # Refused as the API refuses it, the field named beside the composer.
    assert "typed &amp; kept &lt;text&gt;" in html and 'id="composer-kind-error"' in html
    # Sent again unchanged, the kept draft is a note, never a public reply.
    assert re.search(r'value="note"\s+checked', html)
    before = _reply_count(api, users, tid)
    assert "typed & kept" not in api(users.agent).get(
        f"/tickets/{tid}/replies").get_data(as_text=True)
    r = client.post(f"/support/agent/tickets/{reference}/reply",
                    data={**data, "kind": "note"})
    assert r.status_code == 303
    *_, note = api(users.agent).get(f"/tickets/{tid}/replies").json["data"]
    assert note["is_internal"] is True and note["body"] == "typed & kept <text>"
    assert _reply_count(api, users, tid) == before + 1
    assert "typed & kept" not in api(users.customer).get(
        f"/tickets/{tid}/replies").get_data(as_text=True)
