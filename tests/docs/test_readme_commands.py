"""Every command in README.md's fenced console/bash/shell blocks runs, against a throwaway host
app: the demo (``examples.demo.app``) on a fresh SQLite file in a temporary folder, which is
what ``FLASK_APP`` names for the commands written without ``--app``. A command that serves
(the demo, the RQ worker, the cron scheduler) is started, checked to come up and stopped; a
command that cannot run here is listed in ``SKIPPED`` with the reason. Anything else must exit 0.

A block whose lines start with ``$ `` holds commands on those lines (the others are output);
otherwise every line that is not a comment is a command; a trailing ``\\`` continues a line.
"""

from __future__ import annotations

import os
import re
import shlex
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from redis import Redis

from tests.demo_process import ROOT, answers, demo_env, free_port

README = ROOT / "README.md"
FENCE = re.compile(r"^```(console|bash|shell|sh)[ \t]*\n(.*?)^```", re.M | re.S)
#: A Redis database of its own for the worker and cron commands (other tests use 12, 14, 15).
REDIS_URL = "redis://127.0.0.1:6379/13"
COMMAND_TIMEOUT = 180

#: Commands this test does not run, each with the reason.
SKIPPED = {
    # nox builds its own virtual environments from PyPI (minutes, and network); the server it
    # starts is `python -m examples.demo`, which runs below.
    "python3 noxfile.py -s demo": "nox installs its own environments",
    "ESCALATED_ENABLE_REALTIME=1 PORT=5000 python3 noxfile.py -s demo":
        "nox installs its own environments",
    # The test suite itself: running it from inside it would recurse.
    "python3 noxfile.py -s tests": "runs this test suite",
    "python3 noxfile.py -s tests_sqlite": "runs this test suite",
    # Shapes of HTTP calls with elided parts (`.../api/v1`, `esc_...`), not runnable as they
    # stand; the API routes themselves are tested in tests/web_api.
    "curl -X PUT .../api/v1/agents/42/roles -H 'Content-Type: application/json' "
    "-d '{\"role\": \"light_agent\", \"grants\": [{\"role\": \"agent\", \"department_id\": 3}]}'":
        "an elided URL",
    "curl -H \"Authorization: Bearer esc_...\" "
    "http://localhost:5000/support/api/v1/tickets?status_category=open": "an elided token",
    # Client generation: needs a demo serving on port 5000 and generators fetched from the
    # npm registry (examples of third-party tools, not part of Escalated); the document they
    # read is validated in tests/web_api/test_contract.py.
    "curl -o escalated.json http://localhost:5000/support/api/v1/openapi.json":
        "needs a server on port 5000",
    "npx @openapitools/openapi-generator-cli generate -i escalated.json -g python -o "
    "escalated-client": "a third-party generator from the npm registry",
    "npx openapi-typescript escalated.json -o escalated.d.ts":
        "a third-party generator from the npm registry",
}

#: What the README's prose around a command sets up for it.
CONTEXT = {
    "flask escalated worker": {"REDIS_URL": REDIS_URL},  # "With ESCALATED_REDIS_URL set"
    "flask escalated cron": {"REDIS_URL": REDIS_URL},
}

#: The host users the README's examples name ("you@example.com" is the reader).
README_USERS = [("you@example.com", "You"), ("agent@example.com", "An Agent")]


@dataclass
class Command:
    line: int
    text: str

    @property
    def key(self) -> str:
        return re.sub(r"\s+#\s.*$", "", self.text).strip()


def readme_commands(text: str) -> list[Command]:
    commands = []
    for block in FENCE.finditer(text):
        first_line = text.count("\n", 0, block.start(2)) + 1
        lines = block.group(2).splitlines()
        prompted = any(line.startswith("$ ") for line in lines)
        current: list[str] = []
        start = 0
        for number, line in enumerate(lines, first_line):
            if current:
                current.append(line.strip())
            elif prompted and line.startswith("$ "):
                current, start = [line[2:].strip()], number
            elif not prompted and line.strip() and not line.lstrip().startswith("#"):
                current, start = [line.strip()], number
            else:
                continue
            if current[-1].endswith("\\"):
                current[-1] = current[-1][:-1].strip()
                continue
            commands.append(Command(start, " ".join(current)))
            current = []
    return commands


def test_the_readme_has_commands_and_the_parser_reads_them():
    sample = ("```console\n$ flask escalated db upgrade   # comment\n$ a \\\n    b\nout\n```\n"
              "```python\nnot = 'a command'\n```\n```bash\n# note\nX=1 c \\\n  d\n```\n")
    assert [c.key for c in readme_commands(sample)] == [
        "flask escalated db upgrade", "a b", "X=1 c d"]
    keys = [c.key for c in readme_commands(README.read_text())]
    assert "flask escalated make-admin you@example.com" in keys
    assert "flask --app examples.demo.app escalated --help" in keys


def _server_kind(key: str) -> str | None:
    words = key.split()
    words = words[next(i for i, w in enumerate(words) if "=" not in w):]
    if words[:3] == ["python", "-m", "examples.demo"] and (
            len(words) == 3 or words[3].startswith("-")):
        return "demo"
    if words[:3] == ["flask", "escalated", "worker"] and "--burst" not in words:
        return "worker"
    if words[:3] == ["flask", "escalated", "cron"] and "--once" not in words:
        return "cron"
    return None


@pytest.fixture(scope="module")
def host(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, str]]:
    """The environment of a fresh demo (seeded) that also has the README's users."""
    folder = tmp_path_factory.mktemp("readme-host")
    env = demo_env(folder, FLASK_APP="examples.demo.app", SECRET_KEY="readme-test",
                   PATH=os.pathsep.join([str(Path(sys.executable).parent), os.environ["PATH"]]))
    script = (
        "from examples.demo.app import User, create_app, db\n"
        "from werkzeug.security import generate_password_hash\n"
        "app = create_app({'TESTING': True})\n"
        "with app.app_context():\n"
        f"    for email, name in {README_USERS!r}:\n"
        "        db.session.add(User(email=email, name=name,\n"
        "                            password_hash=generate_password_hash('x')))\n"
        "    db.session.commit()\n")
    subprocess.run([sys.executable, "-c", script], cwd=ROOT, env=env, check=True,
                   timeout=COMMAND_TIMEOUT)
    env["_FOLDER"] = str(folder)
    redis = Redis.from_url(REDIS_URL)
    redis.flushdb()  # no jobs left queued by an earlier run for the worker to pick up
    yield env
    redis.flushdb()
    redis.close()


def _throwaway(key: str, folder: str) -> tuple[str, int]:
    """The command with the README's fixed places (a /tmp file, a port, Redis database 0)
    moved to throwaway ones; returns it and the port it will serve on."""
    port = free_port()
    key = key.replace("/tmp/demo.sqlite", f"{folder}/readme-demo.sqlite")
    key = key.replace("redis://127.0.0.1:6379/0", REDIS_URL)
    # (the checked-in document is compared by tests/web_api/test_openapi_snapshot.py)
    key = key.replace("-o docs/openapi.json", f"-o {folder}/openapi.json")
    key = re.sub(r"(--port |PORT=)\d+", lambda m: f"{m.group(1)}{port}", key)
    return key, port


def _serve(command: str, port: int, kind: str, env: dict[str, str], log: Path) -> None:
    """Start a long-running command, wait until it is up, stop it."""
    with open(log, "wb") as out:
        process = subprocess.Popen(["bash", "-c", f"exec env {command}"], cwd=ROOT, env=env,
                                   stdout=out, stderr=subprocess.STDOUT)
    ready = {"worker": "Listening on", "cron": "Scheduling"}.get(kind)
    deadline = time.monotonic() + COMMAND_TIMEOUT
    try:
        while True:
            if kind == "demo" and answers(f"http://127.0.0.1:{port}/login"):
                break
            if ready and ready in log.read_text(errors="replace"):
                break
            assert process.poll() is None, (
                f"`{command}` exited with {process.returncode}:\n{log.read_text()}")
            assert time.monotonic() < deadline, f"`{command}` did not come up:\n{log.read_text()}"
            time.sleep(0.3)
    finally:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)
    assert "Traceback" not in log.read_text(errors="replace"), log.read_text()


def _commands() -> list[Command]:
    return readme_commands(README.read_text())


@pytest.mark.parametrize("command", _commands(), ids=lambda c: f"line{c.line}")
def test_readme_command(command: Command, host: dict[str, str], tmp_path: Path) -> None:
    key = command.key
    if key in SKIPPED:
        pytest.skip(f"README line {command.line}: {SKIPPED[key]}")
    env = {**host, **next((extra for prefix, extra in CONTEXT.items()
                           if key.startswith(prefix)), {})}
    text, port = _throwaway(key, host["_FOLDER"])
    kind = _server_kind(key)
    if kind is not None:
        _serve(text, port, kind, env, tmp_path / "log")
        return
    assert shlex.split(text)  # one shell command line, as written
    done = subprocess.run(["bash", "-c", text], cwd=ROOT, env=env, capture_output=True,
                          text=True, timeout=COMMAND_TIMEOUT)
    assert done.returncode == 0, (
        f"README line {command.line}: `{key}` exited with {done.returncode}\n"
        f"{done.stdout}\n{done.stderr}")


def test_skipped_commands_are_still_in_the_readme():
    """A skip entry for a command the README no longer has would hide a new one."""
    keys = {c.key for c in _commands()}
    assert set(SKIPPED) <= keys, set(SKIPPED) - keys
