"""The agent ticket page's relations: the merge picker works as plain forms, a reply splits
with its own button, the links panel shows status badges and removes links."""

from __future__ import annotations

import re

import pytest

from flask_escalated.events import Actor
from flask_escalated.models import Reply, Ticket, TicketLink
from flask_escalated.services import replies, tickets

pytestmark = pytest.mark.all_databases

CSRF = "relations-csrf"


@pytest.fixture
def agent(app, users, client_as):
    client = client_as(users.agent)
    with client.session_transaction() as session:
        session["_escalated_csrf"] = CSRF
    return client


def test_merge_through_the_picker_without_scripts(app, ext, users, agent, make_ticket, fresh):
    source = make_ticket(subject="Scanner stuck")
    target = make_ticket(subject="Scanner jammed on floor 3")
    src_ref, dst_ref = fresh(Ticket, source).reference, fresh(Ticket, target).reference
    page = agent.get(f"/support/agent/tickets/{src_ref}").get_data(as_text=True)
    assert "data-merge-picker" in page and "No linked tickets." in page
    found = agent.get(f"/support/agent/tickets/{src_ref}/merge?q=floor+3").get_data(as_text=True)
    assert f"Merge into {dst_ref}" in found and f"Merge into {src_ref}" not in found
    by_ref = agent.get(f"/support/agent/tickets/{src_ref}/merge?q={dst_ref}").get_data(True)
    assert f"Merge into {dst_ref}" in by_ref
    r = agent.post(f"/support/agent/tickets/{src_ref}/merge",
                   data={"into": dst_ref, "csrf_token": CSRF})
    assert r.status_code == 303 and r.headers["Location"].endswith(dst_ref)
    assert fresh(Ticket, source).merged_into_id == target
    page = agent.get(f"/support/agent/tickets/{src_ref}").get_data(as_text=True)
    assert "data-merged-into" in page and "data-merge-picker" not in page
    assert f"merged this ticket into {dst_ref}" in page  # the timeline says what happened
    page = agent.get(f"/support/agent/tickets/{dst_ref}").get_data(as_text=True)
    assert f"merged {src_ref} into this one" in page
    # A refusal comes back as a message on the ticket, nothing changed.
    r = agent.post(f"/support/agent/tickets/{dst_ref}/merge",
                   data={"into": dst_ref, "csrf_token": CSRF}, follow_redirects=True)
    assert "cannot be merged into itself" in r.get_data(as_text=True)


def test_split_a_reply_and_manage_links(app, ext, users, agent, make_ticket, fresh):
    tid = make_ticket()
    with ext.unit_of_work():
        t = tickets.get_ticket(tid)
        reply = replies.add_reply(t, "The scanner too.", Actor.customer(users.customer.id))
        replies.add_reply(t, "psst", Actor.agent(users.agent.id), internal=True)
        ref, reply_id = t.reference, reply.id
    page = agent.get(f"/support/agent/tickets/{ref}").get_data(as_text=True)
    assert page.count("data-split-reply") == 1  # public replies only
    r = agent.post(f"/support/agent/tickets/{ref}/split",
                   data={"reply_ids": str(reply_id), "csrf_token": CSRF})
    assert r.status_code == 303
    new_ref = r.headers["Location"].rsplit("/", 1)[-1]
    new = ext.session.execute(
        Ticket.__table__.select().where(Ticket.reference == new_ref)).one()
    assert new.description == "The scanner too." and new.channel == "split"
    assert fresh(Reply, reply_id).ticket_id == tid
    page = agent.get(f"/support/agent/tickets/{ref}").get_data(as_text=True)
    assert re.search(r"Split <a href=\"[^\"]+\">" + new_ref, page)
    assert "esc-status esc-status-open" in page
    assert f"split replies into {new_ref}" in page

    other = make_ticket()
    other_ref = fresh(Ticket, other).reference
    r = agent.post(f"/support/agent/tickets/{ref}/links",
                   data={"ticket": other_ref, "type": "blocks", "csrf_token": CSRF})
    assert r.status_code == 303
    page = agent.get(f"/support/agent/tickets/{other_ref}").get_data(as_text=True)
    assert "Blocked by <a href" in page
    assert f"linked {ref} (blocked by)" in page
    link_id = int(re.search(r'data-link="(\d+)"', page).group(1))
    r = agent.post(f"/support/agent/tickets/{other_ref}/links/{link_id}/delete",
                   data={"csrf_token": CSRF})
    assert r.status_code == 303 and fresh(TicketLink, link_id) is None
