"""JSON API v1: tickets and everything on them."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from flask import Response, jsonify, request

from ...services import (
    assignment,
    attachments,
    followers,
    queries,
    replies,
    serializers,
    sla,
    snooze,
    statuses,
    tags,
    tickets,
)
from ...services.errors import NotFound, PermissionDenied, ValidationError
from ...services.ids import parse_id
from ...services.permissions import Principal
from ...services.queries import TicketFilter
from ..downloads import send_attachment, visible_attachment
from ..security import current_principal, load_ticket
from .base import (
    csv_arg,
    decode_cursor,
    encode_cursor,
    json_body,
    page_limit,
    route,
    str_list,
)
from .commit import committed

TICKET_BODY = {
    "subject": "string (required, ≤ 500)",
    "description": "string (required)",
    "priority": "low|medium|high|urgent|critical",
    "department_id": "integer",
    "ticket_type": "question|problem|incident|task",
    "tags": "array of strings",
    "requester_user_id": "string (agents only)",
    "requester_email": "string (agents only; creates or reuses a contact)",
    "requester_name": "string",
    "assignee_id": "string (agents only)",
    "metadata": "object",
}


def detail_payload(ticket: Any, principal: Principal, status: int = 200) -> tuple[Response, int]:
    people = serializers.people_for([ticket])
    body = serializers.ticket_detail(ticket, people, for_agent=principal.is_agent)
    if principal.is_agent:
        body["allowed_statuses"] = [s.slug for s in statuses.allowed_targets(ticket.status)]
        body["sla"] = [s.as_dict() for s in sla.state(ticket)]
        body["followers"] = followers.list_followers(ticket)
    return jsonify({"data": body}), status


def _parse_datetime(name: str) -> datetime | None:
    raw = request.args.get(name)
    if not raw:
        return None
    try:
        value = datetime.fromisoformat(raw.replace("Z", "+00:00"))
    except ValueError:
        raise ValidationError(f"{name} must be an ISO 8601 date-time.", {name: "invalid"}) from None
    if value.tzinfo is None:
        raise ValidationError(f"{name} needs a time zone (e.g. 'Z').", {name: "no time zone"})
    return value


def _snoozed_arg(raw: str | None) -> bool | None:
    values = {None: None, "": None, "false": None, "true": True, "any": False}
    if raw not in values:
        raise ValidationError("snoozed is true, false or any.", {"snoozed": "true|false|any"})
    return values[raw]


def _filters(principal: Principal) -> TicketFilter:
    args = request.args
    department = args.get("department_id")
    flt = TicketFilter(
        status=csv_arg("status"),
        category=csv_arg("status_category"),
        priority=csv_arg("priority"),
        assignee=args.get("assignee") or None,
        tag=args.get("tag") or None,
        q=args.get("q") or None,
        created_after=_parse_datetime("created_after"),
        created_before=_parse_datetime("created_before"),
        sort=args.get("sort") or "-updated_at",
        snoozed=_snoozed_arg(args.get("snoozed")),
    )
    if department == "none":
        flt.no_department = True
    elif department:
        department_id = parse_id(department)
        if department_id is None:
            raise ValidationError("department_id must be an id or 'none'.",
                                  {"department_id": "invalid"})
        flt.department_id = department_id
    if principal.is_agent and args.get("requester_user_id"):
        flt.requester_user_id = args["requester_user_id"]
    return flt


# ---------------------------------------------------------------------------- tickets
@route("/tickets", ["GET"], summary="List tickets (keyset paged)", tag="Tickets",
       permission="ticket.view", paged=True,
       query={"status": "comma-separated status slugs",
              "status_category": "comma-separated categories",
              "priority": "comma-separated priorities",
              "assignee": "user id, 'me' or 'none'", "department_id": "id or 'none'",
              "tag": "tag slug", "q": "text in subject, or a reference",
              "requester_user_id": "host user id (agents)",
              "created_after": "ISO date-time", "created_before": "ISO date-time",
              "snoozed": "false (default: hide snoozed), true (only snoozed) or any",
              "sort": "created_at|updated_at|priority|id, '-' prefix for descending"})
def list_tickets() -> Response:
    principal = current_principal()
    flt = _filters(principal)
    rows, next_cursor = queries.list_tickets(
        principal, flt, limit=page_limit(), cursor=decode_cursor("tickets")
    )
    people = serializers.people_for(rows)
    return jsonify({
        "data": [serializers.ticket(t, people, for_agent=principal.is_agent) for t in rows],
        "next_cursor": encode_cursor("tickets", next_cursor),
    })


@route("/tickets", ["POST"], summary="Open a ticket", tag="Tickets",
       permission="ticket.create", body=TICKET_BODY, status=201)
def create_ticket() -> tuple[Response, int]:
    principal = current_principal()
    data = json_body()
    new = tickets.NewTicket(
        subject=data.get("subject"),
        description=data.get("description"),
        priority=data.get("priority"),
        department_id=data.get("department_id"),
        ticket_type=data.get("ticket_type", "question"),
        channel="api",
        tags=str_list(data.get("tags", []), "tags") if principal.is_agent else [],
        metadata=data.get("metadata") if principal.is_agent else None,
    )
    if principal.is_agent:
        new.requester_user_id = _opt_str(data.get("requester_user_id"), "requester_user_id")
        new.requester_email = _opt_str(data.get("requester_email"), "requester_email")
        new.requester_name = _opt_str(data.get("requester_name"), "requester_name")
        new.assignee_id = _opt_str(data.get("assignee_id"), "assignee_id")
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
    with committed():
        ticket = tickets.create_ticket(new, principal.actor)
    return detail_payload(tickets.get_ticket(ticket.id), principal, 201)


def _opt_str(value: Any, name: str) -> str | None:
    if value is None:
        return None
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    if not isinstance(value, str):
        raise ValidationError(f"{name} must be a string.", {name: "must be a string"})
    return value


@route("/tickets/<ident>", ["GET"], summary="Show a ticket (by id or reference)",
       tag="Tickets", permission="ticket.view")
def show_ticket(ident: str) -> tuple[Response, int]:
    ticket, principal = load_ticket(ident)
    return detail_payload(ticket, principal)


@route("/tickets/<ident>", ["PATCH"], summary="Update a ticket's properties", tag="Tickets",
       permission="ticket.edit",
       body={"version": "integer (optimistic lock; stale gives 409)", "subject": "string",
             "description": "string", "ticket_type": "string", "metadata": "object",
             "priority": "string", "status": "string", "department_id": "integer|null",
             "assignee_id": "string|null", "tags": "array of strings"})
def update_ticket(ident: str) -> tuple[Response, int]:
    ticket, principal = load_ticket(ident, "ticket.edit")
    data = json_body()
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
            tags.set_tags(ticket, str_list(data["tags"], "tags"), actor)
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
       permission="ticket.view", body={"status": "string (required)", "version": "integer"})
def change_status(ident: str) -> tuple[Response, int]:
    ticket, principal = load_ticket(ident)
    data = json_body()
    target = data.get("status")
    if not principal.is_agent:
        # Customers may close (when allowed) or reopen their own tickets, nothing else.
        _customer_status_check(ticket, target, principal)
    else:
        _require(principal, ticket,
                 "ticket.close" if target in ("resolved", "closed") else "ticket.edit")
    with committed():
        tickets.change_status(ticket, target, principal.actor, version=data.get("version"))
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
       tag="Tickets", permission="ticket.assign",
       body={"assignee_id": "string|null", "strategy": "manual|round_robin|least_loaded",
             "version": "integer"})
def assign_ticket(ident: str) -> tuple[Response, int]:
    ticket, principal = load_ticket(ident, "ticket.assign")
    data = json_body()
    strategy = data.get("strategy", "manual")
    with committed():
        if strategy in ("round_robin", "least_loaded"):
            tickets.check_version(ticket, data.get("version"))
            assignment.auto_assign(ticket, principal.actor, strategy=strategy)
        elif strategy != "manual":
            raise ValidationError(
                "Unknown strategy.", {"strategy": ", ".join(assignment.STRATEGIES)}
            )
        elif data.get("assignee_id") is None:
            assignment.unassign(ticket, principal.actor, version=data.get("version"))
        else:
            assignment.assign(ticket, data["assignee_id"], principal.actor,
                              version=data.get("version"))
    return detail_payload(tickets.get_ticket(ticket.id), principal)


@route("/tickets/<ident>/snooze", ["POST"], summary="Snooze until a preset or a time",
       tag="Tickets", permission="ticket.edit",
       body={"preset": "1h|4h|tomorrow|next_monday (09:00 in your time zone)",
             "until": "ISO 8601 date-time with a zone"})
def snooze_ticket(ident: str) -> tuple[Response, int]:
    ticket, principal = load_ticket(ident, "ticket.edit")
    data = json_body()
    with committed():
        until = snooze.parse_until(data.get("preset"), data.get("until"), principal.actor)
        snooze.snooze(ticket, until, principal.actor)
    return detail_payload(tickets.get_ticket(ticket.id), principal)


@route("/tickets/<ident>/snooze", ["DELETE"], summary="Wake a snoozed ticket", tag="Tickets",
       permission="ticket.edit")
def wake_ticket(ident: str) -> tuple[Response, int]:
    ticket, principal = load_ticket(ident, "ticket.edit")
    with committed():
        snooze.unsnooze(ticket, principal.actor)
    return detail_payload(tickets.get_ticket(ticket.id), principal)


# ---------------------------------------------------------------------------- replies
@route("/tickets/<ident>/replies", ["GET"], summary="List replies (and notes, for agents)",
       tag="Replies", permission="ticket.view")
def list_replies(ident: str) -> Response:
    ticket, principal = load_ticket(ident)
    rows = replies.list_replies(ticket, include_internal=principal.is_agent)
    return jsonify({"data": serializers.replies(rows, include_internal=principal.is_agent)})


def _reply_input() -> tuple[Any, list[attachments.Upload]]:
    if request.mimetype in ("multipart/form-data", "application/x-www-form-urlencoded"):
        uploads = [attachments.Upload(f.filename or "", f.stream)
                   for f in request.files.getlist("files")]
        return request.form.get("body"), uploads
    return json_body().get("body"), []


@route("/tickets/<ident>/replies", ["POST"], summary="Reply to a ticket (JSON or multipart)",
       tag="Replies", permission="reply.create", multipart=True,
       body={"body": "string (required)", "files": "multipart files (optional)"}, status=201)
def create_reply(ident: str) -> tuple[Response, int]:
    ticket, principal = load_ticket(ident, "reply.create")
    body, uploads = _reply_input()
    with committed():
        reply = replies.add_reply(ticket, body, principal.actor, uploads=uploads, channel="api")
    body = serializers.replies([reply], include_internal=principal.is_agent)[0]
    return jsonify({"data": body}), 201


@route("/tickets/<ident>/notes", ["POST"], summary="Add an internal note", tag="Replies",
       permission="reply.create_internal", multipart=True,
       body={"body": "string (required)"}, status=201)
def create_note(ident: str) -> tuple[Response, int]:
    ticket, principal = load_ticket(ident, "reply.create_internal")
    body, uploads = _reply_input()
    with committed():
        reply = replies.add_reply(ticket, body, principal.actor, internal=True, uploads=uploads,
                                  channel="api")
    return jsonify({"data": serializers.replies([reply], include_internal=True)[0]}), 201


def _pin(ident: str, reply_id: str, pinned: bool) -> Response:
    ticket, principal = load_ticket(ident, "reply.create_internal")
    with committed():
        reply = replies.set_pinned(ticket, reply_id, pinned, principal.actor)
    return jsonify({"data": serializers.replies([reply], include_internal=True)[0]})


@route("/tickets/<ident>/notes/<reply_id>/pin", ["POST"], summary="Pin a note", tag="Replies",
       permission="reply.create_internal")
def pin_note(ident: str, reply_id: str) -> Response:
    return _pin(ident, reply_id, True)


@route("/tickets/<ident>/notes/<reply_id>/pin", ["DELETE"], summary="Unpin a note",
       tag="Replies", permission="reply.create_internal")
def unpin_note(ident: str, reply_id: str) -> Response:
    return _pin(ident, reply_id, False)


# ---------------------------------------------------------------------------- tags
@route("/tickets/<ident>/tags", ["POST"], summary="Add tags", tag="Tags",
       permission="ticket.edit", body={"tags": "array of strings"})
def add_ticket_tags(ident: str) -> tuple[Response, int]:
    ticket, principal = load_ticket(ident, "ticket.edit")
    names = str_list(json_body().get("tags"), "tags")
    with committed():
        tags.add_tags(ticket, names, principal.actor)
    return detail_payload(tickets.get_ticket(ticket.id), principal)


@route("/tickets/<ident>/tags", ["PUT"], summary="Replace tags", tag="Tags",
       permission="ticket.edit", body={"tags": "array of strings"})
def set_ticket_tags(ident: str) -> tuple[Response, int]:
    ticket, principal = load_ticket(ident, "ticket.edit")
    names = str_list(json_body().get("tags"), "tags")
    with committed():
        tags.set_tags(ticket, names, principal.actor)
    return detail_payload(tickets.get_ticket(ticket.id), principal)


@route("/tickets/<ident>/tags/<slug>", ["DELETE"], summary="Remove a tag", tag="Tags",
       permission="ticket.edit")
def remove_ticket_tag(ident: str, slug: str) -> tuple[Response, int]:
    ticket, principal = load_ticket(ident, "ticket.edit")
    with committed():
        removed = tags.remove_tags(ticket, [slug], principal.actor)
    if not removed:
        raise NotFound(f"The ticket has no tag '{slug[:80]}'.")
    return detail_payload(tickets.get_ticket(ticket.id), principal)


# ---------------------------------------------------------------------------- followers
@route("/tickets/<ident>/followers", ["GET"], summary="List followers", tag="Followers",
       permission="ticket.edit")
def list_followers(ident: str) -> Response:
    ticket, _ = load_ticket(ident, "ticket.edit")
    ids = followers.list_followers(ticket)
    people = serializers.People(ids)
    return jsonify({"data": [people.user(i) for i in ids]})


@route("/tickets/<ident>/followers", ["POST"], summary="Follow (yourself or user_id)",
       tag="Followers", permission="ticket.edit", body={"user_id": "string (default: you)"},
       status=201)
def add_follower(ident: str) -> tuple[Response, int]:
    ticket, principal = load_ticket(ident, "ticket.edit")
    data = json_body() if request.content_length else {}
    with committed():
        added = followers.follow(ticket, data.get("user_id", principal.user_id), principal.actor)
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
       tag="Attachments", permission="ticket.view")
def list_attachments(ident: str) -> Response:
    ticket, principal = load_ticket(ident)
    rows = attachments.list_for_ticket(ticket, include_internal=principal.is_agent)
    return jsonify({"data": [serializers.attachment(a) for a in rows]})


@route("/tickets/<ident>/attachments", ["POST"], summary="Upload attachments (multipart)",
       tag="Attachments", permission="reply.create", multipart=True,
       body={"files": "one or more files"}, status=201)
def upload_attachments(ident: str) -> tuple[Response, int]:
    ticket, principal = load_ticket(ident, "reply.create")
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
       tag="Activity", permission="ticket.view", paged=True)
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


