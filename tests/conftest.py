"""Test fixtures: a test that takes ``app`` runs on a real database, chosen with ``--db``.

``--db sqlite,postgres,mariadb`` (or ``all``, the default, or the ``ESCALATED_TEST_DB``
environment variable) names the back ends. A test marked ``all_databases`` (usually a whole
module, ``pytestmark = pytest.mark.all_databases``) runs once on each of them: the tests whose
outcome can depend on the database (queries, locking, migrations, search, concurrency, column
types and lengths), and every test under tests/schema and tests/security. Every other test
runs once, on the first back end named (SQLite for ``all``), so ``--db=postgres`` runs the
whole suite on PostgreSQL. ``--every-db`` runs every test on every named back end.
tests/README.md says how a test chooses.

Tests marked ``e2e`` (``tests/e2e``, a real browser against the served demo) run once. A server
that cannot be reached fails the run loudly; it is never skipped. Each run (each pytest-xdist
worker) creates its own uniquely named databases and drops them at the end. Tables are created
once per back end and emptied after every test.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient

from flask_escalated import signals as esc_signals
from flask_escalated.clock import FrozenClock, set_clock
from flask_escalated.events import Actor
from flask_escalated.models import metadata as escalated_metadata
from flask_escalated.services import agents

from .hosts import intid

BACKENDS = ("sqlite", "postgres", "mariadb")
SERVER_URLS = {
    "postgres": os.environ.get(
        "ESCALATED_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
    ),
    "mariadb": os.environ.get(
        "ESCALATED_TEST_MARIADB_URL", "mysql+pymysql://root@127.0.0.1:3306/mysql"
    ),
}


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--db",
        default=os.environ.get("ESCALATED_TEST_DB", "all"),
        help="comma-separated back ends to test on: sqlite, postgres, mariadb (default all). "
        "Tests marked all_databases run on each; the others on the first one named.",
    )
    parser.addoption(
        "--every-db",
        action="store_true",
        help="run every test on every back end --db names, not only those marked all_databases",
    )


def selected_backends(config: pytest.Config) -> list[str]:
    raw = config.getoption("--db")
    names = BACKENDS if raw.strip() == "all" else [b.strip() for b in raw.split(",") if b.strip()]
    chosen = list(dict.fromkeys(names))  # in the order given, once each
    unknown = set(chosen) - set(BACKENDS)
    if unknown:
        raise pytest.UsageError(f"--db: unknown back ends {sorted(unknown)}")
    if not chosen:
        raise pytest.UsageError("--db: name at least one back end (sqlite, postgres, mariadb)")
    return chosen


#: Folders under tests/ whose every test is ``all_databases`` (schema and security checks are
#: about what each database does with what it is given).
ALL_DATABASES_DIRS = ("schema", "security")
TESTS_ROOT = Path(__file__).resolve().parent


def on_all_databases(definition: pytest.Function) -> bool:
    if definition.get_closest_marker("all_databases") is not None:
        return True
    try:
        relative = Path(definition.path).resolve().relative_to(TESTS_ROOT)
    except ValueError:
        return False
    return relative.parts[0] in ALL_DATABASES_DIRS


def backends_for(definition: pytest.Function, config: pytest.Config) -> list[str]:
    """The back ends one test runs on: every chosen one for ``all_databases`` tests (or with
    ``--every-db``), otherwise only the first (browser tests always run once)."""
    chosen = selected_backends(config)
    if definition.get_closest_marker("e2e") is not None:
        return chosen[:1]  # they serve the demo on its own SQLite file
    if config.getoption("--every-db") or on_all_databases(definition):
        return chosen
    return chosen[:1]


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if "backend" in metafunc.fixturenames:
        metafunc.parametrize("backend", backends_for(metafunc.definition, metafunc.config),
                             scope="session")


@pytest.hookimpl(trylast=True)
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Keep each ``xdist_group`` in one worker under pytest 9 too.

    pytest-xdist's ``--dist loadgroup`` tags a grouped test by appending ``@<group>`` to
    ``item._nodeid``, which pytest 9 no longer reads (the id lives in ``item._id``), so the
    groups were silently spread over the workers. Tag them where pytest 9 keeps the id.
    """
    if not getattr(config.option, "loadgroup", False):
        return
    try:
        from _pytest.nodeid import coerce_node_id
    except ImportError:  # pytest 8: pytest-xdist's own tagging works
        return
    for item in items:
        groups = sorted({str(m.args[0] if m.args else m.kwargs.get("name", "default"))
                         for m in item.iter_markers("xdist_group")})
        suffix = "@" + "_".join(groups)
        if groups and not item.nodeid.endswith(suffix):
            item._id = coerce_node_id(item.nodeid + suffix)  # type: ignore[attr-defined]


# ---------------------------------------------------------------------------- databases
class TestDatabases:
    """Creates one database per back end per run, on demand, and drops them at the end."""

    def __init__(self) -> None:
        self.urls: dict[str, str] = {}
        #: Every server back end this run created a database on (``url`` or ``fresh``).
        self.used: set[str] = set()
        self.tmpdir = tempfile.mkdtemp(prefix="escalated-tests-")
        self.name = f"escalated_test_{os.getpid()}_{uuid.uuid4().hex[:6]}"

    def url(self, backend: str) -> str:
        if backend not in self.urls:
            self.urls[backend] = self._create(backend)
        return self.urls[backend]

    def fresh(self, backend: str, suffix: str) -> str:
        """A separate, empty database (for migration tests)."""
        return self._create(backend, f"{self.name}_{suffix}")

    def _create(self, backend: str, name: str | None = None) -> str:
        name = name or self.name
        self.used.add(backend)
        if backend == "sqlite":
            return f"sqlite:///{os.path.join(self.tmpdir, name + '.sqlite')}"
        server = sa.make_url(SERVER_URLS[backend])
        engine = sa.create_engine(server, isolation_level="AUTOCOMMIT")
        try:
            with engine.connect() as conn:
                if backend == "postgres":
                    conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}"')
                    conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
                else:
                    conn.exec_driver_sql(f"DROP DATABASE IF EXISTS `{name}`")
                    conn.exec_driver_sql(
                        f"CREATE DATABASE `{name}` CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci"
                    )
        except sa.exc.OperationalError as exc:
            pytest.exit(
                f"The {backend} server at {server.render_as_string(hide_password=True)} is not "
                f"reachable ({exc.orig}). Start it (see README, 'Running the tests') or pass "
                f"--db to choose back ends.",
                returncode=3,
            )
        finally:
            engine.dispose()
        url = server.set(database=name)
        if backend == "mariadb":
            url = url.update_query_dict({"charset": "utf8mb4"})
        return url.render_as_string(hide_password=False)

    def drop_all(self) -> None:
        for backend in ("postgres", "mariadb"):
            if backend not in self.used:
                continue
            server = sa.make_url(SERVER_URLS[backend])
            engine = sa.create_engine(server, isolation_level="AUTOCOMMIT")
            with engine.connect() as conn:
                if backend == "postgres":
                    rows = conn.exec_driver_sql(
                        "SELECT datname FROM pg_database WHERE datname LIKE %s",
                        (self.name + "%",),
                    )
                    for (db_name,) in list(rows):
                        conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{db_name}" WITH (FORCE)')
                else:
                    rows = conn.exec_driver_sql("SHOW DATABASES LIKE %s", (self.name + "%",))
                    for (db_name,) in list(rows):
                        conn.exec_driver_sql(f"DROP DATABASE IF EXISTS `{db_name}`")
            engine.dispose()


@pytest.fixture(scope="session")
def test_databases() -> Iterator[TestDatabases]:
    dbs = TestDatabases()
    yield dbs
    dbs.drop_all()


@pytest.fixture(scope="session")
def database_url(backend: str, test_databases: TestDatabases) -> Iterator[str]:
    """The URL of this run's database on ``backend``, with all tables created."""
    url = test_databases.url(backend)
    engine = sa.create_engine(url)
    escalated_metadata.create_all(engine)
    intid.db.metadata.create_all(engine)
    engine.dispose()
    yield url


def _empty_tables(app: Flask) -> None:
    """Delete every row, children first. ``DELETE`` rather than PostgreSQL's ``TRUNCATE``: on
    forty nearly empty tables it is several times faster, and no test relies on ids starting at 1
    (MariaDB never restarted them)."""
    with app.app_context():
        engine = intid.db.engine
        tables = [t.name for t in reversed(escalated_metadata.sorted_tables)] + [
            t.name for t in reversed(intid.db.metadata.sorted_tables)
        ]
        with engine.begin() as conn:
            if engine.dialect.name == "postgresql":
                for t in tables:
                    conn.exec_driver_sql(f'DELETE FROM "{t}"')
            elif engine.dialect.name == "mysql":
                conn.exec_driver_sql("SET FOREIGN_KEY_CHECKS=0")
                for t in tables:
                    conn.exec_driver_sql(f"DELETE FROM `{t}`")
                conn.exec_driver_sql("SET FOREIGN_KEY_CHECKS=1")
            else:
                for t in tables:
                    conn.exec_driver_sql(f'DELETE FROM "{t}"')


@pytest.fixture
def make_app(database_url: str, tmp_path: Any) -> Iterator[Callable[..., Flask]]:
    """Build the test host app on this back end, with extra config."""
    apps: list[Flask] = []

    def factory(**config: Any) -> Flask:
        settings = {
            "SQLALCHEMY_DATABASE_URI": database_url,
            "ESCALATED_ATTACHMENT_STORAGE": str(tmp_path / "attachments"),
            # Off by default: the statement-count tests compare a first request with a second,
            # and the first would fill the cache. tests/web_api/test_write_path.py turns it on.
            "ESCALATED_PROCESS_CACHE": os.environ.get("ESCALATED_TEST_PROCESS_CACHE") == "1",
            **config,
        }
        app = intid.create_app(settings)
        apps.append(app)
        return app

    yield factory
    for app in apps:
        app.extensions["escalated"].wait_for_background(app=app)
    if apps:
        _empty_tables(apps[0])
    for app in apps:
        with app.app_context():
            intid.db.session.remove()
            intid.db.engine.dispose()


@pytest.fixture
def app(make_app: Callable[..., Flask]) -> Iterator[Flask]:
    app = make_app()
    with app.app_context():
        yield app


# ---------------------------------------------------------------------------- people
@dataclass
class People:
    admin: intid.User
    agent: intid.User
    agent2: intid.User
    light: intid.User
    customer: intid.User
    other: intid.User


@pytest.fixture
def users(app: Flask) -> People:
    """An admin, two agents, a light agent and two customers."""
    return _make_people()


@pytest.fixture
def users_for() -> Callable[[Flask], Any]:
    """``users_for(app)``: the same people, in an app built with extra config."""

    def make(app: Flask) -> Any:
        from types import SimpleNamespace

        with app.app_context():
            people = _make_people()
            return SimpleNamespace(**{
                name: SimpleNamespace(id=u.id, email=u.email,
                                      get_id=lambda u=u.get_id(): u)
                for name, u in vars(people).items()
            })

    return make


def _make_people() -> People:
    make = intid.make_user
    people = People(
        admin=make("admin@example.test", "Ada Admin"),
        agent=make("agent@example.test", "Alex Agent"),
        agent2=make("agent2@example.test", "Sam Support"),
        light=make("light@example.test", "Lee Light"),
        customer=make("customer@example.test", "Casey Customer"),
        other=make("other@example.test", "Oscar Other"),
    )
    system = Actor.system()
    agents.make_agent(str(people.admin.id), system, role="admin")
    agents.make_agent(str(people.agent.id), system, role="agent")
    agents.make_agent(str(people.agent2.id), system, role="agent")
    agents.make_agent(str(people.light.id), system, role="light_agent")
    intid.db.session.commit()
    return people


@pytest.fixture
def client_as(app: Flask) -> Callable[[Any], FlaskClient]:
    """A test client signed in (through Flask-Login's session) as ``user`` (None: anonymous)."""

    def make(user: Any) -> FlaskClient:
        if user is None:
            return app.test_client()
        return app.test_client(user=user)  # type: ignore[call-arg]

    return make


@pytest.fixture
def api(client_as) -> Callable[..., Any]:
    """``api(user).get(path)`` etc. against /support/api/v1, JSON in and out."""

    class Client:
        def __init__(self, user: Any) -> None:
            self.client = client_as(user)

        def call(self, method: str, path: str, json: Any = None, **kw: Any) -> Any:
            return self.client.open("/support/api/v1" + path, method=method, json=json, **kw)

        def get(self, path: str, **kw: Any) -> Any:
            return self.call("GET", path, **kw)

        def post(self, path: str, json: Any = None, **kw: Any) -> Any:
            return self.call("POST", path, json=json, **kw)

        def patch(self, path: str, json: Any = None, **kw: Any) -> Any:
            return self.call("PATCH", path, json=json, **kw)

        def put(self, path: str, json: Any = None, **kw: Any) -> Any:
            return self.call("PUT", path, json=json, **kw)

        def delete(self, path: str, **kw: Any) -> Any:
            return self.call("DELETE", path, **kw)

    return Client


# ---------------------------------------------------------------------------- tools
@dataclass
class SignalRecord:
    name: str
    sender: Any
    kwargs: dict[str, Any]


@pytest.fixture
def signal_log() -> Iterator[list[SignalRecord]]:
    """Every Escalated signal sent during the test, in order."""
    log: list[SignalRecord] = []
    receivers = []
    for name, signal in esc_signals.ALL_SIGNALS.items():
        def receiver(sender: Any, _name: str = name, **kwargs: Any) -> None:
            log.append(SignalRecord(_name, sender, kwargs))

        signal.connect(receiver, weak=False)
        receivers.append((signal, receiver))
    yield log
    for signal, receiver in receivers:
        signal.disconnect(receiver)


@pytest.fixture
def clock() -> Iterator[FrozenClock]:
    from datetime import datetime, timezone

    frozen = FrozenClock(datetime(2026, 3, 2, 9, 0, tzinfo=timezone.utc))
    set_clock(frozen)
    yield frozen
    set_clock(None)


class QueryCounter:
    def __init__(self) -> None:
        self.statements: list[str] = []

    @property
    def count(self) -> int:
        return len(self.statements)


@pytest.fixture
def count_queries(app: Flask) -> Callable[[], contextlib.AbstractContextManager[QueryCounter]]:
    """``with count_queries() as q: ...`` then ``q.count`` is the SQL statements run."""

    @contextlib.contextmanager
    def counter() -> Iterator[QueryCounter]:
        result = QueryCounter()
        engine = intid.db.engine

        def before(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
            if not statement.lstrip().upper().startswith(("SAVEPOINT", "RELEASE", "ROLLBACK")):
                result.statements.append(statement)

        sa.event.listen(engine, "before_cursor_execute", before)
        try:
            yield result
        finally:
            sa.event.remove(engine, "before_cursor_execute", before)

    return counter


@pytest.fixture
def flushed_redis() -> Iterator[Callable[[str], Any]]:
    """``flushed_redis(url)``: a connection to that Redis database, emptied now and again after
    the test (each test module that needs Redis keeps to a database number of its own)."""
    from redis import Redis

    opened: list[Any] = []

    def connect(url: str) -> Any:
        conn = Redis.from_url(url)
        conn.flushdb()
        opened.append(conn)
        return conn

    yield connect
    for conn in opened:
        conn.flushdb()
        conn.close()
