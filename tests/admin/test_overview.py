"""The console's overview: links to every section, and the desk's health counted by grouped
queries (open, snoozed and breached tickets, failing webhooks, undelivered mail, stuck jobs)."""

from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone

import pytest

from flask_escalated.events import Actor
from flask_escalated.models import OutboundEmail, Ticket, Webhook, WebhookDelivery
from flask_escalated.services import agents, health, roles, tickets
from flask_escalated.web.admin import NAV

pytestmark = pytest.mark.all_databases

REDIS_URL = "redis://127.0.0.1:6379/11"


def figure(html: str, key: str) -> int:
    match = re.search(rf'id="health-{key}".*?data-value="(\d+)"', html, re.S)
    assert match, f"no {key} figure on the page"
    return int(match.group(1))


def figure_html(html: str, key: str) -> str:
    match = re.search(rf'(<div class="esc-figure[^"]*" id="health-{key}">.*?)</div>', html, re.S)
    assert match, f"no {key} figure on the page"
    return match.group(1)


def _tickets(ext, users, n: int) -> list[int]:
    ids = []
    for i in range(n):
        with ext.unit_of_work():
            ids.append(tickets.create_ticket(tickets.NewTicket(
                subject=f"t{i}", description="d", requester_user_id=str(users.customer.id)),
                Actor.customer(users.customer.id)).id)
    return ids


def _desk(ext, users, at: datetime, scale: int = 1) -> None:
    """Rows in every state the overview tells apart (``scale`` copies of each)."""
    ids = _tickets(ext, users, 5 * scale)
    rows = {t.id: t for t in ext.session.query(Ticket).filter(Ticket.id.in_(ids))}
    for n, tid in enumerate(ids):
        t, kind = rows[tid], n % 5
        if kind == 1:
            t.status, t.status_category = "resolved", "resolved"
            t.first_response_due_at = at - timedelta(hours=1)  # resolved: not counted
        elif kind == 2:
            t.snoozed_until = at + timedelta(hours=2)
        elif kind == 3:
            t.first_response_due_at = at - timedelta(minutes=1)  # breached
        elif kind == 4:
            t.resolution_due_at = at + timedelta(hours=1)  # running, not yet due
    # The endpoints listen for an event nothing sends, so no delivery runs during the test.
    for i in range(scale):
        hook = {"secret": "s", "events": ["none.fired"]}
        good = Webhook(url=f"https://ok{i}.example/h", failure_count=0, **hook)
        bad = Webhook(url=f"https://bad{i}.example/h", failure_count=3, **hook)
        off = Webhook(url=f"https://off{i}.example/h", failure_count=9, is_active=False, **hook)
        ext.session.add_all([good, bad, off])
        ext.session.flush()
        for n, (status, age) in enumerate([("failed", 0), ("failed", 2), ("dead", 1),
                                           ("dead", 30), ("delivered", 0), ("pending", 0)]):
            ext.session.add(WebhookDelivery(
                uid=f"{i}-{n}-{bad.id}", webhook_id=bad.id, event="ticket.created", body="{}",
                status=status, attempts=1, created_at=at - timedelta(days=age)))
        for n, (status, due, age) in enumerate([
                ("failed", 0, 0), ("dead", 0, 1), ("dead", 0, 30), ("sent", 0, 0),
                ("pending", 60, 0), ("pending", 1, 0)]):
            ext.session.add(OutboundEmail(
                kind="assigned", to_email=f"x{i}{n}@example.org", subject="s", text_body="t",
                html_body="h", headers={}, message_id=f"<m{i}{n}@x>", status=status,
                attempts=1, next_attempt_at=at - timedelta(minutes=due),
                created_at=at - timedelta(days=age)))
    ext.session.commit()


def test_the_overview_links_every_section_the_admin_may_open(admin, app):
    html = admin.get("")
    sections = [item for item in NAV if item.permission]
    assert len(sections) >= 3
    with app.test_request_context():
        from flask import url_for

        for item in sections:
            assert f'href="{url_for(item.endpoint)}"' in html, item.label


def test_health_figures_count_each_state_and_link_where_to_act(admin, ext, users, clock):
    at = clock()
    _desk(ext, users, at)
    html = admin.get("")
    # five tickets: one resolved, four open (one snoozed, one past its first-response time)
    assert figure(html, "open") == 4
    assert "1 snoozed" in figure_html(html, "open")
    assert 'href="/support/agent/tickets?status=snoozed"' in figure_html(html, "open")
    assert figure(html, "breached") == 1
    assert 'href="/support/agent/tickets?sla=breached"' in figure_html(html, "breached")
    assert "esc-bad" in re.search(r'<div class="([^"]*)" id="health-breached"', html).group(1)
    # one active endpoint failing (the inactive one is not counted); two deliveries waiting
    # for a retry; one given up on this week (the month-old one is not counted)
    assert figure(html, "webhooks") == 1
    assert "2 deliveries waiting for a retry; 1 given up on" in figure_html(html, "webhooks")
    # mail: failed + dead this week + pending long past its time
    assert figure(html, "mail") == 3
    assert "1 failed and waiting for a retry; 1 given up on in the last 7 days; 1 due but " \
           "not sent yet" in figure_html(html, "mail")
    assert "Outbound mail is off" in figure_html(html, "mail")  # the test app sends none
    assert "Jobs run inline" in figure_html(html, "jobs")


def test_the_agent_queue_finds_what_the_figures_count(admin, ext, users, clock, client_as):
    """The links are the agent queue's own filters: the same tickets behind each number."""
    at = clock()
    _desk(ext, users, at)
    queue = client_as(users.admin).get("/support/agent/tickets?sla=breached").get_data(True)
    shown = {t.reference for t in ext.session.query(Ticket) if t.reference in queue}
    breached = {t.reference for t in ext.session.query(Ticket).filter(
        Ticket.first_response_due_at <= at, Ticket.status_category != "resolved")}
    assert len(breached) == 1 and shown == breached


def test_each_figure_is_one_query_whatever_the_rows(app, ext, users, clock, count_queries,
                                                    admin):
    at = clock()
    _desk(ext, users, at)
    with count_queries() as small:
        first = health.desk_health(at=at)
    assert small.count == 3, small.statements  # tickets, webhooks, mail; jobs run inline
    admin.get("")
    with count_queries() as page_small:
        admin.get("")
    _desk(ext, users, at, scale=3)
    with count_queries() as big:
        second = health.desk_health(at=at)
    assert big.count == 3
    assert second.tickets.open == first.tickets.open + 12
    assert second.mail.dead == first.mail.dead + 3
    with count_queries() as page_big:
        admin.get("")
    # the signed-in user and agent profile, the settings, and the three figures
    assert page_big.count == page_small.count == 6


def test_a_console_user_sees_only_the_figures_their_permissions_cover(console, ext, users):
    with ext.unit_of_work():
        roles.create_role(Actor.system(), {"slug": "kb-editor", "name": "KB editor",
                                           "permissions": ["kb.view", "kb.create", "kb.edit"]})
        roles.create_role(Actor.system(), {"slug": "hooks", "name": "Hooks",
                                           "permissions": ["webhook.view", "webhook.manage"]})
        agents.make_agent(str(users.agent.id), Actor.system(), role="kb-editor")
        agents.make_agent(str(users.agent2.id), Actor.system(), role="hooks")
    html = console(users.agent).get("")
    assert 'id="health-' not in html and "The desk now" not in html
    html = console(users.agent2).get("")
    assert 'id="health-webhooks"' in html
    assert 'id="health-open"' not in html and 'id="health-mail"' not in html


def test_agents_and_anonymous_visitors_are_kept_out(console, users, client_as):
    console(users.agent).get("", status=403)
    r = client_as(None).get("/support/admin")
    assert r.status_code in (302, 401)


@pytest.mark.xdist_group("redis")  # Redis db 11
def test_stuck_and_failed_jobs_are_counted_from_the_queues(make_app, users_for):
    from redis import Redis
    from rq import Queue, SimpleWorker

    conn = Redis.from_url(REDIS_URL)
    conn.flushdb()
    try:
        app = make_app(ESCALATED_REDIS_URL=REDIS_URL)
        people = users_for(app)
        mail_queue = Queue("escalated-mail", connection=conn)
        old = mail_queue.enqueue("builtins.print", "old")
        old.enqueued_at = datetime.now(timezone.utc) - timedelta(hours=1)
        old.save()
        mail_queue.enqueue("builtins.print", "new")
        failing = Queue("escalated", connection=conn)
        failing.enqueue("builtins.int", "not a number")
        SimpleWorker([failing], connection=conn).work(burst=True)
        assert failing.failed_job_registry.count == 1

        with app.app_context():
            jobs = health.job_health()
        assert not jobs.inline and jobs.error is None
        by_name = {q.name: q for q in jobs.queues}
        assert (by_name["escalated-mail"].queued, by_name["escalated-mail"].stuck) == (2, 1)
        assert by_name["escalated"].failed == 1 and jobs.workers == 0

        html = app.test_client(user=people.admin).get("/support/admin").get_data(True)
        assert figure(html, "jobs") == 2  # one failed, one queued for an hour
        assert "flask escalated worker" in figure_html(html, "jobs")
    finally:
        conn.flushdb()
        conn.close()


def test_an_unreachable_queue_is_said_not_a_500(make_app, users_for):
    app = make_app(ESCALATED_REDIS_URL="redis://127.0.0.1:1/0")
    people = users_for(app)
    r = app.test_client(user=people.admin).get("/support/admin")
    assert r.status_code == 200
    assert "The job queue cannot be reached" in r.get_data(True)
