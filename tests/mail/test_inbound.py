"""Inbound mail through the webhook: each provider's documented payload shape, threading,
sender checks, idempotency, machine mail, hostile and broken input."""

from __future__ import annotations

import base64
import hashlib
import hmac
import io
import json
import os
from email.message import EmailMessage

import pytest
from sqlalchemy import func, select

from flask_escalated.events import Actor
from flask_escalated.models import Attachment, Contact, InboundEmail, Reply, Ticket
from flask_escalated.models.search import TicketSearchDocument
from flask_escalated.services import tickets

from .conftest import DOMAIN, REPLY_SECRET

pytestmark = pytest.mark.all_databases

SECRET = "inbound-secret-for-tests"
URL = "/support/webhook/email/inbound"


@pytest.fixture
def app(make_app, smtp):
    """Header threading on: no reply secret (with one, only the signed address counts)."""
    app = make_app(ESCALATED_INBOUND_SECRET=SECRET, ESCALATED_MAIL_DOMAIN=DOMAIN)
    with app.app_context():
        yield app


@pytest.fixture
def signed_app(make_app):
    app = make_app(ESCALATED_INBOUND_SECRET=SECRET, ESCALATED_MAIL_DOMAIN=DOMAIN,
                   ESCALATED_REPLY_SECRET=REPLY_SECRET)
    with app.app_context():
        yield app


def post(app, adapter, body, *, secret=SECRET, content_type="application/json"):
    data = json.dumps(body) if isinstance(body, dict) else body
    headers = {"X-Escalated-Inbound-Secret": secret} if secret is not None else {}
    return app.test_client().post(f"{URL}?adapter={adapter}", data=data,
                                  content_type=content_type, headers=headers)


def postmark(sender="dana@example.org", name="Dana Okafor", subject="Printer jam",
             text="The printer is jammed.", html="", headers=(), message_id=None,
             attachments=()):
    return {
        "FromName": name, "From": sender, "FromFull": {"Email": sender, "Name": name},
        "To": f"support@{DOMAIN}", "ToFull": [{"Email": f"support@{DOMAIN}", "Name": ""}],
        "OriginalRecipient": f"support@{DOMAIN}", "Subject": subject,
        "MessageID": message_id or f"{hashlib.md5((sender + subject + text).encode()).hexdigest()}",
        "Date": "Mon, 23 Nov 2026 09:00:00 +0000", "TextBody": text, "HtmlBody": html,
        "StrippedTextReply": "", "Tag": "", "MailboxHash": "",
        "Headers": [{"Name": k, "Value": v} for k, v in headers],
        "Attachments": [{"Name": n, "ContentType": t, "Content": base64.b64encode(b).decode(),
                         "ContentLength": len(b)} for n, t, b in attachments],
    }


def rows(ext, model, *where):
    ext.session.rollback()
    return list(ext.session.execute(select(model).where(*where)).scalars())


def customer_ticket(ext, users):
    with ext.unit_of_work():
        t = tickets.create_ticket(tickets.NewTicket(
            subject="Printer jam", description="d", requester_user_id=str(users.customer.id)),
            Actor.customer(users.customer.id))
    return t.id, t.reference


def test_postmark_new_ticket_from_a_stranger(app, ext):
    r = post(app, "postmark", postmark(
        html="<p>Hi<script>alert(1)</script><img src=x onerror=alert(2)></p>",
        attachments=[("report.pdf", "application/pdf", b"%PDF-1.4 data")]))
    assert r.status_code == 201, r.json
    assert r.json["outcome"] == "ticket_created" and r.json["matched_by"] == "none"
    (t,) = rows(ext, Ticket)
    assert t.channel == "email" and t.requester_user_id is None
    contact = ext.session.get(Contact, t.contact_id)
    assert (contact.email, contact.name) == ("dana@example.org", "Dana Okafor")
    html = t.metadata_["email"]["html"]
    assert "<script" not in html and "onerror" not in html
    (att,) = rows(ext, Attachment)
    assert att.filename == "report.pdf" and att.content_type == "application/pdf"
    (log,) = rows(ext, InboundEmail)
    assert log.status == "processed" and log.ticket_id == t.id and log.raw_size > 0


def test_threading_order_and_sender_check(app, ext, users):
    tid, ref = customer_ticket(ext, users)
    other_tid, _ = customer_ticket(ext, users)
    # In-Reply-To wins over References naming another ticket.
    r = post(app, "postmark", postmark(
        sender="customer@example.test", subject="Re: Printer jam",
        text="Still jammed.\n\nOn Mon, Support wrote:\n> old text", headers=[
            ("In-Reply-To", f"<ticket-{tid}@{DOMAIN}>"),
            ("References", f"<ticket-{other_tid}@{DOMAIN}>")]))
    assert r.status_code == 200 and r.json["matched_by"] == "in_reply_to"
    assert r.json["ticket_id"] == tid and r.json["outcome"] == "reply_added"
    ext.session.rollback()  # a fresh snapshot (MariaDB reads are repeatable)
    reply = ext.session.get(Reply, r.json["reply_id"])
    assert reply.body == "Still jammed." and "old text" in reply.metadata_["email"]["full_text"]
    assert reply.channel == "email" and reply.author_user_id == str(users.customer.id)

    r = post(app, "postmark", postmark(sender="customer@example.test", text="Via references",
                                       headers=[("References", f"<x@y> <ticket-{tid}@{DOMAIN}>")]))
    assert r.json["matched_by"] == "references" and r.json["ticket_id"] == tid

    r = post(app, "postmark", postmark(sender="customer@example.test", text="By subject",
                                       subject=f"Fwd: [{ref}] Printer jam"))
    assert r.json["matched_by"] == "subject_reference" and r.json["outcome"] == "reply_added"

    # The same reference from a stranger: a new ticket, nothing appended.
    r = post(app, "postmark", postmark(sender="mallory@evil.test", text="Append me",
                                       subject=f"[{ref}] please reset the admin password"))
    assert r.status_code == 201 and r.json["outcome"] == "ticket_created"
    assert r.json["ticket_id"] != tid
    assert not rows(ext, Reply, Reply.ticket_id == tid, Reply.body == "Append me")


def test_only_an_accepted_reply_reopens(app, ext, users):
    tid, ref = customer_ticket(ext, users)
    with ext.unit_of_work():
        tickets.change_status(tickets.get_ticket(tid), "resolved", Actor.agent(users.agent.id))
    post(app, "postmark", postmark(sender="mallory@evil.test", subject=f"[{ref}] hi"))
    assert rows(ext, Ticket, Ticket.id == tid)[0].status == "resolved"
    post(app, "postmark", postmark(sender="customer@example.test", subject=f"[{ref}] again"))
    assert rows(ext, Ticket, Ticket.id == tid)[0].status == "reopened"


def test_signed_reply_to_is_the_only_key_with_a_secret(signed_app, users_for):
    app, ext = signed_app, signed_app.extensions["escalated"]
    people = users_for(app)
    with ext.unit_of_work():
        t = tickets.create_ticket(tickets.NewTicket(
            subject="Printer jam", description="d", requester_user_id=str(people.customer.id)),
            Actor.system())
    tag = hmac.new(REPLY_SECRET.encode(), str(t.id).encode(), hashlib.sha256).hexdigest()[:8]
    form = {"sender": "customer@example.test", "from": "Casey <customer@example.test>",
            "recipient": f"reply+{t.id}.{tag}@{DOMAIN}", "subject": "Re: Printer jam",
            "body-plain": "Signed reply", "Message-Id": "<m1@mail.example.test>",
            "message-headers": json.dumps([["Message-Id", "<m1@mail.example.test>"]])}
    r = app.test_client().post(f"{URL}?adapter=mailgun", data={
        **form, "attachment-1": (io.BytesIO(b"hello"), "note.txt", "text/plain")},
        headers={"X-Escalated-Inbound-Secret": SECRET})
    assert r.status_code == 200, r.json
    assert r.json["matched_by"] == "envelope_to" and r.json["ticket_id"] == t.id
    # A forged tag, or the headers alone, identify nothing once a secret is set.
    forged = {**form, "recipient": f"reply+{t.id}.deadbeef@{DOMAIN}",
              "Message-Id": "<m2@mail.example.test>", "In-Reply-To": f"<ticket-{t.id}@{DOMAIN}>",
              "message-headers": "[]"}
    r = app.test_client().post(f"{URL}?adapter=mailgun", data=forged,
                               headers={"X-Escalated-Inbound-Secret": SECRET})
    assert r.status_code == 201 and r.json["matched_by"] == "none"


def test_secret_is_required(app, ext):
    assert post(app, "postmark", postmark(), secret=None).status_code == 401
    assert post(app, "postmark", postmark(), secret="wrong").status_code == 401
    assert post(app, "nope", postmark()).status_code == 400
    assert rows(ext, InboundEmail) == []


def test_duplicate_delivery_creates_one_reply(app, ext, users):
    tid, _ = customer_ticket(ext, users)
    payload = postmark(sender="customer@example.test", message_id="<same@mail.test>",
                       headers=[("In-Reply-To", f"<ticket-{tid}@{DOMAIN}>")], text="Once")
    first, second = post(app, "postmark", payload), post(app, "postmark", payload)
    assert first.json["outcome"] == "reply_added" and second.json["outcome"] == "duplicate"
    assert len(rows(ext, Reply, Reply.ticket_id == tid, Reply.body == "Once")) == 1
    assert len(rows(ext, InboundEmail)) == 2  # both deliveries are on record


def test_a_message_costs_a_bounded_number_of_statements(app, ext, count_queries):
    """A new ticket from a stranger and the stranger's reply, through the raw adapter.

    New: the stored message (+ its commit), the host user and contact lookups, the
    generation stamp, the contact (one ``INSERT ... ON CONFLICT DO NOTHING`` on PostgreSQL
    and SQLite, ``INSERT ... ON DUPLICATE KEY UPDATE`` on MariaDB), the ticket, the log row's
    outcome, the activity row, the reference and the search document. Reply: the same
    lookups, the reply (its e-mail headers inside the INSERT), the ticket's UPDATE, the
    outcome, the activity row, and the search document from the ticket in memory and its
    replies."""
    app.config["ESCALATED_PROCESS_CACHE"] = True  # as deployed (the suite runs without it)
    warm = post(app, "raw", _mime(From="lee@example.org", Message_ID="<w@example.org>"),
                content_type="message/rfc822")
    assert warm.status_code == 201, warm.json
    with count_queries() as q:
        r = post(app, "raw", _mime(Subject="Invoice missing", Message_ID="<n1@example.org>"),
                 content_type="message/rfc822")
    assert r.status_code == 201 and r.json["outcome"] == "ticket_created", r.json
    assert len(q.statements) <= 10, "\n".join(s[:120] for s in q.statements)
    tid = r.json["ticket_id"]
    with count_queries() as q:
        r = post(app, "raw", _mime(Subject="Re: Invoice missing", Message_ID="<n2@example.org>",
                                   In_Reply_To=f"<ticket-{tid}@{DOMAIN}>"),
                 content_type="message/rfc822")
    assert r.status_code == 200 and r.json["outcome"] == "reply_added", r.json
    assert len(q.statements) <= 11, "\n".join(s[:120] for s in q.statements)
    (reply,) = rows(ext, Reply, Reply.ticket_id == tid)
    assert reply.metadata_["email"]["message_id"] == "<n2@example.org>"
    assert reply.metadata_["email"]["full_text"] == "Body text"
    (document,) = rows(ext, TicketSearchDocument, TicketSearchDocument.ticket_id == tid)
    assert document.public_text == "Body text\nBody text\ndana@example.org"


def test_a_copy_of_a_new_ticket_message_is_undone_whole(app, ext):
    """A provider's retry of a message that opened a ticket: the copy is applied, meets the
    first one's key when it is claimed, and everything it wrote rolls back (the ticket, the
    attachment row and its file); both deliveries stay on record."""
    body = _mail_with_attachment(100)
    first = post(app, "raw", body, content_type="message/rfc822")
    second = post(app, "raw", body, content_type="message/rfc822")
    assert first.status_code == 201 and first.json["outcome"] == "ticket_created"
    assert second.status_code == 200 and second.json["outcome"] == "duplicate", second.json
    assert len(rows(ext, Ticket)) == 1 and len(rows(ext, Attachment)) == 1
    assert len(rows(ext, Contact)) == 1
    logs = rows(ext, InboundEmail)
    assert sorted(r.outcome for r in logs) == ["duplicate", "ticket_created"]
    root = ext.state.attachment_root
    files = [f for _, _, names in os.walk(root) for f in names]
    assert len(files) == 3  # the two stored messages and the one attachment


def _mime(**headers) -> bytes:
    msg = EmailMessage()
    msg["From"] = headers.pop("From", "dana@example.org")
    msg["To"] = f"support@{DOMAIN}"
    msg["Subject"] = headers.pop("Subject", "Hello")
    msg["Message-ID"] = headers.pop("Message_ID", "<raw-1@example.org>")
    for k, v in headers.items():
        msg[k.replace("_", "-")] = v
    msg.set_content("Body text")
    return msg.as_bytes()


@pytest.mark.parametrize(("headers", "outcome"), [
    ({"Auto_Submitted": "auto-replied"}, "auto_reply"),
    ({"Precedence": "bulk"}, "bulk"),
    ({"Precedence": "list"}, "bulk"),
    ({"Precedence": "junk"}, "bulk"),
    ({"List_Id": "Announcements <news.example.org>"}, "bulk"),
    ({"List_Unsubscribe": "<mailto:leave@example.org>"}, "bulk"),
    ({"X_Autoreply": "yes"}, "auto_reply"),
    ({"From": "MAILER-DAEMON@mx.example.org"}, "bounce"),
    ({"From": f"help@{DOMAIN}"}, "loop"),
    ({"X_Escalated_Ticket_Id": "5"}, "loop"),
])
def test_machine_mail_is_logged_and_dropped(app, ext, headers, outcome):
    r = post(app, "raw", _mime(**headers), content_type="message/rfc822")
    assert r.status_code == 200 and r.json["outcome"] == outcome
    assert rows(ext, Ticket) == []
    (log,) = rows(ext, InboundEmail)
    assert log.status == "ignored" and log.outcome == outcome and log.error  # the reason
    assert r.json["reason"] == log.error


def test_ses_notification_and_subscription_confirmation(app, ext):
    confirm = {"Type": "SubscriptionConfirmation", "MessageId": "x",
               "TopicArn": "arn:aws:sns:eu-west-1:123:inbound",
               "SubscribeURL": "http://169.254.169.254/latest/meta-data", "Token": "t"}
    r = post(app, "ses", confirm)
    assert r.status_code == 200 and r.json["outcome"] == "sns_subscription"
    assert "never fetches" in rows(ext, InboundEmail)[0].error
    notification = {"Type": "Notification", "MessageId": "n1", "TopicArn": "arn:x",
                    "Message": json.dumps({
                        "notificationType": "Received",
                        "receipt": {"action": {"type": "SNS", "encoding": "BASE64"}},
                        "mail": {"commonHeaders": {"from": ["dana@example.org"]}},
                        "content": base64.b64encode(_mime(Subject="From SES")).decode()})}
    r = post(app, "ses", notification)
    assert r.status_code == 201 and rows(ext, Ticket)[0].subject == "From SES"


@pytest.mark.parametrize(("adapter", "body"), [
    ("postmark", "{not json"),
    ("postmark", "[1, 2]"),
    ("ses", json.dumps({"Type": "Notification", "Message": "not json"})),
    ("ses", json.dumps({"Type": "Weird"})),
    ("raw", ""),
    ("raw", "\x00\x01\x02 garbage without headers"),
    ("postmark", json.dumps({"From": "a@b.c", "Attachments": [{"Content": "!!!"}]})),
])
def test_broken_input_is_a_4xx_with_a_stored_error(app, ext, adapter, body):
    r = post(app, adapter, body)
    assert r.status_code == 422, r.get_data(True)
    assert r.json["error"]["code"] == "unreadable_mail"
    (log,) = rows(ext, InboundEmail)
    assert log.status == "failed" and log.error
    assert r.json["error"]["fields"]["inbound_id"] == log.id


def _mail_with_attachment(size: int) -> bytes:
    """A mail carrying one ``size``-byte attachment, encoded with the C base64 encoder (the
    email package's own takes seconds per megabyte, which is not what the test is about)."""
    boundary = "big-one-boundary"
    head = (f"From: dana@example.org\r\nTo: s@{DOMAIN}\r\nSubject: Big one\r\n"
            "Message-ID: <big@example.org>\r\nMIME-Version: 1.0\r\n"
            f'Content-Type: multipart/mixed; boundary="{boundary}"\r\n\r\n'
            f"--{boundary}\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n"
            "see attached\r\n"
            f"--{boundary}\r\nContent-Type: application/octet-stream\r\n"
            'Content-Disposition: attachment; filename="huge.bin"\r\n'
            "Content-Transfer-Encoding: base64\r\n\r\n")
    body = base64.encodebytes(b"\0" * size).replace(b"\n", b"\r\n")
    return head.encode() + body + f"--{boundary}--\r\n".encode()


def test_big_messages(app, ext):
    # One byte over the attachment limit: the mail is filed, the attachment left out.
    over = app.config["ESCALATED_MAX_ATTACHMENT_SIZE"] + 1
    r = post(app, "raw", _mail_with_attachment(over), content_type="message/rfc822")
    assert r.status_code == 201
    assert rows(ext, Attachment) == []
    (ticket,) = rows(ext, Ticket)
    assert ticket.subject == "Big one" and ticket.description == "see attached"
    r = post(app, "raw", b"x" * (41 * 1024 * 1024), content_type="message/rfc822")
    assert r.status_code == 413
    # Streamed without a Content-Length (chunked): refused too, not cut at the limit and filed.
    r = app.test_client().open(
        "/support/webhook/email/inbound?adapter=raw", method="POST",
        input_stream=io.BytesIO(_mail_with_attachment(41 * 1024 * 1024)),
        content_type="message/rfc822",
        headers={"Transfer-Encoding": "chunked", "X-Escalated-Inbound-Secret": SECRET},
        environ_overrides={"wsgi.input_terminated": True})
    assert r.status_code == 413, r.get_data(True)[:300]
    assert len(rows(ext, Ticket)) == 1


def test_header_injection_in_names_and_subjects(app, ext):
    r = post(app, "postmark", postmark(name="Eve\r\nBcc: all@corp.test",
                                       subject="Hi\r\nX-Evil: 1\nBcc: x@y.z"))
    assert r.status_code == 201
    t = rows(ext, Ticket)[0]
    contact = ext.session.get(Contact, t.contact_id)
    assert "\n" not in t.subject and "\r" not in t.subject
    assert "\n" not in (contact.name or "") and "\r" not in (contact.name or "")


def test_admin_sees_and_reprocesses(app, ext, users, api):
    bad = post(app, "postmark", json.dumps({"From": "x@y.z", "Attachments": [{"Content": "!"}]}))
    log_id = bad.json["error"]["fields"]["inbound_id"]
    admin = api(users.admin)
    listed = admin.get("/inbound-emails?status=failed").json["data"]
    assert [r["id"] for r in listed] == [log_id]
    shown = admin.get(f"/inbound-emails/{log_id}").json["data"]
    assert "Attachments" in shown["raw_excerpt"] and shown["error"]
    assert admin.post(f"/inbound-emails/{log_id}/reprocess", {}).status_code == 422
    good = post(app, "postmark", postmark())
    assert admin.post(f"/inbound-emails/{good.json['inbound_id']}/reprocess",
                      {}).status_code == 409
    assert api(users.agent).get("/inbound-emails").status_code == 403
    ext.session.rollback()
    assert ext.session.execute(select(func.count()).select_from(InboundEmail)).scalar_one() == 2


PAYLOADS = __import__("pathlib").Path(__file__).parent / "payloads"


@pytest.mark.parametrize(("adapter", "name", "sender", "subject"), [
    ("postmark", "postmark_inbound.json", "support@postmarkapp.com", "Test subject"),
    ("mailgun", "mailgun_routed.json", "bob@example.com", "Re: Sample POST request"),
    ("ses", "ses_sns_notification.json", "sender@example.com", "Example subject"),
])
def test_documented_provider_payloads(app, ext, adapter, name, sender, subject):
    data = json.loads((PAYLOADS / name).read_text())
    if adapter == "mailgun":
        r = app.test_client().post(f"{URL}?adapter=mailgun", data=data,
                                   headers={"X-Escalated-Inbound-Secret": SECRET})
    else:
        r = post(app, adapter, data)
    assert r.status_code == 201, r.get_data(True)
    (t,) = rows(ext, Ticket)
    assert t.subject == subject and ext.session.get(Contact, t.contact_id).email == sender
    if adapter == "mailgun":  # a new ticket keeps the whole text, quotes included
        assert "This is Bob." in t.description and "earlier text" in t.description
    if adapter == "postmark":
        (att,) = rows(ext, Attachment)
        assert att.filename == "test.txt"


def test_documented_sns_subscription_confirmation(app, ext):
    data = json.loads((PAYLOADS / "ses_subscription_confirmation.json").read_text())
    r = post(app, "ses", data)
    assert r.status_code == 200 and r.json["outcome"] == "sns_subscription"
    assert "ConfirmSubscription" in rows(ext, InboundEmail)[0].error
