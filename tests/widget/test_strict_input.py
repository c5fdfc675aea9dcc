"""The widget reads its input strictly, as the API does: every endpoint's body and query string
go through the models listed in ``WIDGET_INPUTS``, so an unknown or misspelled key is a 422
``unknown_field`` naming it, and a wrong type, an over-long text or a bad e-mail address is a
422 naming the field. Never a 5xx, and a refusal stores nothing.

The cases are built from the models' JSON schemas (not hand-listed per endpoint), so a field
added to a widget model is tried without touching this file.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from sqlalchemy import func, select

from flask_escalated.events import Actor
from flask_escalated.models import Ticket, metadata
from flask_escalated.services import kb, tickets
from flask_escalated.services.permissions import Principal
from flask_escalated.web.api.schemas._base import DEFAULT_MAX_BODY
from flask_escalated.web.api.schemas.widget import WIDGET_INPUTS

W = "/support/widget"
ORIGIN = "https://shop.example"
MAX_BODY = 1000  # ESCALATED_MAX_BODY_LENGTH here: LongText's bound is the running config's

#: A body each endpoint accepts (the baseline every case changes one thing in).
VALID: dict[str, dict[str, Any]] = {
    "verify": {"email": "dana@example.org"},
    "create_ticket": {"name": "Dana", "email": "dana@example.org", "subject": "Printer jam",
                      "description": "It jams.", "department_id": None},
    "reply": {"body": "More details."},
    "rate": {"rating": 4, "comment": ""},
    "kb_feedback": {"helpful": True, "email": "dana@example.org"},
}
VALID_QUERY = {"show_ticket": {}, "kb_search": {"q": "printer"}}
BAD_EMAILS = ["not-an-email", "dana@example.org\r\nBcc: x@evil.example", "da na@example.org",
              "a" * 320 + "@example.org", ""]
#: A JSON value of another type than the field's, for each JSON schema type.
WRONG_TYPE = {"string": [123, True, ["x"], {"x": 1}], "integer": ["1", 1.5, True, [1]],
              "boolean": ["true", 1, 0, None, "yes"], "object": ["x", 1, ["x"], True]}


@dataclass
class World:
    client: Any
    app: Any
    urls: dict[str, str]

    def counts(self) -> dict[str, int]:
        session = self.app.extensions["escalated"].session
        session.rollback()
        return {t.name: session.execute(select(func.count()).select_from(t)).scalar_one()
                for t in metadata.sorted_tables}


@pytest.fixture
def world(make_app, users_for) -> Iterator[World]:
    app = make_app(ESCALATED_WIDGET_ORIGINS=[ORIGIN], ESCALATED_MAX_BODY_LENGTH=MAX_BODY,
                   ESCALATED_RATE_LIMIT_ENABLED=False, MAIL_SUPPRESS_SEND=True,
                   ESCALATED_MAIL_DOMAIN="support.example.test",
                   ESCALATED_MAIL_FROM="help@support.example.test")
    people = users_for(app)
    client = app.test_client()
    client.environ_base["HTTP_ORIGIN"] = ORIGIN
    opened = client.post(f"{W}/tickets", json=VALID["create_ticket"])
    assert opened.status_code == 201, opened.json
    token = opened.json["token"]
    with app.app_context():
        ext = app.extensions["escalated"]
        with ext.unit_of_work():
            ticket = ext.session.execute(select(Ticket)).scalar_one()
            tickets.change_status(ticket, "resolved", Actor.agent(people.agent.id))
        with ext.unit_of_work():
            article = kb.create_article(
                Principal.build(str(people.admin.id), is_admin=True),
                {"title": "Printer triage", "body": "Check the cable.", "status": "published"})
        urls = {"verify": f"{W}/verify", "create_ticket": f"{W}/tickets",
                "show_ticket": f"{W}/tickets/{token}", "reply": f"{W}/tickets/{token}/replies",
                "rate": f"{W}/tickets/{token}/rate", "kb_search": f"{W}/kb/search",
                "kb_feedback": f"{W}/kb/articles/{article.id}/feedback"}
        yield World(client, app, urls)


def _props(endpoint: str) -> dict[str, dict[str, Any]]:
    model = WIDGET_INPUTS[endpoint][0]
    return model.model_json_schema()["properties"] if model is not None else {}


def _kinds(prop: dict[str, Any]) -> set[str]:
    return {p["type"] for p in (prop, *prop.get("anyOf", [])) if "type" in p} - {"null"}


def _cases() -> Iterator[Any]:
    """(endpoint, case name, body, the field the 422 must name) for every body field."""
    for endpoint in VALID:
        for field, prop in _props(endpoint).items():
            kinds = _kinds(prop)
            for kind in kinds:
                for i, value in enumerate(WRONG_TYPE[kind]):
                    if value is None and "null" in str(prop):
                        continue
                    yield pytest.param(endpoint, {field: value}, field,
                                       id=f"{endpoint}-{field}-wrong_type{i}")
            limit = max((p.get("maxLength", 0) for p in (prop, *prop.get("anyOf", []))),
                        default=0)
            if limit:
                long = "x" * ((MAX_BODY if limit == DEFAULT_MAX_BODY else limit) + 1)
                yield pytest.param(endpoint, {field: long}, field,
                                   id=f"{endpoint}-{field}-overlong")
            if "email" in str(prop.get("format")) + str(prop.get("anyOf")):
                for i, value in enumerate(BAD_EMAILS):
                    yield pytest.param(endpoint, {field: value}, field,
                                       id=f"{endpoint}-{field}-bad_email{i}")


def _refused(world: World, method: str, url: str, **kwargs: Any) -> Any:
    before = world.counts()
    r = world.client.open(url, method=method, **kwargs)
    assert r.status_code < 500
    assert world.counts() == before, "a refused request stored rows"
    return r


def test_every_widget_endpoint_is_listed_and_tried(world) -> None:
    """A new widget route must say what it reads (and is then tried by the tables below)."""
    endpoints = {r.endpoint.rpartition(".")[2] for r in world.app.url_map.iter_rules()
                 if r.endpoint.startswith("escalated.widget.")}
    assert endpoints == set(WIDGET_INPUTS) == set(world.urls)
    assert {e for e, (body, _q) in WIDGET_INPUTS.items() if body is not None} == set(VALID)


@pytest.mark.parametrize("endpoint", sorted(WIDGET_INPUTS))
def test_the_baseline_is_accepted(world, endpoint) -> None:
    """The tables below change one thing in a request the endpoint takes."""
    if endpoint in VALID:
        r = world.client.post(world.urls[endpoint], json=VALID[endpoint])
    else:
        r = world.client.get(world.urls[endpoint], query_string=VALID_QUERY[endpoint])
    assert r.status_code in (200, 201, 202), r.json


@pytest.mark.parametrize("endpoint", sorted(VALID))
def test_unknown_body_fields_are_named(world, endpoint) -> None:
    body = {**VALID[endpoint], "zz_unknown": 1, "Email": "dana@example.org"}
    r = _refused(world, "POST", world.urls[endpoint], json=body)
    assert r.status_code == 422, r.json
    error = r.json["error"]
    assert error["code"] == "unknown_field"
    assert set(error["fields"]) == {"zz_unknown", "Email"}
    assert "zz_unknown" in error["message"] and "Email" in error["message"]


@pytest.mark.parametrize("endpoint", sorted(WIDGET_INPUTS))
def test_unknown_query_parameters_are_named(world, endpoint) -> None:
    query = {**VALID_QUERY.get(endpoint, {}), "debug": "1"}
    method = "GET" if endpoint in VALID_QUERY else "POST"
    body = {"json": VALID[endpoint]} if method == "POST" else {}
    r = _refused(world, method, world.urls[endpoint], query_string=query, **body)
    assert r.status_code == 422 and r.json["error"]["code"] == "unknown_field"
    assert set(r.json["error"]["fields"]) == {"debug"}


@pytest.mark.parametrize(("endpoint", "change", "field"), list(_cases()))
def test_bad_values_are_named(world, endpoint, change, field) -> None:
    r = _refused(world, "POST", world.urls[endpoint], json={**VALID[endpoint], **change})
    assert r.status_code == 422, r.json
    error = r.json["error"]
    assert error["code"] == "validation_error" and set(error["fields"]) == {field}


@pytest.mark.parametrize("endpoint", sorted(VALID))
def test_required_fields_and_non_objects(world, endpoint) -> None:
    required = set(WIDGET_INPUTS[endpoint][0].model_json_schema().get("required", []))
    r = _refused(world, "POST", world.urls[endpoint], json={})
    assert r.status_code == 422 and set(r.json["error"]["fields"]) == required
    for raw in ([VALID[endpoint]], "text", None):
        r = _refused(world, "POST", world.urls[endpoint], json=raw)
        assert r.status_code == 422 and r.json["error"]["fields"] == {
            "body": "expected a JSON object"}


def test_the_reported_cases(world) -> None:
    """A 5000-character name used to be dropped silently, a misspelled key ignored."""
    valid = VALID["create_ticket"]
    long = _refused(world, "POST", world.urls["create_ticket"], json={**valid, "name": "x" * 5000})
    assert long.status_code == 422 and set(long.json["error"]["fields"]) == {"name"}
    typo = _refused(world, "POST", world.urls["create_ticket"],
                    json={**valid, "departmnet_id": 1})
    assert typo.json["error"]["code"] == "unknown_field"
    # No coercion that changes meaning: "1" is not department 1, "false" is not a vote.
    for change in ({"department_id": "1"}, {"department_id": 1.0}):
        r = _refused(world, "POST", world.urls["create_ticket"], json={**valid, **change})
        assert set(r.json["error"]["fields"]) == {"department_id"}
    vote = _refused(world, "POST", world.urls["kb_feedback"], json={"helpful": "false"})
    assert vote.status_code == 422 and set(vote.json["error"]["fields"]) == {"helpful"}


def test_search_query_is_bounded(world) -> None:
    r = _refused(world, "GET", world.urls["kb_search"], query_string={"q": "x" * 10_000})
    assert r.status_code == 422 and set(r.json["error"]["fields"]) == {"q"}
    twice = world.client.get(world.urls["kb_search"], query_string=[("q", "a"), ("q", "b")])
    assert twice.status_code == 422 and set(twice.json["error"]["fields"]) == {"q"}


def test_a_body_over_the_widgets_own_limit_is_413_without_a_host_limit(world) -> None:
    """Strangers post here: with no ``MAX_CONTENT_LENGTH`` on the host, a body larger than the
    longest description with its JSON escapes is still refused before it is read whole."""
    assert world.app.config.get("MAX_CONTENT_LENGTH") is None
    big = {**VALID["create_ticket"], "description": "x" * (MAX_BODY * 4 + 1024 * 1024)}
    r = _refused(world, "POST", world.urls["create_ticket"], json=big)
    assert r.status_code == 413 and r.json["error"]["code"] == "payload_too_large", r.json
    # The longest allowed description, every character escaped, still fits.
    longest = {**VALID["create_ticket"], "description": "\u00e9" * MAX_BODY}
    raw = json.dumps(longest, ensure_ascii=True)
    r = world.client.post(world.urls["create_ticket"], data=raw, content_type="application/json")
    assert r.status_code == 201, r.json
