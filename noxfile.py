"""Developer tasks. Run ``python3 noxfile.py -s <session>``; nox installs itself on first use.

Sessions: ``demo`` (start the demo helpdesk), ``tests`` (the whole suite: the tests marked
``all_databases`` on SQLite, PostgreSQL and MariaDB, the others on SQLite; see tests/README.md),
``tests_sqlite`` / ``tests_postgres`` / ``tests_mariadb`` (every test on that one database),
``lint``, ``typing``, ``bench``, ``stack`` (the production topology, see README). Extra
arguments after ``--`` go to the tool (``python3 noxfile.py -s tests -- -k api``).
"""

from __future__ import annotations

import os
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))


def _bootstrap() -> None:
    """Make a small virtualenv holding nox, then run this file again with it."""
    venv = os.path.join(HERE, ".nox", "_nox")
    python = os.path.join(venv, "bin", "python")
    if not os.path.exists(python):
        print("Installing nox into .nox/_nox (first run only) ...", flush=True)
        subprocess.run([sys.executable, "-m", "venv", venv], check=True)
        subprocess.run([python, "-m", "pip", "install", "--quiet", "--upgrade", "pip", "nox"],
                       check=True)
    os.execv(python, [python, os.path.abspath(__file__), *sys.argv[1:]])


if __name__ == "__main__":
    try:
        import nox
    except ModuleNotFoundError:
        _bootstrap()

import nox  # noqa: E402

nox.options.sessions = ["lint", "typing", "tests"]
nox.options.reuse_existing_virtualenvs = True

DEV = ".[dev]"
#: Passed to the tests explicitly: ``CI`` turns a missing browser from a skip into a failure;
#: the others point the browser tests (tests/e2e) at Chromium and a screenshot folder.
PASS_THROUGH = ("CI", "E2E_CHROMIUM", "E2E_SCREENSHOTS", "ESCALATED_TEST_POSTGRES_URL",
                "ESCALATED_TEST_MARIADB_URL")


#: pytest-xdist workers: one per core (``ESCALATED_TEST_WORKERS`` to choose, ``0`` for none).
#: ``loadgroup`` keeps each ``xdist_group`` (shared Redis, the browser tests' demo server) in one
#: worker; the 25 slowest tests are listed at the end, so that a slow newcomer shows.
PARALLEL = ("--dist", "loadgroup", "--durations", "25")


def _tests(session: nox.Session, databases: str) -> None:
    session.install("-e", DEV)
    env = {"PYTHONDONTWRITEBYTECODE": "1"}
    env.update({key: os.environ[key] for key in PASS_THROUGH if key in os.environ})
    workers = os.environ.get("ESCALATED_TEST_WORKERS", "auto")
    session.run("pytest", f"--db={databases}", "-n", workers, *PARALLEL, *session.posargs,
                env=env)


@nox.session
def tests(session: nox.Session) -> None:
    """The whole suite: database-dependent tests on SQLite, PostgreSQL and MariaDB, the rest
    once on SQLite (tests/README.md)."""
    _tests(session, "all")


@nox.session
def tests_sqlite(session: nox.Session) -> None:
    """The suite on SQLite only (no servers needed)."""
    _tests(session, "sqlite")


@nox.session
def tests_postgres(session: nox.Session) -> None:
    """The suite on PostgreSQL (ESCALATED_TEST_POSTGRES_URL to point elsewhere)."""
    _tests(session, "postgres")


@nox.session
def tests_mariadb(session: nox.Session) -> None:
    """The suite on MariaDB/MySQL (ESCALATED_TEST_MARIADB_URL to point elsewhere)."""
    _tests(session, "mariadb")


@nox.session
def lint(session: nox.Session) -> None:
    session.install("ruff>=0.6")
    session.run("ruff", "check", ".")


@nox.session
def typing(session: nox.Session) -> None:
    session.install("-e", DEV)
    session.run("mypy")


@nox.session
def demo(session: nox.Session) -> None:
    """Start the demo helpdesk at http://127.0.0.1:5000 (Ctrl-C stops it).

    ``ESCALATED_ENABLE_REALTIME=1`` turns on live updates (Socket.IO over WebSocket);
    ``PORT`` picks the port. ``-- <command> ...`` runs a flask command against the demo
    instead (``python3 noxfile.py -s demo -- escalated --help``).
    """
    session.install("-e", ".[postgres,mysql]")
    if session.posargs and not session.posargs[0].startswith("-"):
        session.run("python", "-m", "examples.demo", *session.posargs)
        return
    port = os.environ.get("PORT", "5000")
    session.log(f"Open http://127.0.0.1:{port} and sign in as customer@demo.test / demo")
    session.run("python", "-m", "examples.demo", "--port", port, *session.posargs)


@nox.session
def stack(session: nox.Session) -> None:
    """The production topology on this machine (Ctrl-C stops it): two gunicorn web processes
    on ports 8001 and 8002, two RQ workers and the cron process, on PostgreSQL and Redis
    (README, *Deploying*). Arguments after ``--`` go to ``python -m examples.stack``
    (``-- --fresh`` starts from an empty database, ``-- --help`` lists the options)."""
    session.install("-e", ".[stack]")
    session.run("python", "-m", "examples.stack", *session.posargs)


@nox.session
def load(session: nox.Session) -> None:
    """The load test against the stack: 50 clients for 2 minutes on PostgreSQL, then an audit
    of every acknowledged write, webhook and mail (``bench/load.py``; ``-- --help``)."""
    session.install("-e", DEV)
    session.run("python", "-m", "bench.load", *session.posargs)


@nox.session
def bench(session: nox.Session) -> None:
    """Run the benchmarks in bench/ (see bench/README.md)."""
    session.install("-e", DEV)
    session.run("python", "-m", "bench.run", *session.posargs)


if __name__ == "__main__":
    sys.exit(nox.main())
