"""The declared contract is the enforced one: tables generated from the schemas, not by hand.

For every write operation (a DELETE too): an unknown field is a 422 ``unknown_field`` naming
it (at the top and inside nested objects), and a wrongly typed value of each declared field is
a 422 naming that field. For every read: an unknown query parameter is refused, and a bad
value of each declared parameter is a 422 naming it. A route added later is covered without
editing this file.
"""

from __future__ import annotations

import io
from typing import Any

import pytest
from pydantic import BaseModel, RootModel

import flask_escalated.web.api  # noqa: F401  (registers the routes)
from flask_escalated.web.api.base import ROUTES, RouteDoc
from flask_escalated.web.api.openapi import openapi_path
from flask_escalated.web.api.schemas.common import Paged

from .conftest import template

WRITES = ("POST", "PUT", "PATCH", "DELETE")
UNKNOWN = "zz_not_a_field"


def _ops(methods: tuple[str, ...]) -> list[tuple[RouteDoc, str]]:
    return [(doc, m) for doc in ROUTES for m in doc.methods if m in methods]


def _id(op: tuple[RouteDoc, str]) -> str:
    doc, method = op
    return f"{method} {doc.rule}"


def _schema(model: type[BaseModel]) -> tuple[dict[str, Any], dict[str, Any]]:
    schema = model.model_json_schema()
    return schema, schema.get("$defs", {})


def _resolve(prop: dict[str, Any], defs: dict[str, Any]) -> dict[str, Any]:
    """The non-null branch of a property, with ``$ref`` followed."""
    if "$ref" in prop:
        return _resolve(defs[prop["$ref"].rsplit("/", 1)[-1]], defs)
    branches = [b for b in prop.get("anyOf", []) if b.get("type") != "null"]
    if branches:
        return _resolve(branches[0], defs)
    return prop


#: A value of each JSON type.
_SAMPLES = [("string", "7"), ("string", "false"), ("integer", 12345), ("number", 1.5),
            ("boolean", True), ("array", ["x"]), ("object", {"a": 1})]


def wrong_values(prop: dict[str, Any], defs: dict[str, Any]) -> list[Any]:
    """Values of a JSON type the property does not take (or outside its choices)."""
    p = _resolve(prop, defs)
    if "enum" in p or "const" in p:
        return ["zz-not-a-choice", 5]
    allowed = p.get("type")
    if allowed is None:
        return []  # any JSON value (an action's argument)
    allowed = {allowed} if isinstance(allowed, str) else set(allowed)
    if "number" in allowed:
        allowed.add("integer")
    return [value for kind, value in _SAMPLES if kind not in allowed]


def _body_fields(op: tuple[RouteDoc, str]) -> list[tuple[str, Any]]:
    doc, _ = op
    model = doc.body
    if model is None or issubclass(model, RootModel):
        return []
    schema, defs = _schema(model)
    return [(name, value) for name, prop in schema.get("properties", {}).items()
            for value in wrong_values(prop, defs)]


def _nested(op: tuple[RouteDoc, str]) -> list[tuple[str, Any, str]]:
    """For each property that is an object model (or a list of them): a body with an unknown
    key inside it, and the name the error must give."""
    doc, _ = op
    if doc.body is None or issubclass(doc.body, RootModel):
        return []
    schema, defs = _schema(doc.body)
    out = []
    for name, prop in schema.get("properties", {}).items():
        p = _resolve(prop, defs)
        if p.get("type") == "object" and p.get("additionalProperties") is False:
            out.append((name, {UNKNOWN: 1}, f"{name}.{UNKNOWN}"))
        elif p.get("type") == "array":
            item = _resolve(p.get("items", {}), defs)
            if item.get("type") == "object" and item.get("additionalProperties") is False:
                out.append((name, [{UNKNOWN: 1}], f"{name}[0].{UNKNOWN}"))
    return out


def _url(doc: RouteDoc, world: dict[str, Any], query: str = "") -> str:
    return "/support/api/v1" + template(openapi_path(doc.rule)).format(**world) + query


def _send(api, users, doc: RouteDoc, method: str, world, body: Any, *,
          form: dict[str, str] | None = None):
    """As the admin: JSON through the session, or a multipart form with ``form``'s token."""
    if form is not None:
        return api(None).client.open(_url(doc, world), method=method, data=body,
                                     content_type="multipart/form-data", headers=form)
    return api(users.admin).client.open(_url(doc, world), method=method, json=body)


def _assert_422(response: Any, code: str, field: str) -> None:
    assert response.status_code == 422, (response.status_code, response.get_data(True)[:400])
    error = response.get_json()["error"]
    assert error["code"] == code, error
    assert any(k == field or k.startswith((f"{field}.", f"{field}[")) for k in error["fields"]), \
        (field, error)


WRITE_OPS = _ops(WRITES)
READ_OPS = _ops(("GET",))


def test_every_write_operation_declares_its_body():
    """A body model for every write that reads one; the tables below then cover it."""
    for doc, method in WRITE_OPS:
        if doc.body is not None:
            assert issubclass(doc.body, BaseModel), (method, doc.rule)


@pytest.mark.parametrize("op", WRITE_OPS, ids=_id)
def test_unknown_fields_are_refused_by_name(api, users, world, bearer, op):
    doc, method = op
    if doc.body is not None and issubclass(doc.body, RootModel):
        pytest.skip("a map keyed by the caller's own names (status slugs)")
    if doc.body is None or doc.body.model_fields or not doc.multipart:
        r = _send(api, users, doc, method, world, {UNKNOWN: 1})
        _assert_422(r, "unknown_field", UNKNOWN)
        assert UNKNOWN in r.get_json()["error"]["message"]
    if doc.multipart:
        r = _send(api, users, doc, method, world,
                  {UNKNOWN: "1", "files": [(io.BytesIO(b"x"), "x.txt")]},
                  form=bearer(users.admin))
        _assert_422(r, "unknown_field", UNKNOWN)


@pytest.mark.parametrize("op", [op for op in WRITE_OPS if _nested(op)], ids=_id)
def test_unknown_nested_fields_are_refused_by_name(api, users, world, op):
    doc, method = op
    for field, value, name in _nested(op):
        r = _send(api, users, doc, method, world, {field: value})
        _assert_422(r, "unknown_field", name)


@pytest.mark.parametrize("op", [op for op in WRITE_OPS if _body_fields(op)], ids=_id)
def test_wrong_types_are_refused_by_name(api, users, world, bearer, op):
    """Each declared field, sent alone with a value of the wrong type: a 422 naming it."""
    doc, method = op
    for field, value in _body_fields(op):
        r = _send(api, users, doc, method, world, {field: value})
        _assert_422(r, "validation_error", field)
    if doc.multipart:
        # The form path reads booleans as exactly "true" or "false", nothing else.
        schema, defs = _schema(doc.body)
        token = bearer(users.admin)
        for name, prop in schema.get("properties", {}).items():
            if _resolve(prop, defs).get("type") == "boolean":
                for value in ("True", "1", "yes", ""):
                    r = _send(api, users, doc, method, world, {"body": "x", name: value},
                              form=token)
                    _assert_422(r, "validation_error", name)


@pytest.mark.parametrize("op", [op for op in WRITE_OPS if op[0].body is not None
                                and issubclass(op[0].body, RootModel)], ids=_id)
def test_maps_refuse_wrong_shapes(api, users, world, op):
    doc, method = op
    for body in ({"open": "closed"}, {"open": [1]}, {"Not A Slug": ["open"]}):
        r = _send(api, users, doc, method, world, body)
        assert r.status_code == 422, r.get_json()


# ---------------------------------------------------------------------------- query strings
def _query_values(op: tuple[RouteDoc, str]) -> list[tuple[str, str]]:
    doc, _ = op
    schema, defs = _schema(doc.query)
    out: list[tuple[str, str]] = []
    for name, prop in schema.get("properties", {}).items():
        p = _resolve(prop, defs)
        if p.get("type") == "array":
            p = _resolve(p.get("items", {}), defs)
        if "enum" in p or "const" in p:
            out.append((name, "zz-not-a-choice"))
        elif p.get("type") == "integer":
            out += [(name, "1.5"), (name, "\uff11\uff19"), (name, "abc"), (name, "1_000")]
        elif p.get("format") == "date-time":
            out += [(name, "yesterday"), (name, "2026-01-01T00:00")]
        elif p.get("maxLength"):
            out.append((name, "x" * (p["maxLength"] + 1)))
        elif p.get("pattern"):
            out.append((name, "!!"))
    return out


@pytest.mark.parametrize("op", READ_OPS, ids=_id)
def test_unknown_query_parameters_are_refused(api, users, world, op):
    doc, method = op
    r = api(users.admin).client.open(_url(doc, world, f"?{UNKNOWN}=1"), method=method)
    _assert_422(r, "unknown_field", UNKNOWN)


@pytest.mark.parametrize("op", [op for op in READ_OPS if _query_values(op)], ids=_id)
def test_bad_query_values_are_refused_by_name(api, users, world, op):
    from urllib.parse import urlencode

    doc, method = op
    for name, value in _query_values(op):
        r = api(users.admin).client.open(_url(doc, world, "?" + urlencode({name: value})),
                                         method=method)
        _assert_422(r, "validation_error", name)


def test_paged_reads_share_one_description(app):
    doc = app.test_client().get("/support/api/v1/openapi.json").get_json()
    for route in ROUTES:
        if not issubclass(route.query, Paged):
            continue
        op = doc["paths"][openapi_path(route.rule)]["get"]
        refs = [p.get("$ref") for p in op["parameters"]]
        assert "#/components/parameters/limit" in refs and \
            "#/components/parameters/cursor" in refs, route.rule


def test_every_json_operation_declares_its_response():
    """Without a response model the suite-wide check would let that operation drift."""
    missing = [_id(op) for op in _ops(("GET", "POST", "PUT", "PATCH", "DELETE"))
               if op[0].status != 204 and not op[0].binary and op[0].response is None
               and op[0].endpoint != "openapi_json"]
    assert missing == []


def test_a_drifting_serializer_fails_the_response_check(api, users, world, monkeypatch):
    """The check the whole suite runs under: an undeclared key, or a missing one, turns the
    answer into a 500 naming it; so does an error body that leaves the envelope."""
    from flask_escalated.services import serializers
    from flask_escalated.web.api import errors

    assert api(users.admin).get("/tags").status_code == 200
    real = serializers.tag
    monkeypatch.setattr(serializers, "tag", lambda row: {**real(row), "colour": row.color})
    r = api(users.admin).get("/tags")
    assert r.status_code == 500
    assert r.get_json()["error"]["code"] == "response_contract"
    assert r.get_json()["error"]["fields"] == {"data.0.colour": "Extra inputs are not permitted"}
    monkeypatch.setattr(serializers, "tag", lambda row: {
        k: v for k, v in real(row).items() if k != "slug"})
    r = api(users.admin).get("/tags")
    assert r.status_code == 500 and "data.0.slug" in r.get_json()["error"]["fields"]
    monkeypatch.undo()

    real_error = errors.jsonify
    monkeypatch.setattr(errors, "jsonify", lambda body: real_error(
        {"error": {**body["error"], "hint": "x"}} if "error" in body else body))
    r = api(users.admin).get("/departments/999999")
    assert r.status_code == 500, r.get_json()
    assert r.get_json()["error"]["fields"] == {"error.hint": "Extra inputs are not permitted"}


def test_unknown_fields_are_listed(api, users, world):
    r = api(users.admin).patch(f"/tickets/{world['t']}", json={"statuss": "closed", "zz": 1})
    assert r.status_code == 422
    assert r.get_json()["error"]["unknown_fields"] == ["statuss", "zz"]


# ---------------------------------------------------------------------------- whole numbers
def _integer_fields(model: type[BaseModel] | None) -> list[str]:
    if model is None or issubclass(model, RootModel):
        return []
    schema, defs = _schema(model)
    return [name for name, prop in schema.get("properties", {}).items()
            if _resolve(prop, defs).get("type") == "integer"]


@pytest.mark.parametrize("op", [op for op in WRITE_OPS if _integer_fields(op[0].body)]
                         + [op for op in READ_OPS if _integer_fields(op[0].query)], ids=_id)
def test_integer_fields_say_whole_number_for_a_decimal_point(api, users, world, op):
    """JSON Schema counts ``1.0`` as an integer; the strict models do not, and every integer
    field (body or query) says so in the same words instead of "a valid integer"."""
    from urllib.parse import urlencode

    from flask_escalated.web.api.schemas._base import WHOLE_NUMBER, WHOLE_NUMBER_NO_POINT

    doc, method = op
    if method == "GET":
        for name in _integer_fields(doc.query):
            for value, why in (("1.0", WHOLE_NUMBER_NO_POINT), ("abc", WHOLE_NUMBER)):
                r = api(users.admin).client.open(
                    _url(doc, world, "?" + urlencode({name: value})), method=method)
                _assert_422(r, "validation_error", name)
                assert r.get_json()["error"]["fields"][name] == why
        return
    for name in _integer_fields(doc.body):
        for value, why in ((1.0, WHOLE_NUMBER_NO_POINT), ("1", WHOLE_NUMBER)):
            r = _send(api, users, doc, method, world, {name: value})
            _assert_422(r, "validation_error", name)
            assert r.get_json()["error"]["fields"][name] == why, r.get_json()
