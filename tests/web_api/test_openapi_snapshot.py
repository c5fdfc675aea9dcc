"""The checked-in ``docs/openapi.json`` is what the demo serves, byte for byte.

A change to a schema, a route or an operation id changes the document; this test makes that
change a visible diff in review (the author regenerates the copy with the command below and
commits it with the code). The document is built through ``flask escalated openapi``, so the
command the failure message names is the one that is tested.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SNAPSHOT = ROOT / "docs" / "openapi.json"
REGENERATE = "flask --app examples.demo.app escalated openapi -o docs/openapi.json"


@pytest.fixture
def demo(tmp_path, monkeypatch):
    """The demo app on an empty SQLite file, unseeded (the document needs no rows)."""
    from examples.demo import app as demo_module

    monkeypatch.setenv("DEMO_INSTANCE_PATH", str(tmp_path / "instance"))
    app = demo_module.create_app({
        "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'demo.sqlite'}", "TESTING": True,
        "DEMO_SEED": False, "ESCALATED_ATTACHMENT_STORAGE": str(tmp_path / "files")})
    yield app
    with app.app_context():
        app.extensions["sqlalchemy"].engine.dispose()


def _generate(app) -> str:
    result = app.test_cli_runner().invoke(args=["escalated", "openapi"])
    assert result.exit_code == 0, result.output
    return result.stdout


def test_checked_in_document_is_current(demo):
    text = _generate(demo)
    committed = SNAPSHOT.read_text(encoding="utf-8") if SNAPSHOT.exists() else ""
    assert text == committed, (
        f"docs/openapi.json is out of date with the API's schemas. Regenerate it from the "
        f"repository root with `{REGENERATE}`, review the diff and commit it.")


def test_document_is_stable_and_has_no_host(demo):
    """Two runs print the same text, and nothing in it names a host, port or date of the
    machine that built it: the server is the API's path."""
    text = _generate(demo)
    assert _generate(demo) == text
    doc = json.loads(text)
    assert doc["servers"] == [{"url": "/support/api/v1"}]
    for needle in ("127.0.0.1", "localhost", ":5000", demo.config["ESCALATED_APP_URL"]):
        assert needle not in text


def test_output_option_writes_the_same_text(demo, tmp_path):
    out = tmp_path / "openapi.json"
    result = demo.test_cli_runner().invoke(args=["escalated", "openapi", "-o", str(out)])
    assert result.exit_code == 0, result.output
    assert out.read_text(encoding="utf-8") == _generate(demo)
