"""The public side: the widget API, guest pages, mailbox proof and CSAT surveys."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from flask_escalated.events import Actor
from flask_escalated.models import Contact, SatisfactionRating, Ticket
from flask_escalated.services import settings, tickets

pytestmark = pytest.mark.all_databases

W = "/support/widget"


def submit(client, origin="http://localhost", **fields):
    """A submission from a page of ``origin`` (by default the helpdesk's own)."""
    body = {"name": "Dana Okafor", "email": "dana@example.org", "subject": "Printer jam",
            "description": "It jams.", **fields}
    return client.post(f"{W}/tickets", json=body, headers={"Origin": origin})


def _csrf(html):
    return re.search(r'name="csrf_token" value="([^"]+)"', html).group(1)


def test_widget_ticket_lifecycle_with_cors(app, ext, users):
    client = app.test_client()
    created = submit(client)
    assert created.status_code == 201, created.json
    token = created.json["token"]
    assert len(token) >= 40 and created.json["data"]["reference"].startswith("ESC-")
    assert created.headers["Access-Control-Allow-Origin"] == "http://localhost"
    ext.session.rollback()
    (t,) = ext.session.execute(select(Ticket)).scalars()
    assert t.channel == "widget" and t.requester_user_id is None
    assert ext.session.get(Contact, t.contact_id).email == "dana@example.org"

    shown = client.get(f"{W}/tickets/{token}")
    assert shown.status_code == 200 and shown.json["data"]["subject"] == "Printer jam"
    assert client.post(f"{W}/tickets/{token}/replies", json={"body": "More info"}).status_code \
        == 201
    assert [r["body"] for r in client.get(f"{W}/tickets/{token}").json["data"]["replies"]] == [
        "More info"]
    # Unknown, truncated and forged tokens all read the same.
    for bad in ("x" * 43, token[:-1] + ("A" if token[-1] != "A" else "B"), "short"):
        r = client.get(f"{W}/tickets/{bad}")
        assert r.status_code == 404
        assert r.json["error"]["message"] == "This link is not valid or has expired."
    preflight = client.options(f"{W}/tickets", headers={
        "Origin": "http://localhost", "Access-Control-Request-Method": "POST"})
    assert preflight.status_code == 200
    assert "POST" in preflight.headers["Access-Control-Allow-Methods"]

    # Rating: only once the ticket is resolved, and only once.
    assert client.post(f"{W}/tickets/{token}/rate", json={"rating": 5}).status_code == 409
    with ext.unit_of_work():
        tickets.change_status(tickets.get_ticket(t.id), "resolved", Actor.agent(users.agent.id))
    assert client.post(f"{W}/tickets/{token}/rate", json={"rating": 9}).status_code == 422
    assert client.post(f"{W}/tickets/{token}/rate",
                       json={"rating": 4, "comment": "Quick!"}).status_code == 201
    assert client.post(f"{W}/tickets/{token}/rate", json={"rating": 1}).status_code == 409
    assert client.get(f"{W}/tickets/{token}").json["data"]["rating"] == {
        "rating": 4, "comment": "Quick!"}


def test_widget_validation_and_origins(make_app, smtp):
    app = make_app(ESCALATED_WIDGET_ORIGINS=["https://shop.example"])
    client = app.test_client()
    bad = submit(client, "https://shop.example", email="not-an-email", subject="")
    assert bad.status_code == 422 and {"subject"} <= set(bad.json["error"]["fields"])
    assert client.post(f"{W}/tickets", data="x", content_type="text/plain").status_code == 422
    ok = submit(client, "https://shop.example")
    assert ok.headers["Access-Control-Allow-Origin"] == "https://shop.example"
    other = client.post(f"{W}/tickets", json={}, headers={"Origin": "https://evil.example"})
    assert other.status_code == 403 and other.json["error"]["code"] == "origin_not_allowed"
    assert "Access-Control-Allow-Origin" not in other.headers
    js = client.get(f"{W}/embed.js")
    assert js.status_code == 200 and js.mimetype == "application/javascript"
    assert "textContent" in js.get_data(True) and "innerHTML" not in js.get_data(True)
    assert client.get(f"{W}/config").json["kb_enabled"] in (True, False)


def test_guest_token_brute_force_hits_the_rate_limit(make_app):
    app = make_app(ESCALATED_WIDGET_RATE_LIMIT="5 per minute")
    client = app.test_client()
    codes = [client.get(f"{W}/tickets/{'g' * 43}{i}").status_code for i in range(7)]
    assert codes[:5] == [404] * 5 and codes[5:] == [429, 429]
    limited = client.get(f"{W}/tickets/{'g' * 44}")
    assert int(limited.headers["Retry-After"]) >= 1
    assert limited.json["error"]["code"] == "rate_limited"
    # The script and the config load on every page of the host site: never limited.
    assert {client.get(f"{W}/embed.js").status_code for _ in range(8)} == {200}


def test_submissions_are_limited_per_email_address(make_app):
    app = make_app(ESCALATED_WIDGET_RATE_LIMIT="3 per minute")
    codes = []
    for i in range(4):  # a different address each time: only the per-e-mail budget binds
        client = app.test_client()
        client.environ_base["REMOTE_ADDR"] = f"10.0.0.{i + 1}"
        codes.append(submit(client).status_code)
    assert codes == [201, 201, 201, 429]


def test_mailbox_proof(app, ext, smtp):
    with ext.unit_of_work():
        settings.update(Actor.system(), {"guest_mailbox_proof": True})
    client = app.test_client()
    assert submit(client).status_code == 422  # no code
    sent = client.post(f"{W}/verify", json={"email": "dana@example.org"})
    assert sent.status_code == 202
    assert smtp.wait_for(lambda: smtp.to("dana@example.org"))
    code = re.search(r"\b(\d{8})\b", smtp.to("dana@example.org")[0]["Subject"]).group(1)
    ident = sent.json["verification_id"]
    wrong = submit(client, verification_id=ident, verification_code="00000000")
    assert wrong.status_code == 422 and "verification_code" in wrong.json["error"]["fields"]
    other = submit(client, email="eve@example.org", verification_id=ident,
                   verification_code=code)
    assert other.status_code == 422  # a code proves one mailbox only
    assert submit(client, verification_id=ident, verification_code=code).status_code == 201
    assert submit(client, verification_id=ident, verification_code=code).status_code == 422
    # Five tries per code.
    again = client.post(f"{W}/verify", json={"email": "dana@example.org"}).json["verification_id"]
    for _ in range(5):
        submit(client, verification_id=again, verification_code="11111111")
    # The ticket's confirmation may arrive in between: read the codes only.
    def codes():
        return [m.group(1) for msg in smtp.to("dana@example.org")
                if (m := re.search(r"\b(\d{8})\b", msg["Subject"]))]

    assert smtp.wait_for(lambda: len(codes()) >= 2)
    latest = codes()[-1]
    assert submit(client, verification_id=again, verification_code=latest).status_code == 422


def test_guest_page_and_survey_from_the_mail(app, ext, users, smtp):
    client = app.test_client()
    created = submit(client)
    token = created.json["token"]
    assert smtp.wait_for(lambda: smtp.to("dana@example.org"))
    confirmation = smtp.to("dana@example.org")[0].get_body(("plain",)).get_content()
    link = re.search(r"https://help\.example\.test(/support/guest/\S+)", confirmation).group(1)
    page = client.get(link)
    assert page.status_code == 200 and "Printer jam" in page.get_data(True)
    sent = client.post(f"/support/guest/{token}/reply",
                       data={"body": "From the page", "csrf_token": _csrf(page.get_data(True))})
    assert sent.status_code == 302
    assert "From the page" in client.get(f"/support/guest/{token}").get_data(True)
    assert client.post(f"/support/guest/{token}/reply", data={"body": "x"}).status_code == 400

    ticket_id = ext.session.execute(select(Ticket.id)).scalar_one()
    with ext.unit_of_work():
        tickets.change_status(tickets.get_ticket(ticket_id), "resolved",
                              Actor.agent(users.agent.id))

    def survey_mail():
        return [m for m in smtp.to("dana@example.org") if "How did we do" in m["Subject"]]

    assert smtp.wait_for(survey_mail)
    text = survey_mail()[0].get_body(("plain",)).get_content()
    path = re.search(r"https://help\.example\.test(/support/rate/\S+)", text).group(1)
    form = client.get(path + "?rating=5")
    assert form.status_code == 200 and 'value="5" checked' in form.get_data(True)
    csrf = _csrf(form.get_data(True))
    assert client.post(path, data={"rating": "7", "csrf_token": csrf}).status_code == 422
    done = client.post(path, data={"rating": "5", "comment": "Great", "csrf_token": csrf})
    assert done.status_code == 200 and "Thank you" in done.get_data(True)
    assert client.post(path, data={"rating": "1", "csrf_token": csrf}).status_code == 404
    ext.session.rollback()
    (rating,) = ext.session.execute(select(SatisfactionRating)).scalars()
    assert (rating.rating, rating.comment, rating.token_hash) == (5, "Great", None)


@pytest.mark.parametrize("path", ["/support/guest/nope", "/support/rate/nope"])
def test_bad_links_are_a_readable_404(app, path):
    r = app.test_client().get(path)
    assert r.status_code == 404 and "not valid" in r.get_data(True)


def test_signing_up_takes_over_the_contact_and_its_tickets(app, ext, users, api):
    from tests.hosts import intid

    client = app.test_client()
    first = submit(client, email="newbie@example.org").json["data"]["reference"]
    submit(client, email="newbie@example.org", subject="Second")
    newbie = intid.make_user("newbie@example.org", "New Bie")
    intid.db.session.commit()
    assert api(newbie).get("/tickets").json["data"] == []
    assert ext.link_contact(newbie) == 2
    refs = {t["reference"] for t in api(newbie).get("/tickets").json["data"]}
    assert first in refs and len(refs) == 2


def test_ratings_show_on_the_ticket_and_in_the_report(app, ext, users, api):
    client = app.test_client()
    created = submit(client)
    ext.session.rollback()
    ticket_id = ext.session.execute(select(Ticket.id)).scalar_one()
    with ext.unit_of_work():
        t = tickets.get_ticket(ticket_id)
        from flask_escalated.services import assignment

        assignment.assign(t, str(users.agent.id), Actor.agent(users.admin.id))
        tickets.change_status(t, "resolved", Actor.agent(users.agent.id))
    client.post(f"{W}/tickets/{created.json['token']}/rate", json={"rating": 3})
    agent = api(users.agent)
    assert agent.get(f"/tickets/{ticket_id}").json["data"]["satisfaction"]["rating"] == 3
    admin = api(users.admin)
    report = admin.get("/reports/csat").json["data"]
    assert report["average"] == 3.0 and report["total"] == 1
    assert report["distribution"]["3"] == 1 and report["response_rate"] == 1.0
    assert report["by_agent"] == [{"agent_id": str(users.agent.id), "average": 3.0, "count": 1}]
    assert admin.get("/reports/csat?since=yesterday").json["error"]["code"] == "unknown_field"
    assert admin.get("/reports/csat?from=yesterday").status_code == 422
