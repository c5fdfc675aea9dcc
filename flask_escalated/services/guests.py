"""The guest policy: who owns a ticket opened by someone without an account.

Read at run time from the settings store (``guest_policy_mode``, ``guest_policy_user_id``,
``guest_policy_signup_url_template``; ``ESCALATED_GUEST_POLICY`` is only the initial value):

- ``unassigned`` (default): the ticket belongs to a Contact, no host user;
- ``guest_user``: it also belongs to the configured host user (a shared guest account); a
  missing or deleted user falls back to ``unassigned`` rather than failing;
- ``prompt_signup``: a Contact, and the confirmation mail carries a sign-up link built from the
  template with a signed token, which :func:`contact_for_signup_token` reads back when the person
  signs up (then :func:`~flask_escalated.services.contacts.link_to_user` moves their tickets).
"""

from __future__ import annotations

import hashlib
import logging
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from flask import current_app
from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer
from limits import parse_many

from ..config import rate_limit_for
from ..events import Actor
from ..models import Ticket
from . import ext, settings
from .errors import ValidationError

if TYPE_CHECKING:
    from .tickets import NewTicket

SIGNUP_MAX_AGE = 30 * 86400
log = logging.getLogger("flask_escalated.guests")


def policy() -> dict[str, Any]:
    values = settings.effective()
    return {"mode": values["guest_policy_mode"], "user_id": values["guest_policy_user_id"],
            "signup_url_template": values["guest_policy_signup_url_template"]}


def apply_policy(data: NewTicket) -> str:
    """Apply the current policy to a ticket from a person without an account; returns the
    mode that applied."""
    current = policy()
    mode = current["mode"]
    if mode == "guest_user":
        uid = current["user_id"]
        if not uid or ext().load_user(str(uid)) is None:
            mode = "unassigned"
        else:
            data.requester_user_id = str(uid)
    data.metadata = {**(data.metadata or {}), "guest_policy": mode}
    return mode


def _signer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(str(current_app.secret_key or ""), salt="escalated-signup")


def signup_url(email: str) -> str | None:
    """The invitation link for ``prompt_signup`` (None when the template is unset)."""
    template = policy()["signup_url_template"]
    if not template:
        return None
    token = _signer().dumps({"email": email})
    return str(template).replace("{token}", quote(token)).replace("{email}", quote(email))


def contact_for_signup_token(token: str) -> str | None:
    """The e-mail address an invitation token was made for (None if forged or expired)."""
    try:
        data = _signer().loads(token, max_age=SIGNUP_MAX_AGE)
    except (BadSignature, SignatureExpired):
        return None
    email = data.get("email") if isinstance(data, dict) else None
    return email if isinstance(email, str) else None


def open_ticket(
    *, channel: str, name: Any, email: Any, subject: Any, description: Any,
    department_id: Any = None, priority: Any = None, custom_fields: Any = None,
) -> tuple[Ticket, str]:
    """A ticket from a person without an account (the widget, the public form): the requester
    is a Contact found or created by e-mail, and the guest policy decides the rest. Returns the
    ticket and the policy mode that applied."""
    from .contacts import find_or_create
    from .tickets import NewTicket, create_ticket

    if not isinstance(name, str) or len(name) > 255:
        name = None
    data = NewTicket(subject=subject, description=description, channel=channel,
                     requester_email=email if isinstance(email, str) else "",
                     requester_name=(name or "").strip() or None,
                     department_id=department_id, priority=priority,
                     custom_fields=custom_fields)
    mode = apply_policy(data)
    try:
        try:
            contact = find_or_create(data.requester_email or "", data.requester_name)
        except ValidationError:
            create_ticket(data, Actor.system())  # collects every field's error, then raises
            raise
        ticket = create_ticket(data, Actor.contact(contact.id))
    except ValidationError as exc:
        renamed = {"requester_email": "email", "requester": "email"}
        raise ValidationError(exc.message, {renamed.get(k, k): v
                                            for k, v in exc.fields.items()}) from None
    return ticket, mode


def confirmation_allowed(address: str) -> bool:
    """Spend one of ``address``'s confirmation mails (the ``mail_recipient`` rate limit,
    counted in the rate limiter's storage: Redis in production, memory otherwise); False once
    they are used up.

    Anyone can open a ticket in someone else's name, so without this budget the desk would
    mail a stranger's chosen address as often as tickets can be opened from rotating
    addresses. Past the budget the ticket is still opened (nothing is lost; the submitter
    holds its guest link) and only the mail is skipped.
    """
    limiter = getattr(ext().state, "limiter", None)
    if limiter is None or not limiter.enabled:
        return True
    key = "mailto:" + hashlib.sha256(address.strip().lower().encode()).hexdigest()[:32]
    try:
        for item in parse_many(rate_limit_for(current_app.config, "mail_recipient")):
            if not limiter.limiter.hit(item, "escalated", "mail_recipient", key):
                log.info("confirmation mail skipped: the recipient's budget is used up")
                return False
    except Exception:  # the limiter's storage is down: behave as the route limits do
        log.exception("could not count a confirmation mail; sending it")
    return True
