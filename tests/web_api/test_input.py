"""Bad input gets a clear 4xx in the error envelope, never a 500; lists page by keyset."""

from __future__ import annotations

import pytest

from flask_escalated.events import Actor
from flask_escalated.services import departments, tickets

XSS = '<script>alert(1)</script><img src=x onerror=alert(2)>'


def status_of(response):
    assert response.status_code < 500, response.get_data(True)[:500]
    if response.status_code >= 400 and response.is_json:
        assert set(response.get_json()["error"]) - {"unknown_fields"} == {
            "code", "message", "fields"}
    return response.status_code


@pytest.mark.all_databases
@pytest.mark.parametrize("body", [
    {},
    {"subject": "", "description": "d"},
    {"subject": "   ", "description": "d"},
    {"subject": "s"},
    {"subject": 5, "description": "d"},
    {"subject": ["s"], "description": "d"},
    {"subject": "s", "description": {"a": 1}},
    {"subject": "s" * 501, "description": "d"},
    {"subject": "s", "description": "d", "priority": "blocker"},
    {"subject": "s", "description": "d", "priority": 3},
    {"subject": "s", "description": "d", "department_id": "abc"},
    {"subject": "s", "description": "d", "department_id": 99999999999},
    {"subject": "s", "description": "d", "department_id": True},
    {"subject": "s", "description": "d", "ticket_type": "rant"},
    {"subject": "s", "description": "d", "tags": "not-a-list"},
    {"subject": "s", "description": "d", "tags": [1, 2]},
    {"subject": "s", "description": "d", "metadata": [1]},
    {"subject": "s", "description": "d", "requester_email": "not-an-email"},
    {"subject": "s", "description": "d", "requester_email": "a@b.c\r\nBcc: x@y.z"},
    {"subject": "s", "description": "d", "assignee_id": ["x"]},
    {"subject": "s", "description": ""},
    {"subject": "s", "description": "d", "requester_email": "new@example.com",
     "requester_user_id": "4"},
    {"subject": "s", "description": "d", "requester_name": "Nobody"},
])
def test_bad_ticket_bodies_are_422(api, users, body):
    assert status_of(api(users.agent).post("/tickets", body)) == 422


@pytest.mark.parametrize(("raw", "content_type", "expected"), [
    ("not json", "application/json", 400),
    ("[1, 2]", "application/json", 400),
    ('"string"', "application/json", 400),
    ("subject=s&description=d", "application/x-www-form-urlencoded", 400),
    ("{\"subject\": \"s\", ", "application/json", 400),
])
def test_malformed_bodies_are_400(api, users, raw, content_type, expected):
    r = api(users.agent).client.post("/support/api/v1/tickets", data=raw,
                                     content_type=content_type,
                                     headers={"X-CSRF-Token": "x"})
    assert status_of(r) in (expected, 403)


@pytest.mark.parametrize("extra", [
    {"assignee_id": "2"}, {"tags": ["vip"]}, {"metadata": {"a": 1}},
    {"requester_email": "x@example.com"}, {"requester_user_id": "5", "requester_name": "Evil"},
])
def test_a_customer_sending_agents_fields_is_refused_not_ignored(api, users, extra):
    r = api(users.customer).post("/tickets", {"subject": "s", "description": "d", **extra})
    assert status_of(r) == 403, r.json
    assert set(r.json["error"]["fields"]) == set(extra)
    assert all(v == "agents only" for v in r.json["error"]["fields"].values())
    # Null and empty values are nothing to drop.
    r = api(users.customer).post("/tickets", {"subject": "s", "description": "d", "tags": [],
                                              "metadata": None, "assignee_id": None})
    assert status_of(r) == 201, r.json


def test_an_empty_description_names_the_field_in_the_message(app, users):
    with pytest.raises(tickets.ValidationError) as caught:
        tickets.create_ticket(tickets.NewTicket(subject="s", description="  ",
                                                requester_user_id=str(users.customer.id)),
                              Actor.agent(users.agent.id))
    assert caught.value.fields == {"description": "required"}
    assert "description: required" in str(caught.value)


def test_customers_cannot_pick_critical(api, users):
    r = api(users.customer).post("/tickets", {"subject": "s", "description": "d",
                                              "priority": "critical"})
    assert status_of(r) == 422
    assert "priority" in r.json["error"]["fields"]


@pytest.mark.all_databases
@pytest.mark.parametrize("ident", ["0", "-1", "99999999999999999999", "ESC-", "ESC-abc",
                                   "../etc/passwd", "%00", "ESC-000000000000000000001",
                                   "😀", "x" * 500])
def test_unknown_tickets_are_404(api, users, ident):
    from urllib.parse import quote

    assert status_of(api(users.agent).get(f"/tickets/{quote(ident, safe='')}")) == 404


@pytest.mark.parametrize("method", ["GET", "PATCH", "DELETE"])
@pytest.mark.parametrize("row_id", ["0", "00", str(2**63), "9" * 19])
def test_digits_that_are_no_id_are_404_on_every_method(api, users, method, row_id):
    """Not 405: the rule of another method for the same path must not answer instead (the
    fuzzer found ``PATCH /business-schedules/0`` saying "method not allowed")."""
    r = api(users.admin).call(method, f"/business-schedules/{row_id}",
                              json={} if method == "PATCH" else None)
    assert status_of(r) == 404
    assert r.json["error"]["code"] == "not_found"


@pytest.mark.parametrize("query", ["limit=0", "limit=-1", "limit=abc", "limit=100000",
                                   "cursor=garbage", "cursor=eyJhIjoxfQ", "sort=password",
                                   "sort=-subject", "status_category=nope", "priority=x",
                                   "created_after=yesterday", "created_after=2026-01-01T00:00",
                                   "department_id=abc", "q=" + "x" * 201, "status=bogus",
                                   "status=open,bogus"])
def test_bad_list_parameters_are_422(api, users, query):
    assert status_of(api(users.agent).get(f"/tickets?{query}")) == 422


def test_an_unknown_status_filter_names_the_statuses(api, users):
    r = api(users.agent).get("/tickets?status=bogus")
    assert "'bogus'" in r.json["error"]["message"]
    assert "open" in r.json["error"]["fields"]["status"]


@pytest.mark.all_databases
def test_odd_but_valid_searches(api, users, make_ticket):
    make_ticket(subject="100% off_sale")
    make_ticket(subject="Ordinary")
    agent = api(users.agent)
    for q, hits in (("%", 1), ("_", 1), ("100%", 1), ("'; DROP TABLE x; --", 0),
                    ("😀", 0), ("中文", 0), ("ordinary", 1)):
        r = agent.get("/tickets", query_string={"q": q})
        assert status_of(r) == 200
        assert len(r.json["data"]) == hits, q


def test_oversized_request_is_413(api, users, make_ticket):
    tid = make_ticket()
    r = api(users.agent).post(f"/tickets/{tid}/replies", {"body": "x" * 60_000_000})
    assert status_of(r) == 413
    r = api(users.agent).post(f"/tickets/{tid}/replies", {"body": "x" * 200_001})
    assert status_of(r) == 422


def test_unknown_routes_and_methods_are_json(api, users):
    r = api(users.agent).get("/nothing/here")
    assert status_of(r) == 404 and r.json["error"]["code"] == "not_found"
    r = api(users.agent).call("PUT", "/tickets")
    assert status_of(r) == 405 and r.json["error"]["code"] == "method_not_allowed"


def test_host_pages_keep_their_own_404(client_as, users):
    r = client_as(users.agent).get("/no-such-host-page")
    assert r.status_code == 404 and not r.is_json


@pytest.mark.all_databases
def test_xss_is_stored_verbatim_and_served_as_json(api, users):
    r = api(users.customer).post("/tickets", {"subject": XSS, "description": XSS})
    assert r.status_code == 201
    assert r.headers["Content-Type"].startswith("application/json")
    assert r.json["data"]["subject"] == XSS.replace("\n", " ")


@pytest.mark.all_databases
def test_stale_version_and_wrong_types_on_every_versioned_write(api, users, make_ticket):
    tid = make_ticket()
    agent = api(users.agent)
    for path, body in ((f"/tickets/{tid}", {"priority": "low"}),
                       (f"/tickets/{tid}/status", {"status": "resolved"}),
                       (f"/tickets/{tid}/assign", {"assignee_id": str(users.agent.id)})):
        assert status_of(agent.post(path, {**body, "version": 999})
                         if not path.endswith(str(tid)) else
                         agent.patch(path, {**body, "version": 999})) == 409
        assert status_of(agent.post(path, {**body, "version": True})
                         if not path.endswith(str(tid)) else
                         agent.patch(path, {**body, "version": True})) == 422


# ---------------------------------------------------------------------------- paging
@pytest.fixture
def many(app, users, ext, clock):
    """17 tickets with ties on created_at and priority, spread over two departments."""
    with ext.unit_of_work():
        dept = departments.create_department(Actor.system(), {"name": "Ops"})
    ids = []
    priorities = ["low", "medium", "high", "urgent", "critical"]
    for i in range(17):
        if i % 3 == 0:
            clock.advance(minutes=1)
        with ext.unit_of_work():
            t = tickets.create_ticket(tickets.NewTicket(
                subject=f"T{i}", description="d", requester_user_id=str(users.customer.id),
                priority=priorities[i % 5], department_id=dept.id if i % 2 else None,
                tags=["even"] if i % 2 == 0 else []), Actor.system())
        ids.append(t.id)
    return ids, dept.id


@pytest.mark.all_databases
@pytest.mark.parametrize("sort", ["created_at", "-created_at", "updated_at", "-updated_at",
                                  "priority", "-priority", "id", "-id"])
def test_keyset_pages_have_no_gaps_or_duplicates(api, users, many, sort):
    ids, _ = many
    agent = api(users.agent)
    seen, cursor = [], None
    for _ in range(20):
        url = f"/tickets?limit=4&sort={sort}" + (f"&cursor={cursor}" if cursor else "")
        page = agent.get(url).json
        seen += [t["id"] for t in page["data"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert sorted(seen) == sorted(ids) and len(seen) == len(set(seen))
    full = [t["id"] for t in agent.get(f"/tickets?limit=100&sort={sort}").json["data"]]
    assert seen == full


@pytest.mark.all_databases
def test_filters(api, users, many, ext):
    ids, dept_id = many
    agent = api(users.agent)

    def count(query):
        return len(agent.get(f"/tickets?limit=100&{query}").json["data"])

    assert count("") == 17
    assert count("priority=low,high") == 7
    assert count("tag=even") == 9
    assert count(f"department_id={dept_id}") == 8
    assert count("department_id=none") == 9
    assert count("assignee=none") == 17
    api(users.agent).post(f"/tickets/{ids[0]}/assign", {"assignee_id": str(users.agent.id)})
    assert count("assignee=me") == 1
    assert count(f"assignee={users.agent.id}") == 1
    assert count(f"assignee={users.agent2.id}") == 0  # an agent with no tickets
    for bad in ("zzz", str(users.customer.id)):
        r = agent.get(f"/tickets?assignee={bad}")
        assert r.status_code == 422, bad
        assert set(r.json["error"]["fields"]) == {"assignee"}
    assert count("status=in_progress") == 1
    assert count("status_category=open,in_progress") == 17
    assert count("q=T10") == 1  # full-text: the word T10, not T1 or T100
    first = agent.get("/tickets?limit=100&sort=created_at").json["data"][0]["created_at"]
    assert count(f"created_after={first}") == 17
    assert count(f"created_before={first}") == 0
    assert api(users.other).get("/tickets").json["data"] == []


@pytest.mark.all_databases
def test_customers_only_list_their_own(api, users, make_ticket):
    mine, theirs = make_ticket(), make_ticket(requester=users.other)
    assert [t["id"] for t in api(users.customer).get("/tickets").json["data"]] == [mine]
    assert [t["id"] for t in api(users.other).get("/tickets").json["data"]] == [theirs]
    assert len(api(users.agent).get("/tickets").json["data"]) == 2


@pytest.mark.all_databases
def test_list_query_count_is_flat(app, api, users, ext, count_queries, clock):
    with ext.unit_of_work():
        dept = departments.create_department(Actor.system(), {"name": "Ops"})
    for i in range(30):
        with ext.unit_of_work():
            tickets.create_ticket(tickets.NewTicket(
                subject=f"T{i}", description="d", department_id=dept.id, tags=["a", "b"],
                requester_email=f"c{i}@example.test", assignee_id=str(users.agent.id)),
                Actor.agent(users.agent.id))
    agent = api(users.agent)
    agent.get("/tickets?limit=1")  # warm-up (first request loads the profile cache etc.)
    with count_queries() as small:
        assert len(agent.get("/tickets?limit=3").json["data"]) == 3
    with count_queries() as large:
        assert len(agent.get("/tickets?limit=30").json["data"]) == 30
    assert small.count == large.count, (small.statements, large.statements)
    assert large.count <= 8, large.statements


@pytest.mark.all_databases
def test_detail_query_count_does_not_grow_with_tags(app, api, users, make_ticket, ext,
                                                    count_queries):
    from flask_escalated.services import tags

    few, lots = make_ticket(), make_ticket()
    with ext.unit_of_work():
        tags.add_tags(tickets.get_ticket(few), ["a"], Actor.system())
        tags.add_tags(tickets.get_ticket(lots), [f"t{i}" for i in range(20)], Actor.system())
    agent = api(users.agent)
    agent.get(f"/tickets/{few}")  # the first request fills the process cache (roles, statuses)
    with count_queries() as q1:
        agent.get(f"/tickets/{few}")
    with count_queries() as q2:
        agent.get(f"/tickets/{lots}")
    assert q1.count == q2.count


@pytest.mark.all_databases
def test_cursors_survive_a_non_utc_database_session(make_app, backend):
    """Cursor values go through the column type, whatever the server's session time zone."""
    if backend != "postgres":
        pytest.skip("the session time zone is a PostgreSQL setting")
    app = make_app(SQLALCHEMY_ENGINE_OPTIONS={
        "connect_args": {"options": "-c timezone=America/New_York"}})
    from tests.hosts import intid

    with app.app_context():
        agent = intid.make_user("a@example.test", "A")
        intid.db.session.commit()
        ext = app.extensions["escalated"]
        from flask_escalated.services import agents

        with ext.unit_of_work():
            agents.make_agent(str(agent.id), Actor.system())
            for i in range(9):
                tickets.create_ticket(tickets.NewTicket(
                    subject=f"T{i}", description="d", requester_email=f"x{i}@example.test"),
                    Actor.system())
        client = app.test_client(user=agent)
        for sort in ("created_at", "-updated_at"):
            seen, cursor = [], None
            for _ in range(10):
                page = client.get(f"/support/api/v1/tickets?limit=2&sort={sort}"
                                  + (f"&cursor={cursor}" if cursor else "")).json
                seen += [t["id"] for t in page["data"]]
                cursor = page["next_cursor"]
                if not cursor:
                    break
            assert len(seen) == 9 and len(set(seen)) == 9, (sort, seen)


@pytest.mark.all_databases
def test_token_use_is_recorded_without_holding_the_request(app, users, ext, clock):
    from flask_escalated.models import ApiToken
    from flask_escalated.services import tokens as token_service

    with ext.unit_of_work():
        row, plain = token_service.create_token(str(users.agent.id), "t", ["*"], Actor.system())
    client = app.test_client()
    assert client.get("/support/api/v1/tickets",
                      headers={"Authorization": f"Bearer {plain}"}).status_code == 200
    ext.session.rollback()
    assert ext.session.get(ApiToken, row.id).last_used_at == clock.current


# ---------------------------------------------------------------------------- bodiless operations
@pytest.mark.parametrize("method", ["DELETE", "POST"])
def test_bodiless_operations_refuse_every_key(api, users, make_ticket, bearer, method):
    """An operation that takes no body names what it was sent (JSON keys or form fields) as
    unknown, whatever the method; an empty body or ``{}`` is no input."""
    tid = make_ticket()
    agent = api(users.agent)
    note = agent.post(f"/tickets/{tid}/notes", {"body": "Check the tray."}).json["data"]
    path = f"/tickets/{tid}/notes/{note['id']}/pin"
    r = agent.call(method, path, json={"zz": 1})
    assert status_of(r) == 422, r.json
    assert r.json["error"]["code"] == "unknown_field"
    assert r.json["error"]["fields"] == {"zz": "unknown field"}
    r = agent.client.open(f"/support/api/v1{path}", method=method, data={"zz": "1"},
                          headers=bearer(users.agent))
    assert status_of(r) == 422, r.json
    assert r.json["error"]["code"] == "unknown_field"
    assert r.json["error"]["fields"] == {"zz": "unknown field"}
    r = agent.client.open(f"/support/api/v1{path}", method=method, data="  ",
                          content_type="application/json")
    assert status_of(r) < 400, r.json
    assert status_of(agent.call(method, path, json={})) < 400


def _chunked(client, path: str, raw: bytes, content_type: str, **headers: str):
    """``raw`` sent as a server hands on a chunked body: no Content-Length, the stream ended
    by the server (``wsgi.input_terminated``)."""
    import io

    return client.open(path, method="POST", input_stream=io.BytesIO(raw),
                       content_type=content_type,
                       headers={"Transfer-Encoding": "chunked", **headers},
                       environ_overrides={"wsgi.input_terminated": True})


def test_oversized_chunked_request_is_413(make_app, users_for):
    """Without a Content-Length the body is read up to the limit and one byte more: a body
    over it is a 413 as with the header, not a 400 for the cut-off JSON."""
    app = make_app(ESCALATED_MAX_ATTACHMENTS=1, ESCALATED_MAX_ATTACHMENT_SIZE=1000,
                   ESCALATED_MAX_BODY_LENGTH=1000, MAX_CONTENT_LENGTH=1000,
                   ESCALATED_WIDGET_ORIGINS=["https://shop.example"])
    people = users_for(app)
    client = app.test_client(user=people.agent)
    made = client.post("/support/api/v1/tickets", json={"subject": "s", "description": "d"})
    tid = made.json["data"]["id"]
    path = f"/support/api/v1/tickets/{tid}/replies"
    limit = 1000 + 4 * 1000 + 1024 * 1024
    big = b'{"body": "' + b"x" * (2 * limit) + b'"}'
    r = _chunked(client, path, big, "application/json")
    assert status_of(r) == 413, r.json
    assert r.json["error"]["code"] == "payload_too_large"
    at_limit = b'{"body": "' + b"x" * (limit - 12) + b'"}'
    assert len(at_limit) == limit
    r = _chunked(client, path, at_limit, "application/json")
    assert status_of(r) == 422 and "body" in r.json["error"]["fields"], r.json
    r = _chunked(client, path, b'{"body": "chunked"}', "application/json")
    assert status_of(r) == 201, r.json
    form = (b"--b\r\nContent-Disposition: form-data; name=\"body\"\r\n\r\n"
            + b"x" * (2 * limit) + b"\r\n--b--\r\n")
    from flask_escalated.services import tokens as token_service

    ext = app.extensions["escalated"]
    with app.app_context(), ext.unit_of_work():
        _, plain = token_service.create_token(str(people.agent.id), "t", ["*"], Actor.system())
    r = _chunked(app.test_client(), path, form, "multipart/form-data; boundary=b",
                 Authorization=f"Bearer {plain}")
    assert status_of(r) == 413, r.json
    small = b"--b\r\nContent-Disposition: form-data; name=\"body\"\r\n\r\nok\r\n--b--\r\n"
    r = _chunked(app.test_client(), path, small, "multipart/form-data; boundary=b",
                 Authorization=f"Bearer {plain}")
    assert status_of(r) == 201, r.json
    # The widget has the host's limit (MAX_CONTENT_LENGTH), the API its own.
    widget = _chunked(app.test_client(), "/support/widget/tickets", big, "application/json",
                      Origin="https://shop.example")
    assert widget.status_code == 413, widget.json
    assert widget.json["error"]["code"] == "payload_too_large"


# ---------------------------------------------------------------------------- error wording
def test_a_model_validators_refusal_names_its_fields(api, users, make_ticket):
    """``fields: {"request": "Value error, the visibility fields disagree…"}`` before: the
    refusal is now under the fields that disagree, in the validator's own words."""
    tid = make_ticket()
    r = api(users.agent).post(f"/tickets/{tid}/replies",
                              {"body": "x", "is_internal": True, "visibility": "public"})
    assert status_of(r) == 422
    error = r.json["error"]
    assert set(error["fields"]) == {"is_internal", "visibility"}, error
    assert all(why.startswith("the visibility fields disagree") for why in
               error["fields"].values()), error
    assert "Value error" not in error["message"]


def test_validator_errors_lose_pydantics_prefix_everywhere():
    """Any validator's ``ValueError`` or assertion, at the top or nested, on a body or a
    query: its own text, under a name a person can read (never ``request``)."""
    from typing import Annotated

    from pydantic import AfterValidator, model_validator

    from flask_escalated.services.errors import ValidationError
    from flask_escalated.web.api.schemas._base import Body, ModelError, Query, validate

    def odd(value: int) -> int:
        if value % 2 == 0:
            raise ValueError("must be odd")
        return value

    class Inner(Body):
        low: int = 0
        high: int = 0

        @model_validator(mode="after")
        def _ordered(self) -> Inner:
            if self.low > self.high:
                raise ModelError("low is above high", "low", "high")
            return self

    class Outer(Body):
        n: Annotated[int, AfterValidator(odd)] = 1
        inner: Inner | None = None

        @model_validator(mode="after")
        def _whole(self) -> Outer:
            if self.n == 3:  # a bare assert here would carry pytest's rewritten text
                raise AssertionError("three is not allowed")
            return self

    class Q(Query):
        n: int = 1

        @model_validator(mode="after")
        def _whole(self) -> Q:
            if self.n == 5:
                raise ValueError("five is not allowed")
            return self

    def fields(model, data):
        with pytest.raises(ValidationError) as caught:
            validate(model, data)
        assert "Value error" not in caught.value.message
        assert "Assertion failed" not in caught.value.message
        return caught.value.fields

    assert fields(Outer, {"n": 2}) == {"n": "must be odd"}
    assert fields(Outer, {"inner": {"low": 2, "high": 1}}) == {
        "inner.low": "low is above high", "inner.high": "low is above high"}
    assert fields(Outer, {"n": 3}) == {"request body": "three is not allowed"}
    assert fields(Q, {"n": 5}) == {"query string": "five is not allowed"}


# ---------------------------------------------------------------------------- repeated fields
def test_a_field_given_twice_is_named_as_such(api, users, make_ticket, bearer):
    """``limit=1&limit=2`` said "Input should be a valid integer", a multipart ``body`` sent
    twice "Input should be a valid string": each now says the field came more than once."""
    from werkzeug.datastructures import MultiDict

    agent = api(users.agent)
    r = agent.get("/tickets?limit=1&limit=2")
    assert status_of(r) == 422
    assert r.json["error"]["fields"] == {"limit": "given more than once; send it once"}
    r = agent.get("/tickets?status=open&status=open&priority=low&priority=high")
    assert status_of(r) in (200, 422)  # a list parameter takes every value
    assert "status" not in r.json.get("error", {}).get("fields", {})
    tid = make_ticket()
    r = agent.client.post(f"/support/api/v1/tickets/{tid}/replies",
                          data=MultiDict([("body", "one"), ("body", "two")]),
                          content_type="multipart/form-data", headers=bearer(users.agent))
    assert status_of(r) == 422
    assert r.json["error"]["fields"] == {"body": "given more than once; send it once"}
    r = agent.client.post(f"/support/api/v1/tickets/{tid}/replies",
                          data=MultiDict([("body", "one"), ("zz", "1"), ("zz", "2")]),
                          content_type="multipart/form-data", headers=bearer(users.agent))
    assert status_of(r) == 422 and r.json["error"]["code"] == "unknown_field"


@pytest.mark.parametrize(("content_type", "raw", "why"), [
    ("multipart/form-data", b'--b\r\nContent-Disposition: form-data; name="body"\r\n\r\n'
     b"hi\r\n--b--\r\n", "malformed multipart: no boundary"),
    ("multipart/form-data; boundary=zz", b'--b\r\nContent-Disposition: form-data; '
     b'name="body"\r\n\r\nhi\r\n--b--\r\n', "malformed multipart: no part"),
    ("multipart/form-data; boundary=b", b"not multipart at all", "malformed multipart: no part"),
])
def test_a_multipart_body_that_cannot_be_read_is_400(api, users, make_ticket, bearer,
                                                     content_type, raw, why):
    """It was read as an empty form: ``422 body: Field required``."""
    tid = make_ticket()
    r = api(None).client.post(f"/support/api/v1/tickets/{tid}/replies", data=raw,
                              content_type=content_type, headers=bearer(users.agent))
    assert status_of(r) == 400, r.json
    assert r.json["error"]["fields"] == {"body": why}
    assert "multipart" in r.json["error"]["message"]


def test_refusals_say_what_is_expected_not_pydantics_internals(app):
    """The same words reach a visitor in the widget and a page: no pattern, class name or
    "after validation" jargon."""
    from typing import Annotated

    from pydantic import Field

    from flask_escalated.services.errors import ValidationError
    from flask_escalated.web.api.schemas._base import Body, LongText, validate
    from flask_escalated.web.api.schemas.common import Email

    class Option(Body):
        value: str

    class Sample(Body):
        email: Email | None = None
        title: Annotated[str, Field(min_length=1)] = "t"
        code: Annotated[str, Field(min_length=3)] = "abc"
        items: Annotated[list[str], Field(min_length=1)] = ["x"]
        option: Option | None = None
        at: Annotated[str, Field(pattern=r"^[0-9]{2}:[0-9]{2}$")] = "09:00"
        text: Annotated[LongText, Field(min_length=1)] = "x"

    expected = {
        "email": ("nope", "Not an e-mail address (name@example.com)"),
        "title": ("", "Field required"),
        "code": ("ab", "At least 3 characters"),
        "items": ([], "At least 1 item"),
        "option": (["free"], "Input should be an object"),
        "at": ("9am", "Expected HH:MM, e.g. 09:00"),
        "text": ("", "Field required"),
    }
    for name, (value, message) in expected.items():
        with pytest.raises(ValidationError) as caught:
            validate(Sample, {name: value})
        assert caught.value.fields == {name: message}, name
