"""The README's first snippet works as written, in the setting it shows: its Python block
saved as a host's ``app.py`` (plus the host's own ``User`` model, which the snippet names but
does not show), then its console block run against it. Without the hook, the commands say
which hook to add instead of a bare "No host user"."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

from tests.demo_process import ROOT

README = ROOT / "README.md"
HOST_MODEL = '''

class User(db.Model):                   # the host's own users (not part of the snippet)
    id = db.Column(db.Integer, primary_key=True)
    email = db.Column(db.String(255), unique=True)
    name = db.Column(db.String(255))
'''
MAKE_USER = (
    "from app import app, db, User\n"
    "with app.app_context():\n"
    "    db.create_all()\n"
    "    db.session.add(User(email='you@example.com', name='You'))\n"
    "    db.session.commit()\n")


def _first_blocks() -> tuple[str, list[str]]:
    text = README.read_text()
    python = re.search(r"^```python\n(.*?)^```", text, re.M | re.S)
    console = re.search(r"^```console\n(.*?)^```", text, re.M | re.S)
    assert python and console and python.start() < console.start()
    commands = [re.sub(r"\s+#\s.*$", "", line[2:]).strip()
                for line in console.group(1).splitlines() if line.startswith("$ ")]
    return python.group(1), commands


def _host(folder: Path, source: str) -> dict[str, str]:
    (folder / "app.py").write_text(source + HOST_MODEL)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("FLASK_", "ESCALATED_"))}
    env.update(FLASK_APP="app", PYTHONPATH=str(ROOT), PYTHONDONTWRITEBYTECODE="1",
               PATH=os.pathsep.join([str(Path(sys.executable).parent), env.get("PATH", "")]))
    subprocess.run([sys.executable, "-c", MAKE_USER], cwd=folder, env=env, check=True,
                   timeout=120)
    return env


def _run(command: str, folder: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["bash", "-c", command], cwd=folder, env=env, capture_output=True,
                          text=True, timeout=120)


def test_the_first_snippet_works_as_written(tmp_path):
    source, commands = _first_blocks()
    assert commands == ["flask escalated db upgrade",
                        "flask escalated make-admin you@example.com"]
    env = _host(tmp_path, source)
    for command in commands:
        done = _run(command, tmp_path, env)
        assert done.returncode == 0, (command, done.stdout, done.stderr)
    assert "User 1 is now an admin" in done.stdout


def test_without_the_hook_the_command_names_it(tmp_path):
    source, _ = _first_blocks()
    bare = source.split("@escalated.user_by_email")[0]  # the snippet without its hook
    env = _host(tmp_path, bare)
    assert _run("flask escalated db upgrade", tmp_path, env).returncode == 0
    for ident, hint in (("you@example.com", "needs the user_by_email hook"),
                        ("1", "Flask-Login's user_loader or its own user_loader hook")):
        done = _run(f"flask escalated make-admin {ident}", tmp_path, env)
        assert done.returncode != 0
        assert hint in done.stderr and "README, 'Your users'" in done.stderr, done.stderr
