"""The hostile-input corpus, sent to every Escalated entry point that takes input.

Entry points are found by walking the app's URL map, so a route added later is covered without
anyone remembering to add it here; the only routes left out are in :data:`NO_INPUT`, each with
the reason. For every route, each corpus case that fits it (a text case in every query string and
body field, JSON-shape cases in JSON bodies, id cases in every URL part) is sent as the kind of
caller the route is for, and the answer must be:

- never a 5xx;
- a 4xx for input that can never be right (NUL, a lone surrogate, NaN/Infinity, JSON nested
  thousands deep, integers beyond 64 bits, a duplicate or unknown key, ids that are not ASCII
  digits or do not fit 64 bits);
- when refused, nothing stored: the row count of every table is unchanged.

The other cases (CR/LF and encoded-word header payloads, over-long text, right-to-left override
characters, homoglyph addresses) may be accepted: text is stored as given and encoded on the way
out (headers by the mail library, HTML by the template engine); they must still never be a 5xx.

The app is built once per database for the module (seeding it per route would multiply the run
time); each request is judged on its own row counts, so what earlier cases stored does not matter.
"""

from __future__ import annotations

import functools
import io
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from types import SimpleNamespace
from typing import Any
from urllib.parse import quote

import pytest
import sqlalchemy as sa
from flask import Flask
from werkzeug.routing import FloatConverter, IntegerConverter, Rule

from flask_escalated.models import metadata as escalated_metadata
from flask_escalated.web.api.base import ROUTES
from flask_escalated.web.api.schemas.widget import WIDGET_INPUTS

from ..conftest import _empty_tables, _make_people
from ..hosts import intid

ORIGIN = "https://shop.example"
INBOUND_SECRET = "corpus-inbound-secret"
CSRF = "corpus-csrf-token"
DOMAIN = "support.example.test"

CONFIG: dict[str, Any] = {
    "ESCALATED_RATE_LIMIT_ENABLED": False,  # hundreds of requests from one address
    "ESCALATED_WIDGET_ORIGINS": [ORIGIN],
    "ESCALATED_INBOUND_SECRET": INBOUND_SECRET,
    "ESCALATED_MAIL_DOMAIN": DOMAIN,
    "ESCALATED_MAIL_FROM": f"help@{DOMAIN}",
    "ESCALATED_ENABLE_2FA": True,  # so the 2FA pages are in the URL map too
    "MAIL_SUPPRESS_SEND": True,
}

#: Routes that take no input a caller controls (checked: each ignores its query string).
NO_INPUT = {
    # Package files by name; Werkzeug's safe_join refuses anything outside the folder.
    "escalated.static",
    # The widget's fixed script and its public configuration: read nothing from the request.
    "escalated.widget_assets.embed",
    "escalated.widget_assets.config",
}


# ---------------------------------------------------------------------------- the corpus
@dataclass(frozen=True)
class Case:
    name: str
    value: Any
    must_refuse: bool
    #: Tables a refusal may still write to: the inbound log keeps every message it was sent.
    log_tables: frozenset[str] = frozenset()


TEXT = [
    Case("crlf_encoded_word",
         "X =?utf-8?q?=0D=0AReply-To:_attacker@evil.example=0D=0A=0D=0AINJECTED?=", False),
    Case("crlf_raw", "Hello\r\nBcc: victim@evil.example\r\n\r\nINJECTED", False),
    Case("nul", "before\x00after", True),
    Case("overlong", "x" * 70_000, False),
    Case("rtl_override", "invoice\u202egpj.exe", False),
    Case("homoglyph_address", "\u0430dmin@\u0435x\u0430mple.com", False),
]
#: Only JSON can carry a lone surrogate (a URL or form decodes bad UTF-8 to U+FFFD).
LONE_SURROGATE = Case("lone_surrogate", "\ud800", True)


def _deep(depth: int) -> str:
    return "[" * depth + "]" * depth


#: Raw JSON bodies: ``{field}`` is replaced by each declared field name.
JSON_SHAPES = [
    Case("nan", '{{"{field}": NaN}}', True),
    Case("infinity", '{{"{field}": Infinity, "metadata": {{"a": -Infinity}}}}', True),
    Case("overflowing_float", '{{"{field}": 1e999}}', True),
    Case("int_beyond_64_bits", '{{"{field}": 123456789012345678901234567890}}', True),
    Case("deep", '{{"{field}": ' + _deep(5000) + "}}", True),
    # Keys: an unknown one beside a declared one (a DELETE used to ignore it), one repeated
    # inside a nested object, a NUL in a nested key.
    Case("unknown_key", '{{"{field}": "x", "zz_not_a_field": 1}}', True),
    Case("nested_duplicate_key", '{{"{field}": {{"a": 1, "a": 2}}}}', True),
    Case("nul_in_nested_key", '{{"{field}": {{"k\\u0000": 1}}}}', True),
]

IDS = [
    Case("id_beyond_64_bits", "99999999999999999999999", True),
    Case("id_superscript", "\u00b9", True),
    Case("id_fullwidth", "\uff11\uff19", True),
    Case("id_nul", "1\x00", True),
]

#: Body fields tried where a route declares none (undocumented JSON); a page form gets the
#: free-text fields of the model it declares, the widget those of its strict models (any other
#: key is refused as unknown before a value is looked at).
FORM_FIELDS = ("body", "subject", "description", "name", "email", "comment", "rating",
               "status", "priority", "department_id", "assignee", "kind", "tags", "tag",
               "preset", "macro_id", "action", "pinned", "version", "ids", "code", "helpful",
               "q", "verification_id", "verification_code", "ticket_id", "state")
#: Where an over-long value goes in a form (all fields at once would pass the form size cap).
LONG_FIELDS = ("body", "description", "comment", "subject", "name")
QUERY_FIELDS = ("q", "status", "priority", "department_id", "department", "assignee", "sort",
                "tag", "cursor", "channels", "since", "ticket_id", "rating", "limit")


# ---------------------------------------------------------------------------- the routes
@functools.cache
def _map_app() -> Flask:
    return intid.create_app({"SQLALCHEMY_DATABASE_URI": "sqlite://", **CONFIG})


def _rules() -> list[Rule]:
    """Every Escalated rule of an app built with the corpus config (walks the URL map)."""
    app = _map_app()
    return sorted((r for r in app.url_map.iter_rules() if r.endpoint.startswith("escalated.")),
                  key=lambda r: (r.rule, r.endpoint))


def _page_text_fields(endpoint: str) -> tuple[str, ...] | None:
    """The free-text fields of the model a page form declares (``web/page_forms.reads``),
    None for a route that declares none. Only those get the hostile text, so that it reaches
    the view instead of being refused beside a wrong value in a choice or number field."""
    view = _map_app().view_functions.get(endpoint)
    model = getattr(view, "escalated_form", None)
    if model is None:
        return None
    props = model.model_json_schema().get("properties", {})

    def free_text(prop: dict[str, Any]) -> bool:
        parts = [prop, *prop.get("anyOf", [])]
        return any(p.get("type") == "string" and not ({"enum", "const", "pattern"} & set(p))
                   for p in parts)

    # A form with no text field gets it in every field (choices, numbers), and a form with
    # no field at all in the usual names (each then an unknown input).
    return tuple(name for name, prop in props.items() if free_text(prop)) or tuple(props)


def _route_params() -> list[Any]:
    params = []
    for rule in _rules():
        if rule.endpoint in NO_INPUT:
            continue
        for method in sorted((rule.methods or set()) - {"HEAD", "OPTIONS"}):
            params.append(pytest.param(rule.endpoint, rule.rule, method,
                                       id=f"{method} {rule.rule}"))
    return params


ROUTE_PARAMS = _route_params()
API_DOCS = {f"escalated.api.{doc.endpoint}": doc for doc in ROUTES}


# ---------------------------------------------------------------------------- the app
@dataclass
class World:
    app: Flask
    people: Any
    values: dict[str, str]

    def client(self, who: str | None, *, csrf: bool = False) -> Any:
        user = getattr(self.people, who) if who else None
        client = self.app.test_client(user=user) if user else self.app.test_client()
        if csrf:
            with client.session_transaction() as session:
                session["_escalated_csrf"] = CSRF
        return client

    def counts(self) -> dict[str, int]:
        tables = [t.name for t in escalated_metadata.sorted_tables] + ["host_users"]
        query = " UNION ALL ".join(
            f"SELECT '{name}', COUNT(*) FROM {name}" for name in tables)
        with self.app.app_context(), intid.db.engine.connect() as conn:
            return {name: n for name, n in conn.execute(sa.text(query))}


def _seed(app: Flask) -> tuple[Any, dict[str, str]]:
    with app.app_context():
        people = SimpleNamespace(**{
            name: SimpleNamespace(id=u.id, get_id=lambda u=u.get_id(): u)
            for name, u in vars(_make_people()).items()})
    admin = app.test_client(user=people.admin)
    api = "/support/api/v1"

    def made(response: Any) -> Any:
        assert response.status_code in (200, 201), response.get_json()
        return response.get_json()["data"]

    dept = made(admin.post(f"{api}/departments", json={"name": "Billing"}))
    tag = made(admin.post(f"{api}/tags", json={"name": "Seeded"}))
    category = made(admin.post(f"{api}/kb/categories", json={"name": "Printing"}))
    article = made(admin.post(f"{api}/kb/articles", json={
        "title": "Clearing a jam", "body": "Open the tray.", "category_id": category["id"],
        "status": "published", "visibility": "public"}))
    customer = app.test_client(user=people.customer)
    with customer.session_transaction() as session:
        session["_escalated_csrf"] = CSRF
    ticket = made(customer.post(f"{api}/tickets", json={
        "subject": "Printer jam", "description": "It jams."}))
    made(customer.post(f"{api}/tickets/{ticket['id']}/replies", json={"body": "Still jams."}))
    note = made(admin.post(f"{api}/tickets/{ticket['id']}/notes", json={"body": "Check tray."}))
    side = made(admin.post(f"{api}/tickets/{ticket['id']}/side-conversations",
                           json={"subject": "Vendor", "body": "In stock?"}))
    files = made(customer.post(f"{api}/tickets/{ticket['id']}/attachments", data={
        "files": (io.BytesIO(b"hello"), "hello.txt", "text/plain")},
        content_type="multipart/form-data", headers={"X-CSRF-Token": CSRF}))
    widget = app.test_client().post("/support/widget/tickets", headers={"Origin": ORIGIN},
                                    json={"name": "Dana", "email": "dana@example.org",
                                          "subject": "Hi", "description": "Hello"})
    assert widget.status_code == 201, widget.get_json()
    values = {
        "ident": str(ticket["id"]), "token": widget.get_json()["token"],
        "reply_id": str(note["id"]), "attachment_id": str(files[0]["id"]),
        "dept_id": str(dept["id"]), "tag_id": str(tag["id"]),
        "category_id": str(category["id"]), "article_id": str(article["id"]),
        "category_slug": category["slug"], "article_slug": article["slug"],
        "tag_slug": tag["slug"], "user_id": str(people.agent.id), "sc": str(side["id"]),
    }
    return people, values


@pytest.fixture(scope="module")
def world(database_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    storage = tmp_path_factory.mktemp("corpus-attachments")
    app = intid.create_app({"SQLALCHEMY_DATABASE_URI": database_url,
                            "ESCALATED_ATTACHMENT_STORAGE": str(storage), **CONFIG})
    try:
        people, values = _seed(app)
        yield World(app, people, values)
    finally:
        app.extensions["escalated"].wait_for_background(app=app)
        _empty_tables(app)
        with app.app_context():
            intid.db.session.remove()
            intid.db.engine.dispose()


# ---------------------------------------------------------------------------- requests
def _area(endpoint: str) -> str:
    return endpoint.split(".")[1]


#: Who calls each area: the role whose pages they are (anonymous for the public ones).
CALLER = {"api": "admin", "agent": "admin", "admin": "admin", "auth": "admin", "live": "agent",
          "customer": "customer", "guest": None, "kb": None, "widget": None, "inbound": None,
          "health": None}
JSON_AREAS = {"api", "widget", "live", "health"}


def _path_value(name: str, endpoint: str, values: dict[str, str]) -> str:
    if name == "slug":
        if ".kb" in endpoint:
            return values["article_slug"]
        if "role" in endpoint:
            return "agent"
        if "status" in endpoint:
            return "open"
        return values["tag_slug"]
    return values.get(name, "1")


def _path(rule: str, endpoint: str, values: dict[str, str], hostile: str | None) -> str:
    def part(match: re.Match[str]) -> str:
        raw = hostile if hostile is not None else _path_value(match.group(1), endpoint, values)
        return quote(raw, safe="")

    return re.sub(r"<(?:[^:<>]+:)?([^<>]+)>", part, rule)


def _names(model: Any) -> tuple[str, ...]:
    """The field names (as sent: aliases) a route's pydantic model declares."""
    fields = getattr(model, "model_fields", None) or {}
    return tuple(f.alias or name for name, f in fields.items())


def _widget_models(endpoint: str) -> tuple[Any, Any] | None:
    if _area(endpoint) != "widget":
        return None
    return WIDGET_INPUTS[endpoint.rpartition(".")[2]]


def _fields(endpoint: str) -> tuple[str, ...]:
    doc = API_DOCS.get(endpoint)
    names = _names(doc.body) if doc is not None else ()
    widget = _widget_models(endpoint)
    if widget is not None:
        names = _names(widget[0])
    if not names:
        page = _page_text_fields(endpoint)
        if page:
            return page
    return names or FORM_FIELDS


def _query_fields(endpoint: str) -> tuple[str, ...]:
    doc = API_DOCS.get(endpoint)
    widget = _widget_models(endpoint)
    if widget is not None:
        return _names(widget[1]) or QUERY_FIELDS
    return tuple(dict.fromkeys([*(_names(doc.query) if doc else ()), *QUERY_FIELDS]))


def _json_value(endpoint: str, field: str, value: str) -> Any:
    """``value`` in the shape the field takes (a list, an object or text), so that the
    hostile text reaches the field's own checks."""
    doc = API_DOCS.get(endpoint)
    if doc is None or not hasattr(doc.body, "model_json_schema"):
        return value
    prop = doc.body.model_json_schema().get("properties", {}).get(field, {})
    kinds: set[str] = set()
    for part in (prop, *prop.get("anyOf", [])):
        kind = part.get("type")
        kinds.update(kind if isinstance(kind, list) else [kind] if kind else [])
    if "array" in kinds:
        return [value]
    if "object" in kinds or "$ref" in prop or any("$ref" in p for p in prop.get("anyOf", [])):
        return {"k": value}
    return value


@dataclass
class Request:
    case: Case
    method: str
    path: str
    kwargs: dict[str, Any]


def _requests(endpoint: str, rule: str, method: str, world: World) -> Iterator[Request]:
    area = _area(endpoint)
    values = world.values
    path = _path(rule, endpoint, values, None)
    headers = {"Origin": ORIGIN} if area == "widget" else {}
    if area == "live":
        headers["X-CSRF-Token"] = CSRF
    if "<" in rule:
        for case in IDS:
            yield Request(case, method, _path(rule, endpoint, values, case.value),
                          {"headers": headers})
    if area == "inbound":
        yield from _inbound_requests(path)
        return
    for case in TEXT:
        query = {name: case.value for name in _query_fields(endpoint)}
        if case.name == "overlong":
            query = {"q": case.value}
        if method == "GET":
            yield Request(case, method, path, {"query_string": query, "headers": headers})
            continue
        fields = _fields(endpoint)
        if area in JSON_AREAS:
            body = {f: _json_value(endpoint, f, case.value) for f in fields}
            yield Request(case, method, path, {"json": body, "headers": headers})
        else:
            if case.name == "overlong":
                fields = tuple(f for f in fields if f in LONG_FIELDS)
            form = {f: case.value for f in fields} | {"csrf_token": CSRF}
            yield Request(case, method, path, {"data": form, "headers": headers})
    if method == "GET":
        return
    if area in JSON_AREAS:
        fields = _fields(endpoint)
        body = {f: _json_value(endpoint, f, LONE_SURROGATE.value) for f in fields}
        yield Request(LONE_SURROGATE, method, path, {"json": body, "headers": headers})
        for shape in JSON_SHAPES:
            raw = shape.value.format(field=fields[0])
            yield Request(shape, method, path, {
                "data": raw.encode("utf-8"), "content_type": "application/json",
                "headers": headers})
    else:
        # A form route that receives JSON must not read it leniently either.
        yield Request(JSON_SHAPES[0], method, path, {
            "data": b'{"body": NaN}', "content_type": "application/json",
            "headers": headers | {"X-CSRF-Token": CSRF}})


INBOUND_LOG = frozenset({"escalated_inbound_emails"})


def _inbound_requests(path: str) -> Iterator[Request]:
    """Every adapter, each text case in the sender's name, the subject and the body."""
    headers = {"X-Escalated-Inbound-Secret": INBOUND_SECRET}
    for case in [*TEXT, LONE_SURROGATE]:
        text = case.value
        postmark = {
            "FromName": text, "From": "dana@example.org",
            "FromFull": {"Email": "dana@example.org", "Name": text},
            "To": f"support@{DOMAIN}", "OriginalRecipient": f"support@{DOMAIN}",
            "Subject": text, "MessageID": f"corpus-{case.name}", "TextBody": text,
            "HtmlBody": "", "Headers": [], "Attachments": []}
        # Stored and marked failed, or processed: either way never a 5xx (not refused).
        lenient = Case(case.name, case.value, False, INBOUND_LOG)
        yield Request(lenient, "POST", path + "?adapter=postmark", {
            "data": json.dumps(postmark), "content_type": "application/json",
            "headers": headers})
        if case is LONE_SURROGATE:
            continue
        yield Request(lenient, "POST", path + "?adapter=mailgun", {"data": {
            "sender": "dana@example.org", "from": f"{text} <dana@example.org>",
            "recipient": f"support@{DOMAIN}", "subject": text, "body-plain": text,
            "Message-Id": f"<mg-{case.name}@example.org>"}, "headers": headers})
        mime = (f"From: dana@example.org\r\nTo: support@{DOMAIN}\r\nSubject: {text}\r\n"
                f"Message-ID: <raw-{case.name}@example.org>\r\n\r\n{text}\r\n")
        yield Request(lenient, "POST", path + "?adapter=raw", {
            "data": mime.encode("utf-8", "surrogatepass"), "content_type": "message/rfc822",
            "headers": headers})
        ses = {"Type": "Notification", "MessageId": f"ses-{case.name}", "TopicArn": "arn:x",
               "Message": json.dumps({"notificationType": "Received",
                                      "mail": {"commonHeaders": {"from": [text]}},
                                      "content": text})}
        yield Request(lenient, "POST", path + "?adapter=ses", {
            "data": json.dumps(ses), "content_type": "application/json", "headers": headers})
    deep = '{"Subject": "x", "Headers": ' + _deep(5000) + "}"
    yield Request(Case("deep", deep, False, INBOUND_LOG), "POST", path + "?adapter=postmark", {
        "data": deep, "content_type": "application/json", "headers": headers})


def _judge(req: Request, status: int, before: dict[str, int], after: dict[str, int]) -> str | None:
    if status >= 500:
        return f"answered {status}"
    if req.case.must_refuse and not 400 <= status < 500:
        return f"accepted ({status})"
    changed = {k: (before[k], after[k]) for k in before
               if before[k] != after.get(k) and k not in req.case.log_tables}
    if 400 <= status < 500 and changed:
        return f"refused ({status}) but stored rows: {changed}"
    return None


# ---------------------------------------------------------------------------- the test
def test_every_rule_is_covered_or_listed() -> None:
    """The allow-list names only routes that exist, and every other rule is exercised."""
    endpoints = {r.endpoint for r in _rules()}
    assert endpoints >= NO_INPUT
    assert {p.values[0] for p in ROUTE_PARAMS} == endpoints - NO_INPUT
    assert set(CALLER) >= {_area(e) for e in endpoints - NO_INPUT}
    # Werkzeug's int and float converters read any script's digits and any length: ids in
    # Escalated's URLs use the ASCII, 64-bit converter.
    for rule in _rules():
        for name, converter in (rule._converters or {}).items():
            assert not isinstance(converter, IntegerConverter | FloatConverter), (rule.rule, name)


@pytest.mark.parametrize(("endpoint", "rule", "method"), ROUTE_PARAMS)
def test_hostile_input_is_refused_or_stored_safely(
        world: World, endpoint: str, rule: str, method: str) -> None:
    who = CALLER[_area(endpoint)]
    client = world.client(who, csrf=who is not None)
    failures = []
    for req in _requests(endpoint, rule, method, world):
        before = world.counts()
        try:
            status = client.open(req.path, method=req.method, **req.kwargs).status_code
        except Exception as exc:  # TESTING propagates what would be a 500
            failures.append(f"{req.case.name}: crashed ({type(exc).__name__}: {exc})"[:300])
            continue
        problem = _judge(req, status, before, world.counts())
        if problem:
            failures.append(f"{req.case.name}: {problem}")
    assert not failures, "\n".join(failures)

