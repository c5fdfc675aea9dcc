"""API tokens: created with a plain secret shown once, stored as a SHA-256 hash."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from datetime import datetime, timedelta
from typing import cast

from sqlalchemy import Engine, select, update

from ..clock import now
from ..events import Actor
from ..models import ApiToken
from . import audit, session
from .errors import ValidationError
from .ids import parse_id
from .permissions import ABILITIES

TOKEN_PREFIX = "esc_"  # noqa: S105 (a visible prefix, not a secret)
#: last_used_at is written at most this often, so reads do not turn into writes.
LAST_USED_GRANULARITY = timedelta(minutes=5)


def hash_token(plain: str) -> str:
    return hashlib.sha256(plain.encode("utf-8")).hexdigest()


def create_token(
    user_id: object,
    name: object,
    abilities: list[str] | None,
    actor: Actor,
    *,
    expires_at: datetime | None = None,
) -> tuple[ApiToken, str]:
    """Make a token for ``user_id``; returns the row and the plain token (shown once)."""
    abilities = list(abilities or ["*"])
    unknown = [a for a in abilities if a not in ABILITIES]
    if unknown:
        raise ValidationError(
            f"Unknown abilities: {', '.join(unknown)}.", {"abilities": sorted(ABILITIES)}
        )
    if not isinstance(name, str) or not name.strip() or len(name) > 120:
        raise ValidationError("A token needs a name.", {"name": "required, ≤ 120 characters"})
    plain = TOKEN_PREFIX + secrets.token_urlsafe(32)
    row = ApiToken(
        user_id=str(user_id),
        name=name.strip(),
        token_hash=hash_token(plain),
        token_prefix=plain[:10],
        abilities=abilities,
        expires_at=expires_at,
    )
    session().add(row)
    session().flush()
    audit.log(actor, "api_token.created", "api_token", row.id,
              new={"name": row.name, "user_id": row.user_id, "abilities": abilities})
    return row, plain


def authenticate(plain: str, ip: str | None = None) -> ApiToken | None:
    """The live token for ``plain`` (not revoked, not expired), or ``None``."""
    if not plain or len(plain) > 200:
        return None
    digest = hash_token(plain)
    row = session().execute(
        select(ApiToken).where(ApiToken.token_hash == digest)
    ).scalar_one_or_none()
    # The lookup is by hash (an index probe); compare again in constant time anyway.
    if row is None or not hmac.compare_digest(row.token_hash, digest):
        return None
    stamp = now()
    if row.revoked_at is not None or (row.expires_at is not None and row.expires_at <= stamp):
        return None
    if row.last_used_at is None or stamp - row.last_used_at >= LAST_USED_GRANULARITY:
        _touch(row.id, stamp, ip)
    return row


def _touch(token_id: int, stamp: datetime, ip: str | None) -> None:
    """Record use in a short transaction of its own: a read-only request must not hold a row
    lock on the token (requests with one token would queue), nor leave the write uncommitted."""
    engine = cast(Engine, session().get_bind())
    with engine.begin() as conn:
        conn.execute(
            update(ApiToken)
            .where(ApiToken.id == token_id)
            .where((ApiToken.last_used_at.is_(None))
                   | (ApiToken.last_used_at <= stamp - LAST_USED_GRANULARITY))
            .values(last_used_at=stamp, last_used_ip=ip)
        )


def revoke(token_id: int, actor: Actor) -> ApiToken | None:
    row = session().get(ApiToken, token_id)
    if row is not None and row.revoked_at is None:
        row.revoked_at = now()
        audit.log(actor, "api_token.revoked", "api_token", row.id, old={"name": row.name})
    return row


def list_tokens(user_id: str | None = None, *, before: int | None = None,
                limit: int | None = None) -> list[ApiToken]:
    """Tokens of one user (or every token when ``user_id`` is None), newest first; a keyset
    page with ``before`` (the last id of the previous page) and ``limit``."""
    query = select(ApiToken).order_by(ApiToken.id.desc())
    if user_id is not None:
        query = query.where(ApiToken.user_id == user_id)
    if before is not None:
        query = query.where(ApiToken.id < before)
    if limit is not None:
        query = query.limit(limit)
    return list(session().execute(query).scalars())


def owners(limit: int = 500) -> list[str]:
    """The host user ids that hold tokens (for a filter's choices), at most ``limit``."""
    return list(session().execute(
        select(ApiToken.user_id).distinct().order_by(ApiToken.user_id).limit(limit)).scalars())


def get_token(token_id: object) -> ApiToken | None:
    ident = parse_id(token_id)
    return session().get(ApiToken, ident) if ident is not None else None
