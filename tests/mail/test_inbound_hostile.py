"""Hostile inbound mail (issue 10, findings 4 and 9): whatever arrives is stored and ends with
an outcome and a reason in the inbound log, never a 500 nor a row left ``received``; NUL bytes
never reach the database; every answer of the webhook URL is in the JSON error envelope."""

from __future__ import annotations

import base64
import json

import pytest
from sqlalchemy import select

from flask_escalated.models import Contact, InboundEmail, Ticket

from .conftest import DOMAIN

pytestmark = pytest.mark.all_databases  # NUL and over-long values meet each database's types

SECRET = "inbound-secret-for-tests"
URL = "/support/webhook/email/inbound"
AUTH = {"X-Escalated-Inbound-Secret": SECRET}


@pytest.fixture
def app(make_app):
    app = make_app(ESCALATED_INBOUND_SECRET=SECRET, ESCALATED_MAIL_DOMAIN=DOMAIN)
    with app.app_context():
        yield app


def _raw(subject=b"Hello", body=b"Body text.", from_=b"Dana <dana@example.org>", extra=b""):
    return (b"From: " + from_ + b"\r\nTo: support@" + DOMAIN.encode() + b"\r\nSubject: "
            + subject + b"\r\nMessage-ID: <h1@example.org>\r\n" + extra
            + b"Content-Type: text/plain; charset=utf-8\r\n\r\n" + body + b"\r\n")


def _nested_multipart(depth: int) -> bytes:
    head = b"From: dana@example.org\r\nTo: support@" + DOMAIN.encode() + b"\r\nSubject: deep\r\n"
    parts = [head]
    for level in range(depth):
        parts.append(b'Content-Type: multipart/mixed; boundary="b%d"\r\n\r\n--b%d\r\n'
                     % (level, level))
    parts.append(b"Content-Type: text/plain\r\n\r\ndeep text\r\n")
    for level in reversed(range(depth)):
        parts.append(b"--b%d--\r\n" % level)
    return b"".join(parts)


def _deep_json(depth: int) -> str:
    return "[" * depth + "]" * depth


def _ses(raw: bytes) -> str:
    return json.dumps({"Type": "Notification", "MessageId": "n", "TopicArn": "arn:x",
                       "Message": json.dumps({
                           "receipt": {"action": {"type": "SNS", "encoding": "BASE64"}},
                           "mail": {"commonHeaders": {"from": ["dana@example.org"]}},
                           "content": base64.b64encode(raw).decode()})})


def _post(app, adapter, data, content_type="application/json"):
    if adapter == "mailgun":
        return app.test_client().post(f"{URL}?adapter=mailgun", data=data, headers=AUTH)
    return app.test_client().post(f"{URL}?adapter={adapter}", data=data,
                                  content_type=content_type, headers=AUTH)


def _log(ext):
    ext.session.rollback()
    return list(ext.session.execute(select(InboundEmail)).scalars())


POSTMARK = {"From": "dana@example.org", "Subject": "Hi", "TextBody": "Text",
            "MessageID": "p1@example.org", "To": f"support@{DOMAIN}"}

UNREADABLE = [
    pytest.param("raw", _nested_multipart(2000), "message/rfc822", "nest", id="mime-2000-deep"),
    pytest.param("raw", _raw(subject=b"Hi\x00there"), "message/rfc822", "NUL",
                 id="raw-nul-subject"),
    pytest.param("raw", _raw(body=b"Hello\x00world"), "message/rfc822", "NUL",
                 id="raw-nul-body"),
    pytest.param("raw", _raw(from_=b"Dana\x00 <dana@example.org>"), "message/rfc822", "NUL",
                 id="raw-nul-from"),
    pytest.param("postmark", '{"From": "dana@example.org", "Subject": ' + _deep_json(100_000)
                 + "}", "application/json", "nest", id="postmark-deep"),
    pytest.param("postmark", json.dumps({**POSTMARK, "Headers": [{"Name": "X",
                                                                  "Value": _deep_json(50)}]})
                 .replace('"[[', "[[").replace(']]"', "]]"), "application/json", None,
                 id="postmark-nested-header"),
    pytest.param("postmark", json.dumps({**POSTMARK, "TextBody": "a\u0000b"}),
                 "application/json", "NUL", id="postmark-nul-body"),
    pytest.param("postmark", json.dumps({**POSTMARK, "Subject": "a\u0000b"}),
                 "application/json", "NUL", id="postmark-nul-subject"),
    pytest.param("postmark", json.dumps({**POSTMARK, "FromName": "a\u0000b"}),
                 "application/json", "NUL", id="postmark-nul-name"),
    pytest.param("postmark", json.dumps({**POSTMARK, "TextBody": "a\ud800b"}),
                 "application/json", "Unicode", id="postmark-lone-surrogate"),
    pytest.param("mailgun", {"sender": "dana@example.org", "from": "dana@example.org",
                             "recipient": f"support@{DOMAIN}", "subject": "Hi",
                             "body-plain": "a\x00b", "message-headers": "[]"}, None, "NUL",
                 id="mailgun-nul-body"),
    pytest.param("mailgun", {"sender": "dana@example.org", "subject": "Hi",
                             "message-headers": _deep_json(100_000)}, None, "nest",
                 id="mailgun-deep-headers"),
    pytest.param("ses", _ses(_raw(body=b"Hello\x00world")), "application/json", "NUL",
                 id="ses-nul-body"),
    pytest.param("ses", _ses(_nested_multipart(2000)), "application/json", "nest",
                 id="ses-mime-2000-deep"),
]


@pytest.mark.parametrize(("adapter", "data", "content_type", "reason"), UNREADABLE)
def test_hostile_mail_is_stored_and_failed_with_the_reason(app, adapter, data, content_type,
                                                           reason):
    ext = app.extensions["escalated"]
    r = _post(app, adapter, data, content_type)
    (log,) = _log(ext)
    if reason is None:  # readable after all: filed, and nothing odd stored
        assert r.status_code == 201, r.get_json()
        assert log.status == "processed"
        return
    assert r.status_code == 422, r.get_data(as_text=True)[:300]
    assert r.json["error"]["code"] == "unreadable_mail"
    assert r.json["error"]["fields"]["inbound_id"] == log.id
    assert log.status == "failed" and log.outcome == "unreadable"
    assert reason.lower() in log.error.lower() and log.raw_size > 0 and log.raw_key
    assert list(ext.session.execute(select(Ticket)).scalars()) == []


def test_line_breaks_in_an_encoded_from_name_are_removed(app):
    """Decoded encoded words are stored as one line of text (the name used to crash)."""
    ext = app.extensions["escalated"]
    r = _post(app, "raw", _raw(
        from_=b"=?utf-8?q?Eve=0D=0ABcc:_all@corp.test=0D=0A=0D=0Ax?= <eve@example.org>",
        subject=b"=?utf-8?q?Hi=0D=0AX-Evil:_1=E2=80=A8two=C2=85three?="),
        "message/rfc822")
    assert r.status_code == 201, r.get_json()
    (log,) = _log(ext)
    assert log.status == "processed"
    assert log.from_name == "Eve Bcc: all@corp.test x" and log.from_email == "eve@example.org"
    (t,) = ext.session.execute(select(Ticket)).scalars()
    assert t.subject == "Hi X-Evil: 1 two three"
    assert ext.session.get(Contact, t.contact_id).name == "Eve Bcc: all@corp.test x"


@pytest.mark.parametrize("method", ["GET", "PUT", "PATCH", "DELETE"])
def test_a_wrong_method_is_a_json_405(app, method):
    r = app.test_client().open(f"{URL}?adapter=raw", method=method, headers=AUTH)
    assert r.status_code == 405 and r.is_json
    assert r.json["error"]["code"] == "method_not_allowed" and r.json["error"]["fields"] == {}
    assert "POST" in r.headers["Allow"]
    assert _log(app.extensions["escalated"]) == []


def test_storage_that_cannot_be_written_is_a_json_503(make_app, tmp_path):
    """Storage that cannot be written (a file where the folder should be): 503, so the
    provider sends the message again later; nothing is recorded meanwhile."""
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("x")
    app = make_app(ESCALATED_INBOUND_SECRET=SECRET, ESCALATED_MAIL_DOMAIN=DOMAIN,
                   ESCALATED_ATTACHMENT_STORAGE=str(blocker))
    with app.app_context():
        r = _post(app, "raw", _raw(), "message/rfc822")
        assert r.status_code == 503 and r.is_json
        assert r.json["error"]["code"] == "storage_unavailable" and "fields" in r.json["error"]


@pytest.mark.parametrize("query", ["status=nope", "ticket_id=%C2%B9",
                                   "ticket_id=%EF%BC%91%EF%BC%99",
                                   "ticket_id=99999999999999999999", "ticket_id=-1"])
def test_inbound_log_filters_are_checked(app, users, api, query):
    r = api(users.admin).get(f"/inbound-emails?{query}")
    assert r.status_code == 422, r.get_data(as_text=True)[:200]
    assert r.json["error"]["fields"]


def test_an_over_long_sender_is_no_sender(app):
    ext = app.extensions["escalated"]
    r = _post(app, "raw", _raw(from_=b"Dana <" + b"d" * 400 + b"@example.org>",
                               extra=b"Return-Path: <dana@example.org>\r\n"), "message/rfc822")
    assert r.status_code == 200 and r.json["outcome"] == "no_sender"
    (log,) = _log(ext)
    assert log.status == "failed" and log.from_email is None and "From" in log.error


@pytest.mark.parametrize("ident", ["99999999999999999999", "9223372036854775808"])
def test_inbound_ids_beyond_64_bits_are_404(app, users, api, ident):
    admin = api(users.admin)
    assert admin.get(f"/inbound-emails/{ident}").status_code == 404
    assert admin.post(f"/inbound-emails/{ident}/reprocess", {}).status_code == 404
