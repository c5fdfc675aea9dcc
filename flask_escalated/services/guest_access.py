"""Guest access: capability tokens that open one ticket, and optional mailbox proof.

A guest token is 32 random bytes (URL-safe), stored as a SHA-256 digest, valid for
:data:`TOKEN_TTL`. Every failure to resolve one reads the same — unknown, expired, revoked or
for a ticket that no longer exists — so a lookup never tells whether another ticket exists.

Mailbox proof (the ``guest_mailbox_proof`` setting): before a public submission is accepted,
an 8-digit code is mailed to the address; the code is stored as an HMAC, expires after ten
minutes, allows five tries, and each mailbox gets three codes an hour.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import uuid
from datetime import timedelta

from flask import current_app
from markupsafe import escape
from sqlalchemy import func, select

from ..clock import now
from ..config import Config
from ..events import Actor
from ..models import GuestChallenge, GuestToken, Ticket
from . import session, settings
from .contacts import normalize_email
from .errors import NotFound, ValidationError

TOKEN_TTL = timedelta(days=30)
CHALLENGE_TTL = timedelta(minutes=10)
CHALLENGE_ATTEMPTS = 5
CHALLENGES_PER_HOUR = 3
NOT_FOUND = "This link is not valid or has expired."


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def issue_token(ticket: Ticket) -> str:
    token = secrets.token_urlsafe(32)
    session().add(GuestToken(ticket_id=ticket.id, token_hash=_digest(token),
                             expires_at=now() + TOKEN_TTL, created_at=now()))
    session().flush()
    return token


def guest_url(ticket: Ticket) -> str:
    cfg = current_app.config
    base = (cfg[Config.APP_URL] or "").rstrip("/")
    return f"{base}{cfg[Config.ROUTE_PREFIX].rstrip('/')}/guest/{issue_token(ticket)}"


def resolve(token: str) -> Ticket:
    """The ticket a token opens (404 with one message for every kind of failure)."""
    if not isinstance(token, str) or not 30 <= len(token) <= 100:
        raise NotFound(NOT_FOUND)
    row = session().execute(select(GuestToken).where(
        GuestToken.token_hash == _digest(token))).scalar_one_or_none()
    if row is None or row.revoked_at is not None or row.expires_at < now():
        raise NotFound(NOT_FOUND)
    ticket = session().get(Ticket, row.ticket_id)
    if ticket is None:
        raise NotFound(NOT_FOUND)
    row.last_used_at = now()
    from .relations import forward_same_requester

    return forward_same_requester(ticket)


def actor_for(ticket: Ticket) -> Actor:
    """Who a guest holding this ticket's token acts as: its contact (or its requester)."""
    if ticket.contact_id is not None:
        return Actor.contact(ticket.contact_id)
    if ticket.requester_user_id is not None:
        return Actor.customer(ticket.requester_user_id)
    raise NotFound(NOT_FOUND)


def revoke_all(ticket: Ticket) -> None:
    for row in session().execute(select(GuestToken).where(
            GuestToken.ticket_id == ticket.id, GuestToken.revoked_at.is_(None))).scalars():
        row.revoked_at = now()


# ---------------------------------------------------------------------------- mailbox proof
def proof_required() -> bool:
    return bool(settings.value("guest_mailbox_proof"))


def _mac(value: str) -> str:
    key = str(current_app.secret_key or "").encode()
    return hmac.new(key, value.encode(), hashlib.sha256).hexdigest()


def challenge(email: str) -> str:
    """Mail a code to ``email``; returns the challenge id the submission must quote."""
    address = normalize_email(email)
    email_hash = _mac("mailbox:" + address)
    db = session()
    recent = db.execute(select(func.count()).select_from(GuestChallenge).where(
        GuestChallenge.email_hash == email_hash,
        GuestChallenge.created_at > now() - timedelta(hours=1))).scalar_one()
    if recent >= CHALLENGES_PER_HOUR:
        raise ValidationError("Too many codes were sent to this address; try again later.",
                              {"email": "too many codes this hour"})
    ident = str(uuid.uuid4())
    code = f"{secrets.randbelow(10**8):08d}"
    db.add(GuestChallenge(id=ident, email_hash=email_hash,
                          code_hash=_mac(f"proof:{ident}:{code}"),
                          expires_at=now() + CHALLENGE_TTL, attempts=0, created_at=now()))
    _mail_code(address, code)
    db.flush()
    return ident


def _mail_code(address: str, code: str) -> None:
    from . import mail

    if not mail.enabled():
        raise ValidationError("Mailbox proof needs outgoing e-mail, which is not set up.",
                              {"email": "cannot send codes"})
    app_name = settings.value("app_name")
    mail.send_plain(
        "verification_code", address, f"{code} is your verification code",
        f"Your {app_name} verification code is {code}.\n\n"
        "It expires in 10 minutes. If you did not ask for it, ignore this e-mail.",
        f"<p>Your {escape(app_name)} verification code is <strong>{code}</strong>.</p>"
        "<p>It expires in 10 minutes.</p>", "verify")


WRONG_CODE = ValidationError("The verification code is wrong or has expired.",
                             {"verification_code": "wrong or expired"})


def verify(challenge_id: object, code: object, email: str) -> bool:
    """Consume a challenge for ``email`` (one use, five tries). The caller commits even when
    this answers False, so every wrong try counts."""
    if not isinstance(challenge_id, str) or not isinstance(code, str) or len(code) > 20:
        return False
    try:
        address = normalize_email(email)
    except ValidationError:
        return False
    row = session().execute(select(GuestChallenge).where(GuestChallenge.id == challenge_id[:36])
                            .with_for_update()).scalar_one_or_none()
    if row is None or row.consumed_at is not None or row.expires_at < now() \
            or row.attempts >= CHALLENGE_ATTEMPTS \
            or not hmac.compare_digest(row.email_hash, _mac("mailbox:" + address)):
        return False
    row.attempts += 1
    if not hmac.compare_digest(row.code_hash, _mac(f"proof:{row.id}:{code.strip()}")):
        return False
    row.consumed_at = now()
    return True
