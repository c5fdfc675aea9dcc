"""The ticket endpoints: shapes, lifecycle through the API, and the error envelope."""

from __future__ import annotations

import io

import pytest

from flask_escalated.models import Ticket


def assert_error(response, status, code=None):
    assert response.status_code == status, (response.status_code, response.get_data(True)[:300])
    body = response.get_json()
    assert set(body) == {"error"} and set(body["error"]) == {"code", "message", "fields"}
    if code:
        assert body["error"]["code"] == code
    return body["error"]


def test_customer_opens_a_ticket_agent_answers_customer_sees_it(api, users):
    customer, agent = api(users.customer), api(users.agent)
    # The team's fields are refused by name, never dropped: the ticket would not be what
    # the caller asked for.
    r = customer.post("/tickets", {"subject": "Can't log in", "description": "Help",
                                   "priority": "high", "tags": ["vip"],
                                   "requester_user_id": str(users.other.id)})
    assert assert_error(r, 403, "forbidden")["fields"] == {
        "tags": "agents only", "requester_user_id": "agents only"}
    r = customer.post("/tickets", {"subject": "Can't log in", "description": "Help",
                                   "priority": "high"})
    assert r.status_code == 201, r.json
    data = r.json["data"]
    assert data["reference"].startswith("ESC-") and data["status"] == "open"
    assert data["requester"]["id"] == str(users.customer.id)
    assert data["requester"]["name"] == "Casey Customer"
    # Tags are the team's labels: a customer's view carries none (nor metadata).
    assert "tags" not in data and "metadata" not in data
    ref = data["reference"]

    listing = agent.get("/tickets?status=open").json["data"]
    assert ref in [t["reference"] for t in listing]
    r = agent.post(f"/tickets/{ref}/replies", {"body": "Try resetting your password."})
    assert r.status_code == 201 and r.json["data"]["author"]["name"] == "Alex Agent"
    r = agent.post(f"/tickets/{ref}/notes", {"body": "Probably SSO."})
    assert r.status_code == 201 and r.json["data"]["is_internal"] is True

    detail = customer.get(f"/tickets/{ref}").json["data"]
    assert detail["status"] == "waiting_on_customer"
    assert detail["first_response_at"] is not None
    bodies = [x["body"] for x in customer.get(f"/tickets/{ref}/replies").json["data"]]
    assert bodies == ["Try resetting your password."]
    agent_bodies = [x["body"] for x in agent.get(f"/tickets/{ref}/replies").json["data"]]
    assert agent_bodies == ["Try resetting your password.", "Probably SSO."]


@pytest.mark.all_databases
def test_ticket_by_id_and_reference(api, users, make_ticket):
    tid = make_ticket()
    by_id = api(users.agent).get(f"/tickets/{tid}").json["data"]
    by_ref = api(users.agent).get(f"/tickets/{by_id['reference']}").json["data"]
    assert by_id == by_ref
    assert set(by_id) >= {"id", "reference", "subject", "description", "status", "priority",
                          "requester", "assignee", "department", "tags", "version",
                          "allowed_statuses", "followers", "sla"} - {"sla"}


def test_agent_creates_for_a_contact_and_assigns(api, users):
    r = api(users.agent).post("/tickets", {
        "subject": "Phone call", "description": "Called about invoice",
        "requester_email": "  Pat@Example.COM ", "requester_name": "Pat",
        "assignee_id": str(users.agent2.id), "tags": ["billing"], "priority": "urgent",
        "metadata": {"crm": 42},
    })
    assert r.status_code == 201, r.json
    data = r.json["data"]
    assert data["requester"] == {"type": "contact", "id": data["requester"]["id"],
                                 "name": "Pat", "email": "pat@example.com"}
    assert data["assignee"]["id"] == str(users.agent2.id)
    assert data["status"] == "in_progress"
    assert [t["slug"] for t in data["tags"]] == ["billing"]
    assert data["metadata"] == {"crm": 42}


@pytest.mark.all_databases
def test_patch_with_version_and_stale_version(api, users, make_ticket):
    tid = make_ticket()
    agent = api(users.agent)
    version = agent.get(f"/tickets/{tid}").json["data"]["version"]
    r = agent.patch(f"/tickets/{tid}", {"version": version, "subject": "Printer fixed?",
                                        "priority": "low", "tags": ["hw"]})
    assert r.status_code == 200, r.json
    assert r.json["data"]["version"] > version
    err = assert_error(agent.patch(f"/tickets/{tid}", {"version": version, "subject": "x"}),
                       409, "stale_version")
    assert err["fields"]["version"] == r.json["data"]["version"]
    assert_error(agent.patch(f"/tickets/{tid}", {"version": "3"}), 422)


def test_status_transitions_via_api(api, users, make_ticket):
    tid = make_ticket()
    agent = api(users.agent)
    assert agent.post(f"/tickets/{tid}/status", {"status": "resolved"}).status_code == 200
    assert_error(agent.post(f"/tickets/{tid}/status", {"status": "in_progress"}), 409,
                 "invalid_transition")
    assert_error(agent.post(f"/tickets/{tid}/status", {"status": "bogus"}), 422)
    assert_error(agent.post(f"/tickets/{tid}/status", {"status": 5}), 422)
    # The customer may reopen their resolved ticket, not set arbitrary statuses.
    customer = api(users.customer)
    assert customer.post(f"/tickets/{tid}/status", {"status": "reopened"}).status_code == 200
    assert_error(customer.post(f"/tickets/{tid}/status", {"status": "escalated"}), 403)
    assert customer.post(f"/tickets/{tid}/status", {"status": "closed"}).status_code == 200


def test_customer_close_can_be_switched_off(make_app, users_factory=None):
    app = make_app(ESCALATED_ALLOW_CUSTOMER_CLOSE=False)
    from tests.hosts import intid

    with app.app_context():
        user = intid.make_user("c@example.test", "C")
        intid.db.session.commit()
        from flask_escalated.events import Actor
        from flask_escalated.services import tickets

        with app.extensions["escalated"].unit_of_work():
            t = tickets.create_ticket(tickets.NewTicket(
                subject="s", description="d", requester_user_id=str(user.id)), Actor.system())
        r = app.test_client(user=user).post(f"/support/api/v1/tickets/{t.id}/status",
                                            json={"status": "closed"})
        assert r.status_code == 403


@pytest.mark.all_databases
def test_assign_endpoint_strategies(api, users, make_ticket, ext):
    from flask_escalated.services import departments

    with ext.unit_of_work():
        dept = departments.create_department(
            __import__("flask_escalated").Actor.system(),
            {"name": "Billing", "agent_ids": [str(users.agent.id), str(users.agent2.id)]})
    agent = api(users.agent)
    t1, t2 = make_ticket(department_id=dept.id), make_ticket(department_id=dept.id)
    a1 = agent.post(f"/tickets/{t1}/assign", {"strategy": "round_robin"}).json["data"]
    a2 = agent.post(f"/tickets/{t2}/assign", {"strategy": "round_robin"}).json["data"]
    assert {a1["assignee"]["id"], a2["assignee"]["id"]} == {str(users.agent.id),
                                                             str(users.agent2.id)}
    r = agent.post(f"/tickets/{t1}/assign", {"assignee_id": None})
    assert r.json["data"]["assignee"] is None
    r = agent.post(f"/tickets/{t1}/assign", {"strategy": "least_loaded"})
    assert r.json["data"]["assignee"]["id"] == a1["assignee"]["id"]
    assert_error(agent.post(f"/tickets/{t1}/assign", {"assignee_id": str(users.customer.id)}),
                 422)
    assert_error(agent.post(f"/tickets/{t1}/assign", {"strategy": "telepathy"}), 422)


@pytest.mark.all_databases
def test_tags_followers_pins(api, users, make_ticket):
    tid = make_ticket()
    agent = api(users.agent)
    r = agent.post(f"/tickets/{tid}/tags", {"tags": ["VIP", "billing"]})
    assert [t["slug"] for t in r.json["data"]["tags"]] == ["billing", "vip"]
    r = agent.put(f"/tickets/{tid}/tags", {"tags": ["bug"]})
    assert [t["slug"] for t in r.json["data"]["tags"]] == ["bug"]
    assert agent.delete(f"/tickets/{tid}/tags/bug").status_code == 200
    assert_error(agent.delete(f"/tickets/{tid}/tags/bug"), 404)
    assert_error(agent.post(f"/tickets/{tid}/tags", {"tags": "x" * 81}), 422)

    assert agent.post(f"/tickets/{tid}/followers", {}).status_code == 201
    assert agent.post(f"/tickets/{tid}/followers", {}).status_code == 200
    r = agent.post(f"/tickets/{tid}/followers", {"user_id": str(users.agent2.id)})
    assert [f["name"] for f in r.json["data"]] == ["Alex Agent", "Sam Support"]
    assert_error(agent.post(f"/tickets/{tid}/followers", {"user_id": str(users.customer.id)}),
                 422)
    assert agent.delete(f"/tickets/{tid}/followers/{users.agent2.id}").status_code == 204
    assert_error(agent.delete(f"/tickets/{tid}/followers/{users.agent2.id}"), 404)

    note = agent.post(f"/tickets/{tid}/notes", {"body": "pin me"}).json["data"]
    assert agent.post(f"/tickets/{tid}/notes/{note['id']}/pin", {}).json["data"]["is_pinned"]
    assert not agent.delete(f"/tickets/{tid}/notes/{note['id']}/pin").json["data"]["is_pinned"]
    reply = agent.post(f"/tickets/{tid}/replies", {"body": "public"}).json["data"]
    assert_error(agent.post(f"/tickets/{tid}/notes/{reply['id']}/pin", {}), 422)
    assert_error(agent.post(f"/tickets/{tid}/notes/999999/pin", {}), 404)
    assert_error(agent.post(f"/tickets/{tid}/notes/{note['id']}/pin"), 403)


def test_attachments_upload_download_and_privacy(api, users, make_ticket, client_as):
    tid = make_ticket()
    customer = api(users.customer)
    with customer.client.session_transaction() as sess:
        sess["_escalated_csrf"] = "ctok"
    r = customer.client.post(
        f"/support/api/v1/tickets/{tid}/replies",
        data={"body": "see files", "files": [(io.BytesIO(b"\x89PNG\r\n\x1a\n" + b"0" * 64),
                                              "shot.txt"),
                                             (io.BytesIO(b"<html><script>x</script>"),
                                              "../../evil.pdf")]},
        content_type="multipart/form-data", headers={"X-CSRF-Token": "ctok"},
    )
    assert r.status_code == 201, r.json
    files = {f["filename"]: f for f in r.json["data"]["attachments"]}
    assert files["shot.txt"]["content_type"] == "image/png"
    assert files["evil.pdf"]["content_type"] == "text/html"
    evil = customer.get(f"/attachments/{files['evil.pdf']['id']}")
    assert evil.status_code == 200
    assert evil.headers["Content-Type"].startswith("application/octet-stream")
    assert evil.headers["Content-Disposition"].startswith("attachment")
    assert evil.headers["X-Content-Type-Options"] == "nosniff"
    assert "sandbox" in evil.headers["Content-Security-Policy"]
    assert_error(api(users.other).get(f"/attachments/{files['evil.pdf']['id']}"), 404)
    assert_error(api(None).get(f"/attachments/{files['evil.pdf']['id']}"), 401)

    agent = api(users.agent)
    note = agent.client.post(
        f"/support/api/v1/tickets/{tid}/notes",
        data={"body": "internal file", "files": [(io.BytesIO(b"secret"), "secret.txt")]},
        content_type="multipart/form-data", headers={"X-CSRF-Token": "nope"},
    )
    # Cookie-authenticated multipart without a valid CSRF token is refused.
    assert note.status_code == 403
    with agent.client.session_transaction() as sess:
        sess["_escalated_csrf"] = "tok"
    note = agent.client.post(
        f"/support/api/v1/tickets/{tid}/notes",
        data={"body": "internal file", "files": [(io.BytesIO(b"secret"), "secret.txt")]},
        content_type="multipart/form-data", headers={"X-CSRF-Token": "tok"},
    )
    assert note.status_code == 201, note.json
    secret_id = note.json["data"]["attachments"][0]["id"]
    assert_error(customer.get(f"/attachments/{secret_id}"), 404)
    names = [a["filename"] for a in customer.get(f"/tickets/{tid}/attachments").json["data"]]
    assert "secret.txt" not in names
    assert "secret.txt" in [a["filename"]
                            for a in agent.get(f"/tickets/{tid}/attachments").json["data"]]


def test_attachment_limits(make_app):
    app = make_app(ESCALATED_MAX_ATTACHMENTS=1, ESCALATED_MAX_ATTACHMENT_SIZE=10)
    from flask_escalated.events import Actor
    from flask_escalated.services import tickets
    from tests.hosts import intid

    with app.app_context():
        user = intid.make_user("c@example.test", "C")
        intid.db.session.commit()
        with app.extensions["escalated"].unit_of_work():
            t = tickets.create_ticket(tickets.NewTicket(
                subject="s", description="d", requester_user_id=str(user.id)), Actor.system())
        client = app.test_client(user=user)
        with client.session_transaction() as sess:
            sess["_escalated_csrf"] = "tok"
        url = f"/support/api/v1/tickets/{t.id}/attachments"
        big = client.post(url, data={"files": [(io.BytesIO(b"x" * 11), "a.txt")]},
                          headers={"X-CSRF-Token": "tok"}, content_type="multipart/form-data")
        assert_error(big, 413, "payload_too_large")
        two = client.post(url, data={"files": [(io.BytesIO(b"x"), "a.txt"),
                                               (io.BytesIO(b"y"), "b.txt")]},
                          headers={"X-CSRF-Token": "tok"}, content_type="multipart/form-data")
        assert_error(two, 422)
        huge = client.post(url, data={"files": [(io.BytesIO(b"x" * 3_000_000), "a.txt")]},
                           headers={"X-CSRF-Token": "tok"}, content_type="multipart/form-data")
        assert_error(huge, 413)


@pytest.mark.all_databases
def test_activity_timeline_and_delete(api, users, make_ticket, ext):
    tid = make_ticket()
    agent = api(users.agent)
    agent.post(f"/tickets/{tid}/notes", {"body": "n"})
    agent.post(f"/tickets/{tid}/replies", {"body": "r"})
    page = agent.get(f"/tickets/{tid}/activity?limit=2").json
    assert [a["type"] for a in page["data"]] == ["created", "note_added"]
    rest = agent.get(f"/tickets/{tid}/activity?limit=50&cursor={page['next_cursor']}").json
    assert [a["type"] for a in rest["data"]] == ["reply_added", "status_changed"]
    assert rest["next_cursor"] is None
    customer_types = [a["type"] for a in
                      api(users.customer).get(f"/tickets/{tid}/activity").json["data"]]
    assert "note_added" not in customer_types
    assert_error(agent.delete(f"/tickets/{tid}"), 403)
    assert api(users.admin).delete(f"/tickets/{tid}").status_code == 204
    assert_error(agent.get(f"/tickets/{tid}"), 404)
    ext.session.rollback()
    assert ext.session.get(Ticket, tid) is None
