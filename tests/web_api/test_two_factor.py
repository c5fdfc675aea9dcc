"""Two-factor sign-in for agents: enrolment, replay refusal, recovery codes, the gate, limits."""

from __future__ import annotations

import re

import pyotp
import pytest
from sqlalchemy import select

from flask_escalated.clock import now
from flask_escalated.events import Actor
from flask_escalated.models import AuditLog, TwoFactorCredential
from flask_escalated.services import tokens, two_factor

pytestmark = pytest.mark.all_databases

AUTH = "/support/auth/2fa"


@pytest.fixture
def app(make_app, clock):
    """The module's app has 2FA on (``users`` and ``client_as`` build on it)."""
    app = make_app(ESCALATED_ENABLE_2FA=True)
    with app.app_context():
        yield app


def _csrf(response) -> str:
    return re.search(r'name="csrf_token" value="([^"]+)"', response.get_data(True)).group(1)


def _code(secret: str, step_offset: int = 0) -> str:
    return pyotp.TOTP(secret).at(int(now().timestamp()) + 30 * step_offset)


def _enrol(client):
    page = client.get(AUTH)
    assert page.status_code == 200 and "Set up two-factor" in page.get_data(True)
    setup = client.post(f"{AUTH}/setup", data={"csrf_token": _csrf(page)})
    html = setup.get_data(True)
    assert setup.status_code == 200 and "<svg" in html and "otpauth://totp/" in html
    secret = re.search(r'class="esc-secret">([A-Z2-7]+)<', html).group(1)
    wrong = client.post(f"{AUTH}/confirm", data={"csrf_token": _csrf(setup), "code": "000000"})
    assert wrong.status_code == 422 and "not right" in wrong.get_data(True)
    done = client.post(f"{AUTH}/confirm", data={"csrf_token": _csrf(setup),
                                                 "code": _code(secret)})
    assert done.status_code == 200
    codes = re.findall(r"<li><code>([a-z0-9]{5}-[a-z0-9]{5})</code></li>", done.get_data(True))
    assert len(codes) == 8 and len(set(codes)) == 8
    return secret, codes


def test_enrolment_stores_only_digests_of_recovery_codes(app, users, client_as, ext):
    secret, codes = _enrol(client_as(users.agent))
    ext.session.rollback()  # a fresh snapshot (MariaDB reads are repeatable)
    row = ext.session.execute(select(TwoFactorCredential)).scalar_one()
    assert row.confirmed_at is not None and len(row.recovery_codes) == 8
    assert not set(codes) & set(row.recovery_codes)
    assert all(re.fullmatch(r"[0-9a-f]{64}", d) for d in row.recovery_codes)
    audit = ext.session.execute(select(AuditLog).where(
        AuditLog.action == "two_factor.enabled")).scalar_one()
    assert secret not in str(audit.new_values) and audit.entity_id == str(users.agent.id)


def test_a_code_is_accepted_once(app, users, client_as, clock, ext):
    secret, _ = _enrol(client_as(users.agent))
    ext.session.rollback()  # see the enrolment (MariaDB reads are repeatable)
    uid = str(users.agent.id)
    actor = Actor.agent(uid)
    clock.advance(seconds=30)
    code = _code(secret)
    with ext.unit_of_work():
        assert two_factor.verify(uid, code, actor) is True
    with ext.unit_of_work():
        assert two_factor.verify(uid, code, actor) is False  # replay within its window
        assert two_factor.verify(uid, _code(secret, -1), actor) is False  # an older one
    clock.advance(seconds=30)
    with ext.unit_of_work():
        assert two_factor.verify(uid, _code(secret), actor) is True
        assert two_factor.verify(uid, "12345", actor) is False
        assert two_factor.verify(uid, "", actor) is False


def test_recovery_codes_work_once(app, users, client_as, ext):
    _, codes = _enrol(client_as(users.agent))
    ext.session.rollback()
    uid, actor = str(users.agent.id), Actor.agent(str(users.agent.id))
    with ext.unit_of_work():
        assert two_factor.verify(uid, codes[0].upper().replace("-", " "), actor) is True
    with ext.unit_of_work():
        assert two_factor.verify(uid, codes[0], actor) is False
    ext.session.rollback()
    assert two_factor.recovery_codes_left(uid) == 7
    used = ext.session.execute(select(AuditLog).where(
        AuditLog.action == "two_factor.recovery_code_used")).scalar_one()
    assert codes[0] not in str(used.new_values)


def test_the_gate_stops_agents_until_they_enter_a_code(app, users, client_as, clock, ext):
    agent = client_as(users.agent)
    secret, codes = _enrol(agent)
    assert agent.get("/support/api/v1/tickets").status_code == 200  # verified by enrolling

    fresh = client_as(users.agent)  # a new session
    stopped = fresh.get("/support/api/v1/tickets")
    assert stopped.status_code == 403
    assert stopped.get_json()["error"]["code"] == "two_factor_required"
    page = fresh.get(f"{AUTH}/verify?next=/support/api/v1/me")
    clock.advance(seconds=30)
    bad = fresh.post(f"{AUTH}/verify", data={"csrf_token": _csrf(page), "code": "999999"})
    assert bad.status_code == 422
    ok = fresh.post(f"{AUTH}/verify?next=/support/api/v1/me",
                    data={"csrf_token": _csrf(page), "code": _code(secret)})
    assert ok.status_code == 302 and ok.headers["Location"].endswith("/support/api/v1/me")
    assert fresh.get("/support/api/v1/tickets").status_code == 200

    evil = client_as(users.agent)
    page = evil.get(f"{AUTH}/verify?next=//evil.example/")
    out = evil.post(f"{AUTH}/verify?next=//evil.example/",
                    data={"csrf_token": _csrf(page), "code": codes[1]})
    assert out.status_code == 302 and "evil.example" not in out.headers["Location"]

    # Tokens are their own credential; customers and not-enrolled agents are not stopped.
    with ext.unit_of_work():
        _, plain = tokens.create_token(str(users.agent.id), "t", ["*"], Actor.system())
    assert app.test_client().get("/support/api/v1/tickets", headers={
        "Authorization": f"Bearer {plain}"}).status_code == 200
    assert client_as(users.customer).get("/support/api/v1/tickets").status_code == 200
    assert client_as(users.agent2).get("/support/api/v1/tickets").status_code == 200
    assert client_as(users.customer).get(AUTH).status_code == 403


def test_required_2fa_sends_agents_to_enrol(make_app, users_for):
    app = make_app(ESCALATED_ENABLE_2FA=True, ESCALATED_REQUIRE_2FA=True)
    people = users_for(app)
    agent = app.test_client(user=people.agent)
    r = agent.get("/support/api/v1/tickets")
    assert r.status_code == 403 and r.get_json()["error"]["code"] == "two_factor_setup_required"
    assert app.test_client(user=people.customer).get("/support/api/v1/tickets").status_code == 200


def test_turning_off_needs_a_code(app, users, client_as, clock, ext):
    agent = client_as(users.agent)
    secret, _ = _enrol(agent)
    page = agent.get(AUTH)
    assert "8 unused recovery codes" in page.get_data(True)
    wrong = agent.post(f"{AUTH}/disable", data={"csrf_token": _csrf(page), "code": "123456"})
    assert wrong.status_code == 422
    clock.advance(seconds=30)
    new = agent.post(f"{AUTH}/recovery-codes", data={"csrf_token": _csrf(page),
                                                     "code": _code(secret)})
    assert new.status_code == 200 and "no longer work" in new.get_data(True)
    clock.advance(seconds=30)
    off = agent.post(f"{AUTH}/disable", data={"csrf_token": _csrf(page), "code": _code(secret)})
    assert off.status_code == 302
    ext.session.rollback()
    assert not two_factor.is_enabled(str(users.agent.id))
    assert agent.post(f"{AUTH}/disable", data={"code": "1"}).status_code == 400  # no CSRF


def test_wrong_codes_hit_the_rate_limit(make_app, users_for, clock):
    app = make_app(ESCALATED_ENABLE_2FA=True, ESCALATED_RATE_LIMITS={"auth": "3 per minute"})
    people = users_for(app)
    agent = app.test_client(user=people.agent)
    secret, _ = _enrol(agent)
    page = agent.get(f"{AUTH}/verify")
    statuses = [agent.post(f"{AUTH}/verify", data={"csrf_token": _csrf(page),
                                                   "code": "000000"}).status_code
                for _ in range(4)]
    assert statuses[:3] == [422, 422, 422] and statuses[3] == 429
    blocked = agent.post(f"{AUTH}/verify", data={"csrf_token": _csrf(page),
                                                 "code": _code(secret, 1)})
    assert blocked.status_code == 429 and int(blocked.headers["Retry-After"]) >= 1


def test_without_2fa_the_pages_do_not_exist(make_app, users_for):
    plain = make_app()
    agent = plain.test_client(user=users_for(plain).agent)
    assert agent.get(AUTH).status_code == 404
