"""The browser client's wire format and presence text, run under Node (the file exports its
pure helpers when loaded as a module), and the static file being served."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest

SCRIPT = Path(__file__).resolve().parents[2] / "flask_escalated/static/escalated/realtime.js"

NODE_CHECKS = r"""
const p = require(process.argv[1]);
const out = {
  encoded: p.encode("join", {channel: "escalated.tickets.4"}, 7),
  open: p.decode('0{"sid":"s","pingInterval":25000,"pingTimeout":20000}'),
  ping: p.decode("2"),
  connect: p.decode('40/escalated,{"sid":"x"}'),
  refused: p.decode('44/escalated,{"message":"unauthorized"}'),
  event: p.decode('42/escalated,["ticket:reply",{"ticket_id":4,"reply_id":9,"internal":false}]'),
  ack: p.decode('43/escalated,7[{"ok":false,"error":"forbidden"}]'),
  other: p.decode('42/other,["x",1]'),
  root: p.decode('42["x",1]'),
  text: p.presenceText([
    {user_id: "1", name: "Me", state: "viewing"},
    {user_id: "2", name: "<b>Bob</b>", state: "typing"},
    {user_id: "3", name: "Ann", state: "viewing"},
    {user_id: "4", name: "Gone", state: "left"}], "1"),
};
console.log(JSON.stringify(out));
"""


@pytest.fixture(scope="module")
def node() -> str:
    path = shutil.which("node") or shutil.which("nodejs")
    if path is None:
        pytest.skip("Node.js is not installed")
    return path


def test_wire_format_and_presence_text(node):
    out = subprocess.run([node, "-e", NODE_CHECKS, str(SCRIPT)], capture_output=True,
                         text=True, timeout=30, check=True)
    got = json.loads(out.stdout)
    assert got["encoded"] == '42/escalated,7["join",{"channel":"escalated.tickets.4"}]'
    assert got["open"] == {"kind": "open", "info": {"sid": "s", "pingInterval": 25000,
                                                    "pingTimeout": 20000}}
    assert got["ping"] == {"kind": "ping"}
    assert got["connect"] == {"kind": "connect"}
    assert got["refused"]["kind"] == "connect_error"
    assert got["event"] == {"kind": "event", "id": "", "name": "ticket:reply",
                            "data": {"ticket_id": 4, "reply_id": 9, "internal": False}}
    assert got["ack"] == {"kind": "ack", "id": "7", "data": {"ok": False, "error": "forbidden"}}
    assert got["other"] == {"kind": "noop"} and got["root"] == {"kind": "noop"}
    # Names are text (the page sets textContent), the viewer themself is left out.
    assert got["text"] == "<b>Bob</b> is typing \u00b7 Ann is viewing"


def test_the_script_is_served(client_as, users):
    r = client_as(users.customer).get("/support/static/realtime.js")
    assert r.status_code == 200
    body = r.get_data(as_text=True)
    assert "data-live-region" in body and "innerHTML" not in body
    r.close()
