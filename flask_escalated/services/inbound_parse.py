"""Inbound mail parsers: Postmark JSON, Mailgun's routed form post, SES over SNS, raw MIME.

Each turns a provider's payload into one :class:`ParsedMail`. Parsers validate shape, not
meaning: a payload they cannot read raises :class:`UnreadableMail` (the webhook answers 422 and
keeps the payload for an admin), and nothing in here touches the database.
"""

from __future__ import annotations

import base64
import binascii
import email
import email.policy
import json
from dataclasses import dataclass, field
from email.message import EmailMessage, Message
from email.utils import getaddresses, parseaddr
from typing import Any

ADAPTERS = ("postmark", "mailgun", "ses", "raw")


class UnreadableMail(ValueError):
    """The payload is not a message this adapter can read."""


class SubscriptionConfirmation(Exception):
    """An SNS SubscriptionConfirmation: nothing to file as mail; an admin confirms it."""

    def __init__(self, topic_arn: str, subscribe_url: str) -> None:
        super().__init__(topic_arn)
        self.topic_arn = topic_arn
        self.subscribe_url = subscribe_url


@dataclass
class InboundAttachment:
    filename: str
    content_type: str
    data: bytes


@dataclass
class ParsedMail:
    from_email: str | None
    from_name: str | None
    to: list[str]
    subject: str
    text: str
    html: str
    message_id: str | None
    in_reply_to: str | None
    references: str | None
    #: Every header, names lower-cased (first value wins), for loop and auto-reply checks.
    headers: dict[str, str] = field(default_factory=dict)
    attachments: list[InboundAttachment] = field(default_factory=list)


def _clean(value: Any, limit: int) -> str:
    text = value if isinstance(value, str) else ("" if value is None else str(value))
    return "".join(ch if ch.isprintable() or ch == "\t" else " " for ch in text)[:limit].strip()


def _str(value: Any) -> str:
    return value if isinstance(value, str) else ""


def _address(raw: Any) -> tuple[str | None, str | None]:
    name, addr = parseaddr(_clean(raw, 1000))
    addr = addr.strip().lower()
    return (_clean(name, 255) or None, addr if "@" in addr and " " not in addr else None)


def _addresses(*raws: Any) -> list[str]:
    found: list[str] = []
    for _, addr in getaddresses([_clean(r, 5000) for r in raws if r]):
        addr = addr.strip().lower()
        if "@" in addr and addr not in found:
            found.append(addr)
    return found


def _header_map(pairs: list[tuple[str, Any]]) -> dict[str, str]:
    out: dict[str, str] = {}
    for name, value in pairs:
        key = _clean(name, 100).lower()
        if key and key not in out:
            out[key] = _clean(value, 2000)
    return out


# ---------------------------------------------------------------------------- raw MIME
def _part_text(part: Message) -> str:
    try:
        content = part.get_content()  # type: ignore[attr-defined]
    except (LookupError, ValueError, AssertionError, binascii.Error):
        payload = part.get_payload(decode=True)
        content = payload.decode("utf-8", "replace") if isinstance(payload, bytes) else ""
    return content if isinstance(content, str) else ""


def parse_mime(raw: bytes) -> ParsedMail:
    """An RFC 5322 message (with MIME parts) as bytes."""
    if not raw or not raw.strip():
        raise UnreadableMail("The message is empty.")
    msg = email.message_from_bytes(raw, policy=email.policy.default)
    assert isinstance(msg, EmailMessage)
    if not msg.keys():
        raise UnreadableMail("The message has no headers.")
    name, addr = _address(msg.get("From", ""))
    text = html = ""
    attachments: list[InboundAttachment] = []
    for part in msg.walk():
        if part.is_multipart():
            continue
        disposition = (part.get_content_disposition() or "").lower()
        ctype = part.get_content_type()
        filename = part.get_filename()
        is_body = ctype in ("text/plain", "text/html") and disposition != "attachment" \
            and not filename
        if not is_body:
            data = part.get_payload(decode=True)
            if isinstance(data, bytes):
                attachments.append(InboundAttachment(
                    _clean(filename or "attachment", 255) or "attachment", ctype, data))
        elif ctype == "text/plain" and not text:
            text = _part_text(part)
        elif ctype == "text/html" and not html:
            html = _part_text(part)
    headers = _header_map([(k, str(v)) for k, v in msg.items()])
    return ParsedMail(
        from_email=addr, from_name=name,
        to=_addresses(msg.get("To", ""), msg.get("Cc", ""), msg.get("Delivered-To", ""),
                      msg.get("X-Original-To", "")),
        subject=_clean(msg.get("Subject", ""), 500),
        text=text, html=html,
        message_id=_clean(msg.get("Message-ID"), 255) or None,
        in_reply_to=_clean(msg.get("In-Reply-To"), 255) or None,
        references=_clean(msg.get("References"), 5000) or None,
        headers=headers, attachments=attachments)


# ---------------------------------------------------------------------------- Postmark
def parse_postmark(data: Any) -> ParsedMail:
    if not isinstance(data, dict):
        raise UnreadableMail("Postmark sends a JSON object.")
    full: dict[str, Any] = data["FromFull"] if isinstance(data.get("FromFull"), dict) else {}
    name, addr = _address(data.get("From") or full.get("Email") or "")
    name = _clean(data.get("FromName") or full.get("Name") or name, 255) or None
    raw_headers: list[Any] = data["Headers"] if isinstance(data.get("Headers"), list) else []
    headers = _header_map([(h.get("Name", ""), h.get("Value", "")) for h in raw_headers
                           if isinstance(h, dict)])
    to_full = [t.get("Email") for t in data.get("ToFull") or [] if isinstance(t, dict)]
    attachments = []
    for item in data.get("Attachments") or []:
        if not isinstance(item, dict):
            continue
        try:
            blob = base64.b64decode(str(item.get("Content") or ""), validate=True)
        except (binascii.Error, ValueError):
            raise UnreadableMail("An attachment's Content is not base64.") from None
        attachments.append(InboundAttachment(_clean(item.get("Name"), 255) or "attachment",
                                             _clean(item.get("ContentType"), 100)
                                             or "application/octet-stream", blob))
    message_id = data.get("MessageID") or headers.get("message-id")
    if message_id and "<" not in str(message_id):
        message_id = f"<{_clean(message_id, 250)}>"
    return ParsedMail(
        from_email=addr, from_name=name,
        to=_addresses(data.get("OriginalRecipient"), *to_full, data.get("To"), data.get("Cc")),
        subject=_clean(data.get("Subject"), 500),
        text=_str(data.get("TextBody")), html=_str(data.get("HtmlBody")),
        message_id=_clean(headers.get("message-id") or message_id, 255) or None,
        in_reply_to=headers.get("in-reply-to") or None,
        references=headers.get("references") or None,
        headers=headers, attachments=attachments)


# ---------------------------------------------------------------------------- Mailgun
def parse_mailgun(form: Any, files: list[tuple[str, str, bytes]]) -> ParsedMail:
    """Mailgun's routed POST: form fields (``message-headers`` is a JSON list of pairs)."""
    get = form.get
    name, addr = _address(get("from") or "")
    sender = _clean(get("sender"), 320).lower()
    if "@" in sender:
        addr = sender
    try:
        pairs = json.loads(get("message-headers") or "[]")
    except ValueError:
        raise UnreadableMail("message-headers is not JSON.") from None
    if not isinstance(pairs, list):
        raise UnreadableMail("message-headers must be a list of [name, value] pairs.")
    headers = _header_map([(p[0], p[1]) for p in pairs
                           if isinstance(p, list | tuple) and len(p) == 2])
    return ParsedMail(
        from_email=addr, from_name=name,
        to=_addresses(get("recipient"), get("To"), headers.get("to")),
        subject=_clean(get("subject") or headers.get("subject"), 500),
        text=_str(get("body-plain")), html=_str(get("body-html")),
        message_id=_clean(get("Message-Id") or headers.get("message-id"), 255) or None,
        in_reply_to=_clean(get("In-Reply-To") or headers.get("in-reply-to"), 255) or None,
        references=_clean(get("References") or headers.get("references"), 5000) or None,
        headers=headers,
        attachments=[InboundAttachment(_clean(n, 255) or "attachment", t, b)
                     for n, t, b in files])


# ---------------------------------------------------------------------------- SES via SNS
def parse_ses(data: Any) -> ParsedMail:
    """An SNS notification carrying an SES receipt (``content``: the raw message)."""
    if not isinstance(data, dict):
        raise UnreadableMail("SNS sends a JSON object.")
    kind = data.get("Type")
    if kind == "SubscriptionConfirmation":
        raise SubscriptionConfirmation(_clean(data.get("TopicArn"), 300),
                                       _clean(data.get("SubscribeURL"), 2000))
    if kind != "Notification":
        raise UnreadableMail(f"SNS message type {_clean(kind, 40)!r} carries no mail.")
    try:
        message = json.loads(data.get("Message") or "")
    except (TypeError, ValueError):
        raise UnreadableMail("The SNS Message is not JSON.") from None
    if not isinstance(message, dict):
        raise UnreadableMail("The SNS Message is not an SES receipt.")
    content = message.get("content")
    if isinstance(content, str) and content:
        encoding = (message.get("receipt") or {}).get("action", {}).get("encoding", "")
        raw = content.encode("utf-8", "surrogateescape")
        if str(encoding).upper() == "BASE64" or not raw.lstrip()[:200].count(b":"):
            try:
                raw = base64.b64decode(content, validate=False)
            except (binascii.Error, ValueError):
                raise UnreadableMail("The SES content is not base64.") from None
        return parse_mime(raw)
    mail: dict[str, Any] = message["mail"] if isinstance(message.get("mail"), dict) else {}
    common: dict[str, Any] = (mail["commonHeaders"] if isinstance(mail.get("commonHeaders"), dict)
                              else {})
    if not common:
        raise UnreadableMail("The SES receipt has neither content nor headers.")
    name, addr = _address((common.get("from") or [""])[0])
    headers = _header_map([(h.get("name", ""), h.get("value", ""))
                           for h in mail.get("headers") or [] if isinstance(h, dict)])
    return ParsedMail(
        from_email=addr, from_name=name, to=_addresses(*(common.get("to") or [])),
        subject=_clean(common.get("subject"), 500), text="", html="",
        message_id=_clean(common.get("messageId"), 255) or headers.get("message-id"),
        in_reply_to=headers.get("in-reply-to"), references=headers.get("references"),
        headers=headers)
