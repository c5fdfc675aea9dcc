"""Managing API tokens through the API: shown once, hashed at rest, own or (admins) all."""

from __future__ import annotations

from sqlalchemy import select

from flask_escalated.models import ApiToken, AuditLog

API = "/support/api/v1"


def test_create_use_list_revoke(client_as, users, app):
    agent = client_as(users.agent)
    r = agent.post(f"{API}/api-tokens", json={"name": "CRM", "abilities": ["tickets:read"],
                                              "expires_in_days": 30})
    assert r.status_code == 201, r.json
    plain, tid = r.json["data"]["token"], r.json["data"]["id"]
    assert plain.startswith("esc_") and r.json["data"]["expires_at"]
    bearer = {"Authorization": f"Bearer {plain}"}
    anon = app.test_client()
    assert anon.get(f"{API}/tickets", headers=bearer).status_code == 200
    # A token cannot mint more tokens.
    assert anon.post(f"{API}/api-tokens", json={"name": "x"}, headers=bearer).status_code == 403
    listing = agent.get(f"{API}/api-tokens").json["data"]
    assert [t["id"] for t in listing] == [tid] and "token" not in listing[0]
    # Others cannot see or revoke it; admins can.
    assert client_as(users.agent2).get(f"{API}/api-tokens").json["data"] == []
    assert client_as(users.agent2).delete(f"{API}/api-tokens/{tid}").status_code == 404
    assert [t["id"] for t in client_as(users.admin).get(f"{API}/api-tokens").json["data"]] \
        == [tid]
    assert agent.delete(f"{API}/api-tokens/{tid}").status_code == 204
    assert anon.get(f"{API}/tickets", headers=bearer).status_code == 401
    ext = app.extensions["escalated"]
    ext.session.rollback()
    row = ext.session.execute(select(ApiToken)).scalar_one()
    assert row.token_hash != plain and row.revoked_at is not None
    logged = list(ext.session.execute(select(AuditLog.new_values)).scalars())
    assert not any(plain in str(values) for values in logged)


def test_validation_and_admin_issuing(client_as, users):
    agent, admin = client_as(users.agent), client_as(users.admin)
    for bad in ({"name": ""}, {"name": "x", "abilities": ["root"]},
                {"name": "x", "abilities": "agent"}, {"name": "x", "expires_in_days": 0},
                {"name": "x", "expires_in_days": "7"}):
        assert agent.post(f"{API}/api-tokens", json=bad).status_code == 422, bad
    assert agent.post(f"{API}/api-tokens", json={"name": "x", "user_id": str(users.other.id)}) \
        .status_code == 403
    r = admin.post(f"{API}/api-tokens", json={"name": "for Oscar", "user_id": users.other.id})
    assert r.status_code == 201 and r.json["data"]["user_id"] == str(users.other.id)
    assert admin.post(f"{API}/api-tokens", json={"name": "x", "user_id": "99999"}) \
        .status_code == 422
