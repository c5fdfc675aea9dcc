"""The Escalated family's conformance fixtures, run against this implementation.

One test per YAML file under ``fixtures/`` (a copy of the family's ``contract/conformance``;
``test_copy_matches_the_family`` notices drift when ``../shared/conformance`` is at hand). Each
``given`` is mapped onto real set-up (tickets, settings, inbound log rows) and real calls (the
inbound webhook, the public-submission service, the admin API), and each ``expect`` is asserted
exactly. Fixtures marked ``security: true`` can never be skipped: a missing mapping fails.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import uuid
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pytest
import yaml
from sqlalchemy import func, select

from flask_escalated.events import Actor
from flask_escalated.models import Contact, InboundEmail, Ticket
from flask_escalated.services import guests, settings, tickets

pytestmark = pytest.mark.all_databases

FIXTURES = Path(__file__).parent / "fixtures"
FAMILY = Path(__file__).resolve().parents[3] / "shared" / "conformance"
SECRET = "conformance-inbound-secret"


def _load() -> list[tuple[str, dict[str, Any]]]:
    return [(str(p.relative_to(FIXTURES)), yaml.safe_load(p.read_text()))
            for p in sorted(FIXTURES.glob("*/*.yaml"))]


CASES = _load()


def test_every_fixture_is_mapped():
    assert {name.split("/")[0] for name, _ in CASES} == {
        "email-threading", "guest-policy", "admin-surfaces"}
    assert any(case.get("security") for _, case in CASES)


@pytest.mark.skipif(not FAMILY.is_dir(), reason="the family's copy is not on this machine")
def test_copy_matches_the_family():
    family = {str(p.relative_to(FAMILY)): p.read_bytes() for p in FAMILY.glob("*/*.yaml")}
    ours = {str(p.relative_to(FIXTURES)): p.read_bytes() for p in FIXTURES.glob("*/*.yaml")}
    assert ours == family


# ---------------------------------------------------------------------------- e-mail threading
def _remap(text: str, ids: dict[int, int], secret: str | None) -> str:
    """Put our real ticket ids where the fixture names its ids; recompute ``{hmac8}``."""
    def ticket_id(match: re.Match[str]) -> str:
        return f"ticket-{ids.get(int(match.group(1)), int(match.group(1)))}@"

    def signed(match: re.Match[str]) -> str:
        real = ids.get(int(match.group(1)), int(match.group(1)))
        tag = match.group(2)
        if tag == "{hmac8}":
            tag = hmac.new((secret or "").encode(), str(real).encode(),
                           hashlib.sha256).hexdigest()[:8]
        return f"reply+{real}.{tag}@"

    text = re.sub(r"ticket-(\d+)@", ticket_id, text)
    return re.sub(r"reply\+(\d+)\.(\{hmac8\}|[0-9a-fA-F]+)@", signed, text)


def _threading(make_app, users_for, given: dict[str, Any], expect: dict[str, Any]) -> None:
    app = make_app(ESCALATED_INBOUND_SECRET=SECRET, ESCALATED_MAIL_DOMAIN=given["reply_domain"],
                   ESCALATED_REPLY_SECRET=given.get("inbound_reply_secret"))
    people = users_for(app)
    ext = app.extensions["escalated"]
    ids: dict[int, int] = {}
    with app.app_context():
        existing = given.get("existing_ticket")
        if existing:
            with ext.unit_of_work():
                t = tickets.create_ticket(tickets.NewTicket(
                    subject="printer jam", description="It jams.",
                    requester_user_id=str(people.customer.id)), Actor.system())
                if existing.get("reference"):
                    t.reference = existing["reference"]
            ids[existing["id"]] = t.id
        with ext.unit_of_work():
            for record in given.get("inbound_email_records") or []:
                ext.session.add(InboundEmail(
                    adapter="raw", message_id=record["message_id"], status="processed",
                    outcome="reply_added", ticket_id=ids[record["ticket_id"]], raw_size=0))
        before = ext.session.execute(select(func.count()).select_from(Ticket)).scalar_one()

    inbound = given["inbound"]
    msg = EmailMessage()
    headers = dict(inbound.get("headers") or {})
    # Fixtures 01-05 (and the forged 07) reply as the ticket's requester: a thread match is
    # not an identity, so a stranger's mail would open a new ticket by design.
    msg["From"] = headers.pop("From", people.customer.email)
    for name, value in headers.items():
        msg[name] = _remap(str(value), ids, given.get("inbound_reply_secret"))
    msg["Subject"] = inbound.get("subject", "")
    msg["Message-ID"] = f"<{uuid.uuid4().hex}@client.example>"
    msg.set_content("Reply body.")
    response = app.test_client().post(
        "/support/webhook/email/inbound?adapter=raw", data=msg.as_bytes(),
        content_type="message/rfc822", headers={"X-Escalated-Inbound-Secret": SECRET})
    assert response.status_code in (200, 201), response.get_data(True)
    body = response.get_json()

    with app.app_context():
        after = ext.session.execute(select(func.count()).select_from(Ticket)).scalar_one()
    assert body["matched_by"] == expect["matched_by"]
    assert (after == before + 1) is expect["created_new_ticket"]
    assert (body["outcome"] == "ticket_created") is expect["created_new_ticket"]
    wanted = expect["resolved_ticket_id"]
    if wanted is None:
        assert body["outcome"] == "ticket_created" and body["ticket_id"] not in ids.values()
    else:
        assert body["outcome"] == "reply_added" and body["ticket_id"] == ids[wanted]


# ---------------------------------------------------------------------------- guest policy
def _guest_policy(make_app, users_for, given: dict[str, Any], expect: dict[str, Any]) -> None:
    app = make_app()
    people = users_for(app)
    ext = app.extensions["escalated"]
    with app.app_context():
        from tests.hosts import intid

        users_before = intid.db.session.execute(
            select(func.count()).select_from(intid.User)).scalar_one()
        changes = dict(given.get("settings") or {})
        if changes.get("guest_policy_mode") == "guest_user":
            changes.setdefault("guest_policy_user_id", str(people.other.id))
        with ext.unit_of_work():
            settings.update(Actor.system(), changes)
        sub = given["submission"]
        with ext.unit_of_work():
            ticket, mode = guests.open_ticket(
                channel=sub["channel"], name=sub["name"], email=sub["email"],
                subject=sub.get("subject", "Guest submission"), description="From the widget.")
            ticket_id = ticket.id
        ext.session.rollback()
        ticket = ext.session.get(Ticket, ticket_id)
        contact = ext.session.get(Contact, ticket.contact_id)
        users_after = intid.db.session.execute(
            select(func.count()).select_from(intid.User)).scalar_one()
    if "policy_mode_applied" in expect:
        assert mode == expect["policy_mode_applied"]
    if "ticket" in expect:
        want = expect["ticket"]
        assert (ticket.requester_user_id or 0) == want["requester_id"]
        assert want["contact_id"] == "<created>" and contact is not None
        assert contact.name == want["guest_name"] and contact.email == want["guest_email"]
    if "host_user_created" in expect:
        assert (users_after > users_before) is expect["host_user_created"]


# ---------------------------------------------------------------------------- admin surfaces
def _admin_surfaces(make_app, users_for, given: dict[str, Any], expect: dict[str, Any]) -> None:
    from .surfaces import check_surface

    check_surface(make_app, users_for, given["surface"], expect)


RUNNERS = {"email-threading": _threading, "guest-policy": _guest_policy,
           "admin-surfaces": _admin_surfaces}


@pytest.mark.parametrize(("name", "case"), CASES, ids=[n for n, _ in CASES])
def test_fixture(make_app, users_for, name, case):
    runner = RUNNERS[name.split("/")[0]]  # a KeyError fails: nothing is skipped
    runner(make_app, users_for, case["given"], case["expect"])
