"""Which addresses a webhook (or a rule's notify call) may reach: the classifier, table-driven,
and the refusal end to end when the URL is saved and again when a delivery is sent.

Host names are made to resolve where a test needs them by replacing ``socket.getaddrinfo`` for
names under ``.hooks.test`` only: DNS is outside this machine, everything else is real (the
receiver is a real HTTP server on 127.0.0.1).
"""

from __future__ import annotations

import ipaddress
import socket

import pytest
from sqlalchemy import select

from flask_escalated.events import Actor
from flask_escalated.models import WebhookDelivery
from flask_escalated.services import outbound, webhooks
from flask_escalated.services.errors import ValidationError
from tests.sla.test_webhooks import Receiver, open_ticket, wait_for

REFUSED = [
    "127.0.0.1", "10.1.2.3", "172.16.0.1", "192.168.0.1", "169.254.169.254", "0.0.0.0",
    "100.64.0.1", "100.100.100.200", "100.127.255.254",       # carrier-grade NAT
    "192.0.2.10", "198.18.0.1", "240.0.0.1", "255.255.255.255", "224.0.0.1",
    "::1", "::", "fe80::1", "fc00::1", "fd12:3456::1", "ff02::1", "2001:db8::1",
    "::ffff:127.0.0.1", "::ffff:10.0.0.1", "::ffff:100.64.0.1", "::ffff:169.254.169.254",
    "::127.0.0.1", "::10.0.0.1", "::8.8.8.8",                 # IPv4-compatible
    "2002:7f00:1::1", "2002:a9fe:a9fe::", "2002:808:808::1",  # 6to4, whatever is inside
    "2001:0:4136:e378:8000:63bf:3fff:fdd2", "2001::1",        # Teredo
    "64:ff9b::127.0.0.1", "64:ff9b::a9fe:a9fe", "64:ff9b::100.64.0.1",  # NAT64 to private
    "64:ff9b:1::808:808",                                     # local-use NAT64
]
ALLOWED = [
    "8.8.8.8", "93.184.216.34", "1.1.1.1", "100.128.0.1", "100.63.255.255",
    "2001:4860:4860::8888", "2606:4700:4700::1111",
    "::ffff:8.8.8.8", "64:ff9b::8.8.8.8",                     # mapped / NAT64 to public
]


@pytest.mark.parametrize("address", REFUSED)
def test_non_public_addresses_are_refused(address):
    assert outbound.is_public_address(ipaddress.ip_address(address)) is False


@pytest.mark.parametrize("address", ALLOWED)
def test_public_addresses_are_allowed(address):
    assert outbound.is_public_address(ipaddress.ip_address(address)) is True


def test_an_ipv6_zone_is_never_public():
    assert outbound.is_public_address(ipaddress.ip_address("fe80::1%eth0")) is False


class FakeDNS:
    """Answers for ``*.hooks.test``; every other name goes to the real resolver."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.answers: dict[str, list[list[str]]] = {}
        real = socket.getaddrinfo

        def getaddrinfo(host, port, *args, **kwargs):
            if isinstance(host, str) and host.endswith(".hooks.test"):
                queue = self.answers[host]
                addresses = queue.pop(0) if len(queue) > 1 else queue[0]
                return [(socket.AF_INET6 if ":" in a else socket.AF_INET, socket.SOCK_STREAM,
                         6, "", (a, port or 0)) for a in addresses]
            return real(host, port, *args, **kwargs)

        monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)

    def set(self, host: str, *answers: list[str]) -> None:
        """The answers in turn (the last one repeats)."""
        self.answers[host] = list(answers)


@pytest.fixture
def dns(monkeypatch):
    return FakeDNS(monkeypatch)


@pytest.mark.parametrize("literal", [
    "100.64.0.1", "[2002:7f00:1::1]", "[64:ff9b::7f00:1]", "[::ffff:a9fe:a9fe]",
    "[::127.0.0.1]", "[2001:0:4136:e378:8000:63bf:3fff:fdd2]", "[fe80::1%25eth0]",
])
def test_registration_refuses_literal_addresses(client_as, users, literal):
    admin = client_as(users.admin)
    r = admin.post("/support/api/v1/webhooks", json={"url": f"http://{literal}/hook",
                                                     "events": ["*"]})
    assert r.status_code == 422, r.json
    assert r.json["error"]["fields"] == {"url": "not a public address"}


@pytest.mark.parametrize("answer", [["100.64.0.1"], ["2002:7f00:1::1"], ["64:ff9b::a00:1"],
                                    ["93.184.216.34", "10.0.0.1"]])
def test_registration_refuses_names_with_any_non_public_address(app, dns, answer):
    dns.set("inside.hooks.test", answer)
    with pytest.raises(ValidationError) as refused:
        webhooks.create_webhook(Actor.system(), {"url": "https://inside.hooks.test/x",
                                                 "events": ["*"]})
    assert refused.value.fields == {"url": "not a public address"}


def test_registration_accepts_a_public_name(app, dns):
    dns.set("public.hooks.test", ["93.184.216.34", "2606:2800:220:1::1"])
    hook = webhooks.create_webhook(Actor.system(), {"url": "https://public.hooks.test/x",
                                                    "events": ["*"]})
    assert hook.url == "https://public.hooks.test/x"


@pytest.fixture
def receiver():
    r = Receiver()
    yield r
    r.close()


def _customer():
    from tests.hosts import intid

    customer = intid.make_user("addr@example.test", "A")
    intid.db.session.commit()
    return customer


def _last_delivery(app):
    ext = app.extensions["escalated"]
    ext.session.rollback()
    return ext.session.execute(select(WebhookDelivery).order_by(WebhookDelivery.id.desc())
                               ).scalars().first()


def test_delivery_refuses_a_name_that_now_resolves_inside(make_app, dns, receiver):
    """Public when saved, carrier-grade NAT when sent: the delivery fails and says why."""
    app = make_app(ESCALATED_WEBHOOK_MAX_ATTEMPTS=3)
    port = receiver.server.server_port
    with app.app_context():
        dns.set("moved.hooks.test", ["93.184.216.34"], ["100.64.0.1"])
        with app.extensions["escalated"].unit_of_work():
            webhooks.create_webhook(Actor.system(), {
                "url": f"http://moved.hooks.test:{port}/hook", "events": ["ticket.created"]})
        open_ticket(app, _customer())
        assert wait_for(lambda: (row := _last_delivery(app)) is not None and row.attempts == 1)
        row = _last_delivery(app)
        assert row.status == "failed"
        assert "non-public address (100.64.0.1)" in row.last_error
        assert receiver.requests == []


def test_delivery_connects_to_the_address_it_checked(make_app, dns, receiver):
    """A rebinding name answers a public address to the check and loopback to the
    connection that follows: the request still goes only to the checked address."""
    app = make_app(ESCALATED_WEBHOOK_MAX_ATTEMPTS=3)
    port = receiver.server.server_port
    with app.app_context():
        dns.set("rebind.hooks.test", ["93.184.216.34"], ["93.184.216.34"], ["127.0.0.1"])
        with app.extensions["escalated"].unit_of_work():
            webhooks.create_webhook(Actor.system(), {
                "url": f"http://rebind.hooks.test:{port}/hook", "events": ["ticket.created"]})
        open_ticket(app, _customer())
        assert wait_for(lambda: (row := _last_delivery(app)) is not None and row.attempts == 1)
        assert _last_delivery(app).status == "failed"
        assert receiver.requests == []


def test_the_allowlist_still_reaches_a_local_receiver(make_app, receiver):
    app = make_app(ESCALATED_WEBHOOK_ALLOWED_HOSTS=["127.0.0.1"])
    with app.app_context():
        with app.extensions["escalated"].unit_of_work():
            webhooks.create_webhook(Actor.system(), {"url": receiver.url,
                                                     "events": ["ticket.created"]})
        open_ticket(app, _customer())
        assert wait_for(lambda: len(receiver.requests) == 1)
        assert wait_for(lambda: _last_delivery(app).status == "delivered")
