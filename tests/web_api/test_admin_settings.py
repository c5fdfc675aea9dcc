"""Run-time settings and the audit log: validated, audited, secrets kept out."""

from __future__ import annotations

import pytest


def test_settings_are_validated_all_or_nothing_and_audited(api, users, app):
    admin = api(users.admin)
    before = admin.get("/settings").json["data"]
    assert before["guest_policy_mode"] == "unassigned" and before["kb_enabled"] is True
    bad = admin.patch("/settings", {"kb_enabled": False, "guest_policy_mode": "everyone",
                                    "branding": {"primary_color": "red"}, "nope": 1})
    assert bad.status_code == 422 and bad.json["error"]["code"] == "unknown_field"
    assert bad.json["error"]["fields"] == {"nope": "unknown field"}
    bad = admin.patch("/settings", {"kb_enabled": False, "guest_policy_mode": "everyone",
                                    "branding": {"primary_color": "red"}})
    assert bad.status_code == 422 and bad.json["error"]["code"] == "validation_error"
    assert set(bad.json["error"]["fields"]) == {"guest_policy_mode", "branding.primary_color"}
    assert admin.get("/settings").json["data"]["kb_enabled"] is True  # nothing was stored

    ok = admin.patch("/settings", {"kb_enabled": False, "app_name": "Acme Help",
                                   "branding": {"primary_color": "#112233", "footer": "Acme"},
                                   "guest_policy_signup_url_template":
                                       "https://acme.test/signup?t={token}"},
                     headers={"User-Agent": "settings-test/1.0"})
    assert ok.status_code == 200 and ok.json["data"]["app_name"] == "Acme Help"
    entry = admin.get("/audit-logs?entity_type=settings").json["data"][0]
    assert entry["action"] == "settings.updated"
    assert entry["old_values"]["kb_enabled"] is True and entry["new_values"]["kb_enabled"] is False
    assert entry["actor_user_id"] == str(users.admin.id)
    assert entry["ip_address"] and entry["user_agent"] == "settings-test/1.0"
    # Our pages show the run-time name and colour.
    page = app.test_client(user=users.customer).get("/support/tickets").get_data(True)
    assert "Acme Help" in page


@pytest.mark.all_databases
def test_audit_log_pages_and_keeps_secrets_out(api, users):
    admin = api(users.admin)
    for i in range(3):
        assert admin.post("/tags", {"name": f"t{i}"}).status_code == 201
    token = admin.post("/api-tokens", {"name": "ci"}).json
    first = admin.get("/audit-logs?limit=2")
    assert len(first.json["data"]) == 2 and first.json["next_cursor"]
    rest = admin.get(f"/audit-logs?limit=2&cursor={first.json['next_cursor']}").json["data"]
    ids = [e["id"] for e in first.json["data"]] + [e["id"] for e in rest]
    assert ids == sorted(ids, reverse=True) and len(set(ids)) == len(ids)
    everything = str(admin.get("/audit-logs?limit=100").json)
    assert token["data"]["token"] not in everything
    assert admin.get("/audit-logs?cursor=forged").status_code == 422
