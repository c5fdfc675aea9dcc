"""A canned response as a macro's reply, and the composer's picker without JavaScript."""

from __future__ import annotations

import re

import pytest

from ..agent_ui.conftest import csrf

pytestmark = pytest.mark.all_databases


def _macro(api, user, canned_id, shared=False):
    return api(user).post("/macros", json={
        "name": "Refund", "is_shared": shared,
        "actions": [{"type": "canned_reply", "value": canned_id},
                    {"type": "add_tag", "value": "refunded"}]})


def test_macro_replies_with_a_canned_response(api, users, ext, make_canned, ticket_of):
    cid = make_canned("agent", body="Hi {{requester.name}}, refunded. {{agent.name}}")
    tid = ticket_of()
    r = _macro(api, users.agent, cid)
    assert r.status_code == 201, r.get_data(True)
    macro = r.get_json()["data"]
    assert macro["actions"][0] == {"type": "canned_reply", "value": cid}
    r = api(users.agent).post(f"/tickets/{tid}/macros/{macro['id']}", json={})
    assert r.status_code == 200, r.get_data(True)
    replies = api(users.agent).get(f"/tickets/{tid}/replies").get_json()["data"]
    assert [x["body"] for x in replies if not x["is_internal"]] == [
        "Hi Casey Customer, refunded. Alex Agent"]


def test_macro_canned_reply_is_validated_at_save(api, users, make_canned):
    theirs = make_canned("agent2")
    r = _macro(api, users.agent, theirs)
    assert r.status_code == 422 and "actions" in r.get_json()["error"]["fields"]
    r = _macro(api, users.agent, 999999)
    assert r.status_code == 422
    r = api(users.agent).post("/macros", json={"name": "x", "actions": [
        {"type": "canned_reply", "value": "nope"}]})
    assert r.status_code == 422
    personal = make_canned("admin", shared=False)
    r = _macro(api, users.admin, personal, shared=True)
    assert r.status_code == 422 and "shared" in r.get_json()["error"]["message"]
    shared = make_canned("admin", shared=True)
    assert _macro(api, users.admin, shared, shared=True).status_code == 201


def test_canned_reply_is_a_macro_action_only(api, users, make_canned):
    cid = make_canned("admin", shared=True)
    r = api(users.admin).post("/automations", json={
        "name": "A", "conditions": {"all": [{"field": "priority", "operator": "eq",
                                             "value": "low"}]},
        "actions": [{"type": "canned_reply", "value": cid}]})
    assert r.status_code == 422


def _textarea(html):
    match = re.search(r'<textarea id="composer-body"[^>]*>(.*?)</textarea>', html, re.S)
    assert match
    # A browser drops the one newline that follows <textarea>.
    return match.group(1).removeprefix("\n")


def test_composer_insert_without_javascript(client_as, users, ext, make_canned, ticket_of,
                                            count_queries):
    from flask_escalated.services import tickets

    cid = make_canned("admin", title="Apology", shortcut="sorry", shared=True,
                      body="Sorry, {{requester.name}} <3 {{ticket.reference}}")
    tid = ticket_of()
    ref = tickets.get_ticket(tid).reference
    client = client_as(users.agent)
    page = client.get(f"/support/agent/tickets/{ref}").get_data(True)
    assert f'<option value="{cid}"' in page and "Apology (/sorry)" in page
    assert f'formaction="/support/agent/tickets/{ref}/canned"' in page
    r = client.post(f"/support/agent/tickets/{ref}/canned", data={
        "csrf_token": csrf(page), "body": "Hello,\r\nthanks for waiting.  ", "kind": "note",
        "canned_id": str(cid)})
    assert r.status_code == 200
    html = r.get_data(True)
    assert _textarea(html) == (
        f"Hello,\nthanks for waiting.\n\nSorry, Casey Customer &lt;3 {ref}")
    assert 'value="note" checked' in html  # the kind chosen is kept
    ext.session.rollback()
    assert tickets.get_ticket(tid).reply_count == 0  # nothing was sent


def test_sending_a_reply_with_the_picker_in_the_composer(client_as, users, ext, make_canned,
                                                        ticket_of):
    """The picker's select is posted with every send: the reply goes, the choice is ignored."""
    from flask_escalated.services import tickets

    cid = make_canned("admin", title="Apology", shared=True)
    tid = ticket_of()
    ref = tickets.get_ticket(tid).reference
    client = client_as(users.agent)
    page = client.get(f"/support/agent/tickets/{ref}").get_data(True)
    version = re.search(r'name="version" value="(\d+)"', page).group(1)
    r = client.post(f"/support/agent/tickets/{ref}/reply", data={
        "csrf_token": csrf(page), "body": "On its way.", "kind": "reply", "version": version,
        "canned_id": str(cid)})
    assert r.status_code in (302, 303), r.get_data(True)[:500]
    ext.session.rollback()  # MariaDB: read what the request committed
    assert tickets.get_ticket(tid).reply_count == 1


def test_composer_insert_refusals_keep_the_draft(client_as, users, make_canned, ticket_of):
    from flask_escalated.services import tickets

    theirs = make_canned("agent2", title="Sam's")
    tid = ticket_of()
    ref = tickets.get_ticket(tid).reference
    client = client_as(users.agent)
    page = client.get(f"/support/agent/tickets/{ref}").get_data(True)
    assert "Sam&#39;s" not in page and "Sam's" not in page
    for canned_id, status in ((str(theirs), 404), ("", 422), ("x", 422)):
        r = client.post(f"/support/agent/tickets/{ref}/canned", data={
            "csrf_token": csrf(page), "body": "my <draft>", "kind": "reply",
            "canned_id": canned_id})
        assert r.status_code == status
        assert _textarea(r.get_data(True)) == "my &lt;draft&gt;"


def test_my_canned_responses_page(client_as, users, ext, make_canned):
    from flask_escalated.models import CannedResponse
    from flask_escalated.services import session

    shared = make_canned("admin", title="House", shared=True)
    theirs = make_canned("agent2", title="Sam's")
    client = client_as(users.agent)
    page = client.get("/support/agent/canned-responses").get_data(True)
    assert "You have no canned responses yet." in page
    form = client.get("/support/agent/canned-responses/new").get_data(True)
    r = client.post("/support/agent/canned-responses/new", data={
        "csrf_token": csrf(form), "title": "", "shortcut": "", "body": "x"})
    assert r.status_code == 422 and 'id="f-title-error"' in r.get_data(True)
    r = client.post("/support/agent/canned-responses/new", data={
        "csrf_token": csrf(form), "title": "Mine <b>", "shortcut": "", "body": "Hi\r\nthere",
        "shared": "true"})
    assert r.status_code == 422  # not an input of this page: refused, never shared
    r = client.post("/support/agent/canned-responses/new", data={
        "csrf_token": csrf(form), "title": "Mine <b>", "shortcut": "mine", "body": "Hi\r\nthere"})
    assert r.status_code == 303
    session().rollback()
    row = session().query(CannedResponse).filter_by(title="Mine <b>").one()
    ident = row.id
    assert (row.is_shared, row.owner_user_id, row.body) == (False, str(users.agent.id),
                                                           "Hi\nthere")
    listing = client.get("/support/agent/canned-responses").get_data(True)
    assert "Mine &lt;b&gt;" in listing and "House" not in listing and "Sam" not in listing
    for other in (shared, theirs):
        assert client.get(f"/support/agent/canned-responses/{other}").status_code == 404
    edit = client.get(f"/support/agent/canned-responses/{ident}").get_data(True)
    r = client.post(f"/support/agent/canned-responses/{ident}", data={
        "csrf_token": csrf(edit), "title": "Renamed", "shortcut": "mine", "body": "b"})
    assert r.status_code == 303
    confirm = client.get(f"/support/agent/canned-responses/{ident}/delete").get_data(True)
    assert "Renamed" in confirm
    r = client.post(f"/support/agent/canned-responses/{ident}/delete",
                    data={"csrf_token": csrf(confirm)})
    assert r.status_code == 303
    session().rollback()
    assert session().get(CannedResponse, ident) is None
