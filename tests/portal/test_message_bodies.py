"""Message bodies read the same on every surface that shows them: the agent page, the
customer's ticket page, the guest page, the widget's JSON (``body_html``) and notification
e-mails are all rendered by ``sanitize.message_html`` (Markdown, raw HTML shown as text, the
allow-list sanitizer). Each surface gets the ordinary cases (bold, a knowledge-base link as the
composer writes it) and hostile Markdown; the plain-text e-mail part stays plain text."""

from __future__ import annotations

import re

from sqlalchemy import select

from flask_escalated.events import Actor
from flask_escalated.models import OutboundEmail
from flask_escalated.services import guest_access, replies, tickets
from flask_escalated.services.sanitize import message_html

from ..hosts import intid

KB_LINK = "/support/kb/articles/3-resetting-your-printer"
DESCRIPTION = "It **smokes** when I print."
HOSTILE = "\n\n".join([
    "Try [Resetting your printer](" + KB_LINK + ") first.",
    "<script>alert('raw')</script>",
    "[click me](javascript:alert('md'))",
    "<a href=\"javascript:alert('tag')\">raw link</a>",
    "<img src=x onerror=alert('img')>",
    "![pixel](data:image/png;base64,iVBORw0KGgo=)",
    "[page](data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==)",
    "![tracker](https://cdn.example.test/t.png \"x\" onerror=alert(1))",
    "<iframe src=\"https://evil.example.test\"></iframe><svg onload=alert(1)>",
])

#: Inside a real tag (text shows ``&lt;``): an attribute that runs script, or a URL that is
#: script or inline data; or a tag that runs or embeds something.
DANGEROUS = re.compile(
    r"<[^<>]*\son\w+\s*=|<\s*(script|iframe|svg|object|embed|style)\b|"
    r"<[^<>]*\s(href|src)\s*=\s*[\"']?\s*(javascript|data|vbscript):", re.I)


def assert_rendered_and_safe(html: str, kb_href: str | None = KB_LINK) -> None:
    assert "<strong>smokes</strong>" in html and "**smokes**" not in html
    if kb_href is None:
        assert ">Resetting your printer</a>" in html
        assert f'href="{KB_LINK}"' not in html
    else:
        assert f'<a href="{kb_href}" rel="noopener noreferrer nofollow">Resetting your printer' \
            in html
    assert "&lt;script&gt;alert(" in html  # raw HTML is shown, as text
    assert not DANGEROUS.search(html), DANGEROUS.search(html).group(0)


def _ticket(app, requester, body=HOSTILE, **fields):
    """A ticket with DESCRIPTION (plus an agent's reply ``body``) as plain values."""
    ext = app.extensions["escalated"]
    with ext.unit_of_work():
        t = tickets.create_ticket(tickets.NewTicket(
            subject="Printer", description=DESCRIPTION + "\n\n" + HOSTILE, **requester, **fields),
            Actor.customer(requester["requester_user_id"]) if "requester_user_id" in requester
            else Actor.system())
        ext.session.flush()
        replies.add_reply(t, "Thanks! " + DESCRIPTION + "\n\n" + body, Actor.agent(fields.get(
            "assignee_id") or _agent_id()))
        token = guest_access.issue_token(t) if "requester_email" in requester else None
    return t.id, t.reference, token


def _agent_id() -> str:
    row = intid.db.session.execute(select(intid.User).where(
        intid.User.email == "agent@example.test")).scalar_one()
    return str(row.id)


def _conversation(html: str) -> str:
    return html.split('data-live-region="conversation"')[1].split("</section>")[0]


def test_customer_page_renders_markdown_safely(client_as, users, app):
    _, ref, _ = _ticket(app, {"requester_user_id": str(users.customer.id)})
    html = client_as(users.customer).get(f"/support/tickets/{ref}").get_data(as_text=True)
    part = _conversation(html)
    assert_rendered_and_safe(part)
    # The very renderer the agent page uses, so both sides read the same thing.
    assert str(message_html(DESCRIPTION + "\n\n" + HOSTILE)) in part
    agent = client_as(users.agent).get(f"/support/agent/tickets/{ref}").get_data(as_text=True)
    assert str(message_html(DESCRIPTION + "\n\n" + HOSTILE)) in _conversation(agent)
    assert_rendered_and_safe(_conversation(agent))


def test_guest_page_renders_markdown_safely(app, users):
    _, _, token = _ticket(app, {"requester_email": "pat@example.org"})
    r = app.test_client().get(f"/support/guest/{token}")
    assert r.status_code == 200
    main = r.get_data(as_text=True).split('id="main"')[1].split("</main>")[0]
    assert main.count("<strong>smokes</strong>") == 2  # the description and the reply
    assert_rendered_and_safe(main)


def test_widget_json_carries_sanitized_body_html(make_app, users_for):
    app = make_app(ESCALATED_APP_URL="https://help.example.test")
    users_for(app)
    with app.app_context():
        _, _, token = _ticket(app, {"requester_email": "pat@example.org"})
    data = app.test_client().get(f"/support/widget/tickets/{token}").json["data"]
    # The plain fields stay as they were; the HTML is rendered and sanitized by the server,
    # with the knowledge-base link made absolute (the widget lives on the host's pages).
    assert data["description"].startswith(DESCRIPTION)
    absolute = "https://help.example.test" + KB_LINK
    assert_rendered_and_safe(data["description_html"], absolute)
    (reply,) = data["replies"]
    assert reply["body"].startswith("Thanks! ")
    assert_rendered_and_safe(reply["body_html"], absolute)


def test_widget_links_resolve_against_the_serving_host_without_app_url(app, users):
    _, _, token = _ticket(app, {"requester_email": "pat@example.org"})
    data = app.test_client().get(f"/support/widget/tickets/{token}",
                                 base_url="https://desk.example.test").json["data"]
    assert_rendered_and_safe(data["description_html"], "https://desk.example.test" + KB_LINK)


def test_email_html_is_rendered_and_the_text_part_stays_text(make_app, users_for):
    app = make_app(ESCALATED_MAIL_FROM="help@support.example.test",
                   ESCALATED_MAIL_DOMAIN="support.example.test",
                   ESCALATED_APP_URL="https://help.example.test", MAIL_SUPPRESS_SEND=True)
    people = users_for(app)
    with app.app_context():
        _ticket(app, {"requester_user_id": str(people.customer.id)},
                department_id=None)
        rows = list(intid.db.session.execute(
            select(OutboundEmail).order_by(OutboundEmail.id)).scalars())
    kinds = {row.kind: row for row in rows}
    assert {"new_ticket_requester", "agent_reply"} <= set(kinds)
    for kind in ("new_ticket_requester", "agent_reply"):
        row = kinds[kind]
        assert_rendered_and_safe(row.html_body, "https://help.example.test" + KB_LINK)
        assert "It **smokes** when I print." in row.text_body  # plain text as written
        assert "<strong>" not in row.text_body


def test_email_drops_relative_links_it_cannot_resolve():
    html = message_html(f"[Resetting your printer]({KB_LINK}) **smokes**", off_site=True)
    assert_rendered_and_safe(html + "&lt;script&gt;alert(", kb_href=None)
    assert message_html(f"[x]({KB_LINK})", base_url="not a url", off_site=True) \
        == message_html(f"[x]({KB_LINK})", off_site=True)
