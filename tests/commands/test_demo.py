"""The demo host app: seeded accounts, sign-in, a customer's ticket answered by an agent."""

from __future__ import annotations

import re

import pytest

pytestmark = pytest.mark.all_databases


def csrf(html: str) -> str:
    return re.search(r'name="csrf_token" value="([^"]+)"', html).group(1)


@pytest.fixture
def demo(backend, test_databases, tmp_path, monkeypatch):
    from examples.demo import app as demo_module

    url = test_databases.fresh(backend, "demo")
    monkeypatch.setenv("DEMO_INSTANCE_PATH", str(tmp_path / "instance"))
    app = demo_module.create_app({"SQLALCHEMY_DATABASE_URI": url, "TESTING": True,
                                  "ESCALATED_ATTACHMENT_STORAGE": str(tmp_path / "files")})
    yield app
    with app.app_context():
        app.extensions["sqlalchemy"].engine.dispose()


def sign_in(client, email, password="demo"):
    token = csrf(client.get("/login").get_data(as_text=True))
    return client.post("/login", data={"email": email, "password": password,
                                       "csrf_token": token})


def test_demo_end_to_end(demo):
    customer, agent = demo.test_client(), demo.test_client()
    assert "customer@demo.test" in customer.get("/").get_data(as_text=True)
    bad = sign_in(customer, "customer@demo.test", "wrong")
    assert bad.status_code == 401 and "Wrong e-mail or password" in bad.get_data(as_text=True)
    token = csrf(customer.get("/login").get_data(as_text=True))
    r = customer.post("/login?next=//evil.example/x", data={
        "email": "customer@demo.test", "password": "demo", "csrf_token": token})
    assert r.status_code == 302 and r.headers["Location"] == "/"

    page = customer.get("/support/tickets/new")
    assert page.status_code == 200
    r = customer.post("/support/tickets/new", data={
        "subject": "My printer is on fire", "description": "Please help",
        "priority": "high", "csrf_token": csrf(page.get_data(as_text=True))})
    assert r.status_code == 302
    ref = r.headers["Location"].rsplit("/", 1)[-1]

    assert sign_in(agent, "agent@demo.test").status_code == 302
    listing = agent.get("/support/api/v1/tickets?limit=100").get_json()["data"]
    assert ref in [t["reference"] for t in listing]
    r = agent.post(f"/support/api/v1/tickets/{ref}/replies", json={"body": "On our way!"})
    assert r.status_code == 201

    html = customer.get(f"/support/tickets/{ref}").get_data(as_text=True)
    assert "On our way!" in html and "waiting on customer" in html


def test_demo_seeds_every_status(demo):
    from sqlalchemy import select

    from flask_escalated.domain import STATUS_CATEGORIES
    from flask_escalated.models import Ticket

    with demo.app_context():
        seen = set(demo.extensions["escalated"].session.execute(
            select(Ticket.status)).scalars())
    assert set(STATUS_CATEGORIES) <= seen
