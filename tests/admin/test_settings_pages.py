"""The settings page: every setting of the catalogue on one form, saved through the settings
service, and a test per setting that proves the code it names reads it.

The effect tests are a table keyed by the catalogue: each setting (and each branding field and
each notification e-mail, which are switched one by one) must have an entry in ``EFFECTS``, so a
setting added without a reader, or without a test of its reader, fails here. Every change is
made through the page, the way an admin makes it, and every effect is observed where a visitor,
a customer or an agent meets it.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from html.parser import HTMLParser
from typing import Any

import pytest
from flask import current_app, g
from sqlalchemy import func, select

from flask_escalated.events import Actor
from flask_escalated.models import AuditLog, OutboundEmail, Setting, SlaPolicy, Ticket
from flask_escalated.services import (
    assignment,
    departments,
    replies,
    settings,
    sla_sweep,
    tickets,
)
from flask_escalated.services.cache import STAMP_KEY
from flask_escalated.services.mail import NOTIFICATIONS

from .conftest import Console, db, field_error

pytestmark = pytest.mark.all_databases


def _settings() -> Any:
    """The stored settings (the process caches' generation stamp shares their table)."""
    return db().query(Setting).filter(Setting.key != STAMP_KEY)


PAGE = "/settings"
DOMAIN = "support.example.test"
W = "/support/widget"
SHOP = "https://shop.example"


@pytest.fixture
def app(make_app):
    """Mail on (written to the outbox; Flask-Mail suppresses the sending while testing)."""
    app = make_app(ESCALATED_MAIL_FROM=f"help@{DOMAIN}", ESCALATED_MAIL_DOMAIN=DOMAIN,
                   ESCALATED_APP_URL="https://help.example.test")
    with app.app_context():
        yield app


# ---------------------------------------------------------------------------- the browser
class _Form(HTMLParser):
    """What a browser submits for the page's form: inputs with their values, ticked boxes,
    textareas and the selected options."""

    def __init__(self) -> None:
        super().__init__()
        self.pairs: list[tuple[str, str]] = []
        self._textarea: str | None = None
        self._select: str | None = None
        self._text = ""

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        if tag == "input" and a.get("name") and a["name"] != "csrf_token":
            kind = a.get("type", "text")
            if kind == "checkbox" and "checked" not in a:
                return
            self.pairs.append((a["name"], a.get("value", "")))
        elif tag == "textarea":
            self._textarea, self._text = a["name"], ""
        elif tag == "select":
            self._select = a["name"]
        elif tag == "option" and self._select and "selected" in a:
            self.pairs.append((self._select, a.get("value", "")))

    def handle_data(self, data: str) -> None:
        if self._textarea is not None:
            self._text += data

    def handle_endtag(self, tag: str) -> None:
        if tag == "textarea" and self._textarea is not None:
            # a browser drops one newline right after <textarea>
            self.pairs.append((self._textarea, self._text.removeprefix("\n")))
            self._textarea = None
        elif tag == "select":
            self._select = None


def submitted(html: str) -> list[tuple[str, str]]:
    parser = _Form()
    parser.feed(html[html.index('<form class="esc-form'):])
    return parser.pairs


def save(admin: Console, status: int = 302, **changes: Any) -> Any:
    """Open the page, change some inputs as a person would (``False`` unticks a checkbox,
    ``True`` ticks it; names use ``__`` for the dot of ``branding.logo_url``), and save."""
    pairs = submitted(admin.get(PAGE))
    for raw, value in changes.items():
        name = raw.replace("__", ".")
        pairs = [(k, v) for k, v in pairs if k != name]
        if value is True:
            pairs.append((name, "true"))
        elif value is not False:
            pairs.append((name, str(value)))
    answer = admin.post(PAGE, pairs, status=status)
    # The test's own app context stands for the next request or job: it reads afresh.
    g.pop("_escalated_settings", None)
    current_app.extensions["escalated"].session.rollback()
    return answer


# ---------------------------------------------------------------------------- the page
def test_every_setting_of_the_catalogue_has_an_input(admin):
    html = admin.get(PAGE)
    names = {k for k, _ in submitted(html)} | set(re.findall(r'name="([^"]+)"', html))
    for key in settings.SETTINGS:
        assert key in names or any(n.startswith(key + ".") for n in names), key
    for field in settings.BRANDING_KEYS:
        assert f"branding.{field}" in names
    for kind in NOTIFICATIONS:
        assert f"mail_notifications.{kind}" in names


def test_saving_unchanged_stores_nothing_and_changes_store_only_themselves(admin, users):
    save(admin)
    assert _settings().count() == 0
    assert db().query(AuditLog).filter_by(action="settings.updated").count() == 0
    save(admin, app_name="Acme Help", widget_origins="https://Shop.Example/\nhttp://localhost:8080",
         mail_notifications__csat_request=False)
    db().expire_all()
    stored = {s.key: s.value for s in _settings()}
    assert stored == {"app_name": "Acme Help",
                      "widget_origins": ["https://shop.example", "http://localhost:8080"],
                      "mail_notifications": {**{k: True for k in NOTIFICATIONS},
                                             "csat_request": False}}
    (entry,) = db().query(AuditLog).filter_by(action="settings.updated").all()
    assert entry.actor_user_id == str(users.admin.id)
    assert entry.old_values["app_name"] == "Escalated"
    assert entry.new_values["app_name"] == "Acme Help"
    # The page shows what was saved, and saving it again changes nothing.
    html = admin.get(PAGE)
    assert 'value="Acme Help"' in html and "https://shop.example\nhttp://localhost:8080" in html
    assert 'name="mail_notifications.csat_request" value="true" >' in html  # not ticked
    save(admin)
    assert db().query(AuditLog).filter_by(action="settings.updated").count() == 1


def test_a_refused_form_names_each_field_and_keeps_the_text(admin):
    r = save(admin, status=422, app_name="", branding__radius="99",
             branding__logo_url="javascript:alert(1)", guest_policy_mode="everyone",
             branding__footer="kept <b>footer</b>")
    html = r.get_data(as_text=True)
    for name in ("app_name", "branding.radius", "branding.logo_url", "guest_policy_mode"):
        assert field_error(html, name), name
    assert 'value="99"' in html and "kept &lt;b&gt;footer&lt;/b&gt;" in html
    assert _settings().count() == 0


def test_a_bad_origin_is_named_under_its_input(admin):
    r = save(admin, status=422, widget_origins="https://ok.example\nhttps://shop.example/path")
    html = r.get_data(as_text=True)
    assert "https://shop.example/path" in (field_error(html, "widget_origins") or "")
    assert "https://ok.example\nhttps://shop.example/path" in html
    assert _settings().count() == 0


def test_an_unknown_input_is_refused_like_the_api_does(admin):
    pairs = [*submitted(admin.get(PAGE)), ("kb_enabled_typo", "true"),
             ("branding.colour", "#000000")]
    r = admin.post(PAGE, pairs, status=422)
    html = r.get_data(as_text=True)
    assert "kb_enabled_typo: unknown field" in html and "branding.colour: unknown field" in html
    assert _settings().count() == 0


def test_agents_and_anonymous_visitors_are_kept_out(console, users, client_as):
    console(users.agent).get(PAGE, status=403)
    r = client_as(None).get("/support/admin/settings")
    assert r.status_code in (302, 401)
    assert client_as(users.agent).post("/support/admin/settings",
                                       data={"app_name": "x"}).status_code in (400, 403)
    assert _settings().count() == 0


# ---------------------------------------------------------------------------- effects
@dataclass
class World:
    app: Any
    ext: Any
    users: Any
    admin: Console
    clock: Any

    def page(self, path: str = "/support/tickets", user: Any = "customer") -> str:
        who = getattr(self.users, user) if isinstance(user, str) else user
        r = self.app.test_client(user=who).get(path)
        assert r.status_code == 200, (path, r.status_code)
        return r.get_data(as_text=True)

    def widget_ticket(self, origin: str = "http://localhost", **fields: Any) -> Any:
        body = {"name": "Dana Okafor", "email": "dana@example.org", "subject": "Printer jam",
                "description": "It jams.", **fields}
        return self.app.test_client().post(f"{W}/tickets", json=body,
                                           headers={"Origin": origin})

    def ticket(self, actor: str = "customer", **fields: Any) -> int:
        data = {"subject": "Printer on fire", "description": "Flames.",
                "requester_user_id": str(self.users.customer.id), **fields}
        who = self.users.customer if actor == "customer" else self.users.admin
        act = Actor.customer(who.id) if actor == "customer" else Actor.agent(who.id)
        with self.ext.unit_of_work():
            return tickets.create_ticket(tickets.NewTicket(**data), act).id

    def mails(self, kind: str | None = None) -> list[OutboundEmail]:
        self.ext.session.rollback()
        query = select(OutboundEmail).order_by(OutboundEmail.id)
        if kind is not None:
            query = query.where(OutboundEmail.kind == kind)
        return list(self.ext.session.execute(query).scalars())

    def newest_ticket(self) -> Ticket:
        self.ext.session.rollback()
        return self.ext.session.execute(
            select(Ticket).order_by(Ticket.id.desc()).limit(1)).scalar_one()


@pytest.fixture
def world(app, users, admin, clock):
    return World(app, app.extensions["escalated"], users, admin, clock)


EFFECTS: dict[tuple[str, str | None], Callable[[World], None]] = {}


def effect(key: str, part: str | None = None) -> Callable[[Callable[[World], None]],
                                                            Callable[[World], None]]:
    def register(check: Callable[[World], None]) -> Callable[[World], None]:
        EFFECTS[(key, part)] = check
        return check

    return register


def catalogue() -> list[tuple[str, str | None]]:
    """One case per setting; branding per field and mail_notifications per e-mail, since
    each of those is a setting of its own to the person who changes it."""
    parts: dict[str, Any] = {"branding": sorted(settings.BRANDING_KEYS),
                             "mail_notifications": list(NOTIFICATIONS)}
    return [(key, part) for key in settings.SETTINGS for part in parts.get(key, [None])]


@pytest.mark.parametrize(("key", "part"), catalogue(),
                         ids=[f"{k}.{p}" if p else k for k, p in catalogue()])
def test_each_setting_takes_effect(world, key, part):
    check = EFFECTS.get((key, part))
    assert check is not None, (
        f"the setting {key}{'.' + part if part else ''} has no effect test: add one to EFFECTS "
        "that changes it through the page and observes the code that reads it")
    check(world)


def test_the_effect_table_names_only_settings_that_exist():
    assert set(EFFECTS) <= set(catalogue())


# -- name and branding
@effect("app_name")
def _app_name(w: World) -> None:
    assert "<title>My tickets · Escalated</title>" in w.page()
    save(w.admin, app_name="Acme Help")
    assert "<title>My tickets · Acme Help</title>" in w.page()
    assert w.app.test_client().get(f"{W}/config").json["app_name"] == "Acme Help"
    w.ticket()
    assert {m.from_name for m in w.mails("new_ticket_requester")} == {"Acme Help"}


@effect("branding", "logo_url")
def _logo(w: World) -> None:
    logo = "https://cdn.example/acme.png"
    assert logo not in w.page()
    save(w.admin, branding__logo_url=logo)
    assert f'<img src="{logo}"' in w.page()
    w.ticket()
    assert f'<img src="{logo}"' in w.mails("new_ticket_requester")[-1].html_body


@effect("branding", "primary_color")
def _colour(w: World) -> None:
    assert "--esc-primary: #2563eb;" in w.page()
    save(w.admin, branding__primary_color="#0f766e")
    assert "--esc-primary: #0f766e;" in w.page()
    assert "--esc-primary: #0f766e;" in w.page("/support/admin", w.users.admin)
    assert w.app.test_client().get(f"{W}/config").json["color"] == "#0f766e"
    w.ticket()
    assert "background:#0f766e" in w.mails("new_ticket_requester")[-1].html_body


@effect("branding", "radius")
def _radius(w: World) -> None:
    assert "--esc-radius: 8px;" in w.page()
    save(w.admin, branding__radius="3")
    assert "--esc-radius: 3px;" in w.page()
    save(w.admin, branding__radius="")
    assert "--esc-radius: 8px;" in w.page()


@effect("branding", "footer")
def _footer(w: World) -> None:
    assert "esc-footer" not in w.page()
    save(w.admin, branding__footer="Acme <Inc>, 1 Main St")
    assert '<footer class="esc-footer">Acme &lt;Inc&gt;, 1 Main St</footer>' in w.page()
    w.ticket()
    mail = w.mails("new_ticket_requester")[-1]
    assert "Acme <Inc>, 1 Main St" in mail.text_body
    assert "Acme &lt;Inc&gt;, 1 Main St" in mail.html_body


# -- knowledge base
@effect("kb_enabled")
def _kb(w: World) -> None:
    client = w.app.test_client()
    assert client.get("/support/kb").status_code == 200
    assert client.get("/support/api/v1/kb/articles").status_code == 200
    assert "Help articles</a>" in w.page()
    save(w.admin, kb_enabled=False)
    assert client.get("/support/kb").status_code == 404
    assert client.get("/support/api/v1/kb/articles").status_code == 404
    assert client.get(f"{W}/config").json["kb_enabled"] is False
    assert "Help articles</a>" not in w.page()
    # agents keep theirs (the reply composer links articles)
    assert w.app.test_client(user=w.users.agent).get(
        "/support/api/v1/kb/articles").status_code == 200
    save(w.admin, kb_enabled=True)
    assert client.get("/support/kb").status_code == 200


# -- the widget
@effect("widget_origins")
def _origins(w: World) -> None:
    refused = w.widget_ticket(SHOP)
    assert refused.status_code == 403 and "Access-Control-Allow-Origin" not in refused.headers
    save(w.admin, widget_origins=SHOP)
    allowed = w.widget_ticket(SHOP)
    assert allowed.status_code == 201
    assert allowed.headers["Access-Control-Allow-Origin"] == SHOP
    assert w.widget_ticket("https://evil.example").status_code == 403
    save(w.admin, widget_origins="*")
    anyone = w.widget_ticket("https://evil.example")
    assert anyone.status_code == 201 and anyone.headers["Access-Control-Allow-Origin"] == "*"


@effect("guest_mailbox_proof")
def _mailbox_proof(w: World) -> None:
    assert w.widget_ticket().status_code == 201
    save(w.admin, guest_mailbox_proof=True)
    refused = w.widget_ticket(subject="Second")
    assert refused.status_code == 422
    assert "verification_code" in str(refused.json["error"]["fields"])
    assert w.app.test_client().get(f"{W}/config").json["mailbox_proof"] is True
    save(w.admin, guest_mailbox_proof=False)
    assert w.widget_ticket(subject="Third").status_code == 201


# -- people without an account
@effect("guest_policy_mode")
def _guest_mode(w: World) -> None:
    assert w.widget_ticket().status_code == 201
    first = w.newest_ticket()
    assert first.requester_user_id is None and first.metadata_["guest_policy"] == "unassigned"
    save(w.admin, guest_policy_mode="guest_user", guest_policy_user_id=str(w.users.other.id))
    assert w.widget_ticket(subject="Two").status_code == 201
    second = w.newest_ticket()
    assert second.requester_user_id == str(w.users.other.id)
    save(w.admin, guest_policy_mode="prompt_signup",
         guest_policy_signup_url_template="https://acme.test/join?t={token}")
    assert w.widget_ticket(email="erin@example.org", subject="Three").status_code == 201
    third = w.newest_ticket()
    assert third.requester_user_id is None and third.metadata_["guest_policy"] == "prompt_signup"
    (mail,) = [m for m in w.mails("new_ticket_requester") if m.ticket_id == third.id]
    assert "https://acme.test/join?t=" in mail.text_body


@effect("guest_policy_user_id")
def _guest_user(w: World) -> None:
    save(w.admin, guest_policy_mode="guest_user", guest_policy_user_id=str(w.users.other.id))
    assert w.widget_ticket().status_code == 201
    assert w.newest_ticket().requester_user_id == str(w.users.other.id)
    save(w.admin, guest_policy_user_id=str(w.users.customer.id))
    assert w.widget_ticket(subject="Again").status_code == 201
    assert w.newest_ticket().requester_user_id == str(w.users.customer.id)


@effect("guest_policy_signup_url_template")
def _signup_link(w: World) -> None:
    save(w.admin, guest_policy_mode="prompt_signup",
         guest_policy_signup_url_template="https://acme.test/join?t={token}")
    assert w.widget_ticket(email="erin@example.org").status_code == 201
    save(w.admin, guest_policy_signup_url_template="/register/{token}")
    assert w.widget_ticket(email="finn@example.org", subject="Again").status_code == 201
    texts = {m.to_email: m.text_body for m in w.mails("new_ticket_requester")}
    assert "https://acme.test/join?t=" in texts["erin@example.org"]
    assert "/register/" in texts["finn@example.org"]
    assert "https://acme.test/join" not in texts["finn@example.org"]


# -- notification e-mails: each switched off, then on, around the event that sends it
def _assigned_ticket(w: World, **fields: Any) -> int:
    tid = w.ticket(**fields)
    with w.ext.unit_of_work():
        assignment.assign(tickets.get_ticket(tid), str(w.users.agent.id),
                          Actor.agent(w.users.admin.id))
    return tid


def _sla_ticket(w: World) -> int:
    if not w.ext.session.query(SlaPolicy).count():
        w.ext.session.add(SlaPolicy(name="Fast", conditions={}, is_active=True,
                                    warning_minutes=5,
                                    targets={"medium": {"first_response": 10}}))
        w.ext.session.commit()
    return _assigned_ticket(w)


def _sweep(w: World, minutes: int) -> None:
    w.clock.advance(minutes=minutes)
    with w.ext.unit_of_work():
        sla_sweep.sweep_batch()


def _department_ticket(w: World) -> None:
    with w.ext.unit_of_work():
        dept = departments.create_department(Actor.system(), {
            "name": f"Hardware {w.ext.session.query(Ticket).count()}",
            "agent_ids": [str(w.users.agent.id)]})
    w.ticket(department_id=dept.id)


def _agent_reply(w: World) -> None:
    tid = w.ticket()
    with w.ext.unit_of_work():
        replies.add_reply(tickets.get_ticket(tid), "Try water.", Actor.agent(w.users.agent.id))


def _customer_reply(w: World) -> None:
    tid = _assigned_ticket(w)
    with w.ext.unit_of_work():
        replies.add_reply(tickets.get_ticket(tid), "Worse now.",
                          Actor.customer(w.users.customer.id))


def _status_change(w: World) -> None:
    tid = w.ticket()
    with w.ext.unit_of_work():
        tickets.change_status(tickets.get_ticket(tid), "waiting_on_agent",
                              Actor.agent(w.users.agent.id))


def _resolve(w: World) -> None:
    tid = w.ticket()
    with w.ext.unit_of_work():
        tickets.change_status(tickets.get_ticket(tid), "resolved",
                              Actor.agent(w.users.agent.id))


#: What makes each notification go out.
SENDS: dict[str, Callable[[World], Any]] = {
    "new_ticket_requester": lambda w: w.ticket(),
    "new_ticket_department": _department_ticket,
    "agent_reply": _agent_reply,
    "customer_reply": _customer_reply,
    "assigned": _assigned_ticket,
    "status_changed": _status_change,
    "sla_warning": lambda w: (_sla_ticket(w), _sweep(w, 6)),
    "sla_breached": lambda w: (_sla_ticket(w), _sweep(w, 11)),
    "csat_request": _resolve,
}


def _notification(kind: str) -> Callable[[World], None]:
    def check(w: World) -> None:
        save(w.admin, **{f"mail_notifications__{kind}": False})
        SENDS[kind](w)
        assert w.mails(kind) == []
        save(w.admin, **{f"mail_notifications__{kind}": True})
        SENDS[kind](w)
        assert len(w.mails(kind)) >= 1, f"no {kind} mail once switched back on"

    return check


for _kind in SENDS:
    effect("mail_notifications", _kind)(_notification(_kind))


def test_the_page_saves_through_the_service_the_api_uses(admin, api, users):
    """One path: the page's save and the API's PATCH leave the same stored value and audit
    row shape."""
    save(admin, branding__primary_color="#112233")
    page_row = db().query(AuditLog).filter_by(action="settings.updated").one()
    assert api(users.admin).patch("/settings", {"branding": {
        **settings.branding(), "primary_color": "#445566"}}).status_code == 200
    rows = db().query(AuditLog).filter_by(action="settings.updated").order_by(
        AuditLog.id).all()
    assert len(rows) == 2 and set(rows[1].new_values) == set(page_row.new_values) == {"branding"}
    assert api(users.admin).get("/settings").json["data"]["branding"]["primary_color"] \
        == "#445566"
    assert db().execute(select(func.count()).select_from(Setting)
                        .where(Setting.key != STAMP_KEY)).scalar_one() == 1


def test_the_sla_scenarios_cross_their_thresholds(world):
    """The SLA scenarios above rely on these minutes: a 10-minute first response warned at 5
    minutes left; guard them so a changed default does not make the switch tests vacuous."""
    _sla_ticket(world)
    _sweep(world, 6)
    assert world.mails("sla_warning") and not world.mails("sla_breached")
    _sweep(world, 5)
    assert world.mails("sla_breached")
