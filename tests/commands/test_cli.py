"""``flask escalated`` commands."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from flask_escalated.models import AgentProfile, ApiToken
from flask_escalated.services import tokens


def test_make_agent_and_admin(app, users):
    runner = app.test_cli_runner()
    r = runner.invoke(args=["escalated", "make-agent", "other@example.test"])
    assert r.exit_code == 0, r.output
    r = runner.invoke(args=["escalated", "make-admin", str(users.customer.id)])
    assert r.exit_code == 0, r.output
    ext = app.extensions["escalated"]
    ext.session.rollback()
    roles = dict(ext.session.execute(select(AgentProfile.user_id, AgentProfile.role)).all())
    assert roles[str(users.other.id)] == "agent"
    assert roles[str(users.customer.id)] == "admin"
    r = runner.invoke(args=["escalated", "make-agent", "nobody@example.test"])
    assert r.exit_code != 0 and "No host user" in r.output


def test_create_api_token_prints_it_alone_on_the_last_line(app, users):
    runner = app.test_cli_runner()
    r = runner.invoke(args=["escalated", "create-api-token", "--user", "agent@example.test",
                            "--name", "CRM", "--ability", "tickets:read",
                            "--expires-in-days", "30"])
    assert r.exit_code == 0, r.output
    plain = r.output.strip().splitlines()[-1]
    assert plain.startswith("esc_") and " " not in plain
    ext = app.extensions["escalated"]
    ext.session.rollback()
    row = ext.session.execute(select(ApiToken)).scalar_one()
    assert row.token_hash == tokens.hash_token(plain) and row.abilities == ["tickets:read"]
    assert plain not in (row.token_hash, row.token_prefix)
    client = app.test_client()
    ok = client.get("/support/api/v1/tickets", headers={"Authorization": f"Bearer {plain}"})
    assert ok.status_code == 200
    r = runner.invoke(args=["escalated", "create-api-token", "--user", str(users.agent.id),
                            "--name", "x", "--ability", "root"])
    assert r.exit_code != 0


@pytest.mark.all_databases
def test_seed_demo_is_idempotent(app, users):
    runner = app.test_cli_runner()
    args = ["escalated", "seed-demo", "--admin", "admin@example.test",
            "--agent", "agent@example.test", "--customer", "customer@example.test"]
    r = runner.invoke(args=args)
    assert r.exit_code == 0 and "Seeded" in r.output, r.output
    r = runner.invoke(args=args)
    assert r.exit_code == 0 and "already" in r.output


def test_check_sla_runs(app, users):
    r = app.test_cli_runner().invoke(args=["escalated", "check-sla"])
    assert r.exit_code == 0 and "0 breaches and 0 warnings" in r.output
