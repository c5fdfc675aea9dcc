"""Request ids: answered in ``X-Request-Id``, carried by the jobs a request enqueues (a real
Redis and a real RQ worker), bound while the worker runs them, and written in every log line."""

from __future__ import annotations

import io
import json
import logging

import pytest
from rq import Queue

from flask_escalated import logs
from flask_escalated.events import Actor
from flask_escalated.jobs.queues import WEBHOOK_QUEUE, queue
from flask_escalated.jobs.worker import worker_class
from flask_escalated.services import webhooks

pytestmark = pytest.mark.xdist_group("redis")  # shares Redis db 10

REDIS_URL = "redis://127.0.0.1:6379/10"
HEX_ID = r"^[0-9a-f]{32}$"


@pytest.fixture
def redis_db(flushed_redis):
    return flushed_redis(REDIS_URL)


@pytest.fixture
def rq_app(make_app, redis_db):
    app = make_app(ESCALATED_REDIS_URL=REDIS_URL, ESCALATED_WEBHOOK_ALLOWED_HOSTS=["127.0.0.1"])
    with app.app_context():
        yield app


@pytest.fixture
def captured():
    """Every record of the ``flask_escalated`` loggers, formatted as the JSON lines an
    operator's log shipper reads."""
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.addFilter(logs.RequestIdFilter())
    handler.setFormatter(logs.JsonFormatter())
    logger = logging.getLogger("flask_escalated")
    logger.addHandler(handler)
    old_level = logger.level
    logger.setLevel(logging.INFO)
    yield lambda: [json.loads(line) for line in stream.getvalue().splitlines()]
    logger.removeHandler(handler)
    logger.setLevel(old_level)


def log_in_job(text: str) -> None:
    """A job for the worker below: it only logs."""
    logging.getLogger("flask_escalated.jobs").info("job says %s", text)


def test_every_escalated_response_names_its_request(app):
    client = app.test_client()
    generated = client.get("/support/healthz").headers[logs.HEADER]
    assert generated and len(generated) == 32 and int(generated, 16) >= 0
    assert client.get("/support/healthz").headers[logs.HEADER] != generated
    # a load balancer's own id is kept, so its access log and ours agree
    echoed = client.get("/support/healthz", headers={logs.HEADER: "lb-7f3a.01:edge"})
    assert echoed.headers[logs.HEADER] == "lb-7f3a.01:edge"
    # an unknown path under the prefix (no blueprint) gets one too
    assert len(client.get("/support/no-such-page").headers[logs.HEADER]) == 32


@pytest.mark.parametrize(
    "hostile",
    [
        "has space",
        "x" * 101,
        "<script>",
        "id;drop",
        "-leading-dash",
        "ünïcode",
        'a"b',
    ],
)
def test_an_unusable_incoming_id_is_replaced(app, hostile):
    response = app.test_client().get("/support/healthz", headers={logs.HEADER: hostile})
    assert response.status_code == 200
    assert response.headers[logs.HEADER] != hostile
    assert len(response.headers[logs.HEADER]) == 32


def test_the_host_apps_own_routes_are_left_alone(app):
    assert logs.HEADER not in app.test_client().get("/not-escalated").headers


def test_the_id_is_unbound_after_the_request(app):
    app.test_client().get("/support/healthz", headers={logs.HEADER: "req-1"})
    assert logs.get_request_id() is None


def test_a_job_runs_under_the_id_of_the_request_that_enqueued_it(rq_app, redis_db, captured):
    with rq_app.test_request_context("/support/healthz", headers={logs.HEADER: "trace-42"}):
        rq_app.preprocess_request()
        job = queue("escalated").enqueue(log_in_job, "hello")
    assert job.meta[logs.JOB_META_KEY] == "trace-42"
    worker = worker_class(rq_app, simple=True)(["escalated"], connection=redis_db)
    assert worker.work(burst=True)
    (line,) = [entry for entry in captured() if entry["message"] == "job says hello"]
    assert line["request_id"] == "trace-42"
    assert line["job_id"] == job.id
    assert line["level"] == "info" and line["logger"] == "flask_escalated.jobs"
    assert logs.get_request_id() is None  # nothing leaks into the worker after the job


def test_jobs_enqueued_outside_a_request_carry_no_id(rq_app, redis_db, captured):
    job = queue("escalated").enqueue(log_in_job, "cron")
    assert logs.JOB_META_KEY not in (job.meta or {})
    worker_class(rq_app, simple=True)(["escalated"], connection=redis_db).work(burst=True)
    (line,) = [entry for entry in captured() if entry["message"] == "job says cron"]
    assert "request_id" not in line and line["job_id"] == job.id


def test_a_webhook_delivery_job_carries_the_api_requests_id(rq_app, redis_db, users_for):
    people = users_for(rq_app)
    ext = rq_app.extensions["escalated"]
    with ext.unit_of_work():
        webhooks.create_webhook(
            Actor.system(), {"url": "http://127.0.0.1:9/in", "events": ["ticket.created"]}
        )
    from flask_escalated.services import tokens

    with ext.unit_of_work():
        _, plain = tokens.create_token(str(people.customer.id), "t", ["*"], Actor.system())
    response = rq_app.test_client().post(
        "/support/api/v1/tickets",
        json={"subject": "Traced", "description": "Follow me through the worker."},
        headers={"Authorization": f"Bearer {plain}", logs.HEADER: "api-call-9"},
    )
    assert response.status_code == 201, response.get_json()
    assert response.headers[logs.HEADER] == "api-call-9"
    (job,) = Queue(WEBHOOK_QUEUE, connection=redis_db).get_jobs()
    assert job.meta[logs.JOB_META_KEY] == "api-call-9"


def test_configure_logging_writes_json_lines_once(captured):
    stream = io.StringIO()
    root = logging.getLogger()
    before = list(root.handlers), root.level
    try:
        logs.configure_logging("json", stream=stream)
        handler = logs.configure_logging("json", stream=stream)  # twice: still one handler
        assert [h for h in root.handlers if h.get_name() == "escalated"] == [handler]
        with logs.bound("r-1", "j-1"):
            logging.getLogger("flask_escalated.test").warning('a "quoted"\nline')
        try:
            raise ValueError("boom")
        except ValueError:
            logging.getLogger("flask_escalated.test").exception("failed")
        first, second = (json.loads(line) for line in stream.getvalue().splitlines())
        assert first["message"] == 'a "quoted"\nline'
        assert first["request_id"] == "r-1" and first["job_id"] == "j-1"
        assert "request_id" not in second and "ValueError: boom" in second["exception"]
        with pytest.raises(ValueError, match=r"text.*json"):
            logs.configure_logging("xml")
    finally:
        for h in [h for h in root.handlers if h.get_name() == "escalated"]:
            root.removeHandler(h)
        root.handlers[:] = before[0]
        root.setLevel(before[1])


def test_the_text_format_names_the_request():
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.addFilter(logs.RequestIdFilter())
    handler.setFormatter(logging.Formatter(logs.TEXT_FORMAT))
    record = logging.LogRecord("flask_escalated.web", logging.INFO, __file__, 1, "hi", None, None)
    with logs.bound("abc"):
        handler.handle(record)
    outside = logging.LogRecord("flask_escalated.web", logging.INFO, __file__, 1, "bye", None, None)
    handler.handle(outside)
    lines = stream.getvalue().splitlines()
    assert lines[0].endswith("INFO flask_escalated.web [abc] hi")
    assert lines[1].endswith("INFO flask_escalated.web [-] bye")
