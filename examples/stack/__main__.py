"""The production topology on one machine: ``python -m examples.stack`` (or
``python3 noxfile.py -s stack``).

It starts, all on 127.0.0.1 and all against PostgreSQL and Redis:

- two web processes (gunicorn, one ``gthread`` worker each, ports 8001 and 8002), sharing
  real-time updates through the Redis message queue;
- two RQ workers listening on the three queues (``--simple``: no fork per job);
- the cron process (RQ's cron scheduler) that enqueues the periodic jobs.

Before that it creates the database if it is missing and brings the tables to head once, so
the processes never race to migrate. Each process logs to ``<logs>/<name>.log`` (JSON lines
with the request id by default). Ctrl+C (or SIGTERM, or the end of ``--for SECONDS``) stops
them all: SIGTERM first, so the workers finish the job in hand, then SIGKILL for whatever is
still running after ``--grace`` seconds. If one process dies on its own, the others are
stopped too and the exit status is 1, so a supervisor notices.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import sqlalchemy as sa

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent.parent
DEFAULT_DATABASE = "postgresql+psycopg://postgres@127.0.0.1:5432/escalated_stack"
DEFAULT_REDIS = "redis://127.0.0.1:6379/9"


@dataclass
class Process:
    name: str
    argv: list[str]
    popen: subprocess.Popen[bytes] | None = None
    log: Path | None = None
    extra_env: dict[str, str] = field(default_factory=dict)


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m examples.stack",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "--database-url", default=os.environ.get("STACK_DATABASE_URL", DEFAULT_DATABASE)
    )
    parser.add_argument("--redis-url", default=os.environ.get("STACK_REDIS_URL", DEFAULT_REDIS))
    parser.add_argument(
        "--ports", default="8001,8002", help="one web process per port (default: 8001,8002)"
    )
    parser.add_argument("--workers", type=int, default=2, help="RQ workers (default: 2)")
    parser.add_argument(
        "--dir",
        default=str(ROOT / ".stack"),
        help="logs and the instance folder go here (default: .stack)",
    )
    parser.add_argument(
        "--fresh", action="store_true", help="drop and create the database and flush Redis first"
    )
    parser.add_argument(
        "--for",
        dest="duration",
        type=float,
        default=None,
        help="stop by itself after this many seconds",
    )
    parser.add_argument(
        "--grace",
        type=float,
        default=15.0,
        help="seconds between SIGTERM and SIGKILL on stop (default: 15)",
    )
    parser.add_argument("--log-format", choices=("json", "text"), default="json")
    return parser.parse_args(argv)


def prepare_database(url: str, fresh: bool) -> None:
    """Create the PostgreSQL database when it is missing (``--fresh``: drop it first)."""
    target = sa.make_url(url)
    if not target.drivername.startswith("postgresql"):
        return
    admin = sa.create_engine(target.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        exists = conn.execute(
            sa.text("SELECT 1 FROM pg_database WHERE datname = :n"), {"n": target.database}
        ).scalar()
        if exists and fresh:
            conn.execute(sa.text(f'DROP DATABASE "{target.database}" WITH (FORCE)'))
            exists = False
        if not exists:
            conn.execute(sa.text(f'CREATE DATABASE "{target.database}"'))
    admin.dispose()


def flush_redis(url: str) -> None:
    from redis import Redis

    conn = Redis.from_url(url)
    conn.flushdb()
    conn.close()


def child_env(args: argparse.Namespace, instance: Path, first_port: int) -> dict[str, str]:
    env = dict(os.environ)
    env.update(
        {
            "DATABASE_URL": args.database_url,
            "REDIS_URL": args.redis_url,
            "SOCKETIO_MESSAGE_QUEUE": args.redis_url,
            "ESCALATED_ENABLE_REALTIME": "1",
            "DEMO_INSTANCE_PATH": str(instance),
            "APP_URL": f"http://127.0.0.1:{first_port}",
            "STACK_LOG_FORMAT": args.log_format,
            # webhooks may go to receivers on this machine (a load test's, a drill's)
            "WEBHOOK_ALLOWED_HOSTS": env.get("WEBHOOK_ALLOWED_HOSTS", "127.0.0.1"),
            "PYTHONUNBUFFERED": "1",
            # threaded web processes on glibc: see the README's Deploying
            "MALLOC_ARENA_MAX": env.get("MALLOC_ARENA_MAX", "2"),
        }
    )
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")]))
    return env


def processes(args: argparse.Namespace, ports: list[int]) -> list[Process]:
    python = sys.executable
    demo = [python, "-m", "examples.demo"]
    found: list[Process] = [
        Process(
            f"web-{i}",
            [
                python,
                "-m",
                "gunicorn",
                "-c",
                str(HERE / "gunicorn_conf.py"),
                "-b",
                f"127.0.0.1:{port}",
                "examples.demo.app:create_app()",
            ],
            extra_env={"STACK_CONTROL_SOCKET": str(Path(args.dir).resolve() / f"web-{i}.ctl")},
        )
        for i, port in enumerate(ports, 1)
    ]
    # --simple: jobs run in the worker process. Every job opens its own app context and unit
    # of work and keeps nothing between jobs, and a fork per job costs more than most jobs.
    found += [
        Process(f"worker-{i}", [*demo, "escalated", "worker", "--simple",
                                "--log-format", args.log_format])
        for i in range(1, args.workers + 1)
    ]
    found.append(Process("cron", [*demo, "escalated", "cron", "--log-format", args.log_format]))
    return found


def wait_ready(ports: list[int], procs: list[Process], timeout: float = 90.0) -> None:
    """Until every web process answers ``/support/readyz`` with 200."""
    deadline = time.monotonic() + timeout
    pending = list(ports)
    while pending:
        for proc in procs:
            if proc.popen is not None and proc.popen.poll() is not None:
                raise RuntimeError(
                    f"{proc.name} exited with {proc.popen.returncode} while "
                    f"starting; see {proc.log}"
                )
        port = pending[0]
        try:
            with urllib.request.urlopen(
                f"http://127.0.0.1:{port}/support/readyz", timeout=5
            ) as response:
                if response.status == 200:
                    pending.pop(0)
                    continue
        except (urllib.error.URLError, OSError):
            pass
        if time.monotonic() > deadline:
            raise RuntimeError(
                f"the web process on port {port} was not ready after {timeout:.0f} s"
            )
        time.sleep(0.3)


class Stopping(Exception):
    """Raised by the signal handler to leave the wait loop."""


def stop(procs: list[Process], grace: float) -> None:
    """SIGTERM every process group, then SIGKILL what is left after ``grace`` seconds."""
    running = [p for p in procs if p.popen is not None and p.popen.poll() is None]
    for proc in running:
        assert proc.popen is not None
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.popen.pid, signal.SIGTERM)
    deadline = time.monotonic() + grace
    for proc in running:
        assert proc.popen is not None
        try:
            proc.popen.wait(max(deadline - time.monotonic(), 0.1))
        except subprocess.TimeoutExpired:
            print(f"  {proc.name} did not stop in {grace:.0f} s: killed", flush=True)
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.popen.pid, signal.SIGKILL)
            proc.popen.wait()


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    ports = [int(p) for p in args.ports.split(",") if p.strip()]
    base = Path(args.dir).resolve()
    log_dir, instance = base / "logs", base / "instance"
    log_dir.mkdir(parents=True, exist_ok=True)
    instance.mkdir(parents=True, exist_ok=True)
    prepare_database(args.database_url, args.fresh)
    if args.fresh:
        flush_redis(args.redis_url)
    env = child_env(args, instance, ports[0])
    print("Migrating the database to head ...", flush=True)
    subprocess.run(
        [sys.executable, "-m", "examples.demo", "escalated", "db", "upgrade"],
        env=env,
        cwd=ROOT,
        check=True,
        stdout=subprocess.DEVNULL,
    )
    procs = processes(args, ports)

    def on_signal(signum: int, frame: object) -> None:
        raise Stopping(signal.Signals(signum).name)

    signal.signal(signal.SIGINT, on_signal)
    signal.signal(signal.SIGTERM, on_signal)
    status = 0
    try:
        for proc in procs:
            proc.log = log_dir / f"{proc.name}.log"
            with open(proc.log, "ab") as out:
                proc.popen = subprocess.Popen(
                    proc.argv,
                    env={**env, **proc.extra_env},
                    cwd=ROOT,
                    stdout=out,
                    stderr=subprocess.STDOUT,
                    start_new_session=True,
                )
        wait_ready(ports, procs)
        print("The stack is up:", flush=True)
        for proc in procs:
            assert proc.popen is not None
            print(f"  {proc.name:<9} pid {proc.popen.pid:<7} log {proc.log}", flush=True)
        for port in ports:
            print(f"  http://127.0.0.1:{port}/support/", flush=True)
        print("Ctrl+C stops everything.", flush=True)
        deadline = None if args.duration is None else time.monotonic() + args.duration
        while deadline is None or time.monotonic() < deadline:
            for proc in procs:
                assert proc.popen is not None
                if proc.popen.poll() is not None:
                    print(
                        f"{proc.name} exited with {proc.popen.returncode}; see {proc.log}",
                        flush=True,
                    )
                    status = 1
                    raise Stopping(proc.name)
            time.sleep(0.5)
    except Stopping:
        pass
    except RuntimeError as exc:
        print(f"The stack did not start: {exc}", flush=True)
        status = 1
    finally:
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        print("Stopping ...", flush=True)
        stop(procs, args.grace)
        print("Stopped.", flush=True)
    return status


if __name__ == "__main__":
    sys.exit(main())
