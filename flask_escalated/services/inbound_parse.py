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
import re
from dataclasses import dataclass, field
from email.errors import HeaderParseError
from email.header import decode_header, make_header
from email.headerregistry import BaseHeader, HeaderRegistry
from email.message import EmailMessage, Message
from email.utils import getaddresses, parseaddr, unquote
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
    #: Sender checks the provider reported as failed (``dmarc=fail`` ...), see
    #: :func:`authentication_failures`; a message with any is from a stranger.
    auth_failures: list[str] = field(default_factory=list)


MAX_DEPTH = 40  # MIME parts inside parts; real mail stays under ten


class _HeaderClasses(HeaderRegistry):
    """The standard header registry, with each header's class made once per name: the
    standard one builds a new class on every lookup, a third of a small message's parse."""

    def __init__(self) -> None:
        super().__init__()
        self._made: dict[str, type[BaseHeader]] = {}

    def __getitem__(self, name: str) -> type[BaseHeader]:
        key = name.lower()
        made = self._made.get(key)
        if made is None:
            made = self._made[key] = super().__getitem__(key)
        return made


#: ``email.policy.default`` with the registry above.
_POLICY = email.policy.default.clone(header_factory=_HeaderClasses())


def _clean(value: Any, limit: int) -> str:
    """One line of header text: line breaks, other control characters and lone surrogates
    become spaces. A NUL byte makes the message unreadable (no database stores it alike)."""
    text = value if isinstance(value, str) else ("" if value is None or isinstance(
        value, dict | list) else str(value))
    if "\x00" in text:
        raise UnreadableMail("The message has a NUL byte in a header or field.")
    if not text.isprintable():
        text = "".join(ch if ch.isprintable() else " " for ch in text)
    return " ".join(text.split())[:limit]


def check_storable(parsed: ParsedMail) -> ParsedMail:
    """Refuse bodies no database stores alike: NUL bytes (PostgreSQL rejects them) and
    lone surrogates (not UTF-8)."""
    for label, text in (("text body", parsed.text), ("HTML body", parsed.html)):
        if "\x00" in text:
            raise UnreadableMail(f"The {label} has a NUL byte.")
        try:
            text.encode("utf-8")
        except UnicodeEncodeError:
            raise UnreadableMail(f"The {label} is not valid Unicode.") from None
    return parsed


_ANGLE_ADDR = re.compile(r"^([^<>]*)<([^<>\s]+@[^<>\s]+)>$")
_AUTH_RESULT = re.compile(r"\b(dmarc|spf|dkim)\s*=\s*([a-z]+)", re.I)


def authentication_failures(headers: dict[str, str], extra: dict[str, str] | None = None
                            ) -> list[str]:
    """The sender checks reported as failed, e.g. ``["dmarc=fail"]``.

    Read from the first (topmost: our provider's) ``Authentication-Results`` header and from
    ``Received-SPF``, plus verdicts a provider reports outside the headers (``extra``:
    method to result). A method counts as failed when a result says ``fail`` and none says
    ``pass`` (one broken DKIM signature next to a good one is not a failure)."""
    seen: dict[str, set[str]] = {}
    for method, result in _AUTH_RESULT.findall(headers.get("authentication-results", "")):
        seen.setdefault(method.lower(), set()).add(result.lower())
    spf = headers.get("received-spf", "").split(maxsplit=1)
    if spf:
        seen.setdefault("spf", set()).add(spf[0].lower())
    for method, result in (extra or {}).items():
        seen.setdefault(method, set()).add(str(result).strip().lower())
    return [f"{method}=fail" for method, results in sorted(seen.items())
            if "fail" in results and "pass" not in results]


def _str(value: Any) -> str:
    return value if isinstance(value, str) else ""


def _decoded(raw: str) -> str:
    """A raw header value with its RFC 2047 encoded words decoded (as is if they are bad)."""
    if "=?" not in raw:
        return raw
    try:
        return str(make_header(decode_header(raw)))
    except (HeaderParseError, LookupError, UnicodeError, ValueError):
        return raw


def _address(raw: Any) -> tuple[str | None, str | None]:
    """(display name, address) of a From value; encoded words in the name are decoded
    after the address is split off, and the name is one line."""
    text = _clean(raw, 1000)
    angle = _ANGLE_ADDR.match(text)  # "name <addr>": the name as written, even if malformed
    name, addr = (unquote(angle.group(1).strip()), angle.group(2)) if angle else parseaddr(text)
    addr = addr.strip().lower()
    return (_clean(_decoded(name), 255) or None,
            addr if "@" in addr and " " not in addr and len(addr) <= 320 else None)


def _addresses(*raws: Any) -> list[str]:
    found: list[str] = []
    for _, addr in getaddresses([_clean(r, 5000) for r in raws if r]):
        addr = addr.strip().lower()
        if "@" in addr and len(addr) <= 320 and addr not in found:
            found.append(addr)
    return found


def _header_map(pairs: list[tuple[str, Any]]) -> dict[str, str]:
    out: dict[str, str] = {}
    for name, value in pairs:
        key = _clean(name, 100).lower()
        if key and key not in out:
            out[key] = _clean(value, 2000)
    return out


def _raw_headers(msg: Message) -> list[tuple[str, str]]:
    """Every header as it arrived (8-bit bytes read as UTF-8), never through the header
    registry, which raises on values such as an encoded CR/LF in a display name."""
    pairs = []
    for name, value in msg.raw_items():  # type: ignore[attr-defined]
        text = str(value)
        if any("\udc80" <= ch <= "\udcff" for ch in text):
            text = text.encode("ascii", "surrogateescape").decode("utf-8", "replace")
        pairs.append((name, text))
    return pairs


def _depth(msg: Message) -> int:
    """How deep MIME parts nest (counted without recursion)."""
    deepest, stack = 0, [(msg, 1)]
    while stack:
        part, level = stack.pop()
        deepest = max(deepest, level)
        if level > MAX_DEPTH:
            break
        payload = part.get_payload() if part.is_multipart() else None
        if isinstance(payload, list):
            stack.extend((child, level + 1) for child in payload if isinstance(child, Message))
    return deepest


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
    msg = email.message_from_bytes(raw, policy=_POLICY)
    assert isinstance(msg, EmailMessage)
    if not msg.keys():
        raise UnreadableMail("The message has no headers.")
    if _depth(msg) > MAX_DEPTH:
        raise UnreadableMail(f"The message nests MIME parts more than {MAX_DEPTH} deep.")
    pairs = _raw_headers(msg)
    headers = _header_map(pairs)
    first = {name.lower(): value for name, value in reversed(pairs)}

    def text(name: str, limit: int) -> str:
        return _clean(_decoded(first.get(name, "")), limit)

    name, addr = _address(first.get("from", ""))
    body = html = ""
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
        elif ctype == "text/plain" and not body:
            body = _part_text(part)
        elif ctype == "text/html" and not html:
            html = _part_text(part)
    return ParsedMail(
        from_email=addr, from_name=name,
        to=_addresses(*(first.get(h, "") for h in ("to", "cc", "delivered-to", "x-original-to"))),
        subject=text("subject", 500), text=body, html=html,
        message_id=text("message-id", 255) or None,
        in_reply_to=text("in-reply-to", 255) or None,
        references=text("references", 5000) or None,
        headers=headers, attachments=attachments,
        auth_failures=authentication_failures(headers))


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
        headers=headers, attachments=attachments,
        auth_failures=authentication_failures(headers))


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
                     for n, t, b in files],
        auth_failures=authentication_failures(headers, {
            method: _clean(get(key) or headers.get(key.lower()), 40)
            for method, key in (("spf", "X-Mailgun-Spf"), ("dkim", "X-Mailgun-Dkim-Check-Result"))
            if get(key) or headers.get(key.lower())}))


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
    receipt = message["receipt"] if isinstance(message.get("receipt"), dict) else {}
    verdicts = {method: verdict["status"] for method in ("spf", "dkim", "dmarc")
                if isinstance(verdict := receipt.get(f"{method}Verdict"), dict)
                and isinstance(verdict.get("status"), str)}
    content = message.get("content")
    if isinstance(content, str) and content:
        action = receipt.get("action")
        encoding = action.get("encoding", "") if isinstance(action, dict) else ""
        raw = content.encode("utf-8", "surrogateescape")
        if str(encoding).upper() == "BASE64" or not raw.lstrip()[:200].count(b":"):
            try:
                raw = base64.b64decode(content, validate=False)
            except (binascii.Error, ValueError):
                raise UnreadableMail("The SES content is not base64.") from None
        parsed = parse_mime(raw)
        parsed.auth_failures = authentication_failures(parsed.headers, verdicts)
        return parsed
    mail: dict[str, Any] = message["mail"] if isinstance(message.get("mail"), dict) else {}
    common: dict[str, Any] = (mail["commonHeaders"] if isinstance(mail.get("commonHeaders"), dict)
                              else {})
    if not common:
        raise UnreadableMail("The SES receipt has neither content nor headers.")
    senders, recipients = common.get("from"), common.get("to")
    senders = senders if isinstance(senders, list) and senders else [""]
    recipients = recipients if isinstance(recipients, list) else []
    name, addr = _address(senders[0])
    headers = _header_map([(h.get("name", ""), h.get("value", ""))
                           for h in mail.get("headers") or [] if isinstance(h, dict)])
    return ParsedMail(
        from_email=addr, from_name=name, to=_addresses(*recipients),
        subject=_clean(common.get("subject"), 500), text="", html="",
        message_id=_clean(common.get("messageId"), 255) or headers.get("message-id"),
        in_reply_to=headers.get("in-reply-to"), references=headers.get("references"),
        headers=headers, auth_failures=authentication_failures(headers, verdicts))
