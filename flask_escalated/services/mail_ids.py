"""The family's e-mail wire format: Message-IDs, the signed Reply-To address, header parsing.

- first mail of a ticket: ``<ticket-{id}@{MAIL_DOMAIN}>``;
- a reply: ``<ticket-{id}-reply-{reply_id}@{MAIL_DOMAIN}>``, with ``In-Reply-To`` and
  ``References`` naming the first;
- ``Reply-To: reply+{id}.{hmac8}@{MAIL_DOMAIN}``, ``hmac8`` being the first 8 hex characters
  of HMAC-SHA256 over the decimal ticket id keyed by ``ESCALATED_REPLY_SECRET``, checked in
  constant time.
"""

from __future__ import annotations

import hashlib
import hmac
import re
from email.utils import getaddresses

from flask import current_app

from ..config import Config

_TICKET_ID = re.compile(r"<?ticket-(\d{1,18})(?:-reply-\d{1,18})?@([^>\s]+)>?", re.I)
_SIGNED = re.compile(r"^reply\+(\d{1,18})\.([a-f0-9]{8})$", re.I)
_MSG_ID = re.compile(r"<[^<>\s]{1,250}>")


def mail_domain() -> str | None:
    return current_app.config[Config.MAIL_DOMAIN] or None


def ticket_message_id(ticket_id: int, domain: str) -> str:
    return f"<ticket-{ticket_id}@{domain}>"


def reply_message_id(ticket_id: int, reply_id: int, domain: str) -> str:
    return f"<ticket-{ticket_id}-reply-{reply_id}@{domain}>"


def _hmac8(ticket_id: int, secret: str) -> str:
    return hmac.new(secret.encode(), str(ticket_id).encode(), hashlib.sha256).hexdigest()[:8]


def reply_address(ticket_id: int) -> str | None:
    """The signed Reply-To address of a ticket (None without a secret and a domain)."""
    secret, domain = current_app.config[Config.REPLY_SECRET], mail_domain()
    if not secret or not domain:
        return None
    return f"reply+{ticket_id}.{_hmac8(ticket_id, str(secret))}@{domain}"


def verify_reply_address(address: str) -> int | None:
    """The ticket id a signed address names, if its tag is right (constant-time)."""
    secret = current_app.config[Config.REPLY_SECRET]
    if not secret or "@" not in address:
        return None
    local = address.strip().strip("<>").split("@", 1)[0]
    match = _SIGNED.match(local)
    if match is None:
        return None
    ticket_id = int(match.group(1))
    if hmac.compare_digest(_hmac8(ticket_id, str(secret)), match.group(2).lower()):
        return ticket_id
    return None


def ticket_ids_in(header: str | None) -> list[int]:
    """Ticket ids named by our Message-IDs in a header (In-Reply-To, References), in order."""
    domain = (mail_domain() or "").lower()
    found: list[int] = []
    for match in _TICKET_ID.finditer(header or ""):
        if domain and match.group(2).lower() != domain:
            continue
        tid = int(match.group(1))
        if tid not in found:
            found.append(tid)
    return found


def message_ids_in(header: str | None) -> list[str]:
    """Every ``<...>`` id in a header, in order."""
    return _MSG_ID.findall(header or "")


def addresses_in(header: str | None) -> list[str]:
    """The bare addresses of an address header (To, Cc, Delivered-To), lower-cased."""
    return [addr.lower() for _, addr in getaddresses([header or ""]) if "@" in addr]
