"""Two real demo servers sharing Redis as the Socket.IO message queue: a change made through
process A reaches a client connected to process B."""

from __future__ import annotations

import time

import pytest
import requests
import socketio

from tests.demo_process import api_token

pytestmark = pytest.mark.xdist_group("redis")  # the Socket.IO channel on Redis is shared


@pytest.mark.slow
@pytest.mark.parametrize("transport", ["websocket", "polling"])
def test_a_change_in_process_a_reaches_a_client_of_process_b(start_demo, demo_env, transport):
    a = start_demo("a")  # seeds the demo database first
    b = start_demo("b")
    token = api_token(demo_env)
    auth = {"Authorization": f"Bearer {token}"}
    listing = requests.get(a + "/support/api/v1/tickets?limit=1", headers=auth, timeout=10)
    assert listing.status_code == 200, listing.text
    ticket_id = listing.json()["data"][0]["id"]

    received: list[tuple[str, dict]] = []
    client = socketio.Client(reconnection=False)
    client.on("*", lambda event, data: received.append((event, data)), namespace="/escalated")
    client.connect(b, headers=auth, namespaces=["/escalated"], transports=[transport],
                   socketio_path="support/socket.io", wait_timeout=10)
    try:
        ack = client.call("join", {"channel": f"escalated.tickets.{ticket_id}"},
                          namespace="/escalated", timeout=10)
        assert ack == {"ok": True, "channel": f"escalated.tickets.{ticket_id}"}
        reply = requests.post(f"{a}/support/api/v1/tickets/{ticket_id}/replies",
                              json={"body": "Sent through process A"}, headers=auth, timeout=10)
        assert reply.status_code == 201, reply.text
        reply_id = reply.json()["data"]["id"]
        expected = ("ticket:reply", {"ticket_id": ticket_id, "reply_id": reply_id,
                                     "internal": False})
        deadline = time.monotonic() + 10
        while expected not in received and time.monotonic() < deadline:
            time.sleep(0.05)
        assert expected in received, received
    finally:
        client.disconnect()


def test_anonymous_socket_clients_are_refused_by_a_real_server(start_demo):
    base = start_demo("solo")
    client = socketio.Client(reconnection=False)
    with pytest.raises(socketio.exceptions.ConnectionError):
        client.connect(base, namespaces=["/escalated"], transports=["websocket"],
                       socketio_path="support/socket.io", wait_timeout=10)
    client.disconnect()
