"""Rate limits: 429 with Retry-After per route family, on memory and on Redis storage."""

from __future__ import annotations

import pytest
from flask import Flask
from redis import Redis

from flask_escalated import Escalated
from flask_escalated.config import ConfigurationError
from flask_escalated.events import Actor
from flask_escalated.services import tokens

pytestmark = pytest.mark.xdist_group("redis")  # Redis db 14

REDIS_URL = "redis://127.0.0.1:6379/14"


@pytest.fixture
def redis14():
    conn = Redis.from_url(REDIS_URL)
    conn.flushdb()
    yield conn
    conn.flushdb()
    conn.close()


def _token(app, user):
    with app.app_context():
        ext = app.extensions["escalated"]
        with ext.unit_of_work():
            return tokens.create_token(str(user.id), "t", ["*"], Actor.system())[1]


@pytest.mark.parametrize("storage", ["memory", "redis"])
def test_api_is_limited_per_token_with_retry_after(make_app, users_for, storage, request):
    config = {"ESCALATED_RATE_LIMITS": {"api": "3 per minute"}}
    if storage == "redis":
        redis = request.getfixturevalue("redis14")
        config["ESCALATED_RATE_LIMIT_STORAGE_URI"] = REDIS_URL
    app = make_app(**config)
    people = users_for(app)
    first, second = _token(app, people.agent), _token(app, people.admin)
    client = app.test_client()

    def me(token):
        return client.get("/support/api/v1/me", headers={"Authorization": f"Bearer {token}"})

    assert [me(first).status_code for _ in range(3)] == [200, 200, 200]
    refused = me(first)
    assert refused.status_code == 429
    assert refused.get_json()["error"]["code"] == "rate_limited"
    assert 1 <= int(refused.headers["Retry-After"]) <= 60
    assert me(second).status_code == 200  # each token has its own budget
    if storage == "redis":
        assert any(b"escalated" in key for key in redis.keys("*"))


def test_host_routes_and_host_limits_are_left_alone(make_app):
    app = make_app(RATELIMIT_DEFAULT="1 per minute",
                   ESCALATED_RATE_LIMITS={"api": "100 per minute"})
    app.add_url_rule("/host-page", "host_page", lambda: "ok")
    client = app.test_client()
    # Our limiter neither applies the host's default to its own routes nor to the host's.
    assert [client.get("/host-page").status_code for _ in range(3)] == [200, 200, 200]
    assert [client.get("/support/api/v1/openapi.json").status_code
            for _ in range(3)] == [200, 200, 200]


def test_host_sign_in_counts_failures_only(make_app):
    app = make_app(ESCALATED_RATE_LIMITS={"auth": "2 per minute"})
    escalated = app.extensions["escalated"]

    def sign_in():
        from flask import request

        if request.method == "GET":
            return "the form"
        return ("ok", 200) if request.form.get("password") == "right" else ("wrong", 401)

    app.add_url_rule("/signin", "signin", escalated.rate_limit("auth")(sign_in),
                     methods=["GET", "POST"])
    client = app.test_client()
    assert client.post("/signin", data={"password": "right"}).status_code == 200
    assert client.post("/signin", data={"password": "right"}).status_code == 200
    assert client.post("/signin", data={"password": "x"}).status_code == 401
    assert client.post("/signin", data={"password": "x"}).status_code == 401
    blocked = client.post("/signin", data={"password": "right"})
    assert blocked.status_code == 429 and int(blocked.headers["Retry-After"]) >= 1
    assert client.get("/signin").status_code == 200  # the form itself still loads


def test_limits_can_be_switched_off(make_app, users_for):
    app = make_app(ESCALATED_RATE_LIMITS={"api": "1 per minute"},
                   ESCALATED_RATE_LIMIT_ENABLED=False)
    token = _token(app, users_for(app).agent)
    client = app.test_client()
    codes = {client.get("/support/api/v1/me",
                        headers={"Authorization": f"Bearer {token}"}).status_code
             for _ in range(4)}
    assert codes == {200}


@pytest.mark.parametrize("limits", [{"api": "lots"}, {"nope": "1 per minute"}, "5/minute"])
def test_bad_limits_are_refused_at_start_up(limits):
    app = Flask(__name__)
    app.config.update(SQLALCHEMY_DATABASE_URI="sqlite://", ESCALATED_RATE_LIMITS=limits)
    from flask_sqlalchemy import SQLAlchemy

    with pytest.raises(ConfigurationError, match="ESCALATED_RATE_LIMITS"):
        Escalated(app, db=SQLAlchemy(app))
