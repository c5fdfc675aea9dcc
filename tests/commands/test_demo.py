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


def test_the_demo_home_page_carries_a_working_widget(demo):
    """The demo serves the widget from its own origin, which needs no listing; other sites
    are refused until WIDGET_ORIGINS names them."""
    visitor = demo.test_client()
    home = visitor.get("/").get_data(as_text=True)
    assert '<script src="/support/widget/embed.js" async></script>' in home
    assert visitor.get("/support/widget/embed.js").status_code == 200
    same_site = {"Origin": "http://localhost"}
    assert visitor.get("/support/widget/config", headers=same_site).status_code == 200
    body = {"name": "Visitor", "email": "visitor@example.org", "subject": "Where is my order?",
            "description": "Order 1234 has not arrived."}
    created = visitor.post("/support/widget/tickets", json=body, headers=same_site)
    assert created.status_code == 201, created.json
    token = created.json["token"]
    assert visitor.get(f"/support/widget/tickets/{token}").json["data"]["subject"] \
        == "Where is my order?"
    elsewhere = visitor.post("/support/widget/tickets", json=body,
                             headers={"Origin": "https://elsewhere.example"})
    assert elsewhere.status_code == 403


def test_the_demo_lists_other_sites_from_the_environment(backend, test_databases, tmp_path,
                                                         monkeypatch):
    from examples.demo import app as demo_module

    monkeypatch.setenv("DEMO_INSTANCE_PATH", str(tmp_path / "instance"))
    monkeypatch.setenv("WIDGET_ORIGINS", "https://shop.example http://localhost:8080")
    app = demo_module.create_app({
        "SQLALCHEMY_DATABASE_URI": test_databases.fresh(backend, "demo"), "TESTING": True,
        "DEMO_SEED": False, "ESCALATED_ATTACHMENT_STORAGE": str(tmp_path / "files")})
    try:
        assert app.config["ESCALATED_WIDGET_ORIGINS"] == ["https://shop.example",
                                                          "http://localhost:8080"]
        r = app.test_client().get("/support/widget/config",
                                  headers={"Origin": "https://shop.example"})
        assert r.headers["Access-Control-Allow-Origin"] == "https://shop.example"
    finally:
        with app.app_context():
            app.extensions["sqlalchemy"].engine.dispose()


def test_demo_history_spreads_over_the_tickets_lives(demo):
    """Seeded through the services with the clock moved: tickets were opened over two weeks,
    each later step (reply, status change, note) happened later, and updated_at says when the
    ticket last changed, so the queue's "updated" order and times read naturally."""
    from datetime import timedelta

    from sqlalchemy import select

    from flask_escalated.clock import now
    from flask_escalated.models import Activity, Reply, Ticket
    from flask_escalated.services.demo import SUBJECTS
    from flask_escalated.web.html import relative_time

    with demo.app_context():
        db = demo.extensions["escalated"].session
        # (on SQLite the demo's file outlives one test: leave out other tests' tickets)
        rows = list(db.execute(select(Ticket).where(Ticket.subject.in_([s for s, _ in SUBJECTS]))
                               .order_by(Ticket.created_at)).scalars())
        replies = list(db.execute(select(Reply).order_by(Reply.id)).scalars())
        activity = list(db.execute(select(Activity).order_by(Activity.id)).scalars())
        current = now()
    updated = [t.updated_at for t in rows]
    assert len(set(updated)) == len(rows)
    assert max(updated) - min(updated) > timedelta(days=7)
    assert max(updated) <= current
    just_now = [t.reference for t in rows if relative_time(t.updated_at, current) == "just now"]
    assert len(just_now) <= 1, just_now
    # The newest arrivals are the untriaged ones; closed tickets are among the oldest.
    assert rows[-1].status == "open" and rows[-1].assignee_id is None
    assert rows[0].status == "closed"
    by_ticket = {t.id: t for t in rows}
    replies = [r for r in replies if r.ticket_id in by_ticket]
    activity = [a for a in activity if a.ticket_id in by_ticket]
    for r in replies:
        assert by_ticket[r.ticket_id].created_at < r.created_at <= current
    for a in activity:
        assert by_ticket[a.ticket_id].created_at <= a.created_at <= current
    for t in rows:
        times = [r.created_at for r in replies if r.ticket_id == t.id]
        assert times == sorted(times) and len(set(times)) == len(times), t.reference
        if t.status not in ("open", "in_progress"):
            assert t.updated_at - t.created_at > timedelta(minutes=30), t.reference
            # its last change is the ticket's last public event
            last = max(a.created_at for a in activity if a.ticket_id == t.id)
            assert last >= t.updated_at


def test_python_m_examples_demo_runs_flask_commands(tmp_path):
    """``python -m examples.demo <command>`` is the flask command line with the demo as app."""
    import subprocess
    import sys

    from tests.demo_process import ROOT, demo_env

    env = demo_env(tmp_path)
    out = subprocess.run([sys.executable, "-m", "examples.demo", "escalated", "--help"],
                         cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert "Usage: python -m examples.demo escalated" in out.stdout and "make-admin" in out.stdout
    out = subprocess.run([sys.executable, "-m", "examples.demo", "escalated", "make-admin",
                          "agent2@demo.test"], cwd=ROOT, env=env, capture_output=True,
                         text=True, timeout=120)
    assert out.returncode == 0 and "is now an admin" in out.stdout, out.stderr
    out = subprocess.run([sys.executable, "-m", "examples.demo", "--help"], cwd=ROOT, env=env,
                         capture_output=True, text=True, timeout=60)
    assert out.returncode == 0 and "--port" in out.stdout


def test_the_served_demo_prints_one_line_not_werkzeugs_warning(tmp_path):
    """Serving (live updates on) answers, and the log has the demo's own line instead of
    werkzeug's production-deployment warning."""
    import urllib.request

    from tests.demo_process import demo_env, start_demo

    server = start_demo(demo_env(tmp_path, ESCALATED_ENABLE_REALTIME="1"), tmp_path / "log")
    try:
        with urllib.request.urlopen(server.url + "/support/socket.io/?EIO=4&transport=polling",
                                    timeout=10) as r:
            assert r.status == 200 and r.read().startswith(b"0{")
    finally:
        server.stop()
    log = (tmp_path / "log").read_text()
    assert "WARNING" not in log and "production deployment" not in log, log
    first = log.splitlines()[0]
    assert first.startswith("Serving the demo on http://127.0.0.1:")
    assert "live updates on" in first and "not for production" in first


def test_a_sqlite_web_process_leaves_unused_libraries_unloaded(tmp_path):
    """The demo's web process, on a migrated SQLite database, serving pages and the API,
    carries no migration tool, queue, Socket.IO, QR-code or file-type library, nor another
    database's dialect (together about 40 MB of a process that should stay under 100)."""
    import json
    import subprocess
    import sys

    from tests.demo_process import ROOT, demo_env

    env = demo_env(tmp_path)
    prepared = subprocess.run([sys.executable, "-m", "examples.demo", "escalated", "status"],
                              cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
    assert prepared.returncode == 0, prepared.stderr
    script = """
import json, sys
from examples.demo.app import create_app
app = create_app()
client = app.test_client()
for path in ("/", "/login", "/support/kb", "/support/readyz", "/support/api/v1/tickets"):
    client.get(path)
heavy = ("alembic", "socketio", "engineio", "rq", "redis", "qrcode", "filetype",
         "sqlalchemy.dialects.postgresql", "sqlalchemy.dialects.mysql")
print(json.dumps(sorted(name for name in heavy if name in sys.modules)))
"""
    out = subprocess.run([sys.executable, "-c", script], cwd=ROOT, env=env,
                         capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert json.loads(out.stdout.splitlines()[-1]) == []
