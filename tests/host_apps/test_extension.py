"""The extension object: registration, config defaults and validation, mounting, signals."""

from __future__ import annotations

import pytest
from flask import Flask
from flask_sqlalchemy import SQLAlchemy

from flask_escalated import Escalated, signals
from flask_escalated.config import ConfigurationError
from tests.hosts import intid

CONTRACT_SIGNALS = [
    "ticket_created", "ticket_updated", "ticket_status_changed", "ticket_assigned",
    "ticket_unassigned", "ticket_priority_changed", "ticket_escalated", "ticket_resolved",
    "ticket_closed", "ticket_reopened", "ticket_merged", "ticket_split", "ticket_snoozed",
    "ticket_woken", "reply_created", "internal_note_added", "sla_breached", "sla_warning",
    "tag_added", "tag_removed", "department_changed", "csat_submitted",
    "article_created", "article_updated", "article_published", "article_deleted",
    "canned_created", "canned_updated", "canned_deleted",
    "side_conversation_created", "side_conversation_replied", "side_conversation_closed",
    "side_conversation_reopened",
    "ticket_linked", "ticket_unlinked",
]


def bare_app(**config):
    app = Flask("bare")
    app.config.update(SQLALCHEMY_DATABASE_URI="sqlite://", SECRET_KEY="x", **config)
    return app


def test_registers_itself_and_refuses_a_second_init():
    app = bare_app()
    db = SQLAlchemy(app)
    ext = Escalated(app, db=db)
    assert app.extensions["escalated"] is ext
    with pytest.raises(RuntimeError, match="already initialised"):
        ext.init_app(app, db=db)


def test_needs_flask_sqlalchemy():
    with pytest.raises(RuntimeError, match="Flask-SQLAlchemy"):
        Escalated(bare_app())


def test_one_extension_serves_two_apps():
    ext = Escalated()
    for name in ("a", "b"):
        app = bare_app(ESCALATED_APP_NAME=name)
        ext.init_app(app, db=SQLAlchemy(app))
        with app.app_context():
            assert ext.state.db is not None


def test_defaults_are_setdefault_and_host_values_win():
    app = bare_app(ESCALATED_DEFAULT_PRIORITY="high")
    Escalated(app, db=SQLAlchemy(app))
    assert app.config["ESCALATED_DEFAULT_PRIORITY"] == "high"
    assert app.config["ESCALATED_ROUTE_PREFIX"] == "/support"
    assert app.config["ESCALATED_MAX_ATTACHMENT_SIZE"] == 10 * 1024 * 1024
    assert app.config["ESCALATED_GUEST_POLICY"] == {"mode": "unassigned"}


@pytest.mark.parametrize(("key", "value"), [
    ("ESCALATED_DEFAULT_PRIORITY", "blocker"),
    ("ESCALATED_TICKET_REFERENCE_PREFIX", "esc-"),
    ("ESCALATED_MAX_ATTACHMENTS", -1),
    ("ESCALATED_ROUTE_PREFIX", "support"),
])
def test_bad_config_names_the_key(key, value):
    app = bare_app(**{key: value})
    with pytest.raises(ConfigurationError, match=key):
        Escalated(app, db=SQLAlchemy(app))


def test_route_prefix_and_feature_switches():
    app = bare_app(ESCALATED_ROUTE_PREFIX="/helpdesk", ESCALATED_UI_ENABLED=False)
    Escalated(app, db=SQLAlchemy(app))
    rules = [r.rule for r in app.url_map.iter_rules() if r.endpoint.startswith("escalated.")]
    assert all(r.startswith("/helpdesk") for r in rules)
    assert "/helpdesk/api/v1/tickets" in rules
    assert not any(r.startswith("/helpdesk/tickets") for r in rules)
    app = bare_app(ESCALATED_API_ENABLED=False)
    Escalated(app, db=SQLAlchemy(app))
    rules = [r.rule for r in app.url_map.iter_rules()]
    assert "/support/tickets" in rules and "/support/api/v1/tickets" not in rules


def test_every_contract_signal_exists():
    assert sorted(signals.ALL_SIGNALS) == sorted(CONTRACT_SIGNALS)
    assert signals.webhook_event_name("ticket_created") == "ticket.created"
    assert signals.webhook_event_name("sla_breached") == "sla.breached"
    assert signals.webhook_event_name("side_conversation_closed") == "side_conversation.closed"


def test_openapi_describes_every_route_and_is_valid(app):
    from flask_escalated.web.api.openapi import openapi_path

    doc = app.test_client().get("/support/api/v1/openapi.json").get_json()
    assert doc["openapi"] == "3.1.0"
    for rule in app.url_map.iter_rules():
        if not rule.endpoint.startswith("escalated.api."):
            continue
        path = openapi_path(rule.rule.removeprefix("/support/api/v1"))
        assert path in doc["paths"], path
        for method in rule.methods - {"HEAD", "OPTIONS"}:
            assert method.lower() in doc["paths"][path], (method, path)
    from openapi_spec_validator import validate

    validate(doc)


def test_host_layout_and_template_override(make_app, tmp_path, users):
    (tmp_path / "templates" / "escalated" / "customer").mkdir(parents=True)
    (tmp_path / "templates" / "escalated" / "customer" / "tickets.html").write_text(
        "HOST OVERRIDE {{ tickets|length }}")
    app = make_app()
    app.template_folder = str(tmp_path / "templates")
    with app.app_context():
        user = intid.db.session.get(intid.User, users.customer.id)
        r = app.test_client(user=user).get("/support/tickets")
    assert r.get_data(as_text=True) == "HOST OVERRIDE 0"
