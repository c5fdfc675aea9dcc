"""Who may write to a ticket by e-mail (issue 10, finding 3): an agent only through the
agent-signed Reply-To address, never by a From header; a failing sender check makes a stranger;
the reply secret is derived from SECRET_KEY by default and rotates. Raw mail through each of
the four webhook adapters."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from email.message import EmailMessage

import pytest
from sqlalchemy import select

from flask_escalated.events import Actor
from flask_escalated.models import InboundEmail, OutboundEmail, Reply, Ticket
from flask_escalated.services import mail_ids, tickets

from .conftest import DOMAIN

SECRET = "inbound-secret-for-tests"
URL = "/support/webhook/email/inbound"
ADAPTERS = ("raw", "postmark", "mailgun", "ses")


@pytest.fixture
def app(make_app, smtp):
    """The defaults: no ESCALATED_REPLY_SECRET (the reply secret is derived), mail on."""
    app = make_app(ESCALATED_INBOUND_SECRET=SECRET, ESCALATED_MAIL_DOMAIN=DOMAIN,
                   ESCALATED_MAIL_FROM=f"help@{DOMAIN}", MAIL_SERVER="127.0.0.1",
                   MAIL_PORT=smtp.port, MAIL_SUPPRESS_SEND=False)
    with app.app_context():
        yield app


_COUNTER = iter(range(1, 10_000))


def deliver(app, adapter, *, sender, to, subject="Re: Printer jam", text="Posted by mail.",
            headers=(), verdicts=None):
    """Send one message through ``adapter`` as that provider would post it."""
    message_id = f"<m{next(_COUNTER)}@mail.example.org>"
    msg = EmailMessage()
    msg["From"], msg["To"], msg["Subject"], msg["Message-ID"] = sender, to, subject, message_id
    for name, value in headers:
        msg[name] = value
    msg.set_content(text)
    client, auth = app.test_client(), {"X-Escalated-Inbound-Secret": SECRET}
    if adapter == "raw":
        return client.post(f"{URL}?adapter=raw", data=msg.as_bytes(),
                           content_type="message/rfc822", headers=auth)
    if adapter == "postmark":
        body = {"From": sender, "FromFull": {"Email": sender, "Name": ""}, "To": to,
                "ToFull": [{"Email": to, "Name": ""}], "OriginalRecipient": to,
                "Subject": subject, "MessageID": message_id, "TextBody": text,
                "Headers": [{"Name": k, "Value": v} for k, v in headers]}
        return client.post(f"{URL}?adapter=postmark", json=body, headers=auth)
    if adapter == "mailgun":
        form = {"sender": sender, "from": sender, "recipient": to, "subject": subject,
                "body-plain": text, "Message-Id": message_id,
                "message-headers": json.dumps([list(h) for h in headers])}
        return client.post(f"{URL}?adapter=mailgun", data=form, headers=auth)
    receipt = {"action": {"type": "SNS", "encoding": "BASE64"},
               **{f"{k}Verdict": {"status": v} for k, v in (verdicts or {}).items()}}
    note = {"Type": "Notification", "MessageId": "n", "TopicArn": "arn:x",
            "Message": json.dumps({"notificationType": "Received", "receipt": receipt,
                                   "mail": {"commonHeaders": {"from": [sender]}},
                                   "content": base64.b64encode(msg.as_bytes()).decode()})}
    return client.post(f"{URL}?adapter=ses", json=note, headers=auth)


def _ticket(ext, users):
    with ext.unit_of_work():
        t = tickets.create_ticket(tickets.NewTicket(
            subject="Printer jam", description="d", requester_user_id=str(users.customer.id)),
            Actor.customer(users.customer.id))
    return t.id


def _state(ext, tid):
    ext.session.rollback()
    replies = list(ext.session.execute(select(Reply).where(Reply.ticket_id == tid)).scalars())
    log = ext.session.execute(select(InboundEmail).order_by(InboundEmail.id.desc())).scalar()
    mails = list(ext.session.execute(select(OutboundEmail).where(
        OutboundEmail.kind == "agent_reply")).scalars())
    return replies, log, mails


@pytest.mark.parametrize("adapter", ADAPTERS)
def test_a_from_header_alone_carries_no_agent_authority(app, users, adapter):
    """The probe's mail: From an agent, In-Reply-To the guessable first Message-ID."""
    ext = app.extensions["escalated"]
    tid = _ticket(ext, users)
    r = deliver(app, adapter, sender=users.agent.email, to=f"support@{DOMAIN}",
                headers=[("In-Reply-To", f"<ticket-{tid}@{DOMAIN}>")])
    assert r.status_code == 200, r.get_json()
    assert r.json["status"] == "ignored" and r.json["outcome"] == "unverified_agent"
    replies, log, mails = _state(ext, tid)
    assert replies == [] and mails == []
    assert log.status == "ignored" and "agent-signed" in log.error and log.ticket_id == tid
    # Nor through the customers' signed address (a customer forging an agent's From).
    r = deliver(app, adapter, sender=users.agent.email, to=mail_ids.reply_address(tid))
    assert r.json["outcome"] == "unverified_agent"
    assert _state(ext, tid)[0] == []


@pytest.mark.parametrize("adapter", ADAPTERS)
def test_an_agent_replies_through_the_agent_signed_address(app, users, adapter, smtp):
    ext = app.extensions["escalated"]
    tid = _ticket(ext, users)
    address = mail_ids.reply_address(tid, agent=True)
    assert address != mail_ids.reply_address(tid)  # customers never see this one
    r = deliver(app, adapter, sender=users.agent.email, to=address, text="On it.")
    assert r.status_code == 200, r.get_json()
    assert r.json["outcome"] == "reply_added" and r.json["matched_by"] == "envelope_to"
    (reply,), log, (mail,) = _state(ext, tid)
    assert log.status == "processed" and log.reply_id == reply.id
    assert reply.author_type == "agent" and reply.author_user_id == str(users.agent.id)
    assert not reply.is_internal and reply.body == "On it."
    assert mail.to_email == users.customer.email


@pytest.mark.parametrize("adapter", ADAPTERS)
def test_failing_sender_checks_make_a_stranger(app, users, adapter):
    """Even the agent-signed address and the requester's own address count for nothing when
    the provider says the sender is forged: refused and logged, nothing created."""
    ext = app.extensions["escalated"]
    tid = _ticket(ext, users)
    failing = {"raw": ([("Authentication-Results",
                         "mx.example.org; dkim=none; spf=pass smtp.mailfrom=x; dmarc=fail")],
                       None),
               "postmark": ([("Received-SPF", "Fail (sender not allowed)")], None),
               "mailgun": ([("X-Mailgun-Spf", "Fail"), ("X-Mailgun-Dkim-Check-Result", "Fail")],
                           None),
               "ses": ([], {"spf": "PASS", "dkim": "PASS", "dmarc": "FAIL"})}[adapter]
    for sender, to in ((users.agent.email, mail_ids.reply_address(tid, agent=True)),
                       (users.customer.email, mail_ids.reply_address(tid))):
        r = deliver(app, adapter, sender=sender, to=to, headers=failing[0],
                    verdicts=failing[1])
        assert r.status_code == 200, r.get_json()
        assert (r.json["status"], r.json["outcome"]) == ("ignored", "unauthenticated")
        replies, log, _ = _state(ext, tid)
        assert replies == [] and "fail" in log.error
    ext.session.rollback()
    assert len(list(ext.session.execute(select(Ticket)).scalars())) == 1


def test_passing_or_mixed_checks_are_not_failures(app, users):
    ext = app.extensions["escalated"]
    tid = _ticket(ext, users)
    r = deliver(app, "raw", sender=users.customer.email, to=mail_ids.reply_address(tid),
                headers=[("Authentication-Results",
                          "mx.example.org; dkim=fail header.d=a; dkim=pass header.d=b; "
                          "spf=pass; dmarc=pass")])
    assert r.json["outcome"] == "reply_added", r.get_json()


def test_the_derived_secret_and_its_rotation(make_app):
    """Unset, the secret is HMAC-SHA256(SECRET_KEY, the fixed label); configured secrets and
    SECRET_KEY fallbacks rotate: old addresses still verify, new mail uses the new one."""
    derived = hmac.new(b"test-secret", mail_ids.REPLY_LABEL, hashlib.sha256).hexdigest()
    tag = hmac.new(derived.encode(), b"42", hashlib.sha256).hexdigest()[:8]
    app = make_app(ESCALATED_MAIL_DOMAIN=DOMAIN)
    with app.app_context():
        assert mail_ids.reply_address(42) == f"reply+42.{tag}@{DOMAIN}"
        old_agent = mail_ids.reply_address(42, agent=True)
        assert mail_ids.verify_reply_address(f"reply+42.{tag}@{DOMAIN}") == \
            mail_ids.SignedAddress(42, agent=False)
        assert mail_ids.verify_reply_address(old_agent) == mail_ids.SignedAddress(42, agent=True)
        assert mail_ids.verify_reply_address(f"reply+43.{tag}@{DOMAIN}") is None
    moved = make_app(ESCALATED_MAIL_DOMAIN=DOMAIN, SECRET_KEY="new-key",
                     SECRET_KEY_FALLBACKS=["test-secret"])
    with moved.app_context():
        assert mail_ids.reply_address(42) != f"reply+42.{tag}@{DOMAIN}"
        assert mail_ids.verify_reply_address(f"reply+42.{tag}@{DOMAIN}") is not None
        assert mail_ids.verify_reply_address(old_agent).agent
    own = make_app(ESCALATED_MAIL_DOMAIN=DOMAIN, ESCALATED_REPLY_SECRET="second",
                   ESCALATED_REPLY_SECRET_PREVIOUS=["first", derived])
    with own.app_context():
        first = hmac.new(b"first", b"42", hashlib.sha256).hexdigest()[:8]
        second = hmac.new(b"second", b"42", hashlib.sha256).hexdigest()[:8]
        assert mail_ids.reply_address(42) == f"reply+42.{second}@{DOMAIN}"
        for old in (first, tag):
            assert mail_ids.verify_reply_address(f"reply+42.{old}@{DOMAIN}") is not None
        assert mail_ids.verify_reply_address(old_agent).agent


@pytest.mark.parametrize("value", [{"ESCALATED_REPLY_SECRET": ""},
                                   {"ESCALATED_REPLY_SECRET": 5},
                                   {"ESCALATED_REPLY_SECRET_PREVIOUS": "old"},
                                   {"ESCALATED_REPLY_SECRET_PREVIOUS": [""]}])
def test_reply_secret_settings_are_checked(make_app, value):
    from flask_escalated.config import ConfigurationError

    with pytest.raises(ConfigurationError, match="REPLY_SECRET"):
        make_app(**value)
