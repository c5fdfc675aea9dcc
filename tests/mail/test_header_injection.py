"""Header injection into outgoing mail (issue 10, finding 1): a subject or name that carries an
encoded word or raw line breaks reaches the notifications as data, through every way a ticket
is opened (API, portal, widget, inbound mail), checked on what a real SMTP server received."""

from __future__ import annotations

import json
import re
from email.header import decode_header, make_header

import pytest
from sqlalchemy import select

from flask_escalated.events import Actor
from flask_escalated.models import Ticket
from flask_escalated.services import departments, mail_ids

from .conftest import DOMAIN, mail_config

ENCODED_WORD = "X =?utf-8?q?=0D=0AReply-To:_attacker@evil.example=0D=0A=0D=0AINJECTED?="
RAW_BREAKS = "X\r\nReply-To: attacker@evil.example\r\n\r\nINJECTED"
INBOUND_SECRET = "inbound-secret-for-tests"
ORIGIN = "https://shop.example"
#: The headers every notification carries (and nothing else at the top level).
EXPECTED = {"subject", "from", "to", "date", "message-id", "x-escalated-ticket-id",
            "auto-submitted", "x-auto-response-suppress", "reply-to", "content-type",
            "mime-version"}


@pytest.fixture
def app(make_app, smtp):
    app = make_app(**mail_config(smtp.port), ESCALATED_INBOUND_SECRET=INBOUND_SECRET,
                   ESCALATED_WIDGET_ORIGINS=[ORIGIN])
    with app.app_context():
        yield app


def _csrf(html: str) -> str:
    return re.search(r'name="csrf_token" value="([^"]+)"', html).group(1)


def _open_api(app, client_as, users, subject, dept_id):
    r = client_as(users.customer).post("/support/api/v1/tickets", json={
        "subject": subject, "description": "Body text.", "department_id": dept_id})
    assert r.status_code == 201, r.get_json()


def _open_portal(app, client_as, users, subject, dept_id):
    client = client_as(users.customer)
    token = _csrf(client.get("/support/tickets/new").get_data(as_text=True))
    r = client.post("/support/tickets/new", data={
        "csrf_token": token, "subject": subject, "description": "Body text.",
        "department_id": str(dept_id)})
    assert r.status_code == 302, r.get_data(as_text=True)[:500]


def _open_widget(app, client_as, users, subject, dept_id):
    r = app.test_client().post("/support/widget/tickets", headers={"Origin": ORIGIN}, json={
        "name": "Dana", "email": "dana@example.org", "subject": subject,
        "description": "Body text.", "department_id": dept_id})
    assert r.status_code == 201, r.get_json()


def _open_inbound(app, client_as, users, subject, dept_id):
    if "\r" in subject:  # raw line breaks cannot be written in a MIME header: Postmark JSON
        r = app.test_client().post(
            "/support/webhook/email/inbound?adapter=postmark",
            data=json.dumps({"From": "dana@example.org", "FromName": "Dana", "Subject": subject,
                             "TextBody": "Body text.", "MessageID": "m-raw@example.org",
                             "To": f"support@{DOMAIN}"}),
            content_type="application/json",
            headers={"X-Escalated-Inbound-Secret": INBOUND_SECRET})
    else:
        raw = (f"From: Dana <dana@example.org>\r\nTo: support@{DOMAIN}\r\n"
               f"Subject: {subject}\r\nMessage-ID: <m-ew@example.org>\r\n"
               "Content-Type: text/plain; charset=utf-8\r\n\r\nBody text.\r\n").encode()
        r = app.test_client().post("/support/webhook/email/inbound?adapter=raw", data=raw,
                                   content_type="message/rfc822",
                                   headers={"X-Escalated-Inbound-Secret": INBOUND_SECRET})
    assert r.status_code == 201, r.get_json()


@pytest.mark.parametrize("subject", [ENCODED_WORD, RAW_BREAKS], ids=["encoded-word", "crlf"])
@pytest.mark.parametrize("opener", [_open_api, _open_portal, _open_widget, _open_inbound],
                         ids=["api", "portal", "widget", "inbound"])
def test_subjects_reach_notifications_as_data(app, users, client_as, smtp, subject, opener):
    ext = app.extensions["escalated"]
    with ext.unit_of_work():
        dept = departments.create_department(Actor.system(), {
            "name": "Hardware", "agent_ids": [str(users.agent.id), str(users.agent2.id)]})
    opener(app, client_as, users, subject, dept.id)
    ext.session.rollback()
    (ticket,) = ext.session.execute(select(Ticket)).scalars()
    assert "\r" not in ticket.subject and "\n" not in ticket.subject
    if opener is _open_inbound:  # a decoded encoded word is stored without its line breaks
        assert ticket.subject == "X Reply-To: attacker@evil.example INJECTED"
    # Inbound mail lands in no department: only the requester hears of it.
    expected_count = 1 if opener is _open_inbound else 3
    assert ticket.department_id == (None if opener is _open_inbound else dept.id)
    messages = smtp.wait(expected_count)
    assert len(messages) == expected_count
    agents = {users.agent.email, users.agent2.email}
    for msg in messages:
        # Agents' mail is signed with the agent key, the requester's with the customer key.
        signed = mail_ids.reply_address(ticket.id, agent=str(msg["To"].addresses[0].addr_spec)
                                        in agents)
        names = [k.lower() for k in msg]
        assert len(names) == len(set(names)), names
        assert set(names) - {"in-reply-to", "references"} == EXPECTED, names
        assert msg.get_all("Reply-To") == [signed]
        raw_subject = dict((k.lower(), v) for k, v in msg.raw_items())["subject"]
        decoded = str(make_header(decode_header(re.sub(r"\r?\n[ \t]", " ", raw_subject))))
        assert "\n" not in decoded and "\r" not in decoded
        if opener in (_open_widget, _open_inbound) and msg["To"].addresses[0].addr_spec \
                not in agents:  # a stranger's confirmation quotes nothing they wrote
            assert decoded == f"[{ticket.reference}] We received your request"
        else:
            assert ticket.subject in decoded
        for name, value in msg.items():
            if name.lower() != "subject":
                assert "attacker" not in str(value) and "INJECTED" not in str(value), name
        assert msg.get_content_type() == "multipart/alternative"
        text, html = msg.get_body(("plain",)), msg.get_body(("html",))
        assert text is not None and html is not None
        assert not text.get_content().lstrip().startswith("INJECTED")
        assert "Reply-To: attacker" not in text.get_content().split("\n", 1)[0]


def _raw_header(msg, name):
    raw = dict((k.lower(), v) for k, v in msg.raw_items())[name.lower()]
    return re.sub(r"\r?\n[ \t]", " ", raw)


def test_display_names_are_data(app, smtp):
    """The helpdesk's name (a setting) reaches From as data; a stranger's typed name is left out."""
    from flask_escalated.services import settings

    ext = app.extensions["escalated"]
    with ext.unit_of_work():
        settings.set_value("app_name", f"Help {ENCODED_WORD}")
    r = app.test_client().post("/support/widget/tickets", headers={"Origin": ORIGIN}, json={
        "name": f"Dana {ENCODED_WORD}", "email": "dana@example.org", "subject": "Hello",
        "description": "Body text."})
    assert r.status_code == 201, r.get_json()
    (msg,) = smtp.wait(1)
    assert msg.get_all("Reply-To") is not None and len(msg.get_all("Reply-To")) == 1
    assert "attacker" not in str(msg["Reply-To"])
    raw = _raw_header(msg, "From")
    assert "\n" not in raw and "\r" not in raw
    display = raw.rsplit("<", 1)[0].strip()
    assert str(make_header(decode_header(display))) == f"Help {ENCODED_WORD}"
    # A stranger's confirmation carries no name they typed, only the address.
    assert _raw_header(msg, "To") == "dana@example.org"
    assert msg.get_content_type() == "multipart/alternative"


def test_bad_header_values_are_refused_by_the_builder(app):
    from flask_escalated.services import mail

    def build(**over):
        args = {"subject": "s", "sender": ("Help", f"help@{DOMAIN}"),
                "to": ("Dana", "dana@example.org"), "headers": {}, "text": "t", **over}
        return mail.build_message(**args)

    for bad in ({"to": (None, "dana@example.org\r\nBcc: x@evil.example")},
                {"to": (None, "dana@example.org>, <x@evil.example")},
                {"to": (None, "no-at-sign")},
                {"headers": {"In-Reply-To": "<a@b>\r\nBcc: x@evil.example"}},
                {"headers": {"References": "<a@b> not-an-id"}},
                {"headers": {"X-Bad\r\nBcc": "1"}},
                {"headers": {"Reply-To": "x@evil.example\nBcc: y@evil.example"}}):
        with pytest.raises(mail.Undeliverable):
            build(**bad)
    built = build(subject="Line\u2028two\x85three\x0bfour", headers={"X-Note": "a\nb"})
    raw = built.as_bytes().decode()
    head = raw.split("\r\n\r\n", 1)[0]
    assert "Subject: Line two three four\r\n" in head and "X-Note: a b\r\n" in head


def test_escalation_rule_mail_is_built_the_same_way(app, smtp):
    from flask_escalated.services import notify

    payload = {"kind": "notify_email", "ticket_id": 1, "reference": "ESC-00001",
               "subject": RAW_BREAKS, "assignee_id": None, "rule": "Late",
               "value": {"to": "boss@example.org", "subject": ENCODED_WORD, "body": ""}}
    assert notify.send(payload) == "sent"
    (msg,) = smtp.wait(1)
    assert msg.get_all("Reply-To") is None
    assert str(make_header(decode_header(_raw_header(msg, "Subject")))) == ENCODED_WORD
    assert msg["To"] == "boss@example.org" and "INJECTED" in msg.get_content()
