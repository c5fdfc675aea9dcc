"""The blinker signals a host app can connect to.

Every signal is sent with the Flask app as sender, **only after the change was committed**
(a rolled-back change sends nothing), with keyword arguments ``ticket`` (the
:class:`~flask_escalated.models.Ticket`), ``actor`` (an :class:`~flask_escalated.events.Actor`)
and the change itself, named below. Connect with ``@ticket_created.connect_via(app)`` or
``ticket_created.connect(handler)``.
"""

from __future__ import annotations

from blinker import NamedSignal, Namespace

escalated_signals = Namespace()

#: ``ticket``, ``actor``, ``channel``
ticket_created = escalated_signals.signal("ticket_created")
#: ``ticket``, ``actor``, ``changes`` ({field: {"old": ..., "new": ...}})
ticket_updated = escalated_signals.signal("ticket_updated")
#: ``ticket``, ``actor``, ``old_status``, ``new_status``
ticket_status_changed = escalated_signals.signal("ticket_status_changed")
#: ``ticket``, ``actor``, ``assignee_id``, ``previous_assignee_id``, ``strategy``
ticket_assigned = escalated_signals.signal("ticket_assigned")
#: ``ticket``, ``actor``, ``previous_assignee_id``
ticket_unassigned = escalated_signals.signal("ticket_unassigned")
#: ``ticket``, ``actor``, ``old_priority``, ``new_priority``
ticket_priority_changed = escalated_signals.signal("ticket_priority_changed")
#: ``ticket``, ``actor``, ``reason``
ticket_escalated = escalated_signals.signal("ticket_escalated")
#: ``ticket``, ``actor``
ticket_resolved = escalated_signals.signal("ticket_resolved")
#: ``ticket``, ``actor``
ticket_closed = escalated_signals.signal("ticket_closed")
#: ``ticket``, ``actor``
ticket_reopened = escalated_signals.signal("ticket_reopened")
#: ``ticket`` (the source), ``actor``, ``target``
ticket_merged = escalated_signals.signal("ticket_merged")
#: ``ticket`` (the source), ``actor``, ``new_ticket``
ticket_split = escalated_signals.signal("ticket_split")
#: ``ticket``, ``actor``, ``link`` ({id, type, direction, ticket: {id, reference}}), as
#: the ticket the link was made from reads it
ticket_linked = escalated_signals.signal("ticket_linked")
#: ``ticket``, ``actor``, ``link`` (as it was)
ticket_unlinked = escalated_signals.signal("ticket_unlinked")
#: ``ticket``, ``actor``, ``until``
ticket_snoozed = escalated_signals.signal("ticket_snoozed")
#: ``ticket``, ``actor``
ticket_woken = escalated_signals.signal("ticket_woken")
#: ``ticket``, ``actor``, ``reply``
reply_created = escalated_signals.signal("reply_created")
#: ``ticket``, ``actor``, ``reply``
internal_note_added = escalated_signals.signal("internal_note_added")
#: ``ticket``, ``actor``, ``breach_type`` ("first_response" | "next_response" | "resolution")
sla_breached = escalated_signals.signal("sla_breached")
#: ``ticket``, ``actor``, ``warning_type``, ``due_at``
sla_warning = escalated_signals.signal("sla_warning")
#: ``ticket``, ``actor``, ``tag``
tag_added = escalated_signals.signal("tag_added")
#: ``ticket``, ``actor``, ``tag``
tag_removed = escalated_signals.signal("tag_removed")
#: ``ticket``, ``actor``, ``old_department_id``, ``new_department_id``
department_changed = escalated_signals.signal("department_changed")
#: ``ticket``, ``actor``, ``rating``
csat_submitted = escalated_signals.signal("csat_submitted")
#: ``article`` (the :class:`~flask_escalated.models.KbArticle`), ``actor``; ``ticket`` is None
article_created = escalated_signals.signal("article_created")
#: ``article``, ``actor``, ``changes`` ({field: {"old": ..., "new": ...}})
article_updated = escalated_signals.signal("article_updated")
#: ``article``, ``actor``
article_published = escalated_signals.signal("article_published")
#: ``article`` (id, slug and title of the deleted article), ``actor``
article_deleted = escalated_signals.signal("article_deleted")
#: ``canned_response`` ({id, title, shared, owner_user_id, department_id}), ``actor``;
#: ``ticket`` is None
canned_created = escalated_signals.signal("canned_created")
#: ``canned_response``, ``actor``, ``changes`` ({field: {"old": ..., "new": ...}})
canned_updated = escalated_signals.signal("canned_updated")
#: ``canned_response`` (as it was), ``actor``
canned_deleted = escalated_signals.signal("canned_deleted")
#: ``ticket``, ``actor``, ``side_conversation`` ({id, subject, status, participants, to_email},
#: agents only: never sent to a customer); ``reply`` on ``side_conversation_replied``
side_conversation_created = escalated_signals.signal("side_conversation_created")
side_conversation_replied = escalated_signals.signal("side_conversation_replied")
side_conversation_closed = escalated_signals.signal("side_conversation_closed")
side_conversation_reopened = escalated_signals.signal("side_conversation_reopened")

#: Every signal by name, for lookups from domain event names.
ALL_SIGNALS: dict[str, NamedSignal] = {
    s.name: s
    for s in (
        ticket_created, ticket_updated, ticket_status_changed, ticket_assigned,
        ticket_unassigned, ticket_priority_changed, ticket_escalated, ticket_resolved,
        ticket_closed, ticket_reopened, ticket_merged, ticket_split, ticket_snoozed,
        ticket_woken, reply_created, internal_note_added, sla_breached, sla_warning,
        tag_added, tag_removed, department_changed, csat_submitted,
        article_created, article_updated, article_published, article_deleted,
        canned_created, canned_updated, canned_deleted,
        side_conversation_created, side_conversation_replied, side_conversation_closed,
        side_conversation_reopened,
        ticket_linked, ticket_unlinked,
    )
}


#: Subjects whose own name has an underscore.
_COMPOUND_HEADS = ("side_conversation",)


def webhook_event_name(signal_name: str) -> str:
    """The dotted webhook name of a signal: ``ticket_created`` -> ``ticket.created``,
    ``side_conversation_created`` -> ``side_conversation.created``."""
    for head in _COMPOUND_HEADS:
        if signal_name.startswith(head + "_"):
            return f"{head}.{signal_name[len(head) + 1:]}"
    head, _, tail = signal_name.partition("_")
    return f"{head}.{tail}" if tail else head
