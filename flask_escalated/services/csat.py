"""Customer satisfaction surveys: a single-use token per resolved ticket, a 1-5 rating.

The token travels in the survey e-mail and is stored only as a SHA-256 digest; answering
clears it, so a link works once. Resolving a ticket again mints a fresh token for a survey that
was never answered; a ticket is rated at most once. Each rating raises ``csat_submitted``.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta
from typing import Any

from flask import current_app
from sqlalchemy import select

from ..clock import now
from ..config import Config
from ..events import Actor, record
from ..models import SatisfactionRating, Ticket
from . import fresh, session
from .errors import Conflict, NotFound, ValidationError

TOKEN_TTL = timedelta(days=30)
LABELS = {1: "Terrible", 2: "Poor", 3: "Okay", 4: "Good", 5: "Excellent"}


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def issue_token(ticket: Ticket) -> str | None:
    """A fresh survey token for ``ticket`` (None if it was already rated)."""
    db = session()
    row = db.execute(select(SatisfactionRating).where(
        SatisfactionRating.ticket_id == ticket.id)).scalar_one_or_none()
    if row is not None and row.rated_at is not None:
        return None
    token = secrets.token_urlsafe(32)
    if row is None:
        row = SatisfactionRating(ticket_id=ticket.id)
        db.add(row)
    row.token_hash = _digest(token)
    row.token_expires_at = now() + TOKEN_TTL
    row.agent_id = ticket.assignee_id
    row.department_id = ticket.department_id
    row.requester_user_id = ticket.requester_user_id
    row.contact_id = ticket.contact_id
    db.flush()
    return token


def survey_url(ticket: Ticket) -> str | None:
    token = issue_token(ticket)
    if token is None:
        return None
    cfg = current_app.config
    base = (cfg[Config.APP_URL] or "").rstrip("/")
    return f"{base}{cfg[Config.ROUTE_PREFIX].rstrip('/')}/rate/{token}"


def pending_for_token(token: str) -> SatisfactionRating:
    """The unanswered survey a token opens (404 for unknown, used or expired tokens)."""
    if not isinstance(token, str) or not 20 <= len(token) <= 100:
        raise NotFound("This survey link is not valid.")
    row = session().execute(select(SatisfactionRating).where(
        SatisfactionRating.token_hash == _digest(token))).scalar_one_or_none()
    if row is None or row.token_expires_at is None or row.token_expires_at < now():
        raise NotFound("This survey link is not valid, was already used, or has expired.")
    return row


def _clean(rating: Any, comment: Any) -> tuple[int, str | None]:
    if isinstance(rating, str) and rating.strip() in ("1", "2", "3", "4", "5"):
        rating = int(rating)
    if isinstance(rating, bool) or not isinstance(rating, int) or not 1 <= rating <= 5:
        raise ValidationError("Choose a rating from 1 to 5.", {"rating": "1-5"})
    if comment is not None and not isinstance(comment, str):
        raise ValidationError("The comment must be text.", {"comment": "text"})
    text = (comment or "").strip()
    if len(text) > 2000:
        raise ValidationError("The comment is too long.", {"comment": "at most 2000 characters"})
    return rating, text or None


def submit_with_token(token: str, rating: Any, comment: Any = None) -> SatisfactionRating:
    row = pending_for_token(token)
    ticket = session().get(Ticket, row.ticket_id)
    assert ticket is not None
    return _rate(row, ticket, rating, comment)


def submit_for_ticket(ticket: Ticket, rating: Any, comment: Any = None) -> SatisfactionRating:
    """Rate a resolved or closed ticket directly (the widget's and guest page's path)."""
    if ticket.status_category not in ("resolved", "closed"):
        raise Conflict("Only resolved or closed tickets can be rated.", {"ticket": "open"})
    db = session()
    row = db.execute(select(SatisfactionRating).where(
        SatisfactionRating.ticket_id == ticket.id)).scalar_one_or_none()
    if row is None:
        row = SatisfactionRating(ticket_id=ticket.id, agent_id=ticket.assignee_id,
                                 department_id=ticket.department_id,
                                 requester_user_id=ticket.requester_user_id,
                                 contact_id=ticket.contact_id)
        db.add(row)
    return _rate(row, ticket, rating, comment)


def _rate(row: SatisfactionRating, ticket: Ticket, rating: Any, comment: Any) -> SatisfactionRating:
    value, text = _clean(rating, comment)
    if row.rated_at is not None:
        raise Conflict("This ticket was already rated. Thank you!", {"rating": "already rated"})
    row.rating, row.comment, row.rated_at = value, text, now()
    row.token_hash = row.token_expires_at = None
    session().flush()
    if ticket.requester_user_id:
        actor = Actor.customer(ticket.requester_user_id)
    elif ticket.contact_id:
        actor = Actor.contact(ticket.contact_id)
    else:
        actor = Actor.system()
    record(session(), "csat_submitted", actor=actor, ticket=ticket, rating=value, comment=text)
    return row


def for_ticket(ticket_id: int) -> SatisfactionRating | None:
    if fresh.nothing_written(ticket_id, "SatisfactionRating"):
        return None
    return session().execute(select(SatisfactionRating).where(
        SatisfactionRating.ticket_id == ticket_id,
        SatisfactionRating.rated_at.is_not(None))).scalar_one_or_none()
