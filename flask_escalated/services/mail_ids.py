"""The family's e-mail wire format: Message-IDs, the signed Reply-To address, header parsing.

- first mail of a ticket: ``<ticket-{id}@{MAIL_DOMAIN}>``;
- a reply: ``<ticket-{id}-reply-{reply_id}@{MAIL_DOMAIN}>``, with ``In-Reply-To`` and
  ``References`` naming the first;
- ``Reply-To: reply+{id}.{hmac8}@{MAIL_DOMAIN}``, ``hmac8`` being the first 8 hex characters
  of HMAC-SHA256 over the decimal ticket id keyed by the reply secret, checked in constant
  time.

The reply secret is ``ESCALATED_REPLY_SECRET``; unset, it is derived from the app's
``SECRET_KEY`` (HMAC-SHA256 keyed by ``SECRET_KEY`` over the fixed label
``flask-escalated/reply-address/v1``, hex), so every install signs its addresses. Secrets in
``ESCALATED_REPLY_SECRET_PREVIOUS`` (and, for a derived secret, keys in Flask's
``SECRET_KEY_FALLBACKS``) are still accepted, which is how a secret is rotated.

Mail to agents carries the same address shape signed with the *agent* key (HMAC-SHA256 keyed
by the reply secret over ``flask-escalated/agent-reply/v1``): only that address carries an
agent's authority, and customers never see it, so a customer cannot write as an agent by
forging ``From`` on a reply to their own ticket's address.
"""

from __future__ import annotations

import hashlib
import hmac
import re
from dataclasses import dataclass
from email.utils import getaddresses

from flask import current_app

from ..config import Config

_TICKET_ID = re.compile(r"<?ticket-(\d{1,18})(?:-reply-\d{1,18})?@([^>\s]+)>?", re.I)
_SIGNED = re.compile(r"^reply\+(\d{1,18})\.([a-f0-9]{8})$", re.I)
_MSG_ID = re.compile(r"<[^<>\s]{1,250}>")
REPLY_LABEL = b"flask-escalated/reply-address/v1"
AGENT_LABEL = b"flask-escalated/agent-reply/v1"


def _derive(key: object, label: bytes) -> str:
    raw = key if isinstance(key, bytes) else str(key).encode()
    return hmac.new(raw, label, hashlib.sha256).hexdigest()


def reply_secrets() -> list[str]:
    """The reply secrets, current first: the configured or derived one, then the previous."""
    cfg = current_app.config
    if cfg[Config.REPLY_SECRET]:
        current = [str(cfg[Config.REPLY_SECRET])]
    else:
        keys = [cfg.get("SECRET_KEY"), *(cfg.get("SECRET_KEY_FALLBACKS") or [])]
        current = [_derive(k, REPLY_LABEL) for k in keys if k]
    return current + [str(s) for s in cfg[Config.REPLY_SECRET_PREVIOUS] or [] if s]


def mail_domain() -> str | None:
    return current_app.config[Config.MAIL_DOMAIN] or None


def ticket_message_id(ticket_id: int, domain: str) -> str:
    return f"<ticket-{ticket_id}@{domain}>"


def reply_message_id(ticket_id: int, reply_id: int, domain: str) -> str:
    return f"<ticket-{ticket_id}-reply-{reply_id}@{domain}>"


def _hmac8(ticket_id: int, secret: str, *, agent: bool = False) -> str:
    key = _derive(secret, AGENT_LABEL) if agent else secret
    return hmac.new(key.encode(), str(ticket_id).encode(), hashlib.sha256).hexdigest()[:8]


def reply_address(ticket_id: int, *, agent: bool = False) -> str | None:
    """The signed Reply-To address of a ticket (None without a secret and a domain); with
    ``agent``, the one for mail to agents."""
    secrets, domain = reply_secrets(), mail_domain()
    if not secrets or not domain:
        return None
    return f"reply+{ticket_id}.{_hmac8(ticket_id, secrets[0], agent=agent)}@{domain}"


@dataclass(frozen=True)
class SignedAddress:
    ticket_id: int
    agent: bool  # signed with the agent key: the address was only ever sent to agents


def verify_reply_address(address: str) -> SignedAddress | None:
    """The ticket a signed address names and for whom it was signed, if its tag is right
    under any current or previous secret (each compared in constant time)."""
    secrets = reply_secrets()
    if not secrets or "@" not in address:
        return None
    local = address.strip().strip("<>").split("@", 1)[0]
    match = _SIGNED.match(local)
    if match is None:
        return None
    ticket_id, tag = int(match.group(1)), match.group(2).lower()
    customer = agent = False
    for secret in secrets:
        customer |= hmac.compare_digest(_hmac8(ticket_id, secret), tag)
        agent |= hmac.compare_digest(_hmac8(ticket_id, secret, agent=True), tag)
    if customer:  # both is a 1-in-2^32 coincidence: the lesser authority wins
        return SignedAddress(ticket_id, agent=False)
    return SignedAddress(ticket_id, agent=True) if agent else None


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


# ---------------------------------------------------------------------------- side conversations
# A side conversation mailed to an outside address has its own thread and its own signed
# address, of shapes the ticket parsers above never match (no ``ticket-``, no ``reply+``), so
# the outside party's answer can only come back into that side conversation, never into the
# customer's thread; the tag is keyed by a third label, so a ticket's tag never verifies here.
SIDE_LABEL = b"flask-escalated/side-conversation/v1"
_SIDE_ID = re.compile(r"<?side-(\d{1,18})(?:-reply-\d{1,18})?@([^>\s]+)>?", re.I)
_SIDE_SIGNED = re.compile(r"^side\+(\d{1,18})\.([a-f0-9]{8})$", re.I)


def side_message_id(conversation_id: int, domain: str) -> str:
    return f"<side-{conversation_id}@{domain}>"


def side_reply_message_id(conversation_id: int, reply_id: int, domain: str) -> str:
    return f"<side-{conversation_id}-reply-{reply_id}@{domain}>"


def _side_hmac8(conversation_id: int, secret: str) -> str:
    key = _derive(secret, SIDE_LABEL)
    return hmac.new(key.encode(), str(conversation_id).encode(), hashlib.sha256).hexdigest()[:8]


def side_address(conversation_id: int) -> str | None:
    """The signed Reply-To of a side conversation (None without a secret and a domain)."""
    secrets, domain = reply_secrets(), mail_domain()
    if not secrets or not domain:
        return None
    return f"side+{conversation_id}.{_side_hmac8(conversation_id, secrets[0])}@{domain}"


def verify_side_address(address: str) -> int | None:
    """The side conversation a signed address names, if its tag is right under any current or
    previous secret (compared in constant time)."""
    secrets = reply_secrets()
    if not secrets or "@" not in address:
        return None
    match = _SIDE_SIGNED.match(address.strip().strip("<>").split("@", 1)[0])
    if match is None:
        return None
    conversation_id, tag = int(match.group(1)), match.group(2).lower()
    ok = False
    for secret in secrets:
        ok |= hmac.compare_digest(_side_hmac8(conversation_id, secret), tag)
    return conversation_id if ok else None


def side_ids_in(header: str | None) -> list[int]:
    """Side conversation ids named by our Message-IDs in a header, in order."""
    domain = (mail_domain() or "").lower()
    found: list[int] = []
    for match in _SIDE_ID.finditer(header or ""):
        if domain and match.group(2).lower() != domain:
            continue
        ident = int(match.group(1))
        if ident not in found:
            found.append(ident)
    return found
