"""Helpers for the API tests: a ticket factory and a JSON client per person."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from flask_escalated.events import Actor
from flask_escalated.services import tickets

API = "/support/api/v1"


@pytest.fixture
def ext(app):
    return app.extensions["escalated"]


@pytest.fixture
def make_ticket(app, users, ext) -> Callable[..., Any]:
    """Open a ticket through the service (default requester: the customer); returns its id."""

    def make(requester: Any = None, **fields: Any) -> int:
        requester = requester or users.customer
        data = {"subject": "Printer on fire", "description": "Flames everywhere.", **fields}
        with ext.unit_of_work():
            t = tickets.create_ticket(
                tickets.NewTicket(requester_user_id=str(requester.id), **data), Actor.system()
            )
        return t.id

    return make


@pytest.fixture
def bearer(ext) -> Callable[[Any], dict[str, str]]:
    """``bearer(user)``: the headers of a full-ability API token of ``user`` (for multipart
    calls, which a cookie session may only make with the page's CSRF token)."""
    from flask_escalated.services import tokens as token_service

    def make(user: Any) -> dict[str, str]:
        with ext.unit_of_work():
            _, plain = token_service.create_token(str(user.id), "t", ["*"], Actor.system())
        return {"Authorization": f"Bearer {plain}"}

    return make


#: Each path parameter and the ``world`` key that fills it.
_PLACEHOLDERS = {"ident": "t", "reply_id": "n", "attachment_id": "a", "user_id": "u",
                 "dept_id": "d", "tag_id": "g", "webhook_id": "w", "token_id": "k",
                 "delivery_id": "y", "inbound_id": "i", "policy_id": "p", "schedule_id": "b",
                 "holiday_id": "h", "macro_id": "x", "category_id": "c", "article_id": "o",
                 "canned_id": "cr", "field_id": "v", "view_id": "sv",
                 "skill_id": "sk", "link_id": "l", "sc": "sc"}


def template(path: str) -> str:
    """An OpenAPI path (``/tickets/{ident}``) as a ``world`` template (``/tickets/{t}``)."""
    for name, key in _PLACEHOLDERS.items():
        path = path.replace("{" + name + "}", "{" + key + "}")
    if "{rule_id}" in path:
        path = path.replace("{rule_id}", "{e}" if "escalation" in path
                            else "{f}" if "workflow" in path else "{m}")
    return path.replace("/statuses/{slug}", "/statuses/{s}").replace("{slug}", "seed")


@pytest.fixture
def world(app, users, ext, make_ticket):
    """One of everything the API addresses, keyed by the placeholders the path tables use."""
    import io

    from flask_escalated.services import attachments, replies, tags

    tid = make_ticket()
    from flask_escalated.services import tickets

    with ext.unit_of_work():
        t = tickets.get_ticket(tid)
        tags.add_tags(t, ["seed"], Actor.system())
        reply = replies.add_reply(t, "public", Actor.agent(users.agent.id))
        note = replies.add_reply(t, "private", Actor.agent(users.agent.id), internal=True)
        (att,) = attachments.add(t, [attachments.Upload("a.txt", io.BytesIO(b"hello"))],
                                 Actor.customer(users.customer.id))
        from flask_escalated.services import departments, followers, statuses

        dept = departments.create_department(Actor.system(), {"name": "Ops"})
        followers.follow(t, str(users.agent2.id), Actor.system())
        statuses.create_status(Actor.system(), slug="parked", label="Parked",
                               category="waiting_on_agent")
        tag_id = t.tags[0].id
        from flask_escalated.services import rules

        group = {"all": [{"field": "priority", "operator": "eq", "value": "low"}]}
        esc = rules.create("escalation", Actor.system(), {
            "name": "E", "conditions": group, "actions": [{"type": "escalate"}]})
        auto = rules.create("automation", Actor.system(), {
            "name": "M", "conditions": group, "actions": [{"type": "close"}]})
        flow = rules.create("workflow", Actor.system(), {
            "name": "F", "conditions": group, "trigger_events": ["ticket.updated"],
            "actions": [{"type": "add_tag", "value": "flowed"}]})
        from flask_escalated.models import Macro

        macro = Macro(name="Shared", actions=[{"type": "add_tag", "value": "m"}],
                      is_shared=True, owner_user_id=str(users.admin.id), position=0)
        ext.session.add(macro)
        ext.session.flush()
        from flask_escalated.services import sla_admin

        schedule = sla_admin.create_schedule(Actor.system(), {"name": "S", "timezone": "UTC",
                                                              "hours": {}})
        holiday = sla_admin.add_holiday(Actor.system(), schedule.id,
                                        {"name": "H", "date": "2026-12-25"})
        policy = sla_admin.create_policy(Actor.system(), {
            "name": "P", "targets": {"low": {"resolution": 60}}, "schedule_id": schedule.id})
        from flask_escalated.models import Webhook, WebhookDelivery

        hook = Webhook(url="http://127.0.0.1:9/hook", secret="s" * 32, events=["*"],
                       is_active=False, failure_count=0)
        ext.session.add(hook)
        ext.session.flush()
        delivery = WebhookDelivery(uid="u-1", webhook_id=hook.id, event="ticket.created",
                                   body="{}", status="dead", attempts=3)
        ext.session.add(delivery)
        ext.session.flush()
        from flask_escalated.services import inbound

        ignored = inbound.receive("raw", b"From: a@b.c\r\nAuto-Submitted: auto-replied\r\n\r\nx")
        from flask_escalated.services import roles as role_service
        from flask_escalated.services import tokens as token_service

        role_service.create_role(Actor.system(), {"slug": "seed", "name": "Seed",
                                                  "permissions": ["ticket.view"]})
        token_row, _plain = token_service.create_token(str(users.agent.id), "k", ["*"],
                                                       Actor.system())
        from flask_escalated.services import kb
        from flask_escalated.services.permissions import Principal

        editor = Principal.build(str(users.admin.id), is_admin=True)
        kb_category = kb.create_category(editor, {"name": "Printers"})
        kb_article = kb.create_article(editor, {
            "title": "Printer triage", "body": "Check the cable.", "category_id": kb_category.id,
            "status": "published"})
        from flask_escalated.services import canned

        response = canned.create(editor, {
            "title": "Thanks", "body": "Hi {{requester.name}}", "shortcut": "thanks",
            "shared": True})
        from flask_escalated.services import custom_fields

        custom_field = custom_fields.create_field(Actor.system(), {
            "key": "seed", "label": "Seed", "type": "text"})
        from flask_escalated.services import views

        view = views.create(editor, {"name": "Urgent", "filters": {"priority": "urgent"},
                                     "shared": True})
        from flask_escalated.services import side_conversations

        side = side_conversations.start(t, Actor.agent(users.agent.id), subject="Vendor",
                                        body="In stock?")
        from flask_escalated.services import skills

        skill = skills.create(Actor.system(), {"name": "Seed skill"})
        from flask_escalated.services import relations

        other_ticket = tickets.create_ticket(tickets.NewTicket(
            subject="Toner", description="Low.", requester_user_id=str(users.customer.id)),
            Actor.system())
        linked = relations.link(editor, t, other_ticket.id, "related")
    return {"k": token_row.id, "w": hook.id, "y": delivery.id, "e": esc.id, "m": auto.id,
            "v": custom_field.id, "p": policy.id, "b": schedule.id, "h": holiday.id, "t": tid,
            "r": reply.id,
            "n": note.id, "a": att.id, "d": dept.id, "g": tag_id, "s": "parked",
            "u": users.agent2.id, "i": ignored.id, "f": flow.id, "x": macro.id,
            "c": kb_category.id, "o": kb_article.id, "cr": response.id,
            "sv": view.id, "sc": side.id, "sk": skill.id, "l": linked.id}
