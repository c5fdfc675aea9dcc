"""Regression tests for the outside probe's web findings (issue 10: 4, 5 and the web part of 9).

Each test names the request the probe sent and what it got back then.
"""

from __future__ import annotations

import io
import re
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import func, select

from flask_escalated.config import ConfigurationError
from flask_escalated.events import Actor
from flask_escalated.models import Activity, Reply, Tag, Ticket
from flask_escalated.services import activity, assignment, attachments, replies, tags, tickets
from flask_escalated.services.ids import MAX_ID, parse_id
from flask_escalated.web.inputs import MAX_JSON_DEPTH, parse_json

API = "/support/api/v1"
HUGE = "99999999999999999999999"
FULLWIDTH_19 = "\uff11\uff19"


@pytest.fixture
def ext(app: Flask) -> Any:
    return app.extensions["escalated"]


def _ticket(ext: Any, users: Any, **fields: Any) -> Ticket:
    with ext.unit_of_work():
        t = tickets.create_ticket(tickets.NewTicket(
            subject="Printer jam", description="It jams.",
            requester_user_id=str(users.customer.id), **fields), Actor.customer(users.customer.id))
    return t


def _count(ext: Any, model: Any) -> int:
    ext.session.rollback()
    return int(ext.session.execute(select(func.count()).select_from(model)).scalar_one())


def _csrf(client: Any) -> str:
    with client.session_transaction() as session:
        session["_escalated_csrf"] = "edge-csrf"
    return "edge-csrf"


# ---------------------------------------------------------------------------- ids (finding 4)
@pytest.mark.parametrize(("raw", "expected"), [
    ("19", 19), (" 19 ", 19), (19, 19), (str(MAX_ID), MAX_ID),
    (FULLWIDTH_19, None), ("\u00b9", None), ("\u0661", None), (HUGE, None), (str(MAX_ID + 1), None),
    ("0", None), (0, None), (-1, None), ("-1", None), ("1e3", None), (True, None), (1.0, None),
    ("", None), (None, None), (2**64, None),
])
def test_parse_id_reads_ascii_digits_within_64_bits(raw: Any, expected: int | None) -> None:
    assert parse_id(raw) == expected


def test_ids_beyond_64_bits_or_not_ascii_are_404_on_every_resource(app, users, api, ext) -> None:
    t = _ticket(ext, users)
    admin = api(users.admin)
    for path in (f"/departments/{HUGE}", f"/tags/{HUGE}", f"/macros/{HUGE}",
                 f"/sla-policies/{HUGE}", f"/webhooks/{HUGE}", f"/automations/{HUGE}",
                 f"/kb/articles/{HUGE}", f"/inbound-emails/{HUGE}", f"/attachments/{HUGE}",
                 f"/tickets/{HUGE}", f"/tickets/ESC-{HUGE}", "/departments/%C2%B9",
                 f"/tickets/{FULLWIDTH_19}", "/tickets/%C2%B9", f"/tickets/ESC-{FULLWIDTH_19}",
                 f"/api-tokens/{HUGE}", f"/business-schedules/{HUGE}"):
        r = admin.get(path) if "api-tokens" not in path else admin.delete(path)
        assert r.status_code == 404, (path, r.status_code)
        assert r.json["error"]["code"] == "not_found"
    # The fullwidth form of an existing ticket's id does not name it.
    assert admin.get(f"/tickets/{t.id}").status_code == 200
    fullwidth = "".join(chr(0xFF10 + int(d)) for d in str(t.id))
    assert admin.get(f"/tickets/{fullwidth}").status_code == 404


@pytest.mark.parametrize("value", [HUGE, FULLWIDTH_19, "\u00b9", "1\u0000"])
def test_id_filters_refuse_what_is_not_an_id(app, users, api, client_as, value) -> None:
    r = api(users.admin).get("/tickets", query_string={"department_id": value})
    assert r.status_code == 422, r.json
    page = client_as(users.admin).get("/support/agent/tickets",
                                      query_string={"department": value})
    assert page.status_code == 422
    assert "<html" in page.get_data(as_text=True).lower()


def test_agent_form_ids_are_ascii(app, users, client_as, ext) -> None:
    t = _ticket(ext, users)
    client = client_as(users.admin)
    token = _csrf(client)
    r = client.post(f"/support/agent/tickets/{t.id}/department",
                    data={"csrf_token": token, "department_id": HUGE})
    assert r.status_code in (302, 303, 422)
    assert r.status_code < 500
    r = client.post(f"/support/agent/tickets/{t.id}/status",
                    data={"csrf_token": token, "status": "pending", "version": "\uff11"})
    assert r.status_code == 422
    r = client.post(f"/support/agent/tickets/{t.id}/notes/{HUGE}/pin",
                    data={"csrf_token": token})
    assert r.status_code == 404
    fullwidth = "".join(chr(0xFF10 + int(d)) for d in str(t.id))
    r = client.post("/support/agent/tickets/bulk",
                    data={"csrf_token": token, "ids": [fullwidth], "action": "priority",
                          "priority": "urgent"})
    assert r.status_code in (303, 422)
    ext.session.rollback()
    assert ext.session.get(Ticket, t.id).priority != "urgent"  # not read as the ticket's id


def test_customer_attachment_route_ids(app, users, client_as, ext) -> None:
    t = _ticket(ext, users)
    client = client_as(users.customer)
    for raw in (HUGE, "%C2%B9", "%EF%BC%91"):
        r = client.get(f"/support/tickets/{t.id}/files/{raw}")
        assert r.status_code == 404
        assert "Not found" in r.get_data(as_text=True)  # the layout's page, not Werkzeug's


# ---------------------------------------------------------------------------- NUL (finding 4)
def test_nul_in_reply_body_is_422_and_nothing_is_stored(app, users, api, ext) -> None:
    t = _ticket(ext, users)
    before = _count(ext, Reply)
    r = api(users.agent).post(f"/tickets/{t.id}/replies", json={"body": "a\u0000b"})
    assert r.status_code == 422 and r.json["error"]["code"] == "validation_error"
    assert "body" in r.json["error"]["fields"]
    assert _count(ext, Reply) == before


@pytest.mark.parametrize(("method", "path", "body"), [
    ("POST", "/tickets", {"subject": "x\u0000", "description": "d"}),
    ("POST", "/departments", {"name": "Ops\u0000"}),
    ("POST", "/tags", {"name": "v\u0000ip"}),
    ("POST", "/roles", {"slug": "r\u0000le", "name": "R", "permissions": ["ticket.view"]}),
    ("PATCH", "/tickets/{t}", {"metadata": {"k\u0000": "v"}}),
])
def test_nul_anywhere_in_json_is_422(app, users, api, ext, method, path, body) -> None:
    t = _ticket(ext, users)
    before = (_count(ext, Ticket), _count(ext, Tag))
    r = api(users.admin).call(method, path.format(t=t.id), json=body)
    assert r.status_code == 422, r.json
    assert (_count(ext, Ticket), _count(ext, Tag)) == before


def test_nul_in_query_strings_and_form_fields_is_422(app, users, api, client_as, ext) -> None:
    t = _ticket(ext, users)
    assert api(users.agent).get("/tickets", query_string={"q": "a\u0000"}).status_code == 422
    assert api(users.agent).get("/kb/search", query_string={"q": "\u0000"}).status_code == 422
    client = client_as(users.customer)
    token = _csrf(client)
    before = _count(ext, Reply)
    r = client.post(f"/support/tickets/{t.id}/reply", data={"csrf_token": token,
                                                            "body": "hi\u0000there"})
    assert r.status_code == 422
    assert "NUL" in r.get_data(as_text=True)
    assert _count(ext, Reply) == before
    assert client_as(None).get("/support/kb", query_string={"q": "\u0000"}).status_code == 422


# ---------------------------------------------------------------------------- JSON (finding 4)
@pytest.mark.parametrize(("raw", "status"), [
    ('{"metadata": {"a": NaN}}', 400),
    ('{"metadata": {"a": Infinity}}', 400),
    ('{"metadata": {"a": -Infinity}}', 400),
    ('{"metadata": {"a": 1e999}}', 400),
    ('{"metadata": {"a": 123456789012345678901234567890}}', 422),
    ('{"subject": "\\ud800"}', 422),
    ('{"subject": "\\udfff x"}', 422),
    ('{"metadata": {"\\ud800": 1}}', 422),
    ('{"subject": "a", "subject": "b"}', 400),
    ('{"metadata": ' + "[" * 5000 + "]" * 5000 + "}", 400),
    ('{"metadata": ' + "{\"a\":" * 3000 + "1" + "}" * 3000 + "}", 400),
    ("{\"subject\": \"\xff\"}", 400),
])
def test_json_bodies_are_parsed_strictly(app, users, client_as, ext, raw, status) -> None:
    t = _ticket(ext, users)
    client = client_as(users.admin)
    data = raw.encode("latin-1") if "\xff" in raw else raw.encode()
    r = client.patch(f"{API}/tickets/{t.id}", data=data, content_type="application/json")
    assert r.status_code == status, r.get_json()
    assert r.json["error"]["code"] in ("bad_request", "validation_error")
    ext.session.rollback()
    assert ext.session.get(Ticket, t.id).metadata_ in (None, {})


@pytest.mark.parametrize(("raw", "status", "fields"), [
    ('{"subject": "a", "subject": "b"}', 400, {"subject": "duplicate key"}),
    ('{"metadata": {"a": 1, "a": 2}}', 400, {"metadata.a": "duplicate key"}),
    ('{"metadata": {"x": {"b": 1, "c": 2, "b": 3}}}', 400, {"metadata.x.b": "duplicate key"}),
    ('{"metadata": {"l": [{"a": 1}, {"a": 1, "a": 1}]}}', 400,
     {"metadata.l[1].a": "duplicate key"}),
    ('{"metadata": {"k\\u0000": 1}}', 422,
     {"metadata.k\\u0000": "the key contains a NUL character"}),
    ('{"\\u0000": 1}', 422, {"\\u0000": "the key contains a NUL character"}),
    ('{"metadata": {"\\ud800": 1}}', 422,
     {"metadata.\\ud800": "the key contains an unpaired surrogate"}),
    ('{"metadata": {"a": "x\\u0000"}}', 422, {"metadata.a": "contains a NUL character"}),
])
def test_json_refusals_name_the_path(app, users, client_as, ext, raw, status, fields) -> None:
    """A duplicate or unstorable key deep in the body is named by its dotted path (it was
    named by the bare key, ``a``), and a NUL in a key is shown escaped (it was ``?``)."""
    t = _ticket(ext, users)
    r = client_as(users.admin).patch(f"{API}/tickets/{t.id}", data=raw.encode(),
                                     content_type="application/json")
    assert r.status_code == status, r.get_json()
    assert r.json["error"]["fields"] == fields
    name = next(iter(fields))
    assert name in r.json["error"]["message"]


def test_nul_in_a_query_or_form_name_is_named_plainly(app, users, api, client_as) -> None:
    r = api(users.agent).get("/tickets", query_string={"q\u0000": "x"})
    assert r.status_code == 422
    assert r.json["error"]["fields"] == {"q\\u0000": "the name contains a NUL character"}


def test_nan_metadata_is_never_stored_so_reads_stay_valid_json(app, users, client_as, ext) -> None:
    t = _ticket(ext, users)
    client = client_as(users.admin)
    r = client.patch(f"{API}/tickets/{t.id}", data='{"metadata": {"a": NaN}}',
                     content_type="application/json")
    assert r.status_code == 400
    shown = client.get(f"{API}/tickets/{t.id}")
    assert "NaN" not in shown.get_data(as_text=True)


def test_parse_json_keeps_what_is_valid() -> None:
    deep_ok = "[" * MAX_JSON_DEPTH + "]" * MAX_JSON_DEPTH
    assert parse_json(deep_ok.encode()) is not None
    assert parse_json(b'{"a": "[[[{{{\\"", "b": [1.5, -2, null, true]}') == {
        "a": '[[[{{{"', "b": [1.5, -2, None, True]}
    assert parse_json(b'{"e": "\\ud83d\\ude00"}') == {"e": "\U0001f600"}  # a valid pair
    assert parse_json(b"\xef\xbb\xbf{}") == {}


def test_widget_parses_strictly_too(make_app, users_for) -> None:
    app = make_app(ESCALATED_WIDGET_ORIGINS=["https://shop.example"])
    client = app.test_client()
    headers = {"Origin": "https://shop.example"}
    for raw, status in (('{"name": NaN}', 400), ('{"subject": "\\ud800"}', 422),
                        ('{"a": ' + "[" * 3000 + "]" * 3000 + "}", 400),
                        ('{"subject": "a\\u0000"}', 422)):
        r = client.post("/support/widget/tickets", data=raw, content_type="application/json",
                        headers=headers)
        assert r.status_code == status, (raw[:30], r.get_json())
        assert set(r.json) == {"error"}
    with app.app_context():
        assert app.extensions["escalated"].session.execute(
            select(func.count()).select_from(Ticket)).scalar_one() == 0


def test_non_ascii_csrf_token_is_a_mismatch_not_a_crash(app, users, client_as, ext) -> None:
    t = _ticket(ext, users)
    client = client_as(users.customer)
    _csrf(client)
    r = client.post(f"/support/tickets/{t.id}/reply", data={"csrf_token": "\u00e9t\u00e9",
                                                            "body": "hi"})
    assert r.status_code == 400
    assert "form expired" in r.get_data(as_text=True)


# ---------------------------------------------------------------------------- headers (finding 5)
def test_html_pages_refuse_framing_and_limit_the_referrer(app, users, client_as) -> None:
    r = client_as(users.customer).get("/support/tickets")
    assert r.status_code == 200
    assert r.headers["X-Frame-Options"] == "SAMEORIGIN"
    assert "frame-ancestors 'self'" in r.headers["Content-Security-Policy"]
    assert r.headers["Referrer-Policy"] == "strict-origin-when-cross-origin"
    assert r.headers["X-Content-Type-Options"] == "nosniff"
    for path in ("/support/kb", "/support/nothing-here", f"{API}/me"):
        assert "frame-ancestors" in client_as(None).get(path).headers["Content-Security-Policy"]


def test_the_widget_is_the_deliberate_exception(app) -> None:
    r = app.test_client().get("/support/widget/embed.js")
    assert r.status_code == 200
    assert "X-Frame-Options" not in r.headers
    assert "Content-Security-Policy" not in r.headers
    assert r.headers["Referrer-Policy"] == "strict-origin-when-cross-origin"


def test_framing_and_referrer_are_configurable(make_app, users_for) -> None:
    app = make_app(ESCALATED_FRAME_ANCESTORS=["'self'", "https://intranet.example"],
                   ESCALATED_REFERRER_POLICY="no-referrer")
    r = app.test_client().get("/support/kb")
    assert "frame-ancestors 'self' https://intranet.example" in \
        r.headers["Content-Security-Policy"]
    assert "X-Frame-Options" not in r.headers  # it cannot express a list; CSP does
    assert r.headers["Referrer-Policy"] == "no-referrer"
    denied = make_app(ESCALATED_FRAME_ANCESTORS="'none'")
    assert denied.test_client().get("/support/kb").headers["X-Frame-Options"] == "DENY"


@pytest.mark.parametrize(("key", "value"), [
    ("ESCALATED_FRAME_ANCESTORS", "https://a.example; script-src *"),
    ("ESCALATED_FRAME_ANCESTORS", ["https://a.example\r\nX-Evil: 1"]),
    ("ESCALATED_FRAME_ANCESTORS", []),
    ("ESCALATED_FRAME_ANCESTORS", ["'none'", "'self'"]),
    ("ESCALATED_REFERRER_POLICY", "always"),
])
def test_bad_header_config_fails_at_start_up(make_app, key, value) -> None:
    with pytest.raises(ConfigurationError, match=key):
        make_app(**{key: value})


def test_host_pages_are_left_alone(app) -> None:
    @app.get("/host-page")
    def host_page() -> str:
        return "<p>host</p>"

    r = app.test_client().get("/host-page")
    assert "X-Frame-Options" not in r.headers and "Referrer-Policy" not in r.headers
    assert app.test_client().get("/host-missing").status_code == 404


def test_attachment_downloads_keep_their_sandbox_and_refuse_framing(app, users, api, ext) -> None:
    t = _ticket(ext, users)
    with ext.unit_of_work():
        (row,) = attachments.add(tickets.get_ticket(t.id),
                                 [attachments.Upload("a.txt", io.BytesIO(b"hi"))],
                                 Actor.customer(users.customer.id))
    r = api(users.customer).get(f"/attachments/{row.id}")
    assert r.status_code == 200
    policy = r.headers["Content-Security-Policy"]
    assert "sandbox" in policy and "frame-ancestors 'self'" in policy


def test_escalated_sets_no_cookie_of_its_own(app, users, client_as, ext) -> None:
    t = _ticket(ext, users)
    client = client_as(users.customer)
    r = client.get(f"/support/tickets/{t.id}")
    assert r.status_code == 200
    for header in r.headers.getlist("Set-Cookie"):
        assert header.startswith(app.config["SESSION_COOKIE_NAME"] + "=")  # the host's only


# ---------------------------------------------------------------------------- 404s (finding 9)
def test_attachment_404_is_identical_whether_it_exists_or_not(app, users, api, ext) -> None:
    t = _ticket(ext, users)
    with ext.unit_of_work():
        (row,) = attachments.add(tickets.get_ticket(t.id),
                                 [attachments.Upload("a.txt", io.BytesIO(b"hi"))],
                                 Actor.customer(users.customer.id))
    stranger = api(users.other)
    exists, missing = stranger.get(f"/attachments/{row.id}"), stranger.get("/attachments/999999")
    assert exists.status_code == missing.status_code == 404
    assert exists.get_data() == missing.get_data()
    assert str(t.id) not in exists.get_data(as_text=True)


def test_internal_attachment_is_the_same_404_for_the_customer(app, users, api, ext) -> None:
    t = _ticket(ext, users)
    with ext.unit_of_work():
        (row,) = attachments.add(tickets.get_ticket(t.id),
                                 [attachments.Upload("n.txt", io.BytesIO(b"hi"))],
                                 Actor.agent(users.agent.id), is_internal=True)
    customer = api(users.customer)
    assert customer.get(f"/attachments/{row.id}").get_data() == \
        customer.get("/attachments/999999").get_data()
    assert api(users.agent).get(f"/attachments/{row.id}").status_code == 200


# ---------------------------------------------------------------------------- customer view (9)
def test_customers_see_no_tags_and_no_agent_only_activity(app, users, api, ext) -> None:
    t = _ticket(ext, users)
    with ext.unit_of_work():
        ticket = tickets.get_ticket(t.id)
        tags.add_tags(ticket, ["vip"], Actor.agent(users.agent.id))
        assignment.assign(ticket, str(users.agent.id), Actor.system(), strategy="round_robin")
        replies.add_reply(ticket, "secret", Actor.agent(users.agent.id), internal=True)
        replies.add_reply(ticket, "Hello", Actor.agent(users.agent.id))
        activity.record(ticket, "sla_breached", Actor.system(), target="first_response")
        activity.record(ticket, "sla_warning", Actor.system(), target="resolution")
        activity.record(ticket, "snoozed", Actor.agent(users.agent.id), until="2030-01-01")
    customer, agent = api(users.customer), api(users.agent)

    shown = customer.get(f"/tickets/{t.id}").json["data"]
    assert "tags" not in shown and "vip" not in str(shown)
    listed = customer.get("/tickets").json["data"][0]
    assert "tags" not in listed
    assert [x["slug"] for x in agent.get(f"/tickets/{t.id}").json["data"]["tags"]] == ["vip"]

    seen = customer.get(f"/tickets/{t.id}/activity").json["data"]
    types = [a["type"] for a in seen]
    assert "created" in types and "assigned" in types and "reply_added" in types
    for hidden in ("tag_added", "sla_breached", "sla_warning", "snoozed", "note_added"):
        assert hidden not in types
    assigned = next(a for a in seen if a["type"] == "assigned")
    assert "strategy" not in assigned["properties"] and "previous" not in assigned["properties"]
    created = next(a for a in seen if a["type"] == "created")
    assert "tags" not in created["properties"]

    everything = {a["type"] for a in agent.get(f"/tickets/{t.id}/activity").json["data"]}
    assert {"tag_added", "sla_breached", "note_added", "snoozed"} <= everything
    strategy = next(a for a in agent.get(f"/tickets/{t.id}/activity").json["data"]
                    if a["type"] == "assigned")["properties"]["strategy"]
    assert strategy == "round_robin"
    ext.session.rollback()
    assert _count(ext, Activity) >= len(everything)


# ---------------------------------------------------------------------------- formats (9)
@pytest.mark.parametrize(("method", "path"), [
    ("GET", "/support/api/v1/nothing"), ("DELETE", "/support/api/v1/me"),
    ("GET", "/support/widget/nothing"), ("DELETE", "/support/widget/tickets"),
    ("GET", "/support/webhook/email/inbound"), ("PUT", "/support/webhook/email/inbound"),
    ("GET", "/support/live/nothing"),
])
def test_json_areas_answer_errors_in_the_envelope(app, method, path) -> None:
    r = app.test_client().open(path, method=method)
    assert r.status_code in (404, 405)
    assert r.is_json and set(r.json["error"]) == {"code", "message", "fields"}
    assert r.json["error"]["code"] in ("not_found", "method_not_allowed")
    if r.status_code == 405:
        assert r.headers["Allow"]


@pytest.mark.parametrize(("method", "path", "status"), [
    ("GET", "/support/nothing", 404), ("GET", "/support/tickets/1/nothing", 404),
    ("DELETE", "/support/kb", 405), ("GET", "/support/guest/x/reply", 405),
    ("GET", "/support/agent/tickets/1/reply", 405),
])
def test_html_areas_answer_errors_with_the_layouts_page(app, users, client_as, method, path,
                                                         status) -> None:
    r = client_as(users.customer).open(path, method=method)
    assert r.status_code == status
    body = r.get_data(as_text=True)
    assert r.mimetype == "text/html" and 'class="esc-flash esc-flash-error"' in body
    assert "Werkzeug" not in body and "<title>4" in body


def test_too_large_is_the_layouts_page_or_the_envelope(make_app, users_for) -> None:
    app = make_app(MAX_CONTENT_LENGTH=1000)
    people = users_for(app)
    client = app.test_client(user=people.customer)
    token = _csrf(client)
    page = client.post("/support/tickets/new", data={"csrf_token": token, "subject": "x" * 5000})
    assert page.status_code == 413 and "Too large" in page.get_data(as_text=True)
    widget = app.test_client().post("/support/widget/tickets", json={"name": "x" * 5000})
    assert widget.status_code == 413 and widget.json["error"]["code"] == "payload_too_large"


def test_an_expired_form_is_the_layouts_page(app, users, client_as, ext) -> None:
    t = _ticket(ext, users)
    r = client_as(users.customer).post(f"/support/tickets/{t.id}/reply", data={"body": "x"})
    assert r.status_code == 400
    assert re.search(r"form expired", r.get_data(as_text=True))


def test_a_crash_is_the_layouts_page_or_the_envelope(make_app, users_for, tmp_path) -> None:
    """With exceptions not propagated (as in production), an unexpected failure under the
    prefix answers in the area's format. The stored file is replaced by a folder, so reading it
    fails below the views with an error no handler expects (a real failure, no stand-in)."""
    import os

    storage = tmp_path / "files"
    app = make_app(TESTING=False, ESCALATED_ATTACHMENT_STORAGE=str(storage))
    people = users_for(app)
    with app.app_context():
        ext = app.extensions["escalated"]
        with ext.unit_of_work():
            t = tickets.create_ticket(tickets.NewTicket(
                subject="Printer jam", description="It jams.",
                requester_user_id=str(people.customer.id)), Actor.customer(people.customer.id))
            (row,) = attachments.add(t, [attachments.Upload("a.txt", io.BytesIO(b"hi"))],
                                     Actor.customer(people.customer.id))
            path = os.path.join(str(storage), row.storage_key)
            ticket_id, row_id = t.id, row.id
    os.remove(path)
    os.mkdir(path)
    client = app.test_client(user=people.customer)
    page = client.get(f"/support/tickets/{ticket_id}/files/{row_id}")
    assert page.status_code == 500
    assert "Something went wrong" in page.get_data(as_text=True)
    assert 'class="esc-flash esc-flash-error"' in page.get_data(as_text=True)
    api_answer = client.get(f"{API}/attachments/{row_id}")
    assert api_answer.status_code == 500
    assert api_answer.json["error"]["code"] == "server_error"
