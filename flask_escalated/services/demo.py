"""Demo data: departments and a few dozen tickets in every state, for trying the product.

Everything goes through the same services as real traffic, so the demo exercises the real
paths (activity, events, assignment) rather than inserting rows behind their back.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from datetime import date, datetime, timedelta

from sqlalchemy import func, select

from ..clock import FrozenClock, frozen, now
from ..domain import PRIORITIES
from ..events import Actor
from ..models import BusinessSchedule, Holiday, SlaPolicy, Ticket
from . import agents, assignment, departments, kb, replies, session, sla, tags, tickets
from .permissions import Principal

SUBJECTS = [
    ("Can't sign in after password reset", "I reset my password but the sign-in page keeps "
     "saying my credentials are wrong."),
    ("Invoice shows the wrong VAT number", "Our invoice for last month has our old VAT number."),
    ("Export to CSV times out", "Exporting the full report never finishes; it spins forever."),
    ("How do I add a second admin?", "We need another person to manage the account."),
    ("Refund for duplicate charge", "I was charged twice for the same order yesterday."),
    ("Mobile app crashes on start", "Since the last update the app closes right after opening."),
    ("Feature request: dark mode", "Would love a dark theme for late-night work."),
    ("Webhook deliveries failing", "Our endpoint gets no events since this morning."),
    ("Change the e-mail on my account", "I moved companies and need to update my address."),
    ("API rate limit too low", "We hit the rate limit during nightly syncs."),
    ("Two-factor codes not accepted", "The codes from my authenticator app are rejected."),
    ("Cancel my subscription", "Please cancel at the end of the current period."),
]

TAGS = ["billing", "bug", "how-to", "vip", "api"]

#: (target status path from open, how many tickets)
STATE_PATHS: list[tuple[list[str], int]] = [
    ([], 6),
    (["in_progress"], 5),
    (["waiting_on_customer"], 4),
    (["waiting_on_agent"], 4),
    (["escalated"], 3),
    (["resolved"], 5),
    (["resolved", "closed"], 4),
    (["resolved", "reopened"], 3),
]


def _seed_sla() -> None:
    """A business-hours schedule with holidays and a default SLA policy."""
    week = {day: [{"start": "08:00", "end": "18:00"}]
            for day in ("monday", "tuesday", "wednesday", "thursday", "friday")}
    schedule = BusinessSchedule(name="Office hours", timezone="Europe/Berlin", hours=week,
                                is_default=True)
    schedule.holidays = [
        Holiday(name="New Year's Day", date=date(2026, 1, 1), recurring=True),
        Holiday(name="Christmas Day", date=date(2026, 12, 25), recurring=True),
    ]
    session().add(schedule)
    session().add(SlaPolicy(
        name="Standard support", description="Business-hours targets for every ticket.",
        is_active=True, position=0, conditions={}, schedule=schedule, warning_minutes=30,
        targets={
            "critical": {"first_response": 30, "next_response": 60, "resolution": 240},
            "urgent": {"first_response": 60, "next_response": 120, "resolution": 480},
            "high": {"first_response": 120, "next_response": 240, "resolution": 960},
            "medium": {"first_response": 240, "next_response": 480, "resolution": 1920},
            "low": {"first_response": 480, "next_response": 960, "resolution": 2880},
        },
    ))
    session().flush()
    sla.forget()


#: (category, parent category or None, [(title, Markdown body, visibility)]).
KB_ARTICLES: list[tuple[str, str | None, list[tuple[str, str, str]]]] = [
    ("Getting started", None, [
        ("Create your account", "1. Open the sign-up page.\n2. Enter your work e-mail.\n"
         "3. Confirm the link we e-mail you.\n\nThat's all: you can sign in right away.",
         "public"),
        ("Invite your team", "Go to **Settings → Team** and choose *Invite*. Each person "
         "gets an e-mail with a link that is valid for seven days.", "public"),
    ]),
    ("Account and sign-in", "Getting started", [
        ("Reset a forgotten password", "Choose **Forgot password?** on the sign-in page and "
         "follow the link we send. The link works once and expires after an hour.", "public"),
        ("Set up two-factor sign-in", "Open **Profile → Security**, scan the QR code with an "
         "authenticator app and type the six-digit code to confirm. Keep your recovery "
         "codes somewhere safe.", "public"),
    ]),
    ("Billing", None, [
        ("Download an invoice", "Invoices are under **Billing → Invoices**. Each one is a "
         "PDF you can forward to your accounts team.", "public"),
        ("Change your VAT number", "Update the VAT number under **Billing → Company "
         "details**. New invoices use it from the next billing date.", "public"),
        ("Request a refund", "Refunds for duplicate charges are automatic within five "
         "working days. For anything else, open a ticket with the invoice number.", "public"),
        ("Refund approval checklist (agents)", "- Check the charge in the payment "
         "provider.\n- Confirm it is a duplicate or within 14 days.\n- Refund, then tag "
         "the ticket `billing`.", "internal"),
    ]),
    ("Integrations", None, [
        ("Webhook deliveries and retries", "Each event is signed with your webhook secret "
         "(HMAC-SHA256). Failed deliveries are retried with growing delays for about a "
         "day.", "public"),
        ("API rate limits", "The API allows 300 requests a minute per token. Responses over "
         "the limit answer `429` with a `Retry-After` header.", "public"),
    ]),
]


def _seed_kb(admin_id: str | None) -> None:
    """A few categories and published articles (one internal) through the KB service."""
    editor = Principal.build(admin_id, is_admin=True)
    made: dict[str, int] = {}
    for name, parent, articles in KB_ARTICLES:
        category = kb.create_category(editor, {
            "name": name, "parent_id": made.get(parent) if parent else None})
        made[name] = category.id
        for title, body, visibility in articles:
            kb.create_article(editor, {"title": title, "body": body, "category_id": category.id,
                                       "visibility": visibility, "status": "published"})


#: How many days of history the demo's tickets spread over.
HISTORY_DAYS = 14

#: A ticket's last state, and how far along (so how old) tickets in it tend to be.
_STAGE_AGE = {"closed": 6, "resolved": 5, "reopened": 4, "escalated": 3,
              "waiting_on_agent": 2, "waiting_on_customer": 2, "in_progress": 1}


def _seed_ticket(index: int, path: list[str], rng: random.Random, clock: FrozenClock,
                 until: datetime, billing_id: int, support_id: int, staff: list[str],
                 customer_ids: list[str]) -> None:
    """One demo ticket opened at the clock's time and walked along ``path``, each step a
    while after the one before (never after ``until``)."""
    db = session()
    subject, body = SUBJECTS[index % len(SUBJECTS)]
    customer = customer_ids[index % len(customer_ids)]
    in_billing = any(w in subject.lower() for w in ("invoice", "refund", "cancel", "subscription"))
    # New, untriaged tickets sit in no department, so nobody is auto-assigned yet.
    dept_id = (billing_id if in_billing else support_id) if path else None
    ticket = tickets.create_ticket(
        tickets.NewTicket(
            subject=subject, description=body, requester_user_id=customer,
            priority=rng.choice(PRIORITIES), department_id=dept_id,
            tags=rng.sample(TAGS, k=rng.randint(0, 2)),
            channel=rng.choice(["web", "web", "email", "api"]),
        ),
        Actor.system(),
    )
    db.flush()
    agent = Actor.agent(ticket.assignee_id or rng.choice(staff))
    steps = _steps(ticket, path, agent, Actor.customer(customer))
    if index % 5 == 0:
        steps.insert(min(1, len(steps)), lambda: replies.add_reply(
            ticket, "Customer is on the annual plan.", agent, internal=True))
    left = until - clock.current
    for step in steps:
        clock.current += left / (len(steps) + 1) * rng.uniform(0.3, 1.0)
        step()
        db.flush()


def _steps(ticket: Ticket, path: list[str], agent: Actor,
           customer: Actor) -> list[Callable[[], object]]:
    """The service calls that take a new ticket along ``path``, one per moment in its life."""

    def take() -> None:
        if ticket.assignee_id is None:
            assignment.assign(ticket, agent.user_id, agent)

    def move(target: str) -> None:
        if ticket.status != target:  # assigning may already have started the work
            tickets.change_status(ticket, target, customer if target == "reopened" else agent)

    def say(text: str, who: Actor, internal: bool = False) -> Callable[[], object]:
        return lambda: replies.add_reply(ticket, text, who, internal=internal)

    def to(target: str) -> Callable[[], object]:
        return lambda: move(target)

    steps: list[Callable[[], object]] = []
    for target in path:
        if target == "waiting_on_customer":
            steps += [take, say("Thanks for reaching out! Could you tell us which browser you "
                                "are using?", agent)]
        elif target == "waiting_on_agent":
            steps += [say("We're looking into this.", agent),
                      say("It's the latest Firefox, on Windows.", customer)]
        elif target == "resolved":
            steps += [say("This is fixed now; let us know if it happens again.", agent),
                      to("resolved")]
        elif target == "in_progress":
            steps += [take, to("in_progress"),
                      say("Reproduced it; working on a fix.", agent, internal=True)]
        else:
            steps.append(to(target))
    return steps


def seed_demo(admin_ids: list[str], agent_ids: list[str], customer_ids: list[str],
              *, seed: int = 7) -> int:
    """Create the demo data once; returns the number of tickets created (0 if already seeded)."""
    if session().execute(select(func.count()).select_from(Ticket)).scalar_one():
        return 0
    rng = random.Random(seed)
    system = Actor.system()
    for uid in admin_ids:
        agents.make_agent(uid, system, role="admin")
    for uid in agent_ids:
        agents.make_agent(uid, system, role="agent")
    staff = admin_ids + agent_ids
    billing = departments.create_department(system, {
        "name": "Billing", "description": "Invoices, refunds and plans.",
        "agent_ids": staff, "assignment_strategy": "round_robin",
    })
    support = departments.create_department(system, {
        "name": "Technical support", "description": "Bugs, sign-in, the API.",
        "agent_ids": staff, "assignment_strategy": "least_loaded",
    })
    tags.ensure_tags(TAGS)
    _seed_sla()
    _seed_kb(admin_ids[0] if admin_ids else None)
    plan = [path for path, count in STATE_PATHS for _ in range(count)]
    # Older tickets have travelled further: closed and resolved ones were opened first, new
    # untriaged ones arrived last. Each is opened at its own time and every later step happens
    # later in its life, with the package clock moved there, so activity, replies and
    # updated_at tell a believable story (and the queue's "updated" order means something).
    plan.sort(key=lambda path: -_STAGE_AGE.get(path[-1] if path else "", 0))
    until = now() - timedelta(minutes=5)
    first = until - timedelta(days=HISTORY_DAYS)
    spacing = (until - first) / len(plan)
    created = 0
    with frozen(first) as clock:
        for path in plan:
            clock.current = first + spacing * (created + 1) - timedelta(
                minutes=rng.randint(0, 90))
            _seed_ticket(created, path, rng, clock, until, billing.id, support.id, staff,
                         customer_ids)
            created += 1
    return created
