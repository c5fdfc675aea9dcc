"""JSON API v1: tickets and everything on them."""

from __future__ import annotations

from typing import Any, TypeVar

from flask import Response, jsonify, request

from ...services import (
    assignment,
    attachments,
    custom_fields,
    followers,
    queries,
    relations,
    replies,
    serializers,
    sla,
    snooze,
    statuses,
    tags,
    ticket_search,
    tickets,
)
from ...services.errors import NotFound, PermissionDenied, ValidationError
from ...services.ids import parse_id
from ...services.permissions import Principal
from ...services.queries import TicketFilter
from ..downloads import send_attachment, visible_attachment
from ..security import current_principal, load_ticket
from .base import decode_cursor, encode_cursor, page_limit, route
from .commit import committed
from .schemas import optional_body, parse_body, parse_form, parse_query
from .schemas.attachments import AttachmentList, Upload
from .schemas.followers import FollowerAdd, FollowerList
from .schemas.replies import NoteCreate, ReplyCreate, ReplyEnvelope, ReplyList
from .schemas.tags import TicketTags
from .schemas.tickets import (
    ActivityPage,
    Assign,
    Snooze,
    StatusChange,
    TicketCreate,
    TicketEnvelope,
    TicketList,
    TicketPage,
    TicketUpdate,
)

M = TypeVar("M", ReplyCreate, NoteCreate)


def detail_payload(ticket: Any, principal: Principal, status: int = 200) -> tuple[Response, int]:
    people = serializers.people_for([ticket])
    body = serializers.ticket_detail(ticket, people, for_agent=principal.is_agent)
    if principal.is_agent:
        body["allowed_statuses"] = [s.slug for s in statuses.allowed_targets(ticket.status)]
        body["sla"] = [s.as_dict() for s in sla.state(ticket)]
        body["followers"] = followers.list_followers(ticket)
        body["links"] = [v.as_dict() for v in relations.list_links(ticket, principal)]
    elif body["merged_into"] is not None \
            and relations.forward_for(principal, ticket, "ticket.view") is ticket:
        body["merged_into"] = None  # merged into a ticket this customer does not see
    return jsonify({"data": body}), status


def _filters(principal: Principal) -> TicketFilter:
    args = parse_query(TicketList)
    if args.status:
        known = {s.slug for s in statuses.all_statuses(include_inactive=True)}
        unknown = [slug for slug in args.status if slug not in known]
        if unknown:
            raise ValidationError(f"Unknown status {', '.join(map(repr, unknown))}.",
                                  {"status": "one of " + ", ".join(sorted(known))})
    flt = TicketFilter(
        status=args.status or [],
        category=args.status_category or [],
        priority=args.priority or [],
        assignee=args.assignee or None,
        tag=args.tag or None,
        q=args.q or None,
        created_after=args.created_after,
        created_before=args.created_before,
        sort=args.sort or None,
        snoozed={None: None, "false": None, "true": True, "any": False}[args.snoozed],
        custom_fields=custom_fields.parse_filter_args(request.args.items(multi=True)),
    )
    if args.department_id == "none":
        flt.no_department = True
    elif args.department_id:
        department_id = parse_id(args.department_id)
        if department_id is None:  # 19 digits beyond the 64-bit range
            raise ValidationError("department_id must be an id or 'none'.",
                                  {"department_id": "invalid"})
        flt.department_id = department_id
    if principal.is_agent and args.requester_user_id:
        flt.requester_user_id = args.requester_user_id
    return flt


# ---------------------------------------------------------------------------- tickets
@route("/tickets", ["GET"], summary="List tickets (keyset paged)", tag="Tickets",
       permission="ticket.view", paged=True, query=TicketList, response=TicketPage)
def list_tickets() -> Response:
    principal = current_principal()
    flt = _filters(principal)
    rows, next_cursor = queries.list_tickets(
        principal, flt, limit=page_limit(), cursor=decode_cursor("tickets")
    )
    people = serializers.people_for(rows)
    data = [serializers.ticket(t, people, for_agent=principal.is_agent) for t in rows]
    if flt.q:
        found = ticket_search.snippets([t.id for t in rows], flt.q,
                                       include_notes=principal.is_agent)
        for item in data:
            item["search_snippet"] = found.get(item["id"])
    return jsonify({"data": data, "next_cursor": encode_cursor("tickets", next_cursor)})


#: What only agents may set on a new ticket: a customer opens tickets as themselves.
AGENT_ONLY = ("tags", "metadata", "requester_user_id", "requester_email", "requester_name",
              "assignee_id")


def _check_create(data: TicketCreate, principal: Principal) -> None:
    """Refuse what the ticket would otherwise drop or choose silently: agents' fields sent by
    a customer (null and empty values are nothing to drop), and two requesters at once."""
    if not principal.is_agent:
        sent = [name for name in AGENT_ONLY if getattr(data, name) not in (None, [], {})]
        if sent:
            raise PermissionDenied(f"Only agents may set {', '.join(sent)}; a customer's "
                                   "ticket is theirs.", dict.fromkeys(sent, "agents only"))
        return
    if data.requester_user_id is not None and data.requester_email is not None:
        raise ValidationError("Give requester_user_id or requester_email, not both.",
                              {"requester_user_id": "not with requester_email",
                               "requester_email": "not with requester_user_id"})
    if data.requester_name is not None and data.requester_email is None:
        raise ValidationError("requester_name names a requester given by requester_email.",
                              {"requester_name": "needs requester_email"})


@route("/tickets", ["POST"], summary="Open a ticket", tag="Tickets",
       permission="ticket.create", body=TicketCreate, status=201, response=TicketEnvelope)
def create_ticket() -> tuple[Response, int]:
    principal = current_principal()
    data = parse_body(TicketCreate)
    _check_create(data, principal)
    new = tickets.NewTicket(
        subject=data.subject,
        description=data.description,
        priority=data.priority,
        department_id=data.department_id,
        ticket_type=data.ticket_type,
        channel="api",
        tags=data.tags if principal.is_agent else [],
        metadata=data.metadata if principal.is_agent else None,
        custom_fields=data.custom_fields,
    )
    if principal.is_agent:
        new.requester_user_id = data.requester_user_id
        new.requester_email = data.requester_email
        new.requester_name = data.requester_name
        new.assignee_id = data.assignee_id
        if new.requester_user_id is None and new.requester_email is None:
            new.requester_user_id = principal.user_id
    else:
        new.requester_user_id = principal.user_id
    if not principal.can("ticket.create"):
        # Held through department roles only: the new ticket must land in one of them.
        dept = new.department_id
        if not isinstance(dept, int) or not principal.can_in("ticket.create", dept):
            raise PermissionDenied("You can open tickets only in your departments.",
                                   {"department_id": "one of "
                                    + ", ".join(map(str, principal.departments_with(
                                        "ticket.create")))})
    with committed(keep_loaded=True):
        ticket = tickets.create_ticket(new, principal.actor)
    return detail_payload(ticket, principal, 201)


@route("/tickets/<ident>", ["GET"], summary="Show a ticket (by id or reference)",
       tag="Tickets", permission="ticket.view", response=TicketEnvelope)
def show_ticket(ident: str) -> tuple[Response, int]:
    ticket, principal = load_ticket(ident)
    return detail_payload(ticket, principal)


@route("/tickets/<ident>", ["PATCH"], summary="Update a ticket's properties", tag="Tickets",
       permission="ticket.edit", body=TicketUpdate, response=TicketEnvelope)
def update_ticket(ident: str) -> tuple[Response, int]:
    ticket, principal = load_ticket(ident, "ticket.edit")
    data = parse_body(TicketUpdate).changes()
    actor = principal.actor
    version = data.get("version")
    with committed():
        tickets.check_version(ticket, version)
        tickets.update_ticket(ticket, data, actor)
        if "priority" in data:
            tickets.change_priority(ticket, data["priority"], actor)
        if "department_id" in data:
            tickets.change_department(ticket, data["department_id"], actor)
        if "tags" in data:
            tags.set_tags(ticket, data["tags"], actor)
        if "assignee_id" in data:
            _require(principal, ticket, "ticket.assign")
            if data["assignee_id"] is None:
                assignment.unassign(ticket, actor)
            else:
                assignment.assign(ticket, data["assignee_id"], actor)
        if "status" in data and data["status"] != ticket.status:
            tickets.change_status(ticket, data["status"], actor)
    return detail_payload(tickets.get_ticket(ticket.id), principal)


def _require(principal: Principal, ticket: Any, permission: str) -> None:

    if not principal.can_in(permission, ticket.department_id):
        raise PermissionDenied(f"You need the '{permission}' permission for this.")


@route("/tickets/<ident>", ["DELETE"], summary="Delete a ticket", tag="Tickets",
       permission="ticket.delete", status=204)
def delete_ticket(ident: str) -> tuple[str, int]:
    ticket, principal = load_ticket(ident, "ticket.delete")
    with committed():
        tickets.delete_ticket(ticket, principal.actor)
    return "", 204


@route("/tickets/<ident>/status", ["POST"], summary="Change status", tag="Tickets",
       permission="ticket.view", body=StatusChange, response=TicketEnvelope)
def change_status(ident: str) -> tuple[Response, int]:
    ticket, principal = load_ticket(ident)
    data = parse_body(StatusChange)
    target = data.status
    if not principal.is_agent:
        # Customers may close (when allowed) or reopen their own tickets, nothing else.
        _customer_status_check(ticket, target, principal)
    else:
        _require(principal, ticket,
                 "ticket.close" if target in ("resolved", "closed") else "ticket.edit")
    with committed():
        tickets.change_status(ticket, target, principal.actor, version=data.version)
    return detail_payload(tickets.get_ticket(ticket.id), principal)


def _customer_status_check(ticket: Any, target: Any, principal: Principal) -> None:
    from flask import current_app

    from ...config import Config

    if target == "closed" and current_app.config[Config.ALLOW_CUSTOMER_CLOSE]:
        return
    if target == "reopened" and ticket.status_category in ("resolved", "closed"):
        return
    raise PermissionDenied("Customers can close or reopen their tickets, nothing else.")


@route("/tickets/<ident>/assign", ["POST"], summary="Assign, unassign or auto-assign",
       tag="Tickets", permission="ticket.assign", body=Assign, response=TicketEnvelope)
def assign_ticket(ident: str) -> tuple[Response, int]:
    ticket, principal = load_ticket(ident, "ticket.assign")
    data = parse_body(Assign)
    with committed():
        if data.strategy != "manual":
            tickets.check_version(ticket, data.version)
            assignment.auto_assign(ticket, principal.actor, strategy=data.strategy)
        elif data.assignee_id is None:
            assignment.unassign(ticket, principal.actor, version=data.version)
        else:
            assignment.assign(ticket, data.assignee_id, principal.actor, version=data.version)
    return detail_payload(tickets.get_ticket(ticket.id), principal)


@route("/tickets/<ident>/snooze", ["POST"], summary="Snooze until a preset or a time",
       tag="Tickets", permission="ticket.edit", body=Snooze, response=TicketEnvelope)
def snooze_ticket(ident: str) -> tuple[Response, int]:
    ticket, principal = load_ticket(ident, "ticket.edit")
    data = parse_body(Snooze)
    with committed():
        until = snooze.parse_until(data.preset, data.until, principal.actor)
        snooze.snooze(ticket, until, principal.actor)
    return detail_payload(tickets.get_ticket(ticket.id), principal)


@route("/tickets/<ident>/snooze", ["DELETE"], summary="Wake a snoozed ticket", tag="Tickets",
       permission="ticket.edit", response=TicketEnvelope)
def wake_ticket(ident: str) -> tuple[Response, int]:
    ticket, principal = load_ticket(ident, "ticket.edit")
    with committed():
        snooze.unsnooze(ticket, principal.actor)
    return detail_payload(tickets.get_ticket(ticket.id), principal)


# ---------------------------------------------------------------------------- replies
@route("/tickets/<ident>/replies", ["GET"], summary="List replies (and notes, for agents)",
       tag="Replies", permission="ticket.view", response=ReplyList)
def list_replies(ident: str) -> Response:
    ticket, principal = load_ticket(ident)
    rows = replies.list_replies(ticket, include_internal=principal.is_agent)
    return jsonify({"data": serializers.replies(rows, include_internal=principal.is_agent)})


def _reply_input(model: type[M]) -> tuple[M, list[attachments.Upload]]:
    """The reply's fields, from JSON or from a form (as strict: the same model, with
    ``true``/``false`` the only booleans), and any files."""
    if request.mimetype in ("multipart/form-data", "application/x-www-form-urlencoded"):
        data = parse_form(model)
        uploads = [attachments.Upload(f.filename or "", f.stream)
                   for f in request.files.getlist("files")]
        return data, uploads
    return parse_body(model), []


@route("/tickets/<ident>/replies", ["POST"], summary="Reply to a ticket, or add an internal "
       "note with is_internal (or another visibility alias: see the README), as JSON or "
       "multipart", tag="Replies", permission="reply.create", multipart=True,
       body=ReplyCreate, status=201, response=ReplyEnvelope)
def create_reply(ident: str) -> tuple[Response, int]:
    ticket, principal = load_ticket(ident, "reply.create")
    ticket = relations.forward_for(principal, ticket, "reply.create")
    data, uploads = _reply_input(ReplyCreate)
    internal = data.is_note
    if internal:
        _require(principal, ticket, "reply.create_internal")
    with committed(keep_loaded=True):
        reply = replies.add_reply(ticket, data.body, principal.actor, internal=internal,
                                  uploads=uploads, channel="api")
    body = serializers.replies([reply], include_internal=principal.is_agent)[0]
    return jsonify({"data": body}), 201


@route("/tickets/<ident>/notes", ["POST"], summary="Add an internal note", tag="Replies",
       permission="reply.create_internal", multipart=True, body=NoteCreate, status=201,
       response=ReplyEnvelope)
def create_note(ident: str) -> tuple[Response, int]:
    ticket, principal = load_ticket(ident, "reply.create_internal")
    ticket = relations.forward_for(principal, ticket, "reply.create_internal")
    data, uploads = _reply_input(NoteCreate)
    with committed(keep_loaded=True):
        reply = replies.add_reply(ticket, data.body, principal.actor, internal=True,
                                  uploads=uploads, channel="api")
    return jsonify({"data": serializers.replies([reply], include_internal=True)[0]}), 201


def _pin(ident: str, reply_id: str, pinned: bool) -> Response:
    ticket, principal = load_ticket(ident, "reply.create_internal")
    with committed():
        reply = replies.set_pinned(ticket, reply_id, pinned, principal.actor)
    return jsonify({"data": serializers.replies([reply], include_internal=True)[0]})


@route("/tickets/<ident>/notes/<reply_id>/pin", ["POST"], summary="Pin a note", tag="Replies",
       permission="reply.create_internal", response=ReplyEnvelope)
def pin_note(ident: str, reply_id: str) -> Response:
    return _pin(ident, reply_id, True)


@route("/tickets/<ident>/notes/<reply_id>/pin", ["DELETE"], summary="Unpin a note",
       tag="Replies", permission="reply.create_internal", response=ReplyEnvelope)
def unpin_note(ident: str, reply_id: str) -> Response:
    return _pin(ident, reply_id, False)


# ---------------------------------------------------------------------------- tags
@route("/tickets/<ident>/tags", ["POST"], summary="Add tags", tag="Tags",
       permission="ticket.edit", body=TicketTags, response=TicketEnvelope)
def add_ticket_tags(ident: str) -> tuple[Response, int]:
    ticket, principal = load_ticket(ident, "ticket.edit")
    names = parse_body(TicketTags).tags
    with committed():
        tags.add_tags(ticket, names, principal.actor)
    return detail_payload(tickets.get_ticket(ticket.id), principal)


@route("/tickets/<ident>/tags", ["PUT"], summary="Replace tags", tag="Tags",
       permission="ticket.edit", body=TicketTags, response=TicketEnvelope)
def set_ticket_tags(ident: str) -> tuple[Response, int]:
    ticket, principal = load_ticket(ident, "ticket.edit")
    names = parse_body(TicketTags).tags
    with committed():
        tags.set_tags(ticket, names, principal.actor)
    return detail_payload(tickets.get_ticket(ticket.id), principal)


@route("/tickets/<ident>/tags/<slug>", ["DELETE"], summary="Remove a tag", tag="Tags",
       permission="ticket.edit", response=TicketEnvelope)
def remove_ticket_tag(ident: str, slug: str) -> tuple[Response, int]:
    ticket, principal = load_ticket(ident, "ticket.edit")
    with committed():
        removed = tags.remove_tags(ticket, [slug], principal.actor)
    if not removed:
        raise NotFound(f"The ticket has no tag '{slug[:80]}'.")
    return detail_payload(tickets.get_ticket(ticket.id), principal)


# ---------------------------------------------------------------------------- followers
@route("/tickets/<ident>/followers", ["GET"], summary="List followers", tag="Followers",
       permission="ticket.edit", response=FollowerList)
def list_followers(ident: str) -> Response:
    ticket, _ = load_ticket(ident, "ticket.edit")
    ids = followers.list_followers(ticket)
    people = serializers.People(ids)
    return jsonify({"data": [people.user(i) for i in ids]})


@route("/tickets/<ident>/followers", ["POST"], summary="Follow (yourself or user_id)",
       tag="Followers", permission="ticket.edit", body=FollowerAdd, status=201,
       response=FollowerList, also={200: "Already a follower: nothing changed"})
def add_follower(ident: str) -> tuple[Response, int]:
    ticket, principal = load_ticket(ident, "ticket.edit")
    data = optional_body(FollowerAdd)
    with committed():
        added = followers.follow(ticket, data.user_id or principal.user_id, principal.actor)
    return list_followers(ident), 201 if added else 200


@route("/tickets/<ident>/followers/<user_id>", ["DELETE"], summary="Unfollow",
       tag="Followers", permission="ticket.edit", status=204)
def remove_follower(ident: str, user_id: str) -> tuple[str, int]:
    ticket, principal = load_ticket(ident, "ticket.edit")
    with committed():
        removed = followers.unfollow(ticket, user_id, principal.actor)
    if not removed:
        raise NotFound("That user does not follow this ticket.")
    return "", 204


# ---------------------------------------------------------------------------- attachments
@route("/tickets/<ident>/attachments", ["GET"], summary="List attachments",
       tag="Attachments", permission="ticket.view", response=AttachmentList)
def list_attachments(ident: str) -> Response:
    ticket, principal = load_ticket(ident)
    rows = attachments.list_for_ticket(ticket, include_internal=principal.is_agent)
    return jsonify({"data": [serializers.attachment(a) for a in rows]})


@route("/tickets/<ident>/attachments", ["POST"], summary="Upload attachments (multipart)",
       tag="Attachments", permission="reply.create", multipart=True,
       body=Upload, status=201, response=AttachmentList)
def upload_attachments(ident: str) -> tuple[Response, int]:
    ticket, principal = load_ticket(ident, "reply.create")
    parse_form(Upload)
    uploads = [attachments.Upload(f.filename or "", f.stream)
               for f in request.files.getlist("files")]
    if not uploads:
        raise ValidationError("Send files in the multipart field 'files'.", {"files": "required"})
    with committed():
        rows = attachments.add(ticket, uploads, principal.actor)
    return jsonify({"data": [serializers.attachment(a) for a in rows]}), 201


@route("/attachments/<int:attachment_id>", ["GET"], summary="Download an attachment",
       tag="Attachments", permission="ticket.view", binary=True)
def download_attachment(attachment_id: int) -> Response:
    def visible(row: Any) -> bool:
        _, principal = load_ticket(str(row.ticket_id))
        return principal.is_agent or not row.is_internal

    return send_attachment(visible_attachment(attachment_id, visible))


# ---------------------------------------------------------------------------- activity
@route("/tickets/<ident>/activity", ["GET"], summary="The activity timeline (paged)",
       tag="Activity", permission="ticket.view", paged=True, response=ActivityPage)
def list_activity(ident: str) -> Response:
    ticket, principal = load_ticket(ident)
    after = decode_cursor("activity")
    if after is not None and (isinstance(after, bool) or not isinstance(after, int)):
        raise ValidationError("The cursor is not valid.", {"cursor": "invalid"})
    rows, next_after = queries.list_activity(
        ticket, limit=page_limit(), after_id=after, include_internal=principal.is_agent
    )
    people = serializers.People(r.actor_user_id for r in rows)
    return jsonify({
        "data": [serializers.activity(r, people, for_agent=principal.is_agent) for r in rows],
        "next_cursor": encode_cursor("activity", next_after),
    })


