"""``/healthz``, ``/readyz`` and ``flask escalated status``: what a load balancer polls and an
operator reads, on each database, with Redis up, Redis down and the database gone."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
import sqlalchemy as sa
from redis import Redis

from flask_escalated.clock import now
from flask_escalated.migrate import VERSION_TABLE
from flask_escalated.models import Webhook, WebhookDelivery
from flask_escalated.services.readiness import shipped_head
from tests.hosts import intid

pytestmark = pytest.mark.all_databases

READYZ = "/support/readyz"


@pytest.fixture
def stamped(app):
    """The test database as if migrated: its tables come from ``create_all``, so the version
    table is written here (and removed after, for the next test on this database)."""
    with intid.db.engine.begin() as conn:
        conn.execute(sa.text(f"CREATE TABLE {VERSION_TABLE} (version_num VARCHAR(32) NOT NULL)"))
        conn.execute(sa.text(f"INSERT INTO {VERSION_TABLE} VALUES (:v)"), {"v": shipped_head()})
    yield app
    intid.db.session.remove()  # a CLI run inside this app context left its transaction open
    with intid.db.engine.begin() as conn:
        conn.execute(sa.text(f"DROP TABLE {VERSION_TABLE}"))


def test_healthz_answers_without_the_database(app):
    response = app.test_client().get("/support/healthz")
    assert response.status_code == 200
    assert response.get_json() == {"status": "ok"}
    assert response.headers["Cache-Control"] == "no-store"


def test_ready_after_migrations(backend, test_databases, tmp_path):
    """A database brought to head by the shipped migrations is ready: two SQL statements and
    no Redis (jobs inline)."""
    url = test_databases.fresh(backend, "ready")
    app = intid.create_app({"SQLALCHEMY_DATABASE_URI": url,
                            "ESCALATED_ATTACHMENT_STORAGE": str(tmp_path)})
    runner = app.test_cli_runner()
    try:
        assert runner.invoke(args=["escalated", "db", "upgrade"]).exit_code == 0
        response = app.test_client().get(READYZ)
        assert response.status_code == 200, response.get_data(True)
        body = response.get_json()
        assert body["status"] == "ready"
        assert body["checks"]["schema"]["detail"] == {"current": shipped_head(),
                                                      "head": shipped_head()}
        assert body["checks"]["redis"]["detail"] == {"mode": "inline"}
        result = runner.invoke(args=["escalated", "status"])
        assert result.exit_code == 0, result.output
        assert result.output.splitlines()[-1] == "Status: ready."
    finally:
        with app.app_context():
            intid.db.engine.dispose()


def test_unmigrated_schema_is_not_ready_and_says_what_to_run(app):
    response = app.test_client().get(READYZ)
    assert response.status_code == 503
    body = response.get_json()
    assert body["status"] == "not_ready"
    assert body["checks"]["database"]["ok"] is True
    assert "flask escalated db upgrade" in body["checks"]["schema"]["error"]
    result = app.test_cli_runner().invoke(args=["escalated", "status"])
    assert result.exit_code == 1
    assert "FAIL schema" in result.output


def test_schema_behind_the_code_is_not_ready(stamped):
    with intid.db.engine.begin() as conn:
        conn.execute(sa.text(f"UPDATE {VERSION_TABLE} SET version_num = '0001_initial_schema'"))
    body = stamped.test_client().get(READYZ).get_json()
    assert body["status"] == "not_ready"
    assert body["checks"]["schema"]["detail"]["current"] == "0001_initial_schema"


def test_costs_three_statements(stamped, count_queries):
    client = stamped.test_client()
    client.get(READYZ)  # the migrations' head is read from the files once per process
    with count_queries() as q:
        assert client.get(READYZ).status_code == 200
    assert q.count == 3, q.statements  # SELECT 1, the version, the outbox


def test_oldest_due_outbox_rows(stamped):
    hook = Webhook(url="https://hooks.example.test/x", secret="s" * 32, events=["*"],
                   is_active=True)
    intid.db.session.add(hook)
    intid.db.session.flush()
    at = now()
    intid.db.session.add_all([
        WebhookDelivery(uid="d1", webhook_id=hook.id, event="ticket.created", body="{}",
                        status="failed", next_attempt_at=at - timedelta(seconds=300)),
        WebhookDelivery(uid="d2", webhook_id=hook.id, event="ticket.created", body="{}",
                        status="pending", next_attempt_at=at - timedelta(seconds=30)),
        # Not due yet, and delivered: neither is waiting.
        WebhookDelivery(uid="d3", webhook_id=hook.id, event="ticket.created", body="{}",
                        status="pending", next_attempt_at=at + timedelta(hours=1)),
        WebhookDelivery(uid="d4", webhook_id=hook.id, event="ticket.created", body="{}",
                        status="delivered", next_attempt_at=at - timedelta(days=3)),
    ])
    intid.db.session.commit()
    body = stamped.test_client().get(READYZ).get_json()
    waited = body["checks"]["outbox"]["detail"]["oldest_due_seconds"]
    assert 300 <= waited["webhooks"] < 400
    assert waited["mail"] is None


@pytest.mark.xdist_group("redis")
def test_queue_depths_from_redis(stamped):
    stamped.config["ESCALATED_REDIS_URL"] = "redis://127.0.0.1:6379/14"
    conn = Redis.from_url("redis://127.0.0.1:6379/14")
    conn.delete("rq:queue:escalated-mail")
    conn.rpush("rq:queue:escalated-mail", "a", "b")
    try:
        body = stamped.test_client().get(READYZ).get_json()
    finally:
        conn.delete("rq:queue:escalated-mail")
    assert body["status"] == "ready"
    assert body["checks"]["redis"]["detail"]["queues"]["escalated-mail"] == 2


def test_redis_down_is_degraded_not_unready(stamped):
    """The writes are in the database (the outbox carries what Redis would have held), so a
    Redis outage keeps the process in the balancer and says so."""
    stamped.config["ESCALATED_REDIS_URL"] = "redis://127.0.0.1:1/0"
    response = stamped.test_client().get(READYZ)
    assert response.status_code == 200
    body = response.get_json()
    assert body["status"] == "degraded"
    assert body["checks"]["redis"]["ok"] is False
    assert "ConnectionError" in body["checks"]["redis"]["error"]
    result = stamped.test_cli_runner().invoke(args=["escalated", "status", "--json"])
    assert result.exit_code == 0
    assert json.loads(result.output)["status"] == "degraded"


def test_database_gone_is_503_with_a_reason_not_a_traceback(tmp_path):
    app = intid.create_app({
        "SQLALCHEMY_DATABASE_URI": "postgresql+psycopg://postgres@127.0.0.1:1/nowhere",
        "ESCALATED_ATTACHMENT_STORAGE": str(tmp_path),
    })
    response = app.test_client().get(READYZ)
    assert response.status_code == 503
    body = response.get_json()
    assert body["status"] == "not_ready"
    assert body["checks"]["database"]["error"].startswith("OperationalError: ")
    assert "Traceback" not in response.get_data(True)


def test_query_parameters_are_refused(app):
    response = app.test_client().get(READYZ + "?verbose=1")
    assert response.status_code == 422
    assert response.get_json()["error"]["unknown_fields"] == ["verbose"]


def test_the_shipped_head_read_without_alembic_is_alembics():
    from alembic.script import ScriptDirectory

    from flask_escalated.migrate import MIGRATIONS_DIR

    assert shipped_head() == ",".join(sorted(ScriptDirectory(MIGRATIONS_DIR).get_heads()))
