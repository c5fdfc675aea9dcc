"""Every page form that changes state reads through the API's schemas (``web/page_forms.py``).

Table-driven over the portal, guest, agent, knowledge-base and two-factor forms: an unknown
input is a 422 naming it, an over-long text is a 422 naming the field with the typed text kept
on the page shown again, a value outside an enum is a 422 naming the field; nothing is stored
by a refused form, and nothing is ever a 5xx (the test app lets a crash propagate).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pyotp
import pytest
import sqlalchemy as sa

from flask_escalated.events import Actor
from flask_escalated.models import metadata as escalated_metadata
from flask_escalated.services import canned, csat, guest_access, kb, replies, tickets, two_factor
from flask_escalated.services.permissions import Principal

pytestmark = pytest.mark.all_databases

CSRF = "page-forms-csrf"
#: A small body limit, so an over-long message is cheap to send and to look for.
MAX_BODY = 3000
#: Text that never occurs on a page unless someone typed it.
MARK = "typed-by-hand-"


@dataclass(frozen=True)
class PageForm:
    """One form: who posts it where, a valid submission, its text fields and an enum."""

    name: str
    who: str | None
    url: str
    data: dict[str, str] = field(default_factory=dict)
    #: ``(field, limit)``: a text input and its bound (``None``: the body limit).
    text: tuple[str, int | None] | None = None
    #: Whether the page comes back with the over-long text in it (a form without a page of
    #: its own answers the 422 error page, which names the field only).
    keeps_text: bool = True
    #: ``(field, value)``: a value outside the field's choices.
    enum: tuple[str, str] | None = None
    #: The ticket's version goes with the form (agent workspace forms).
    versioned: bool = False


T = "/support/tickets/{ref}"
A = "/support/agent/tickets/{ref}"
FORMS = [
    # The customer portal.
    PageForm("portal new ticket", "customer", "/support/tickets/new",
             {"subject": "Printer", "description": "Jams."}, ("description", None),
             enum=("priority", "whenever")),
    PageForm("portal reply", "customer", T + "/reply", {"body": "Thanks"}, ("body", None)),
    PageForm("portal close", "customer", T + "/close"),
    PageForm("portal reopen", "customer", "/support/tickets/{done}/reopen"),
    PageForm("portal rating", "customer", "/support/tickets/{done}/rate", {"rating": "5"},
             ("comment", 2000), enum=("rating", "7")),
    # Pages of people without an account.
    PageForm("guest reply", None, "/support/guest/{guest}/reply", {"body": "More"},
             ("body", None)),
    PageForm("guest rating", None, "/support/guest/{guest_done}/rate", {"rating": "4"},
             ("comment", 2000), enum=("rating", "0")),
    PageForm("survey", None, "/support/rate/{survey}", {"rating": "4"}, ("comment", 2000),
             enum=("rating", "six")),
    # The knowledge base.
    PageForm("kb vote", None, "/support/kb/articles/{slug}/feedback", {"helpful": "yes"},
             enum=("helpful", "maybe")),
    # The agent workspace.
    PageForm("agent composer", "agent", A + "/reply", {"body": "On it", "kind": "reply"},
             ("body", None), enum=("kind", "private"), versioned=True),
    PageForm("agent status", "agent", A + "/status", {"status": "in_progress"},
             ("status", 40), keeps_text=False, enum=("status", "Open Now"), versioned=True),
    PageForm("agent priority", "agent", A + "/priority", {"priority": "high"},
             enum=("priority", "extreme"), versioned=True),
    PageForm("agent assign", "agent", A + "/assign", {"assignee": "me"}, ("assignee", 64),
             keeps_text=False, versioned=True),
    PageForm("agent department", "agent", A + "/department", {"department_id": ""},
             enum=("department_id", "sales"), versioned=True),
    PageForm("agent tags", "agent", A + "/tags", {"tags": "vip"}, ("tags", 80),
             versioned=True),
    PageForm("agent untag", "agent", A + "/untag", {"tag": "vip"}, ("tag", 80),
             keeps_text=False, versioned=True),
    PageForm("agent snooze", "agent", A + "/snooze", {"preset": "1h"},
             enum=("preset", "forever"), versioned=True),
    PageForm("agent macro", "agent", A + "/macro", {"macro_id": "1"},
             enum=("macro_id", "first"), versioned=True),
    PageForm("agent canned insert", "agent", A + "/canned",
             {"canned_id": "{canned}", "body": "Hello", "kind": "reply"}, ("body", None),
             enum=("kind", "private")),
    PageForm("agent canned new", "agent", "/support/agent/canned-responses/new",
             {"title": "Hi", "body": "Hello"}, ("body", None)),
    PageForm("agent canned edit", "agent", "/support/agent/canned-responses/{canned}",
             {"title": "Hi", "body": "Hello"}, ("title", 200)),
    PageForm("agent canned delete", "agent", "/support/agent/canned-responses/{canned}/delete"),
    PageForm("agent fields", "agent", A + "/fields", versioned=True),
    PageForm("agent save view", "agent", "/support/agent/tickets/views",
             {"name": "Urgent", "priority": "urgent"}, ("name", 120), keeps_text=False),
    PageForm("agent default view", "agent", "/support/agent/tickets/views/{view}/default"),
    PageForm("agent update view", "agent", "/support/agent/tickets/views/{view}/filters",
             {"priority": "low"}, ("q", 200), keeps_text=False),
    PageForm("agent rename view", "agent", "/support/agent/tickets/views/{view}/rename",
             {"name": "Renamed"}, ("name", 120), keeps_text=False),
    PageForm("agent delete view", "agent", "/support/agent/tickets/views/{view}/delete"),
    PageForm("agent side start", "agent", A + "/side-conversations",
             {"subject": "Ask", "body": "In stock?"}, ("body", None)),
    PageForm("agent side reply", "agent", A + "/side-conversations/{side}/reply",
             {"body": "More"}, ("body", None)),
    PageForm("agent side close", "agent", A + "/side-conversations/{side}/close"),
    PageForm("agent side reopen", "agent", A + "/side-conversations/{side}/reopen"),
    PageForm("agent availability", "agent", "/support/agent/availability", {"status": "away"},
             enum=("status", "busy")),
    PageForm("agent follow", "agent", A + "/follow", {"action": "follow"},
             enum=("action", "stalk")),
    PageForm("agent pin", "agent", A + "/notes/{note}/pin", {"pinned": "1"},
             enum=("pinned", "yes")),
    PageForm("agent merge", "agent", A + "/merge", {"into": "{done}"}, ("into", 40),
             keeps_text=False),
    PageForm("agent split", "agent", A + "/split", {"reply_ids": "{note}"}, ("subject", 500),
             keeps_text=False),
    PageForm("agent link", "agent", A + "/links", {"ticket": "{done}", "type": "related"},
             ("ticket", 40), keeps_text=False, enum=("type", "cousin")),
    PageForm("agent unlink", "agent", A + "/links/{link}/delete"),
    PageForm("agent bulk", "agent", "/support/agent/tickets/bulk",
             {"ids": "{ticket_id}", "action": "priority", "priority": "low"}, ("tag", 80),
             keeps_text=False, enum=("action", "explode")),
    # Two-factor sign-in.
    PageForm("2fa setup", "agent", "/support/auth/2fa/setup"),
    PageForm("2fa confirm", "agent", "/support/auth/2fa/confirm", {"code": "123456"},
             ("code", 20), keeps_text=False),
    PageForm("2fa recovery codes", "agent", "/support/auth/2fa/recovery-codes",
             {"code": "123456"}, ("code", 20), keeps_text=False),
    PageForm("2fa disable", "agent", "/support/auth/2fa/disable", {"code": "123456"},
             ("code", 20), keeps_text=False),
    # A one-time code is not shown again.
    PageForm("2fa verify", "agent2", "/support/auth/2fa/verify", {"code": "123456"},
             ("code", 20), keeps_text=False),
]


@pytest.fixture
def app(make_app):
    app = make_app(ESCALATED_ENABLE_2FA=True, ESCALATED_MAX_BODY_LENGTH=MAX_BODY,
                   ESCALATED_RATE_LIMIT_ENABLED=False)
    with app.app_context():
        yield app


@pytest.fixture
def world(app, users) -> dict[str, str]:
    """A ticket in progress, a resolved one, a guest's of each, a survey, an article, a note."""
    ext = app.extensions["escalated"]
    system = Actor.system()

    def ticket(**fields: Any) -> Any:
        return tickets.create_ticket(tickets.NewTicket(
            subject="Printer", description="Jams.", **fields), system)

    with ext.unit_of_work():
        mine = ticket(requester_user_id=str(users.customer.id))
        done = ticket(requester_user_id=str(users.customer.id))
        tickets.change_status(done, "resolved", system)
        guest = ticket(requester_email="dana@example.org")
        guest_done = ticket(requester_email="dana@example.org")
        tickets.change_status(guest_done, "resolved", system)
        survey_of = ticket(requester_email="eve@example.org")
        tickets.change_status(survey_of, "resolved", system)
        note = replies.add_reply(mine, "Internal", Actor.agent(users.agent.id), internal=True)
        values = {
            "ref": mine.reference, "done": done.reference, "ticket_id": str(mine.id),
            "guest": guest_access.issue_token(guest),
            "guest_done": guest_access.issue_token(guest_done),
            "survey": csat.issue_token(survey_of) or "", "note": str(note.id),
        }
        from flask_escalated.services import side_conversations

        values["side"] = str(side_conversations.start(
            mine, Actor.agent(users.agent.id), subject="Vendor", body="In stock?").id)
    with ext.unit_of_work():
        editor = Principal.build(str(users.admin.id), is_admin=True)
        article = kb.create_article(editor, {
            "title": "Clearing a jam", "body": "Open the tray.", "status": "published"})
        values["slug"] = article.slug
    with ext.unit_of_work():
        mine_canned = canned.create(Principal.build(str(users.agent.id), is_agent=True),
                                    {"title": "Greeting", "body": "Hello {{requester.name}}"})
        values["canned"] = str(mine_canned.id)
        from flask_escalated.services import views

        mine_view = views.create(Principal.build(str(users.agent.id), is_agent=True),
                                 {"name": "Mine", "filters": {"priority": "urgent"}})
        values["view"] = str(mine_view.id)
        from flask_escalated.services import relations

        values["link"] = str(relations.link(
            Principal.build(str(users.agent.id), is_agent=True), mine, done.id, "related").id)
    with ext.unit_of_work():
        two_factor.begin(str(users.agent.id), "agent@example.org", "Escalated")
        enrolled = two_factor.begin(str(users.agent2.id), "agent2@example.org", "Escalated")
        two_factor.confirm(str(users.agent2.id), pyotp.TOTP(enrolled.secret).now(), system)
    return values


def _client(app: Any, users: Any, who: str | None) -> Any:
    client = app.test_client(user=getattr(users, who)) if who else app.test_client()
    with client.session_transaction() as session:
        session["_escalated_csrf"] = CSRF
    return client


def _counts(app: Any) -> dict[str, int]:
    ext = app.extensions["escalated"]
    ext.session.rollback()  # MariaDB: read what the requests committed
    tables = [t for t in escalated_metadata.sorted_tables
              if t.name not in ("escalated_audit_logs",)]
    return {t.name: ext.session.execute(sa.select(sa.func.count()).select_from(t)).scalar_one()
            for t in tables}


def _version(client: Any, values: dict[str, str]) -> str:
    html = client.get(A.format(**values)).get_data(as_text=True)
    return re.search(r'name="version" value="(\d+)"', html).group(1)


def _post(client: Any, form: PageForm, values: dict[str, str],
          change: dict[str, str]) -> tuple[int, str]:
    data = {k: v.format(**values) for k, v in form.data.items()}
    if form.versioned:
        data["version"] = _version(client, values)
    data = {**data, **change, "csrf_token": CSRF}
    r = client.post(form.url.format(**values), data=data)
    return r.status_code, r.get_data(as_text=True)


Check = Callable[[PageForm], dict[str, str] | None]


def _unknown(form: PageForm) -> dict[str, str]:
    return {"sneaky_field": "x"}


def _overlong(form: PageForm) -> dict[str, str] | None:
    if form.text is None:
        return None
    name, limit = form.text
    return {name: MARK + "x" * (limit or MAX_BODY)}


def _bad_enum(form: PageForm) -> dict[str, str] | None:
    return None if form.enum is None else {form.enum[0]: form.enum[1]}


@pytest.mark.parametrize("form", FORMS, ids=[f.name for f in FORMS])
def test_a_page_form_refuses_what_the_api_refuses(app, users, world, form: PageForm) -> None:
    client = _client(app, users, form.who)
    before = _counts(app)
    # An unknown input: 422, named.
    status, html = _post(client, form, world, _unknown(form))
    assert status == 422, (status, html[:600])
    assert "Unknown field(s): sneaky_field" in html
    # An over-long text: 422, the field named with the API's message, the text kept.
    change = _overlong(form)
    if change is not None:
        name = form.text[0]  # type: ignore[index]
        status, html = _post(client, form, world, change)
        assert status == 422, (status, html[:600])
        assert re.search(re.escape(name) + r"(\[0\])?: String should have at most", html), (
            html[:3000])
        if form.keeps_text:
            assert change[name] in html
    # A value outside the choices: 422, the field named.
    change = _bad_enum(form)
    if change is not None:
        name = form.enum[0]  # type: ignore[index]
        status, html = _post(client, form, world, change)
        assert status == 422, (status, html[:600])
        named = re.escape(name) + r"(\[0\])?: (Input should be|Not in the expected form)"
        assert re.search(named, html), html[:3000]
    assert _counts(app) == before


def test_every_state_changing_page_form_is_in_the_table(app) -> None:
    """A new page form (a POST rule outside the API, the widget, inbound mail and the admin
    console, whose forms have their own tests) has a row above."""
    covered = {re.sub(r"\{[a-z_]+\}", "", f.url).rstrip("/") for f in FORMS}
    missing = []
    for rule in app.url_map.iter_rules():
        area = rule.endpoint.split(".")[1] if rule.endpoint.count(".") > 1 else ""
        if "POST" not in (rule.methods or ()) or area in ("api", "widget", "inbound", "admin",
                                                            "live", ""):
            continue
        path = re.sub(r"<[^>]+>", "", rule.rule).rstrip("/")
        if path not in covered:
            missing.append(rule.rule)
    assert not missing, missing


def test_the_composer_keeps_the_draft_and_its_kind(app, users, world) -> None:
    """A refused note comes back as a note with its text, so sending it again keeps it
    internal."""
    client = _client(app, users, "agent")
    version = _version(client, world)
    text = MARK + "secret plan " + "y" * MAX_BODY
    r = client.post(A.format(**world) + "/reply", data={
        "csrf_token": CSRF, "version": version, "kind": "note", "body": text})
    html = r.get_data(as_text=True)
    assert r.status_code == 422 and text in html and 'id="composer-body-error"' in html
    assert re.search(r'name="kind" value="note"\s+checked', html)


def test_a_text_input_sent_twice_is_named_as_such(app, users, world) -> None:
    """It said "Input should be a valid string"."""
    from werkzeug.datastructures import MultiDict

    client = _client(app, users, "customer")
    before = _counts(app)
    r = client.post(T.format(**world) + "/reply", data=MultiDict(
        [("csrf_token", CSRF), ("body", "one"), ("body", "two")]))
    html = r.get_data(as_text=True)
    assert r.status_code == 422, html[:600]
    assert "body: given more than once" in html, html[:3000]
    assert _counts(app) == before
