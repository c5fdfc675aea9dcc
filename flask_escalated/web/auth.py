"""Two-factor sign-in for agents: enrol, verify each session, recovery codes, turn off.

With ``ESCALATED_ENABLE_2FA`` on, agents can enrol here, and :func:`second_factor_gate` stands
before every agent-facing request made with a session cookie: an agent who enrolled must enter a
code once per session, and with ``ESCALATED_REQUIRE_2FA`` an agent who has not enrolled is sent
to enrol. API tokens are a separate credential and pass. Wrong codes count against the ``auth``
rate limit of the person (or address).
"""

from __future__ import annotations

from typing import Any

from flask import (
    Blueprint,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from markupsafe import Markup

from ..config import Config
from ..services import ext, two_factor
from ..services.errors import PermissionDenied, ServiceError
from ..services.permissions import Principal
from .api.schemas import Empty
from .api.schemas.pages import TwoFactorCode
from .html import install_html_errors, signed_in_forms
from .page_forms import FormRefused, read_page, reads
from .security import csrf_token, current_principal, requires, via_token

VERIFIED_KEY = "_escalated_2fa_user"


class SecondFactorRequired(ServiceError):
    status = 403
    code = "two_factor_required"


class SecondFactorSetupRequired(SecondFactorRequired):
    code = "two_factor_setup_required"


def second_factor_gate() -> None:
    """Refuse agent requests that lack this session's second factor (when 2FA is on)."""
    if not current_app.config[Config.ENABLE_2FA]:
        return
    principal = current_principal()
    if not principal.is_agent or via_token():
        return
    if session.get(VERIFIED_KEY) == principal.user_id:
        return
    if two_factor.is_enabled(str(principal.user_id)):
        raise SecondFactorRequired(
            "Enter your two-factor code first: " + url_for("escalated.auth.verify"))
    if not current_app.config[Config.REQUIRE_2FA]:
        return
    raise SecondFactorSetupRequired(
        "Agents must turn on two-factor sign-in first: " + url_for("escalated.auth.settings"))


def create_auth_blueprint() -> Blueprint:
    bp = Blueprint("auth", __name__, url_prefix="/auth")
    bp.before_request(signed_in_forms)
    bp.context_processor(lambda: {"csrf_token": csrf_token})
    install_html_errors(bp)
    bp.add_url_rule("/2fa", "settings", settings)
    bp.add_url_rule("/2fa/setup", "setup", setup, methods=["POST"])
    bp.add_url_rule("/2fa/confirm", "confirm", confirm, methods=["POST"])
    bp.add_url_rule("/2fa/verify", "verify", verify, methods=["GET", "POST"])
    bp.add_url_rule("/2fa/disable", "disable", disable, methods=["POST"])
    bp.add_url_rule("/2fa/recovery-codes", "recovery_codes", recovery_codes, methods=["POST"])
    return bp


def _agent() -> Principal:
    principal = current_principal()
    if not principal.is_agent:
        raise PermissionDenied("Two-factor sign-in is for agents and admins.")
    return principal


def _account(principal: Principal) -> tuple[str, str]:
    _, email = ext().display(ext().load_user(principal.user_id))
    issuer = current_app.config[Config.TWO_FACTOR_ISSUER] or current_app.config[Config.APP_NAME]
    return email or str(principal.user_id), str(issuer)


def _qr(uri: str) -> Markup:
    import segno  # only when someone enrols (2FA is off by default)

    svg = segno.make(uri, error="m").svg_inline(scale=5, title="Scan with your authenticator")
    return Markup(svg)  # noqa: S704  (segno draws modules; no caller text reaches the markup)


def _safe_next() -> str:
    target = request.args.get("next") or ""
    if target.startswith("/") and not target.startswith("//") and "\\" not in target:
        return target
    return url_for("escalated.auth.settings")


@requires()
def settings() -> str:
    principal = _agent()
    uid = str(principal.user_id)
    return render_template(
        "escalated/auth/two_factor.html",
        enabled=two_factor.is_enabled(uid),
        codes_left=two_factor.recovery_codes_left(uid),
        required=current_app.config[Config.REQUIRE_2FA],
    )


@requires()
@reads(Empty)
def setup() -> tuple[str, int] | str:
    principal = _agent()
    account, issuer = _account(principal)
    read_page(Empty)
    with ext().unit_of_work():
        enrolment = two_factor.begin(str(principal.user_id), account, issuer)
    return _setup_page(enrolment)


def _setup_page(enrolment: two_factor.Enrolment, error: str | None = None,
                status: int = 200) -> tuple[str, int]:
    return render_template("escalated/auth/setup.html", secret=enrolment.secret,
                           uri=enrolment.uri, qr=_qr(enrolment.uri), error=error), status


@requires()
@reads(TwoFactorCode)
def confirm() -> Any:
    principal = _agent()
    uid = str(principal.user_id)
    try:
        code = read_page(TwoFactorCode).code
        with ext().unit_of_work():
            codes = two_factor.confirm(uid, code, principal.actor)
    except ServiceError as exc:
        account, issuer = _account(principal)
        enrolment = two_factor.pending_uri(uid, account, issuer)
        if enrolment is None:
            raise
        return _setup_page(enrolment, exc.message, 422)
    session[VERIFIED_KEY] = principal.user_id
    return render_template("escalated/auth/recovery_codes.html", codes=codes, fresh=True)


@requires()
@reads(TwoFactorCode)
def verify() -> Any:
    principal = _agent()
    uid = str(principal.user_id)
    if not two_factor.is_enabled(uid):
        return redirect(url_for("escalated.auth.settings"))
    error = None
    if request.method == "POST":
        try:
            code = read_page(TwoFactorCode).code
        except FormRefused as exc:
            error = exc.message
        else:
            with ext().unit_of_work():
                ok = two_factor.verify(uid, code, principal.actor)
            if ok:
                session[VERIFIED_KEY] = principal.user_id
                return redirect(_safe_next())
            error = "That code is not right, or it was already used. Wait for the next one."
    return render_template("escalated/auth/verify.html", error=error,
                           next=request.args.get("next", "")), 422 if error else 200


@requires()
@reads(TwoFactorCode)
def disable() -> Any:
    principal = _agent()
    if current_app.config[Config.REQUIRE_2FA]:
        raise PermissionDenied("Two-factor sign-in is required for agents here.")
    code = read_page(TwoFactorCode).code
    with ext().unit_of_work():
        two_factor.disable(str(principal.user_id), code, principal.actor)
    session.pop(VERIFIED_KEY, None)
    flash("Two-factor sign-in is off.", "success")
    return redirect(url_for("escalated.auth.settings"))


@requires()
@reads(TwoFactorCode)
def recovery_codes() -> Any:
    principal = _agent()
    code = read_page(TwoFactorCode).code
    with ext().unit_of_work():
        codes = two_factor.regenerate_recovery_codes(str(principal.user_id), code,
                                                     principal.actor)
    return render_template("escalated/auth/recovery_codes.html", codes=codes, fresh=False)
