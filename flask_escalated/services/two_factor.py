"""Second factors for agents: TOTP enrolment, verification without replay, recovery codes.

A code is accepted once: each credential remembers the last TOTP time step it accepted, and a
conditional UPDATE moves it forward, so the same code (or an older one) sent again, even by two
requests racing each other, is refused. Recovery codes are stored only as SHA-256 digests and
each one is struck off in the same row-locked update that accepts it.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from typing import Any, cast

import pyotp
from sqlalchemy import CursorResult, or_, select, update

from ..clock import now
from ..events import Actor
from ..models import TwoFactorCredential
from . import audit, session
from .errors import Conflict, NotFound, ValidationError

STEP_SECONDS = 30
#: Codes from one step before or after now are accepted (clock drift between phone and server).
DRIFT_STEPS = 1
RECOVERY_CODES = 8
_RECOVERY_ALPHABET = "abcdefghjkmnpqrstuvwxyz23456789"


@dataclass(frozen=True)
class Enrolment:
    secret: str
    uri: str


def credential(user_id: str) -> TwoFactorCredential | None:
    return session().execute(
        select(TwoFactorCredential).where(TwoFactorCredential.user_id == user_id)
    ).scalar_one_or_none()


def is_enabled(user_id: str) -> bool:
    row = credential(user_id)
    return row is not None and row.confirmed_at is not None


def begin(user_id: str, account: str, issuer: str) -> Enrolment:
    """Start (or restart) an enrolment: a new secret, pending until a code confirms it."""
    row = credential(user_id)
    if row is not None and row.confirmed_at is not None:
        raise Conflict("Two-factor sign-in is already on. Turn it off first to re-enrol.")
    secret = pyotp.random_base32()
    if row is None:
        row = TwoFactorCredential(user_id=user_id, secret=secret, recovery_codes=[])
        session().add(row)
    else:
        row.secret, row.last_used_step = secret, None
    session().flush()
    uri = pyotp.TOTP(secret).provisioning_uri(name=account[:200], issuer_name=issuer[:100])
    return Enrolment(secret, uri)


def pending_uri(user_id: str, account: str, issuer: str) -> Enrolment | None:
    row = credential(user_id)
    if row is None or row.confirmed_at is not None:
        return None
    uri = pyotp.TOTP(row.secret).provisioning_uri(name=account[:200], issuer_name=issuer[:100])
    return Enrolment(row.secret, uri)


def confirm(user_id: str, code: str, actor: Actor) -> list[str]:
    """Finish enrolment with a first code; returns the recovery codes (shown once)."""
    row = credential(user_id)
    if row is None or row.confirmed_at is not None:
        raise NotFound("There is no pending two-factor enrolment. Start again.")
    if not _accept_totp(row, code):
        raise ValidationError("That code is not right. Check the time on your phone.",
                              {"code": "wrong code"})
    row.confirmed_at = now()
    codes = _new_recovery_codes(row)
    session().flush()
    audit.log(actor, "two_factor.enabled", "agent", user_id)
    return codes


def verify(user_id: str, code: str, actor: Actor) -> bool:
    """True if ``code`` is a fresh TOTP code or an unused recovery code for ``user_id``."""
    row = credential(user_id)
    if row is None or row.confirmed_at is None:
        return False
    if _accept_totp(row, code):
        return True
    if _accept_recovery_code(row, code):
        audit.log(actor, "two_factor.recovery_code_used", "agent", user_id,
                  new={"recovery_codes_left": len(row.recovery_codes)})
        return True
    return False


def disable(user_id: str, code: str, actor: Actor) -> None:
    """Turn 2FA off; needs a current code or a recovery code (re-authentication)."""
    if not verify(user_id, code, actor):
        raise ValidationError("That code is not right.", {"code": "wrong code"})
    row = credential(user_id)
    session().delete(row)
    session().flush()
    audit.log(actor, "two_factor.disabled", "agent", user_id)


def regenerate_recovery_codes(user_id: str, code: str, actor: Actor) -> list[str]:
    if not verify(user_id, code, actor):
        raise ValidationError("That code is not right.", {"code": "wrong code"})
    row = credential(user_id)
    assert row is not None
    codes = _new_recovery_codes(row)
    session().flush()
    audit.log(actor, "two_factor.recovery_codes_regenerated", "agent", user_id)
    return codes


def recovery_codes_left(user_id: str) -> int:
    row = credential(user_id)
    return len(row.recovery_codes) if row is not None else 0


# ---------------------------------------------------------------------------- internals
def _normalize(code: str) -> str:
    # ASCII only: other scripts' digits and letters pass isalnum() but are never part of a code
    # (and a non-ASCII string would make hmac.compare_digest raise).
    return "".join(ch for ch in str(code).lower() if ch.isascii() and ch.isalnum())[:64]


def _accept_totp(row: TwoFactorCredential, code: str) -> bool:
    code = _normalize(code)
    if len(code) != 6 or not code.isdigit():
        return False
    totp = pyotp.TOTP(row.secret)
    current = int(now().timestamp()) // STEP_SECONDS
    matched = None
    for step in range(current - DRIFT_STEPS, current + DRIFT_STEPS + 1):
        if hmac.compare_digest(totp.at(step * STEP_SECONDS), code):
            matched = step
    if matched is None:
        return False
    # Move the high-water mark forward only if no request has used this step or a later one.
    result = session().execute(
        update(TwoFactorCredential)
        .where(TwoFactorCredential.id == row.id,
               or_(TwoFactorCredential.last_used_step.is_(None),
                   TwoFactorCredential.last_used_step < matched))
        .values(last_used_step=matched)
        .execution_options(synchronize_session=False)
    )
    if cast(CursorResult[Any], result).rowcount == 1:
        row.last_used_step = matched
        return True
    return False


def _digest(code: str) -> str:
    return hashlib.sha256(_normalize(code).encode()).hexdigest()


def _accept_recovery_code(row: TwoFactorCredential, code: str) -> bool:
    if len(_normalize(code)) != 10:
        return False
    locked = session().execute(
        select(TwoFactorCredential).where(TwoFactorCredential.id == row.id)
        .with_for_update().execution_options(populate_existing=True)
    ).scalar_one()
    wanted = _digest(code)
    left = list(locked.recovery_codes or [])
    hit = None
    for stored in left:  # compare every one: the time taken says nothing about which matched
        if hmac.compare_digest(stored, wanted):
            hit = stored
    if hit is None:
        return False
    left.remove(hit)
    locked.recovery_codes = left
    session().flush()
    return True


def _new_recovery_codes(row: TwoFactorCredential) -> list[str]:
    codes = []
    for _ in range(RECOVERY_CODES):
        raw = "".join(secrets.choice(_RECOVERY_ALPHABET) for _ in range(10))
        codes.append(f"{raw[:5]}-{raw[5:]}")
    row.recovery_codes = [_digest(c) for c in codes]
    return codes
