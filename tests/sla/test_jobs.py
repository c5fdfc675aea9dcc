"""The periodic jobs on a real Redis with a real RQ worker, the lock, and inline mode."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from datetime import timedelta

import pytest
from redis import Redis
from rq import Queue
from sqlalchemy import func, select

from flask_escalated.events import Actor
from flask_escalated.jobs import SCHEDULE, tasks
from flask_escalated.jobs.schedule import InlineScheduler, Periodic, active_schedule
from flask_escalated.jobs.worker import worker_class
from flask_escalated.models import Activity, SlaPolicy, Ticket
from flask_escalated.services import snooze, tickets

pytestmark = [pytest.mark.all_databases, pytest.mark.xdist_group("redis")]  # shares Redis db 15

REDIS_URL = "redis://127.0.0.1:6379/15"


@pytest.fixture
def redis_db():
    conn = Redis.from_url(REDIS_URL)
    conn.flushdb()
    yield conn
    conn.flushdb()
    conn.close()


@pytest.fixture
def rq_app(make_app, redis_db):
    app = make_app(ESCALATED_REDIS_URL=REDIS_URL)
    with app.app_context():
        yield app


def breach_setup(app, clock, n=3):
    ext = app.extensions["escalated"]
    from tests.hosts import intid

    customer = intid.make_user(f"c{id(app)}@example.test", "C")
    intid.db.session.commit()
    ext.session.add(SlaPolicy(name="Fast", conditions={}, is_active=True, warning_minutes=0,
                              targets={"medium": {"first_response": 10}}))
    ext.session.commit()
    for _ in range(n):
        with ext.unit_of_work():
            tickets.create_ticket(tickets.NewTicket(
                subject="s", description="d", requester_user_id=str(customer.id)),
                Actor.system())
    clock.advance(minutes=30)


def breaches(app):
    ext = app.extensions["escalated"]
    ext.session.rollback()
    return ext.session.execute(select(func.count()).select_from(Activity)
                               .where(Activity.type == "sla_breached")).scalar_one()


def test_schedule_matches_the_design():
    by_name = {p.name: p.interval for p in SCHEDULE}
    assert by_name == {"check-sla": 60, "evaluate-escalations": 60, "wake-snoozed": 60,
                       "deliver-webhooks": 60, "deliver-mail": 60, "flush-kb-views": 60,
                       "run-automations": 300,
                       "close-resolved": 3600, "purge-activities": 86400}
    assert {p.name for p in active_schedule()} >= {"check-sla", "wake-snoozed",
                                                   "close-resolved", "purge-activities"}


def test_rq_worker_runs_check_sla(rq_app, clock, redis_db):
    breach_setup(rq_app, clock)
    job = Queue("escalated", connection=redis_db).enqueue(tasks.check_sla)
    worker = worker_class(rq_app, simple=True)(["escalated"], connection=redis_db)
    worker.work(burst=True)
    job.refresh()
    assert job.get_status() == "finished", job.exc_info
    assert job.return_value() == {"task": "check-sla", "processed": 3}
    assert breaches(rq_app) == 3
    # Idempotent: a second run records nothing more.
    Queue("escalated", connection=redis_db).enqueue(tasks.check_sla)
    worker.work(burst=True)
    assert breaches(rq_app) == 3


def test_lock_keeps_a_second_run_from_stacking(rq_app, redis_db):
    redis_db.set(tasks.LOCK_PREFIX + "check-sla", "1", ex=30)
    assert tasks.check_sla() == {"task": "check-sla", "skipped": "another run is in progress"}
    redis_db.delete(tasks.LOCK_PREFIX + "check-sla")
    assert tasks.check_sla()["processed"] == 0
    assert not redis_db.exists(tasks.LOCK_PREFIX + "check-sla")


@pytest.mark.parametrize("simple", [True, False])
def test_a_worker_listens_for_commands_without_a_minute_long_poll(rq_app, redis_db, simple):
    """RQ's command-channel thread waits up to its poll time when the channel is closed under
    it: with RQ's sixty seconds a burst worker (and every stop) took a minute on a busy
    machine. Ours polls every second, still answers commands, and stops at once."""
    worker = worker_class(rq_app, simple=simple)([Queue("escalated", connection=redis_db)],
                                                 connection=redis_db)
    worker.subscribe()
    try:
        assert worker.pubsub_thread.sleep_time == 1
        assert worker.pubsub_thread.is_alive()
    finally:
        worker.unsubscribe()
    worker.pubsub_thread.join(timeout=5)
    assert not worker.pubsub_thread.is_alive()


def test_worker_command_as_a_real_process(backend, test_databases, redis_db, tmp_path):
    """`flask escalated worker --burst` in its own process runs a queued job on our database."""
    url = test_databases.fresh(backend, "worker")
    factory = tmp_path / "worker_host.py"
    factory.write_text(textwrap.dedent(f"""
        from tests.hosts import intid
        from flask_escalated.models import metadata

        def create_app():
            app = intid.create_app({{"SQLALCHEMY_DATABASE_URI": {url!r},
                                     "ESCALATED_REDIS_URL": {REDIS_URL!r},
                                     "TESTING": False}})
            with app.app_context():
                metadata.create_all(intid.db.engine)
                intid.db.metadata.create_all(intid.db.engine)
            return app
    """))
    Queue("escalated", connection=redis_db).enqueue(tasks.wake_snoozed)
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(tmp_path), os.getcwd()])}
    result = subprocess.run(
        [sys.executable, "-m", "flask", "--app", "worker_host:create_app", "escalated", "worker",
         "--burst", "--queue", "escalated"],
        env=env, capture_output=True, text=True, timeout=120, cwd=os.getcwd(),
    )
    assert result.returncode == 0, result.stderr[-2000:]
    assert Queue("escalated", connection=redis_db).count == 0
    finished = Queue("escalated", connection=redis_db).finished_job_registry
    assert finished.count == 1, result.stderr[-2000:]


def test_worker_needs_redis(app):
    result = app.test_cli_runner().invoke(args=["escalated", "worker", "--burst"])
    assert result.exit_code != 0 and "ESCALATED_REDIS_URL" in result.output


def test_inline_scheduler_runs_due_jobs(app, clock):
    breach_setup(app, clock, n=2)
    fake_time = [0.0]
    scheduler = InlineScheduler(app, [Periodic("check-sla", "check_sla", 60)],
                                clock=lambda: fake_time[0])
    assert scheduler.run_due() == ["check-sla"]
    assert breaches(app) == 2
    assert scheduler.run_due() == []
    fake_time[0] = 61
    assert scheduler.run_due() == ["check-sla"]
    scheduler.start()
    scheduler.stop()


def test_cron_once_inline(app, clock):
    breach_setup(app, clock, n=1)
    result = app.test_cli_runner().invoke(args=["escalated", "cron", "--once"])
    assert result.exit_code == 0, result.output
    assert "check-sla" in result.output
    assert breaches(app) == 1


def test_wake_and_close_tasks(app, users, clock):
    ext = app.extensions["escalated"]
    with ext.unit_of_work():
        t = tickets.create_ticket(tickets.NewTicket(
            subject="s", description="d", requester_user_id=str(users.customer.id)),
            Actor.system())
        snooze.snooze(t, clock.current + timedelta(minutes=5), Actor.agent(users.agent.id))
    clock.advance(minutes=10)
    assert tasks.wake_snoozed()["processed"] == 1
    with ext.unit_of_work():
        tickets.change_status(tickets.get_ticket(t.id), "resolved", Actor.system())
    clock.advance(days=8)
    assert tasks.close_resolved()["processed"] == 1
    ext.session.rollback()
    assert ext.session.get(Ticket, t.id).status == "closed"
    assert tasks.purge_activities()["processed"] == 0


def test_rq_cron_scheduler_enqueues_the_schedule(rq_app, redis_db):
    """The same registration `flask escalated cron` does, then one scheduler tick."""
    from rq.cron import CronScheduler

    scheduler = CronScheduler(connection=redis_db, name="escalated-test")
    for periodic in active_schedule():
        scheduler.register(periodic.function(), queue_name=periodic.queue,
                           interval=periodic.interval, name=periodic.name)
    enqueued = scheduler.enqueue_jobs()
    assert {job.name for job in enqueued} == {p.name for p in active_schedule()}
    queued = Queue("escalated", connection=redis_db).get_jobs()
    assert {job.func_name.rsplit(".", 1)[-1] for job in queued} == {
        p.task for p in active_schedule() if p.queue == "escalated"}
    worker = worker_class(rq_app, simple=True)(["escalated"], connection=redis_db)
    worker.work(burst=True)
    assert Queue("escalated", connection=redis_db).finished_job_registry.count == len(queued)
