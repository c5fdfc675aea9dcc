"""The ticket page: conversation and timeline, the composer, every property form, the
optimistic lock and escaping."""

from __future__ import annotations

import io
import re
from pathlib import Path

import pytest

from flask_escalated.events import Actor
from flask_escalated.models import Macro
from flask_escalated.services import departments, followers, replies, sla_admin, tickets

from .conftest import XSS, open_in, version_of


def url(t, action: str = "") -> str:
    return f"/support/agent/tickets/{t.reference}" + (f"/{action}" if action else "")


@pytest.mark.all_databases
def test_conversation_interleaves_replies_notes_and_activity(browser, users, make_ticket,
                                                             ext, clock):
    t = make_ticket()
    clock.advance(minutes=1)
    with ext.unit_of_work():
        replies.add_reply(tickets.get_ticket(t.id), "Customer detail",
                          Actor.customer(users.customer.id))
    clock.advance(minutes=1)
    with ext.unit_of_work():
        tickets.change_priority(tickets.get_ticket(t.id), "urgent", Actor.agent(users.agent.id))
    clock.advance(minutes=1)
    with ext.unit_of_work():
        replies.add_reply(tickets.get_ticket(t.id), "Only for us", Actor.agent(users.agent.id),
                          internal=True)
    html = browser(users.agent).get(url(t))
    order = [html.index(s) for s in ("Flames everywhere.", "Customer detail",
                                     "changed the priority from medium to urgent",
                                     "Only for us")]
    assert order == sorted(order)
    note = html[html.rindex("<article", 0, html.index("Only for us")):]
    assert note.startswith('<article id="reply-') and "esc-message-note" in note[:80]
    assert "Internal note</span>" in note
    assert "Alex Agent" in html and "Casey Customer" in html


def test_reply_note_and_attachment(browser, users, make_ticket, fresh):
    t = make_ticket()
    b = browser(users.agent)
    b.get(url(t))
    r = b.post(url(t, "reply"), {"body": "We are on it", "kind": "reply",
                                 "version": version_of(b.html),
                                 "files": [(io.BytesIO(b"log line"), "trace.txt")]},
               content_type="multipart/form-data")
    assert r.status_code == 303 and r.headers["Location"] == url(t)
    html = b.get(url(t))
    assert "Reply sent." in html and "We are on it" in html and "trace.txt" in html
    assert fresh(t.id).status == "waiting_on_customer"
    r = b.post(url(t, "reply"), {"body": "Secret", "kind": "note",
                                 "version": version_of(html)})
    assert r.status_code == 303
    html = b.get(url(t))
    assert "Internal note added." in html
    assert "Secret" not in browser(users.customer).get(f"/support/tickets/{t.reference}")
    # An empty message is a 422 that says so.
    b.post(url(t, "reply"), {"body": "  ", "kind": "reply", "version": version_of(html)})
    r = b.post(url(t, "reply"), {"body": "  ", "kind": "reply", "version": version_of(html)})
    assert r.status_code == 422 and "The message is empty." in r.get_data(as_text=True)


def test_light_agents_write_notes_but_not_property_changes(browser, users, make_ticket):
    t = make_ticket()
    b = browser(users.light)
    html = b.get(url(t))
    assert 'value="note"' in html and 'action="' + url(t, "assign") not in html
    r = b.post(url(t, "assign"), {"assignee": "me", "version": version_of(html)})
    assert r.status_code == 403


@pytest.mark.all_databases
def test_stale_version_is_409_and_keeps_the_text(browser, users, make_ticket, ext, fresh):
    t = make_ticket()
    b = browser(users.agent)
    html = b.get(url(t))
    old = version_of(html)
    with ext.unit_of_work():  # someone else changes the ticket meanwhile
        tickets.change_priority(tickets.get_ticket(t.id), "high", Actor.agent(users.agent2.id))
    typed = "A long answer\nwith <b>two</b> lines"
    r = b.post(url(t, "reply"), {"body": typed, "kind": "note", "version": old})
    assert r.status_code == 409
    page = r.get_data(as_text=True)
    assert "Someone changed this ticket" in page and 'role="alert"' in page
    assert "A long answer\nwith &lt;b&gt;two&lt;/b&gt; lines</textarea>" in page
    assert 'value="note" checked' in page
    assert version_of(page) == old + 1
    assert fresh(t.id).reply_count == 0
    r = b.post(url(t, "tags"), {"tags": "keep-me", "version": old})
    assert r.status_code == 409 and 'value="keep-me"' in r.get_data(as_text=True)
    r = b.post(url(t, "status"), {"status": "escalated", "version": old})
    assert r.status_code == 409 and fresh(t.id).status == "open"
    # Resubmitting from the fresh page works.
    r = b.post(url(t, "reply"), {"body": typed, "kind": "note", "version": old + 1})
    assert r.status_code == 303
    r = b.post(url(t, "priority"), {"priority": "low", "version": "abc"})
    assert r.status_code == 422


def test_property_forms(browser, users, make_ticket, ext, fresh):
    with ext.unit_of_work():
        dept = departments.create_department(Actor.system(), {"name": "Hardware"})
    t = make_ticket()
    b = browser(users.agent)

    def post(action: str, **data: str) -> str:
        html = b.get(url(t))
        r = b.post(url(t, action), {"version": version_of(html), **data})
        assert r.status_code == 303, (action, r.status_code, r.get_data(as_text=True)[:600])
        return b.get(url(t))

    html = post("assign", assignee="me")
    assert "Assigned." in html and fresh(t.id).assignee_id == str(users.agent.id)
    assert fresh(t.id).status == "in_progress"
    post("assign", assignee=str(users.agent2.id))
    assert fresh(t.id).assignee_id == str(users.agent2.id)
    post("assign", assignee="none")
    assert fresh(t.id).assignee_id is None
    post("priority", priority="critical")
    assert fresh(t.id).priority == "critical"
    post("department", department_id=str(dept.id))
    assert fresh(t.id).department_id == dept.id
    post("tags", tags="red, blue")
    assert [x.slug for x in fresh(t.id).tags] == ["blue", "red"]
    post("untag", tag="red")
    assert [x.slug for x in fresh(t.id).tags] == ["blue"]
    html = post("status", status="escalated")
    assert fresh(t.id).status == "escalated"
    # Only allowed transitions are offered, and a forbidden one is a clear 409.
    allowed = re.search(r'<select id="p-status" name="status">(.*?)</select>', html, re.S)
    assert 'value="open"' not in allowed.group(1) and 'value="resolved"' in allowed.group(1)
    r = b.post(url(t, "status"), {"status": "open", "version": version_of(html)})
    assert r.status_code == 409 and "cannot move from" in r.get_data(as_text=True)
    r = b.post(url(t, "priority"), {"priority": "extreme", "version": version_of(html)})
    # Refused as the API refuses it: the field named, with the choices.
    assert r.status_code == 422 and "priority: Input should be &#39;low&#39;" in r.get_data(
        as_text=True)
    r = b.post(url(t, "untag"), {"tag": "nope", "version": version_of(html)})
    assert r.status_code == 404
    r = b.post(url(t, "assign"), {"assignee": str(users.customer.id),
                                  "version": version_of(html)})
    assert r.status_code == 422 and "not an agent" in r.get_data(as_text=True)


def test_follow_pin_snooze_and_macro(browser, users, make_ticket, ext, fresh, clock):
    t = make_ticket()
    with ext.unit_of_work():
        note = replies.add_reply(tickets.get_ticket(t.id), "Pin me", Actor.agent(users.agent.id),
                                 internal=True)
        ext.session.add(Macro(name="Triage", actions=[
            {"type": "set_priority", "value": "high"}, {"type": "add_tag", "value": "triaged"},
            {"type": "add_note", "value": "Triaged {reference}"}],
            is_shared=True, owner_user_id=str(users.admin.id), position=0))
    b = browser(users.agent)
    html = b.get(url(t))
    assert b.post(url(t, "follow"), {"action": "follow"}).status_code == 303
    html = b.get(url(t))
    assert "You follow this ticket." in html and ">Unfollow</button>" in html
    assert followers.list_followers(fresh(t.id)) == [str(users.agent.id)]
    b.post(url(t, "follow"), {"action": "unfollow"})
    assert followers.list_followers(fresh(t.id)) == []
    r = b.post(f"{url(t)}/notes/{note.id}/pin", {"pinned": "1"})
    assert r.status_code == 303
    html = b.get(url(t))
    assert "Pinned notes" in html and "Unpin note" in html
    b.post(f"{url(t)}/notes/{note.id}/pin", {"pinned": "0"})
    assert "Pinned notes" not in b.get(url(t))
    r = b.post(url(t, "snooze"), {"preset": "4h", "version": version_of(b.html)})
    assert r.status_code == 303
    html = b.get(url(t))
    assert "Snoozed until" in html and fresh(t.id).snoozed_until is not None
    r = b.post(url(t, "snooze"), {"preset": "sometime", "version": version_of(html)})
    assert r.status_code == 422
    b.post(url(t, "snooze"), {"preset": "wake", "version": version_of(html)})
    assert fresh(t.id).snoozed_until is None
    html = b.get(url(t))
    macro_id = re.search(r'<select id="macro-id" name="macro_id">\s*<option value="(\d+)"',
                         html).group(1)
    r = b.post(url(t, "macro"), {"macro_id": macro_id, "version": version_of(html)})
    assert r.status_code == 303
    html = b.get(url(t))
    assert "Macro applied (3 actions)." in html and f"Triaged {t.reference}" in html
    ticket = fresh(t.id)
    assert ticket.priority == "high" and [x.slug for x in ticket.tags] == ["triaged"]
    r = b.post(url(t, "macro"), {"macro_id": "99999", "version": version_of(html)})
    assert r.status_code == 404


def test_sla_panel_shows_due_times_and_remaining(browser, users, make_ticket, ext, clock):
    with ext.unit_of_work():
        sla_admin.create_policy(Actor.system(), {
            "name": "P", "targets": {"medium": {"first_response": 60, "resolution": 600}}})
    t = make_ticket()
    clock.advance(minutes=75)
    html = browser(users.agent).get(url(t))
    panel = html[html.index('id="sla-h"'):]
    assert "First response" in panel and "Breached" in panel and "overdue by 15 min" in panel
    assert "Resolution" in panel and "8 h 45 min left" in panel


def _publish(ext, users, **fields):
    from flask_escalated.services import kb
    from flask_escalated.services.permissions import Principal

    with ext.unit_of_work():
        kb.create_article(Principal.build(str(users.admin.id), is_admin=True),
                          {"title": "Printer setup", "body": "Plug it in.",
                           "status": "published", **fields})


def test_kb_box_uses_the_api_search(browser, users, make_ticket, ext):
    # The box is there when a search can find an article, hidden until the script shows it.
    _publish(ext, users)
    html = browser(users.agent).get(url(make_ticket()))
    assert '<div class="esc-kb" data-kb-search="/support/api/v1/kb/search" hidden>' in html


def test_no_kb_box_without_an_article_to_find(browser, users, make_ticket, ext):
    """The page decides whether the box is offered: the script sends no search of its own on
    load (an empty one is a 422, a console error on every ticket page)."""
    t = make_ticket()
    assert "data-kb-search" not in browser(users.agent).get(url(t))
    _publish(ext, users, status="draft")
    assert "data-kb-search" not in browser(users.agent).get(url(t))
    _publish(ext, users, visibility="internal")
    assert "data-kb-search" in browser(users.agent).get(url(t))
    script = (Path(__file__).resolve().parents[2]
              / "flask_escalated/static/escalated/agent.js").read_text()
    setup = script[script.index("function setupKb"):script.index("function setupCanned")]
    assert 'get("")' not in setup and "box.hidden = false;" in setup
    # A real empty search is still refused with a message.
    r = browser(users.agent).client.get("/support/api/v1/kb/search?q=",
                                        headers={"Accept": "application/json"})
    assert r.status_code == 422


def test_no_kb_box_without_the_api(make_app, users_for):
    other = make_app(ESCALATED_API_ENABLED=False)
    people = users_for(other)
    ref = open_in(other, people.customer)
    page = other.test_client(user=people.agent).get(f"/support/agent/tickets/{ref}")
    assert page.status_code == 200
    assert "data-kb-search" not in page.get_data(as_text=True)


def test_bodies_names_and_tags_are_inert(browser, users, make_ticket, ext):
    from flask_escalated.services import tags

    users.agent.name = XSS
    ext.session.commit()
    t = make_ticket(subject=XSS, description=XSS + ' [x](javascript:alert(1)) <img src=x '
                    'onerror=alert(1)>')
    with ext.unit_of_work():
        ticket = tickets.get_ticket(t.id)
        replies.add_reply(ticket, "Note " + XSS, Actor.agent(users.agent.id), internal=True)
        replies.add_reply(ticket, "Reply " + XSS, Actor.customer(users.customer.id))
        tags.add_tags(ticket, ["<i>tag</i>"], Actor.agent(users.agent.id))
        followers.follow(ticket, str(users.agent.id), Actor.agent(users.agent.id))
    for viewer in (users.agent, users.admin):
        html = browser(viewer).get(url(t))
        assert XSS not in html
        assert "<img" not in html and 'href="javascript' not in html
        assert "<i>tag</i>" not in html
        assert "&lt;script&gt;" in html
    queue = browser(users.admin).get("/support/agent/tickets")
    assert XSS not in queue and "<i>tag" not in queue
