"""The ticket services: transitions, automatic moves, events after commit, one activity each."""

from __future__ import annotations

import io
import threading

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm.exc import StaleDataError

from flask_escalated.domain import DEFAULT_TRANSITIONS, STATUS_CATEGORIES
from flask_escalated.events import Actor
from flask_escalated.models import Activity, Contact, Reply, Ticket
from flask_escalated.services import (
    assignment,
    attachments,
    contacts,
    departments,
    followers,
    replies,
    statuses,
    tags,
    tickets,
)
from flask_escalated.services.errors import (
    Conflict,
    InvalidTransition,
    PayloadTooLarge,
    StaleVersion,
    ValidationError,
)


@pytest.fixture
def ext(app):
    return app.extensions["escalated"]


@pytest.fixture
def new(ext, users):
    def make(**kw):
        data = {"subject": "Help", "description": "Please", "requester_user_id":
                str(users.customer.id), **kw}
        with ext.unit_of_work():
            return tickets.create_ticket(tickets.NewTicket(**data), Actor.system())
    return make


def activity_types(ext, ticket_id):
    return list(ext.session.execute(
        select(Activity.type).where(Activity.ticket_id == ticket_id).order_by(Activity.id)
    ).scalars())


def force_status(ext, ticket, status):
    with ext.unit_of_work():
        tickets.change_status(ticket, status, Actor.system(), auto=True)


PAIRS = [(a, b) for a in STATUS_CATEGORIES for b in STATUS_CATEGORIES if a != b]


@pytest.mark.parametrize(("source", "target"), PAIRS, ids=[f"{a}->{b}" for a, b in PAIRS])
def test_transition_table(ext, new, users, source, target):
    t = new()
    if source != "open":
        force_status(ext, t, source)
    actor = Actor.agent(users.agent.id)
    if target in DEFAULT_TRANSITIONS[source]:
        with ext.unit_of_work():
            tickets.change_status(t, target, actor)
        assert t.status == target
    else:
        with pytest.raises(InvalidTransition), ext.unit_of_work():
            tickets.change_status(t, target, actor)


def test_a_move_to_the_same_status_names_it_by_its_label(ext, new, users):
    t = new()
    with pytest.raises(InvalidTransition) as caught, ext.unit_of_work():
        tickets.change_status(t, "open", Actor.agent(users.agent.id))
    assert caught.value.message == "The ticket is already Open ('open')."
    assert caught.value.fields == {"status": "unchanged"}


def test_resolved_and_closed_stamps(ext, new, users, clock):
    t = new()
    agent = Actor.agent(users.agent.id)
    with ext.unit_of_work():
        tickets.change_status(t, "resolved", agent)
    assert t.resolved_at == clock.current and t.closed_at is None
    clock.advance(minutes=5)
    with ext.unit_of_work():
        tickets.change_status(t, "closed", agent)
    assert t.closed_at == clock.current and t.resolved_at is not None
    with ext.unit_of_work():
        tickets.change_status(t, "reopened", agent)
    assert t.resolved_at is None and t.closed_at is None


@pytest.mark.all_databases
def test_events_fire_after_commit_only_and_once(ext, new, users, signal_log, app):
    t = new()
    assert [s.name for s in signal_log] == ["ticket_created"]
    assert signal_log[0].sender is app and signal_log[0].kwargs["ticket"] is t
    signal_log.clear()
    with pytest.raises(RuntimeError), ext.unit_of_work():
        tickets.change_priority(t, "high", Actor.agent(users.agent.id))
        assert signal_log == []
        raise RuntimeError("abort")
    assert signal_log == []
    with ext.unit_of_work():
        tickets.change_status(t, "resolved", Actor.agent(users.agent.id))
        assert signal_log == []
    assert [s.name for s in signal_log] == ["ticket_status_changed", "ticket_resolved"]
    assert signal_log[0].kwargs["old_status"] == "open"
    assert signal_log[0].kwargs["new_status"] == "resolved"
    assert signal_log[0].kwargs["actor"] == Actor.agent(users.agent.id)


@pytest.mark.all_databases
def test_each_change_writes_one_activity(ext, new, users, signal_log):
    agent = Actor.agent(users.agent.id)
    with ext.unit_of_work():
        dept = departments.create_department(Actor.system(), {"name": "Ops"})
    t = new()
    with ext.unit_of_work():
        tickets.update_ticket(t, {"subject": "New subject", "description": "More"}, agent)
        tickets.change_priority(t, "urgent", agent)
        tickets.change_department(t, dept.id, agent)
        tags.add_tags(t, ["a", "b"], agent)
        tags.remove_tags(t, ["a"], agent)
        assignment.assign(t, str(users.agent.id), agent)
        followers.follow(t, str(users.agent2.id), agent)
        replies.add_reply(t, "note", agent, internal=True)
        replies.add_reply(t, "public", agent)
        assignment.unassign(t, agent)
    assert activity_types(ext, t.id) == [
        "created", "updated", "priority_changed", "department_changed", "tag_added",
        "tag_added", "tag_removed", "assigned", "status_changed", "follower_added",
        "note_added", "reply_added", "status_changed", "unassigned",
    ]
    assert [s.name for s in signal_log] == [
        "ticket_created", "ticket_updated", "ticket_priority_changed", "department_changed",
        "tag_added", "tag_added", "tag_removed", "ticket_assigned", "ticket_status_changed",
        "internal_note_added", "reply_created", "ticket_status_changed", "ticket_unassigned",
    ]


@pytest.mark.all_databases
def test_contact_tickets_write_activity_too(ext, users):
    with ext.unit_of_work():
        t = tickets.create_ticket(tickets.NewTicket(
            subject="From e-mail", description="hi", requester_email="Guest@Example.com",
            channel="email"), Actor.system())
    assert activity_types(ext, t.id) == ["created"]
    assert t.contact.email == "guest@example.com"
    with ext.unit_of_work():
        again = tickets.create_ticket(tickets.NewTicket(
            subject="Again", description="hi", requester_email=" GUEST@example.com "),
            Actor.system())
    assert again.contact_id == t.contact_id
    assert ext.session.execute(select(func.count()).select_from(Contact)).scalar_one() == 1
    with ext.unit_of_work():
        moved = contacts.link_to_user("guest@example.com", str(users.other.id))
    assert moved == 2


def test_automatic_moves(ext, new, users):
    agent, customer = Actor.agent(users.agent.id), Actor.customer(users.customer.id)
    t = new()
    with ext.unit_of_work():
        assignment.assign(t, str(users.agent.id), agent)
    assert t.status == "in_progress"
    with ext.unit_of_work():
        replies.add_reply(t, "note", agent, internal=True)
    assert t.status == "in_progress" and t.first_response_at is None
    with ext.unit_of_work():
        replies.add_reply(t, "answer", agent)
    assert t.status == "waiting_on_customer" and t.first_response_at is not None
    with ext.unit_of_work():
        replies.add_reply(t, "thanks", customer)
    assert t.status == "waiting_on_agent" and t.reply_count == 2
    with ext.unit_of_work():
        tickets.change_status(t, "resolved", agent)
        replies.add_reply(t, "again broken", customer)
    assert t.status == "reopened"
    with ext.unit_of_work():
        tickets.change_status(t, "closed", agent)
    with pytest.raises(Conflict), ext.unit_of_work():
        replies.add_reply(t, "hello?", customer)
    with pytest.raises(ValidationError), ext.unit_of_work():
        replies.add_reply(t, "secret", customer, internal=True)


def test_custom_statuses_inherit_and_can_be_given_rows(ext, new, users):
    admin = Actor.agent(users.admin.id)
    with ext.unit_of_work():
        statuses.create_status(admin, slug="on_hold", label="On hold",
                               category="waiting_on_agent")
    t = new()
    agent = Actor.agent(users.agent.id)
    with ext.unit_of_work():
        tickets.change_status(t, "on_hold", agent)  # open -> waiting_on_agent category
    assert (t.status, t.status_category) == ("on_hold", "waiting_on_agent")
    with ext.unit_of_work():
        tickets.change_status(t, "escalated", agent)  # inherited row of waiting_on_agent
    with ext.unit_of_work():
        table = statuses.transition_table()
        table["on_hold"] = ["closed"]
        statuses.set_transition_table(table, admin)
    force_status(ext, t, "on_hold")
    with pytest.raises(InvalidTransition), ext.unit_of_work():
        tickets.change_status(t, "escalated", agent)
    with pytest.raises(Conflict), ext.unit_of_work():
        statuses.delete_status(admin, "on_hold")
    for bad in ({"slug": "Open!", "label": "x", "category": "open"},
                {"slug": "open", "label": "x", "category": "open"},
                {"slug": "fine", "label": "", "category": "open"},
                {"slug": "fine", "label": "x", "category": "limbo"}):
        with pytest.raises(ValidationError), ext.unit_of_work():
            statuses.create_status(admin, **bad)
    with pytest.raises(ValidationError), ext.unit_of_work():
        statuses.set_transition_table({"open": ["nowhere"]}, admin)


@pytest.mark.all_databases
def test_stale_versions(ext, new, users, app):
    t = new()
    agent = Actor.agent(users.agent.id)
    with pytest.raises(StaleVersion), ext.unit_of_work():
        tickets.change_priority(t, "high", agent, version=t.version + 1)
    with pytest.raises(ValidationError), ext.unit_of_work():
        tickets.change_priority(t, "high", agent, version="1")
    version = t.version
    with ext.unit_of_work():
        replies.add_reply(t, "note", agent, internal=True)
    assert t.version == version  # notes do not bump the lock
    tid = t.id

    # Two sessions load the same ticket and both change it: the second flush loses.
    results: list[str] = []

    def writer(priority: str, barrier: threading.Barrier) -> None:
        with app.app_context():
            ticket = tickets.get_ticket(tid)
            barrier.wait()
            try:
                with ext.unit_of_work():
                    tickets.change_priority(ticket, priority, agent)
                results.append("ok")
            except StaleDataError:
                results.append("stale")
            except Exception as exc:  # lock timeouts on servers also mean "lost"
                results.append(type(exc).__name__)

    barrier = threading.Barrier(2)
    threads = [threading.Thread(target=writer, args=(p, barrier)) for p in ("high", "low")]
    for th in threads:
        th.start()
    for th in threads:
        th.join(30)
    assert sorted(results)[0] == "ok" and results.count("ok") == 1, results


@pytest.mark.all_databases
def test_concurrent_creation_gives_unique_references(ext, app, users, backend):
    if backend == "sqlite":
        pytest.skip("SQLite serialises writers; the race needs a server database")
    refs: list[str] = []
    errors: list[BaseException] = []
    barrier = threading.Barrier(6)

    def create() -> None:
        try:
            with app.app_context():
                barrier.wait()
                for _ in range(5):
                    with ext.unit_of_work():
                        t = tickets.create_ticket(tickets.NewTicket(
                            subject="Race", description="d",
                            requester_email="racer@example.com"), Actor.system())
                    refs.append(t.reference)
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=create) for _ in range(6)]
    for th in threads:
        th.start()
    for th in threads:
        th.join(60)
    assert not errors, errors
    assert len(refs) == 30 and len(set(refs)) == 30
    assert all(r.startswith("ESC-") for r in refs)
    assert ext.session.execute(select(func.count()).select_from(Contact)).scalar_one() == 1


@pytest.mark.all_databases
def test_assignment_strategies(ext, new, users):
    system = Actor.system()
    with ext.unit_of_work():
        rr = departments.create_department(system, {
            "name": "RR", "assignment_strategy": "round_robin",
            "agent_ids": [str(users.agent.id), str(users.agent2.id)]})
        # A member who is no agent (a department takes none now, but the host may demote
        # one) is passed over.
        from flask_escalated.models import DepartmentMember

        ext.session.add(DepartmentMember(department_id=rr.id, user_id=str(users.customer.id)))
        ll = departments.create_department(system, {
            "name": "LL", "assignment_strategy": "least_loaded",
            "agent_ids": [str(users.agent.id), str(users.agent2.id)]})
    order = [new(department_id=rr.id).assignee_id for _ in range(4)]
    assert order == [str(users.agent.id), str(users.agent2.id)] * 2
    # agent has 2 open tickets, agent2 has 2: a tie goes to the lower id; then the other.
    first = new(department_id=ll.id).assignee_id
    second = new(department_id=ll.id).assignee_id
    assert {first, second} == {str(users.agent.id), str(users.agent2.id)}
    # Capacity: agent2 at its limit is skipped.
    from flask_escalated.models import AgentProfile

    profile = ext.session.execute(select(AgentProfile).where(
        AgentProfile.user_id == str(users.agent2.id))).scalar_one()
    profile.max_open_tickets = 1
    ext.session.commit()
    assert {new(department_id=ll.id).assignee_id for _ in range(3)} == {str(users.agent.id)}
    with pytest.raises(ValidationError), ext.unit_of_work():
        assignment.assign(new(), str(users.customer.id), system)


@pytest.mark.all_databases
def test_attachments_are_sniffed_cleaned_and_limited(make_app):
    app = make_app(ESCALATED_MAX_ATTACHMENTS=3, ESCALATED_MAX_ATTACHMENT_SIZE=100)
    ext = app.extensions["escalated"]
    from tests.hosts import intid

    with app.app_context():
        user = intid.make_user("c@example.test", "C")
        intid.db.session.commit()
        actor = Actor.customer(user.id)
        with ext.unit_of_work():
            t = tickets.create_ticket(tickets.NewTicket(
                subject="s", description="d", requester_user_id=str(user.id)), actor)
        up = attachments.Upload
        with ext.unit_of_work():
            rows = attachments.add(t, [
                up("x.txt", io.BytesIO(b"\x89PNG\r\n\x1a\n0000")),
                up("../../etc/a\u202egnp.html\x00 . ", io.BytesIO(b"<!DOCTYPE html><p>")),
                up("C:\\temp\\zero\u200bwidth.pdf", io.BytesIO(b"%PDF-1.4 hello")),
            ], actor)
        assert [r.content_type for r in rows] == ["image/png", "text/html", "application/pdf"]
        assert [r.filename for r in rows] == ["x.txt", "agnp.html_", "zerowidth.pdf"]
        with pytest.raises(ValidationError), ext.unit_of_work():
            attachments.add(t, [up("y.txt", io.BytesIO(b"y"))], actor)
        with pytest.raises(PayloadTooLarge), ext.unit_of_work():
            replies.add_reply(t, "big", actor, uploads=[up("big.bin", io.BytesIO(b"x" * 101))])
        with pytest.raises(ValidationError), ext.unit_of_work():
            replies.add_reply(t, "empty file", actor, uploads=[up("e.txt", io.BytesIO(b""))])
        # A rolled-back upload leaves no file behind.
        import os

        root = ext.state.attachment_root
        before = sum(len(f) for _, _, f in os.walk(root))
        with pytest.raises(RuntimeError), ext.unit_of_work():
            replies.add_reply(t, "files", actor, uploads=[up("k.txt", io.BytesIO(b"keep?"))])
            raise RuntimeError("boom")
        assert sum(len(f) for _, _, f in os.walk(root)) == before
        # Deleting the ticket removes its files after the commit.
        with ext.unit_of_work():
            tickets.delete_ticket(t, Actor.system())
        assert sum(len(f) for _, _, f in os.walk(root)) == 0


@pytest.mark.all_databases
def test_ticket_validation(ext, users):
    customer = Actor.customer(users.customer.id)
    cases = [
        dict(subject=None, description="d"),
        dict(subject="s", description=""),
        dict(subject="s", description="d", priority="urgent"),
        dict(subject="s", description="d", channel="pigeon"),
    ]
    for case in cases:
        with pytest.raises(ValidationError), ext.unit_of_work():
            tickets.create_ticket(tickets.NewTicket(requester_user_id=str(users.customer.id),
                                                    **case), customer)
    with pytest.raises(ValidationError), ext.unit_of_work():
        tickets.create_ticket(tickets.NewTicket(subject="s", description="d"), Actor.system())
    with ext.unit_of_work():
        t = tickets.create_ticket(tickets.NewTicket(
            subject="line one\r\nBcc: evil@example.com", description="d",
            requester_user_id=str(users.customer.id)), customer)
    assert t.subject == "line one Bcc: evil@example.com"
    assert ext.session.get(Ticket, t.id).reference == f"ESC-{t.id:05d}"


@pytest.mark.all_databases
def test_the_longest_allowed_bodies_are_stored_whole(app, ext, new, users):
    """``MAX_BODY_LENGTH`` of multi-byte text fits every database (MEDIUMTEXT on MariaDB)."""
    limit = app.config["ESCALATED_MAX_BODY_LENGTH"]
    text = "é€" * (limit // 2)
    ticket = new(description=text)
    with ext.unit_of_work():
        replies.add_reply(ticket, text, Actor.agent(users.agent.id))
    ext.session.rollback()
    ext.session.expire_all()
    stored = ext.session.get(Ticket, ticket.id)
    assert stored.description == text
    bodies = ext.session.execute(select(Reply.body).where(Reply.ticket_id == ticket.id)).scalars()
    assert list(bodies) == [text]


@pytest.mark.all_databases
def test_a_contact_committed_by_a_racing_transaction_is_found(app, ext):
    """The loser of the insert race finds the winner's row, even on a snapshot that predates
    it (MariaDB's REPEATABLE READ)."""
    ext.session.execute(select(func.count()).select_from(Contact)).scalar_one()  # snapshot
    with ext.session.get_bind().connect() as other:
        other.execute(Contact.__table__.insert().values(email="racer@example.com"))
        other.commit()
    contact = contacts.find_or_create("Racer@Example.com")
    assert contact.id is not None and contact.email == "racer@example.com"
    ext.session.rollback()
