"""The customer portal in depth: list paging and search, the new-ticket form, the ticket page
(public conversation only, files, close/reopen, CSAT), theming, the host layout, CSRF and bad
input. Runs on every database back end."""

from __future__ import annotations

import io
import re
from datetime import datetime, timedelta, timezone
from types import SimpleNamespace

import pytest

from flask_escalated.events import Actor
from flask_escalated.services import attachments, replies, settings, tags, tickets
from flask_escalated.services.errors import ValidationError
from flask_escalated.web.html import relative_time

from ..hosts import intid

PAYLOADS = ('<img src=x onerror=alert(1)>', "<script>alert(1)</script>",
            '"><svg onload=alert(1)>')


def csrf(html: str) -> str:
    return re.search(r'name="csrf_token" value="([^"]+)"', html).group(1)


def make_ticket(app, user, subject="Printer on fire", description="Smoke everywhere", **kw):
    with app.extensions["escalated"].unit_of_work():
        ticket = tickets.create_ticket(tickets.NewTicket(
            subject=subject, description=description, requester_user_id=str(user.id), **kw),
            Actor.customer(user.id))
    # Plain values: tests read them after the app context that loaded the row has closed.
    return SimpleNamespace(id=ticket.id, reference=ticket.reference,
                           status_category=ticket.status_category)


def resolve(app, ticket, agent):
    with app.extensions["escalated"].unit_of_work():
        t = tickets.get_ticket(ticket.id)
        tickets.change_status(t, "resolved", Actor.agent(agent.id))


def page(client, url: str) -> str:
    response = client.get(url)
    assert response.status_code == 200, (url, response.status_code)
    return response.get_data(as_text=True)


# ---------------------------------------------------------------------------- my tickets
def test_list_shows_status_badge_and_relative_and_exact_time(client_as, users, app):
    t = make_ticket(app, users.customer)
    html = page(client_as(users.customer), "/support/tickets")
    assert f'class="esc-status esc-status-{t.status_category}"' in html
    stamp = re.search(r'<time datetime="([^"]+)"[^>]*>([^<]+)<span class="esc-exact"> '
                      r'\((\d{4}-\d\d-\d\d \d\d:\d\d) UTC\)', html)
    assert stamp is not None, html
    assert datetime.fromisoformat(stamp.group(1)).tzinfo is not None
    assert stamp.group(2) in ("just now",) or stamp.group(2).endswith("ago")


@pytest.mark.all_databases
def test_list_is_only_mine_and_search_narrows_it(client_as, users, app):
    make_ticket(app, users.customer, subject="Invoice missing")
    make_ticket(app, users.customer, subject="Login broken")
    make_ticket(app, users.other, subject="Invoice of someone else")
    client = client_as(users.customer)
    html = page(client, "/support/tickets")
    assert "Invoice missing" in html and "Login broken" in html
    assert "someone else" not in html
    html = page(client, "/support/tickets?q=invoice")
    assert "Invoice missing" in html and "Login broken" not in html
    assert "someone else" not in html
    html = page(client, "/support/tickets?q=" + "x" * 5000)
    assert "No tickets match" in html


@pytest.mark.all_databases
def test_list_pages_backwards_with_a_keyset_cursor(client_as, users, app):
    for n in range(23):
        make_ticket(app, users.customer, subject=f"Numbered {n:02d}")
    client = client_as(users.customer)
    first = page(client, "/support/tickets")
    assert first.count('class="esc-status ') == 20
    older = re.search(r'<a rel="next" href="([^"]+)"', first)
    assert older is not None
    second = page(client, older.group(1).replace("&amp;", "&"))
    assert second.count('class="esc-status ') == 3
    assert 'rel="next"' not in second and "Newest tickets" in second
    seen_first = set(re.findall(r"Numbered \d\d", first))
    seen_second = set(re.findall(r"Numbered \d\d", second))
    assert not seen_first & seen_second and len(seen_first | seen_second) == 23


@pytest.mark.all_databases
def test_snoozed_tickets_stay_in_the_customers_list(client_as, users, app):
    from flask_escalated.clock import now
    from flask_escalated.services import snooze

    t = make_ticket(app, users.customer, subject="Snoozed by support")
    with app.extensions["escalated"].unit_of_work():
        snooze.snooze(tickets.get_ticket(t.id), now() + timedelta(days=2),
                      Actor.agent(users.agent.id))
    assert "Snoozed by support" in page(client_as(users.customer), "/support/tickets")


@pytest.mark.all_databases
@pytest.mark.parametrize("cursor", ["garbage", "W10.abc", "", "%00"])
def test_a_bad_cursor_is_not_a_server_error(client_as, users, cursor):
    r = client_as(users.customer).get(f"/support/tickets?cursor={cursor}")
    assert r.status_code in (200, 422)


# ---------------------------------------------------------------------------- new ticket
def test_new_ticket_form_is_labelled_and_progressive(client_as, users, app):
    from flask_escalated.services import departments

    with app.extensions["escalated"].unit_of_work():
        departments.create_department(Actor.system(), {"name": "Billing"})
    html = page(client_as(users.customer), "/support/tickets/new")
    for field in ("subject", "description", "priority", "department_id", "files"):
        assert f'<label for="{field}"' in html, field
        assert f'id="{field}"' in html, field
    assert '<input id="files" name="files" type="file" multiple' in html
    assert "data-esc-dropzone" in html and "portal.js" in html
    assert 'enctype="multipart/form-data"' in html
    assert ">Billing</option>" in html
    for level in tickets.CUSTOMER_PRIORITIES:
        assert f'<option value="{level}"' in html
    assert '<option value="urgent"' not in html


def test_portal_script_and_styles_are_served(client_as, users):
    client = client_as(users.customer)
    js = client.get("/support/static/portal.js")
    assert js.status_code == 200 and b"esc-dropzone" in js.data
    css = client.get("/support/static/escalated.css").get_data(as_text=True)
    assert "Customer portal" in css and "--esc-radius" in css


def test_open_a_ticket_with_department_and_several_files(client_as, users, app):
    from flask_escalated.services import departments

    with app.extensions["escalated"].unit_of_work():
        dept = departments.create_department(Actor.system(), {"name": "Billing"})
    client = client_as(users.customer)
    token = csrf(page(client, "/support/tickets/new"))
    r = client.post("/support/tickets/new", data={
        "subject": "Two files", "description": "See both", "priority": "high",
        "department_id": str(dept.id), "csrf_token": token,
        "files": [(io.BytesIO(b"first file"), "one.txt"), (io.BytesIO(b"second"), "two.txt")],
    }, content_type="multipart/form-data")
    assert r.status_code == 302
    html = page(client, r.headers["Location"])
    assert "one.txt" in html and "two.txt" in html and "Priority high" in html
    assert "was opened" in html and 'aria-live="polite"' in html


@pytest.mark.parametrize("data", [
    {"subject": "x", "description": "y", "department_id": "999999"},
    {"subject": "x", "description": "y", "department_id": "abc"},
    {"subject": "x" * 600, "description": "y"},
    {"subject": "x", "description": "y", "priority": "nonsense"},
    {"subject": "x", "description": "   "},
])
def test_bad_new_ticket_input_is_a_form_error(client_as, users, data):
    client = client_as(users.customer)
    token = csrf(page(client, "/support/tickets/new"))
    r = client.post("/support/tickets/new", data={**data, "csrf_token": token})
    assert r.status_code == 422
    assert 'role="alert"' in r.get_data(as_text=True)


def test_too_many_files_is_a_form_error(make_app, users_for):
    app = make_app(ESCALATED_MAX_ATTACHMENTS=1)
    people = users_for(app)
    with app.app_context():
        client = app.test_client(user=intid.db.session.get(intid.User, people.customer.id))
    token = csrf(client.get("/support/tickets/new").get_data(as_text=True))
    r = client.post("/support/tickets/new", data={
        "subject": "x", "description": "y", "csrf_token": token,
        "files": [(io.BytesIO(b"a"), "a.txt"), (io.BytesIO(b"b"), "b.txt")],
    }, content_type="multipart/form-data")
    assert r.status_code == 422
    assert "Attachments: too many" in r.get_data(as_text=True)


# ---------------------------------------------------------------------------- ticket page
def test_ticket_page_shows_the_public_conversation_only(client_as, users, app):
    t = make_ticket(app, users.customer)
    ext = app.extensions["escalated"]
    with ext.unit_of_work():
        t = tickets.get_ticket(t.id)
        replies.add_reply(t, "SECRET internal note", Actor.agent(users.agent.id), internal=True,
                          uploads=[attachments.Upload("secret-plan.txt", io.BytesIO(b"plan"))])
        replies.add_reply(t, "We are on it", Actor.agent(users.agent.id),
                          uploads=[attachments.Upload("public-guide.txt", io.BytesIO(b"guide"))])
        tags.add_tags(t, ["vip-escalation-watch"], Actor.agent(users.agent.id))
    html = page(client_as(users.customer), f"/support/tickets/{t.reference}")
    conversation = html[html.index('id="esc-conversation"'):html.index("</section>")]
    assert "Smoke everywhere" in conversation and "We are on it" in conversation
    assert "public-guide.txt" in conversation
    assert "SECRET" not in html and "secret-plan.txt" not in html
    assert "vip-escalation-watch" not in html
    assert "sla" not in html.lower().replace("esc-", "")
    assert 'id="esc-composer"' not in conversation and 'id="esc-composer"' in html


def test_downloads_are_checked_against_the_ticket_and_visibility(client_as, users, app):
    t = make_ticket(app, users.customer)
    theirs = make_ticket(app, users.other, subject="Theirs")
    ext = app.extensions["escalated"]
    with ext.unit_of_work():
        t = tickets.get_ticket(t.id)
        public = replies.add_reply(t, "here", Actor.agent(users.agent.id), uploads=[
            attachments.Upload("guide.txt", io.BytesIO(b"the guide"))])
        hidden = replies.add_reply(t, "note", Actor.agent(users.agent.id), internal=True,
                                   uploads=[attachments.Upload("n.txt", io.BytesIO(b"n"))])
        other = attachments.add(tickets.get_ticket(theirs.id),
                                [attachments.Upload("x.txt", io.BytesIO(b"x"))],
                                Actor.customer(users.other.id))
        public_id = attachments.list_for_ticket(t, include_internal=False)[0].id
        hidden_id = next(a.id for a in attachments.list_for_ticket(t, include_internal=True)
                     if a.reply_id == hidden.id)
        other_id = other[0].id
        assert public.id
    client = client_as(users.customer)
    base = f"/support/tickets/{t.reference}/files"
    ok = client.get(f"{base}/{public_id}")
    assert ok.status_code == 200 and ok.data == b"the guide"
    assert ok.headers["X-Content-Type-Options"] == "nosniff"
    assert client.get(f"{base}/{hidden_id}").status_code == 404
    assert client.get(f"{base}/{other_id}").status_code == 404
    assert client.get(f"{base}/999999").status_code == 404
    assert client_as(users.other).get(f"{base}/{public_id}").status_code == 404


def test_another_customers_ticket_is_404_everywhere(client_as, users, app):
    t = make_ticket(app, users.customer)
    other = client_as(users.other)
    token = csrf(page(other, "/support/tickets/new"))
    theirs = other.get(f"/support/tickets/{t.reference}")
    missing = other.get("/support/tickets/ESC-99999")
    assert theirs.status_code == missing.status_code == 404
    assert theirs.get_data(as_text=True) == missing.get_data(as_text=True)
    assert other.get(f"/support/tickets/{t.id}").status_code == 404
    for action in ("reply", "close", "reopen", "rate"):
        r = other.post(f"/support/tickets/{t.reference}/{action}",
                       data={"csrf_token": token, "body": "hi", "rating": "5"})
        assert r.status_code == 404, action


@pytest.mark.all_databases
@pytest.mark.parametrize("ident", ["ESC-0", "nope", "0", "-1", "99999999999999999999999",
                                   "ESC-" + "9" * 40, "%00", "<script>"])
def test_odd_ticket_references_are_404(client_as, users, ident):
    assert client_as(users.customer).get(f"/support/tickets/{ident}").status_code == 404


def test_reply_with_an_attachment(client_as, users, app):
    t = make_ticket(app, users.customer)
    client = client_as(users.customer)
    token = csrf(page(client, f"/support/tickets/{t.reference}"))
    r = client.post(f"/support/tickets/{t.reference}/reply", data={
        "body": "Photo attached", "csrf_token": token,
        "files": [(io.BytesIO(b"\x89PNG\r\n\x1a\n" + b"0" * 32), "photo.png")],
    }, content_type="multipart/form-data")
    assert r.status_code == 302
    html = page(client, f"/support/tickets/{t.reference}")
    article = html[html.index("Photo attached"):]
    assert "photo.png" in article[:article.index("</article>")]
    r = client.post(f"/support/tickets/{t.reference}/reply", data={"body": "   ",
                                                                   "csrf_token": token})
    assert r.status_code == 422  # shown again with the message, not a redirect
    assert 'role="alert"' in r.get_data(as_text=True)


def test_close_is_hidden_and_refused_when_customers_may_not_close(make_app, users_for):
    app = make_app(ESCALATED_ALLOW_CUSTOMER_CLOSE=False)
    people = users_for(app)
    with app.app_context():
        customer = intid.db.session.get(intid.User, people.customer.id)
        t = make_ticket(app, customer)
        client = app.test_client(user=customer)
    html = client.get(f"/support/tickets/{t.reference}").get_data(as_text=True)
    assert "Close ticket" not in html
    r = client.post(f"/support/tickets/{t.reference}/close", data={"csrf_token": csrf(html)})
    assert r.status_code == 403


def test_close_then_reopen(client_as, users, app):
    t = make_ticket(app, users.customer)
    client = client_as(users.customer)
    token = csrf(page(client, f"/support/tickets/{t.reference}"))
    client.post(f"/support/tickets/{t.reference}/close", data={"csrf_token": token})
    html = page(client, f"/support/tickets/{t.reference}")
    assert "Reopen ticket" in html and "Close ticket" not in html
    assert 'id="esc-composer"' not in html
    client.post(f"/support/tickets/{t.reference}/reopen", data={"csrf_token": token})
    html = page(client, f"/support/tickets/{t.reference}")
    assert "Close ticket" in html and 'id="esc-composer"' in html


# ---------------------------------------------------------------------------- CSAT
def test_csat_prompt_after_resolution_once_only(client_as, users, app, signal_log):
    t = make_ticket(app, users.customer)
    client = client_as(users.customer)
    html = page(client, f"/support/tickets/{t.reference}")
    assert "How did we do?" not in html
    token = csrf(html)
    r = client.post(f"/support/tickets/{t.reference}/rate",
                    data={"csrf_token": token, "rating": "5"})
    assert r.status_code == 302
    assert "Only resolved or closed" in page(client, f"/support/tickets/{t.reference}")

    resolve(app, t, users.agent)
    html = page(client, f"/support/tickets/{t.reference}")
    assert "How did we do?" in html and 'name="rating" value="5"' in html
    for bad in ("0", "9", "x", ""):
        r = client.post(f"/support/tickets/{t.reference}/rate",
                        data={"csrf_token": token, "rating": bad, "comment": "Kept"})
        html = r.get_data(as_text=True)
        assert r.status_code == 422 and 'id="rating-error"' in html and ">\nKept</textarea>" in html
    r = client.post(f"/support/tickets/{t.reference}/rate",
                    data={"csrf_token": token, "rating": "4", "comment": "Quick " + PAYLOADS[1]})
    assert r.status_code == 302
    html = page(client, f"/support/tickets/{t.reference}")
    assert "Thank you for your rating" in html and "You rated this ticket 4/5" in html
    assert "How did we do?" not in html
    client.post(f"/support/tickets/{t.reference}/rate",
                data={"csrf_token": token, "rating": "1"})
    html = page(client, f"/support/tickets/{t.reference}")
    assert "already rated" in html and "You rated this ticket 4/5" in html
    assert [s.kwargs["rating"] for s in signal_log if s.name == "csat_submitted"] == [4]


def test_csat_is_off_when_disabled(make_app, users_for):
    app = make_app(ESCALATED_ENABLE_CSAT=False)
    people = users_for(app)
    with app.app_context():
        customer = intid.db.session.get(intid.User, people.customer.id)
        agent = intid.db.session.get(intid.User, people.agent.id)
        t = make_ticket(app, customer)
        resolve(app, t, agent)
        client = app.test_client(user=customer)
    html = client.get(f"/support/tickets/{t.reference}").get_data(as_text=True)
    assert "How did we do?" not in html
    r = client.post(f"/support/tickets/{t.reference}/rate",
                    data={"csrf_token": csrf(html), "rating": "5"})
    assert r.status_code == 404


# ---------------------------------------------------------------------------- security
def test_every_portal_post_needs_the_csrf_token(client_as, users, app):
    t = make_ticket(app, users.customer)
    resolve(app, t, users.agent)
    client = client_as(users.customer)
    page(client, "/support/tickets")  # a session with a token exists
    assert client.post("/support/tickets/new",
                       data={"subject": "x", "description": "y"}).status_code == 400
    for action in ("reply", "close", "reopen", "rate"):
        r = client.post(f"/support/tickets/{t.reference}/{action}",
                        data={"body": "hi", "rating": "5", "csrf_token": "forged"})
        assert r.status_code == 400, action
    html = page(client, f"/support/tickets/{t.reference}")
    assert "hi" not in html.split('id="esc-conversation"')[1].split("</section>")[0]
    for form in re.findall(r"<form[^>]*method=\"post\".*?</form>", html, re.S):
        assert 'name="csrf_token"' in form


def test_xss_payloads_render_inert_everywhere(client_as, users, app):
    payload = " ".join(PAYLOADS)
    t = make_ticket(app, users.customer, subject=payload, description=payload)
    client = client_as(users.customer)
    token = csrf(page(client, f"/support/tickets/{t.reference}"))
    client.post(f"/support/tickets/{t.reference}/reply", data={
        "body": payload, "csrf_token": token,
        "files": [(io.BytesIO(b"x"), '"><svg onload=alert(1)>.txt')],
    }, content_type="multipart/form-data")
    for url in ("/support/tickets", f"/support/tickets/{t.reference}",
                "/support/tickets?q=" + PAYLOADS[0]):
        html = page(client, url)
        for raw in PAYLOADS:
            assert raw not in html, (url, raw)
        assert "<svg" not in html and "<img src=x" not in html
        assert "<script>alert" not in html
    assert "&lt;img src=x onerror=alert(1)&gt;" in page(client, f"/support/tickets/{t.reference}")


# ---------------------------------------------------------------------------- theme, layout
def test_branding_feeds_the_css_custom_properties(client_as, users, app):
    client = client_as(users.customer)
    html = page(client, "/support/tickets")
    assert "--esc-primary: #2563eb;" in html and "--esc-radius: 8px;" in html
    with app.extensions["escalated"].unit_of_work():
        settings.update(Actor.system(), {"branding": {"primary_color": "#0f766e", "radius": 2,
                                                      "footer": "Acme <b>support</b>"}})
    html = page(client, "/support/tickets")
    assert "--esc-primary: #0f766e;" in html and "--esc-radius: 2px;" in html
    assert "Acme &lt;b&gt;support&lt;/b&gt;" in html
    for bad in ({"radius": 999}, {"radius": "4px; color: red"}, {"primary_color": "red;}"}):
        with pytest.raises(ValidationError):
            settings.update(Actor.system(), {"branding": bad})


def test_theme_ignores_values_that_did_not_validate():
    theme = settings.theme({"primary_color": "red;} body{display:none", "radius": "1px;x"})
    assert theme == {"--esc-primary": "#2563eb", "--esc-radius": "8px"}


def test_pages_render_inside_the_host_layout(make_app, users_for, tmp_path):
    folder = tmp_path / "host_templates"
    folder.mkdir()
    (folder / "host_layout.html").write_text(
        "<!doctype html><html lang=\"en\"><head><title>{% block title %}{% endblock %}</title>"
        "</head><body><nav id=\"host-nav\">Host chrome</nav>{% block body %}{% endblock %}"
        "<footer id=\"host-footer\">Host footer</footer></body></html>")
    app = make_app(ESCALATED_LAYOUT_TEMPLATE="host_layout.html")
    app.template_folder = str(folder)
    people = users_for(app)
    with app.app_context():
        customer = intid.db.session.get(intid.User, people.customer.id)
        t = make_ticket(app, customer)
        client = app.test_client(user=customer)
    for url in ("/support/tickets", "/support/tickets/new", f"/support/tickets/{t.reference}"):
        html = client.get(url).get_data(as_text=True)
        assert html.startswith("<!doctype html>")
        assert 'id="host-nav"' in html and 'id="host-footer"' in html, url
        assert "escalated.css" in html and "--esc-primary" in html, url
        assert html.index("host-nav") < html.index('class="esc"') < html.index("host-footer")
        assert html.count("<html") == 1
    r = client.get("/support/tickets/ESC-99999")
    assert r.status_code == 404 and 'id="host-nav"' in r.get_data(as_text=True)


def test_layout_accessibility_basics(client_as, users, app):
    t = make_ticket(app, users.customer)
    client = client_as(users.customer)
    for url in ("/support/tickets", "/support/tickets/new", f"/support/tickets/{t.reference}"):
        html = page(client, url)
        assert '<html lang="en">' in html and 'name="viewport"' in html
        assert 'href="#main"' in html and 'id="main"' in html
        assert 'aria-live="polite"' in html
        assert ('aria-current="page"' in html) == (url != f"/support/tickets/{t.reference}")
        for field_id in re.findall(r'<(?:input|textarea|select)[^>]*\bid="([^"]+)"', html):
            assert f'<label for="{field_id}"' in html, (url, field_id)


# ---------------------------------------------------------------------------- helpers
def test_relative_time_reads_naturally():
    ref = datetime(2026, 3, 2, 12, 0, tzinfo=timezone.utc)
    assert relative_time(ref - timedelta(seconds=10), ref) == "just now"
    assert relative_time(ref - timedelta(minutes=1), ref) == "1 minute ago"
    assert relative_time(ref - timedelta(hours=5), ref) == "5 hours ago"
    assert relative_time(ref - timedelta(days=3), ref) == "3 days ago"
    assert relative_time(ref - timedelta(days=65), ref) == "2 months ago"
    assert relative_time(ref - timedelta(days=800), ref) == "23 Dec 2023"
    assert relative_time(ref + timedelta(days=1), ref) == "in the future"
    assert relative_time(None, ref) == ""


def test_the_stylesheet_has_no_stray_comment_text():
    """Each section's banner sits inside a comment; text outside one voids the rule after it."""
    import re
    from pathlib import Path

    import flask_escalated

    css = (Path(flask_escalated.__file__).parent / "static" / "escalated" / "escalated.css"
           ).read_text()
    assert css.count("/*") == css.count("*/")
    bare = re.sub(r"/\*.*?\*/", "", css, flags=re.S)
    assert "====" not in bare
    assert bare.count("{") == bare.count("}")
