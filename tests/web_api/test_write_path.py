"""The write path's statement budget, and the process caches it relies on.

A ticket through the service costs at most six statements (the requester, the ticket, its tags,
its activity row, its reference, its search document), seven with a webhook subscribed (the
outbox row); through the API at most nine (plus the token, the host user and the generation
stamp; the response is built from what was written). Each test also checks that what was
skipped was not lost: SLA, activity, search, outbox, signals, and the response itself.

The caches are invalidated by a generation stamp: an admin change made in this process or in
another one is seen by the next request.
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from flask_escalated import events
from flask_escalated.events import Actor
from flask_escalated.models import Activity, Ticket, WebhookDelivery
from flask_escalated.models.search import TicketSearchDocument
from flask_escalated.services import (
    departments,
    replies,
    sla_admin,
    statuses,
    tickets,
)
from tests.hosts import intid

ROOT = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.all_databases  # the budgets hold on every database


@pytest.fixture(autouse=True)
def process_cache(app: Any) -> None:
    app.config["ESCALATED_PROCESS_CACHE"] = True


@pytest.fixture
def desk(ext: Any) -> dict[str, Any]:
    """A department, two tags and an SLA policy for high-priority tickets."""
    from flask_escalated.services import tags

    with ext.unit_of_work():
        tags.ensure_tags(["billing", "vip"])
        dept = departments.create_department(Actor.system(), {"name": "Billing"})
        policy = sla_admin.create_policy(Actor.system(), {
            "name": "High", "conditions": {"priorities": ["high"]},
            "targets": {"high": {"first_response": 60, "resolution": 480}}})
    return {"department_id": dept.id, "policy_id": policy.id}


def _new(desk: dict[str, Any], n: int, **extra: Any) -> tickets.NewTicket:
    data: dict[str, Any] = {
        "subject": f"Invoice export {n} is empty", "description": "The file has no rows.",
        "priority": "high", "department_id": desk["department_id"], "tags": ["billing", "vip"],
        "requester_email": "pat@example.test", "requester_name": "Pat", **extra}
    return tickets.NewTicket(**data)


def _create(ext: Any, new: tickets.NewTicket, actor: Actor) -> Ticket:
    with ext.unit_of_work():
        return tickets.create_ticket(new, actor)


def _listing(q: Any) -> str:
    return "\n".join(s[:150].replace("\n", " ") for s in q.statements)


def _document(ext: Any, ticket_id: int) -> tuple[str, str]:
    """The ticket's search document: its title and public text."""
    doc = TicketSearchDocument.__table__
    row = ext.session.execute(select(doc.c.title_text, doc.c.public_text)
                              .where(doc.c.ticket_id == ticket_id)).one()
    return row[0], row[1]


def test_a_ticket_through_the_service_takes_six_statements(app, users, ext, desk, count_queries,
                                                           signal_log):
    agent = Actor.agent(users.agent.id)
    _create(ext, _new(desk, 0), agent)  # the caches fill, the contact exists
    with count_queries() as q:
        ticket = _create(ext, _new(desk, 1), agent)
    assert q.count <= 6, _listing(q)

    customer_id, customer_email = str(users.customer.id), users.customer.email
    with count_queries() as q:  # a host user as requester: the search document names them
        by_user = _create(ext, _new(desk, 2, requester_email=None,
                                    requester_user_id=customer_id), agent)
    assert q.count <= 6, _listing(q)

    ext.session.expire_all()
    stored = ext.session.get(Ticket, ticket.id)
    assert stored.reference == f"ESC-{ticket.id:05d}"
    assert sorted(t.slug for t in stored.tags) == ["billing", "vip"]
    assert stored.sla_policy_id == desk["policy_id"] and stored.first_response_due_at is not None
    assert stored.contact.email == "pat@example.test"
    kinds = ext.session.execute(select(Activity.type).where(Activity.ticket_id == ticket.id))
    assert list(kinds.scalars()) == ["created"]
    assert _document(ext, ticket.id) == (
        f"Invoice export 1 is empty\n{stored.reference}",
        "The file has no rows.\nPat\npat@example.test")
    assert customer_email in _document(ext, by_user.id)[1]
    assert [r.name for r in signal_log].count("ticket_created") == 3


def test_a_subscribed_webhook_adds_only_its_outbox_row(app, users, ext, desk, count_queries):
    from flask_escalated.models import Webhook

    with ext.unit_of_work():  # the model directly: the service checks that the host resolves
        hook = Webhook(url="http://127.0.0.1:9/hook", secret="s" * 32,
                       events=["ticket.created"], is_active=True, failure_count=0)
        ext.session.add(hook)
    agent = Actor.agent(users.agent.id)
    _create(ext, _new(desk, 0), agent)
    ext.wait_for_background(app=app)  # the first delivery's attempt is not ours to count
    with count_queries() as q:  # up to the commit: the delivery itself runs afterwards
        ticket = tickets.create_ticket(_new(desk, 1), agent)
        ext.session.commit()
    events.dispatch(app, ext.session)
    ext.wait_for_background(app=app)
    assert q.count <= 7, _listing(q)
    bodies = ext.session.execute(select(WebhookDelivery.body).where(
        WebhookDelivery.webhook_id == hook.id)).scalars().all()
    assert len(bodies) == 2 and f'"reference":"{ticket.reference}"' in bodies[1]


def test_a_ticket_through_the_api_takes_nine_statements(app, users, ext, desk, bearer,
                                                        count_queries):
    headers = bearer(users.agent)
    client = app.test_client()
    body = {"subject": "Export is empty", "description": "No rows.", "priority": "high",
            "department_id": desk["department_id"], "tags": ["billing"],
            "requester_email": "pat@example.test"}
    assert client.post("/support/api/v1/tickets", json=body, headers=headers).status_code == 201
    with count_queries() as q:
        created = client.post("/support/api/v1/tickets", json=body, headers=headers)
    assert created.status_code == 201
    assert q.count <= 9, _listing(q)

    data = created.get_json()["data"]
    shown = client.get(f"/support/api/v1/tickets/{data['reference']}", headers=headers)
    assert data == shown.get_json()["data"]  # the response needed no read-back to be right
    assert data["sla"] and data["tags"][0]["slug"] == "billing"
    assert data["requester"]["email"] == "pat@example.test"
    assert data["followers"] == [] and data["links"] == [] and data["satisfaction"] is None


def test_a_reply_reads_the_ticket_once(app, users, ext, desk, bearer, count_queries):
    agent = Actor.agent(users.agent.id)
    first = _create(ext, _new(desk, 0), agent)
    ticket_id = _create(ext, _new(desk, 1), agent).id
    with ext.unit_of_work():
        replies.add_reply(tickets.get_ticket(first.id), "Warming up.", agent)
    with count_queries() as q, ext.unit_of_work():
        replies.add_reply(tickets.get_ticket(ticket_id), "We are on it.", agent)
    # The automatic status move adds its UPDATE and activity row. The search document is
    # rewritten from the ticket in memory and its replies: one read and one upsert.
    assert q.count <= 9, _listing(q)

    client, headers = app.test_client(), bearer(users.agent)
    client.post(f"/support/api/v1/tickets/{first.id}/replies", json={"body": "Warming up."},
                headers=headers)
    with count_queries() as q:
        posted = client.post(f"/support/api/v1/tickets/{ticket_id}/replies",
                             json={"body": "Fixed on our side."}, headers=headers)
    assert posted.status_code == 201 and posted.get_json()["data"]["body"] == "Fixed on our side."
    assert q.count <= 12, _listing(q)
    ext.session.rollback()  # a new snapshot (MariaDB's REPEATABLE READ) to see the request's
    assert ext.session.get(Ticket, ticket_id).reply_count == 2
    assert _document(ext, ticket_id)[1].endswith("We are on it.\nFixed on our side.\nPat\n"
                                                 "pat@example.test")


# ---------------------------------------------------------------------------- invalidation
def test_an_admin_change_is_seen_by_the_next_request_in_this_process(app, users, ext, desk,
                                                                     bearer, api):
    headers = bearer(users.agent)
    client = app.test_client()
    body = {"subject": "Urgent", "description": "Down.", "priority": "urgent",
            "requester_email": "pat@example.test"}
    first = client.post("/support/api/v1/tickets", json=body, headers=headers).get_json()
    assert first["data"]["sla"] == []  # the only policy is for high priority: cached now

    admin = api(users.admin)
    assert admin.post("/sla-policies", {
        "name": "Urgent", "conditions": {"priorities": ["urgent"]},
        "targets": {"urgent": {"first_response": 15}}}).status_code == 201
    assert admin.post("/statuses", {"slug": "on_hold", "label": "On hold",
                                    "category": "waiting_on_agent"}).status_code == 201

    second = client.post("/support/api/v1/tickets", json=body, headers=headers).get_json()
    assert [s["target"] for s in second["data"]["sla"]] == ["first_response"]
    assert "on_hold" in second["data"]["allowed_statuses"]
    moved = client.post(f"/support/api/v1/tickets/{second['data']['id']}/status",
                        json={"status": "on_hold"}, headers=headers)
    assert moved.status_code == 200


def _in_another_process(url: str, storage: str, code: str) -> None:
    script = textwrap.dedent("""
        import sys
        from flask_escalated.events import Actor
        from tests.hosts import intid

        app = intid.create_app({"SQLALCHEMY_DATABASE_URI": sys.argv[1],
                                "ESCALATED_ATTACHMENT_STORAGE": sys.argv[2]})
        with app.app_context():
            ext = app.extensions["escalated"]
            with ext.unit_of_work():
    """) + textwrap.indent(textwrap.dedent(code), " " * 8)
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(
        p for p in (str(ROOT), os.environ.get("PYTHONPATH")) if p)}
    done = subprocess.run([sys.executable, "-c", script, url, storage], env=env, cwd=ROOT,
                          capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 0, done.stderr[-3000:]


def test_an_admin_change_in_another_process_is_seen_by_the_next_request(
        app, users, ext, desk, bearer, tmp_path):
    headers = bearer(users.agent)
    client = app.test_client()
    body = {"subject": "Urgent", "description": "Down.", "priority": "urgent",
            "requester_email": "pat@example.test", "department_id": desk["department_id"]}
    before = client.post("/support/api/v1/tickets", json=body, headers=headers).get_json()
    assert before["data"]["sla"] == []

    ext.session.rollback()  # no transaction of ours holds the SQLite file
    url = str(intid.db.engine.url.render_as_string(hide_password=False))
    _in_another_process(url, str(tmp_path / "other"), f"""
        from flask_escalated.services import departments, sla_admin, statuses
        sla_admin.create_policy(Actor.system(), {{
            "name": "Urgent", "conditions": {{"priorities": ["urgent"]}},
            "targets": {{"urgent": {{"first_response": 15}}}}}})
        statuses.create_status(Actor.system(), slug="on_hold", label="On hold",
                               category="waiting_on_agent")
        departments.update_department(Actor.system(), {desk["department_id"]},
                                      {{"is_active": False}})
    """)

    after = client.post("/support/api/v1/tickets", json=body, headers=headers)
    assert after.status_code == 422  # the department was closed over there
    assert after.get_json()["error"]["fields"]["department_id"] == "no such department"
    body.pop("department_id")
    after = client.post("/support/api/v1/tickets", json=body, headers=headers).get_json()
    assert [s["target"] for s in after["data"]["sla"]] == ["first_response"]
    assert "on_hold" in after["data"]["allowed_statuses"]
    assert any(s.slug == "on_hold" for s in statuses.all_statuses())


def test_bookkeeping_writes_leave_the_stamp_alone(app, users, ext, desk):
    from flask_escalated.models import Setting
    from flask_escalated.services import cache

    def stamp() -> Any:
        return ext.session.execute(select(Setting.value).where(
            Setting.key == cache.STAMP_KEY)).scalar_one_or_none()

    before = stamp()
    _create(ext, _new(desk, 0, tags=["brand-new-tag"]), Actor.agent(users.agent.id))
    assert stamp() == before  # a new tag, a new contact: nothing cached went stale
    with ext.unit_of_work():
        departments.update_department(Actor.system(), desk["department_id"], {"name": "Bills"})
    assert stamp() != before
    assert ext.session.execute(select(func.count()).select_from(Ticket)).scalar_one() == 1
