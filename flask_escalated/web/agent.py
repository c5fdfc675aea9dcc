"""The agent workspace: dashboard, queue with bulk actions, and the ticket page.

Server-rendered pages whose every flow is a plain form (POST, then a redirect to a GET), so they
work without JavaScript; ``agent.js`` adds keyboard shortcuts, select-all and the KB insert.
Property forms carry the ticket's ``version``: a stale one re-renders the page with a 409 and
keeps whatever the agent typed. Only agents (and admins) get in; customers get a 403.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any, TypeVar
from urllib.parse import urlsplit

from flask import (
    Blueprint,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from sqlalchemy.orm.exc import StaleDataError
from werkzeug.wrappers import Response

from ..config import Config
from ..domain import CLOSED_CATEGORIES, PRIORITIES, STATUS_LABELS
from ..models import Ticket
from ..services import (
    agents,
    assignment,
    attachments,
    bulk,
    canned,
    custom_fields,
    departments,
    ext,
    followers,
    kb,
    macros,
    queries,
    replies,
    serializers,
    sla,
    snooze,
    statuses,
    tags,
    ticket_search,
    tickets,
    views,
    workspace,
)
from ..services.errors import (
    NotFound,
    PermissionDenied,
    ServiceError,
    StaleVersion,
    ValidationError,
)
from ..services.ids import parse_id
from ..services.permissions import Principal, can_act_on_ticket
from ..services.queries import SLA_STATES, TicketFilter
from ..services.sanitize import message_html
from . import agent_canned, agent_relations, agent_routing, agent_side, agent_views
from .api.schemas.pages import (
    AgentReply,
    AssigneeChange,
    BulkChange,
    DepartmentChange,
    FollowChange,
    MacroApply,
    PinChange,
    PriorityChange,
    SnoozeChange,
    TagRemove,
    TagsAdd,
    Versioned,
)
from .api.schemas.replies import VISIBILITY_ALIASES
from .api.schemas.tickets import StatusChange
from .html import install_html_errors, relative_time, staff_pages
from .page_forms import by_input, read_page, reads
from .security import csrf_token, current_principal, load_ticket, requires

PAGE_SIZE = 50
SORT_COLUMNS = {"updated_at": "Updated", "created_at": "Created", "priority": "Priority",
                "id": "Reference"}
CURSOR_KIND = "agent-queue"
#: How a list field is read from a form: every value of the repeated input.
LIST = {"widget": "checkboxes"}
V = TypeVar("V", bound=Versioned | StatusChange | AgentReply)


def create_agent_blueprint() -> Blueprint:
    bp = Blueprint("agent", __name__, url_prefix="/agent")
    bp.before_request(_agents_only)
    install_html_errors(bp)
    bp.add_url_rule("", "dashboard", dashboard)
    bp.add_url_rule("/tickets", "queue", queue)
    bp.add_url_rule("/tickets/bulk", "bulk", bulk_action, methods=["POST"])
    bp.add_url_rule("/tickets/<ident>", "ticket", show_ticket)
    bp.add_url_rule("/tickets/<ident>/reply", "reply", post_reply, methods=["POST"])
    for name in ("status", "priority", "assign", "department", "tags", "untag", "snooze",
                 "macro", "fields"):
        bp.add_url_rule(f"/tickets/<ident>/{name}", name, _CHANGES[name], methods=["POST"])
    bp.add_url_rule("/tickets/<ident>/follow", "follow", follow, methods=["POST"])
    agent_canned.register(bp)
    agent_views.register(bp)
    agent_side.register(bp)
    agent_routing.register(bp)
    agent_relations.register(bp)
    bp.add_url_rule("/tickets/<ident>/notes/<escalated_id:reply_id>/pin", "pin", pin,
                    methods=["POST"])
    bp.app_context_processor(_template_helpers)
    return bp


# ---------------------------------------------------------------------------- guards
def _agents_only() -> Response | None:
    return staff_pages(lambda principal: principal.is_agent,
                       "The agent workspace is for support agents.")


def _template_helpers() -> dict[str, Any]:
    return {"csrf_token": csrf_token, "escalated_is_agent": _is_agent,
            "escalated_ago": relative_time}


def _is_agent() -> bool:
    """For the shared layout's nav: is the signed-in person an agent? (never raises)"""
    try:
        return current_principal().is_agent
    except ServiceError:
        return False


# ---------------------------------------------------------------------------- dashboard
@requires("ticket.view")
def dashboard() -> str:
    principal = current_principal()
    board = workspace.dashboard(principal)
    people = serializers.People(board.user_ids())
    return render_template(
        "escalated/agent/dashboard.html", board=board, people=people,
        status_labels=_status_labels(), sla_of=lambda t: queries.sla_label(t, board.at),
        me=principal.user_id,
    )


# ---------------------------------------------------------------------------- queue
def _choice(name: str, allowed: tuple[str, ...] | list[str] | set[str]) -> str:
    value = (request.args.get(name) or "").strip()
    if value and value not in allowed:
        raise ValidationError(f"'{value[:40]}' is not a valid {name} filter.",
                              {name: "not one of the choices"})
    return value


def _queue_filter() -> tuple[TicketFilter, dict[str, str]]:
    """The queue's filters from the query string (all optional; bad values are a 422)."""
    args = request.args
    known = {s.slug for s in statuses.all_statuses(include_inactive=True)}
    form = {
        "status": _choice("status", known | {"any", "snoozed"}),
        "priority": _choice("priority", PRIORITIES),
        "sla": _choice("sla", SLA_STATES),
        "department": (args.get("department") or "").strip(),
        "assignee": (args.get("assignee") or "").strip()[:64],
        "tag": (args.get("tag") or "").strip()[:80],
        "q": (args.get("q") or "").strip(),
        "sort": (args.get("sort") or "").strip(),
    }
    flt = TicketFilter(sort=form["sort"] or None, q=form["q"] or None, tag=form["tag"] or None,
                       sla=form["sla"] or None)
    if form["status"] == "snoozed":
        flt.snoozed = True
    elif form["status"] == "any":
        flt.snoozed = False
    elif form["status"]:
        flt.status = [form["status"]]
    else:
        flt.category = sorted(c for c in STATUS_LABELS if c not in CLOSED_CATEGORIES)
    if form["priority"]:
        flt.priority = [form["priority"]]
    if form["assignee"]:
        flt.assignee = form["assignee"]
    if form["department"] == "none":
        flt.no_department = True
    elif form["department"]:
        department_id = parse_id(form["department"])
        if department_id is None:
            raise ValidationError("department must be an id or 'none'.",
                                  {"department": "invalid"})
        flt.department_id = department_id
    return flt, form


def _decode_cursor() -> Any:
    from .api.base import decode_cursor

    return decode_cursor(CURSOR_KIND)


@requires("ticket.view")
def queue() -> str:
    principal = current_principal()
    saved = views.list_views(principal)
    view_id = request.args.get("view") or (
        None if request.args else views.default_view_id(principal))
    view = views.get(principal, view_id) if view_id else None
    flt, form = _queue_filter()
    stale: list[str] = []
    refiltered = False
    if view is not None:  # a saved view's filters, read as GET /tickets reads them
        flt, form, stale, refiltered = agent_views.open_view(view, flt, form)
    rows, next_cursor = queries.list_tickets(principal, flt, limit=PAGE_SIZE,
                                             cursor=_decode_cursor())
    from .api.base import encode_cursor

    agent_ids = [a.user_id for a in agents.list_agents()]
    people = serializers.People([*agent_ids, *(i for t in rows
                                               for i in (t.requester_user_id, t.assignee_id))])
    at = ext().now()
    args: dict[str, Any] = {k: v for k, v in form.items() if v}
    sort_args = args
    if view is not None:
        args, sort_args = agent_views.queue_args(view, form, refiltered)
    sort = flt.effective_sort
    found = (ticket_search.snippets([t.id for t in rows], flt.q, include_notes=True)
             if flt.q else {})
    return render_template(
        "escalated/agent/queue.html",
        tickets=rows, people=people, form=form, args=args,
        next_url=url_for(".queue", **args, cursor=encode_cursor(CURSOR_KIND, next_cursor))
        if next_cursor else None,
        first_url=url_for(".queue", **args) if request.args.get("cursor") else None,
        sort_url=lambda key: url_for(".queue", **{**sort_args, "sort": _toggle(sort, key)}),
        sort_state=lambda key: _sort_state(sort, key), snippets=found,
        sort_columns=SORT_COLUMNS,
        statuses=statuses.all_statuses(), status_labels=_status_labels(),
        priorities=PRIORITIES, sla_states=SLA_STATES,
        departments=departments.list_departments(include_inactive=False),
        agents=agent_ids, sla_of=lambda t: queries.sla_label(t, at), now=at,
        back=request.full_path if request.query_string else request.path,
        saved_views=saved, view_counts=views.counts(principal, saved), current_view=view,
        stale=stale, can_share_views=principal.can("view.manage"), view_refiltered=refiltered,
        may_change_view=view is not None and views.may_change(principal, view),
    )


def _toggle(current: str, key: str) -> str:
    if current.lstrip("-") == key:
        return key if current.startswith("-") else f"-{key}"
    return f"-{key}"


def _sort_state(current: str, key: str) -> str:
    if current.lstrip("-") != key:
        return "none"
    return "descending" if current.startswith("-") else "ascending"


def _safe_back(raw: str | None) -> str:
    """Only back to the queue itself (no open redirect)."""
    queue_path = url_for(".queue")
    if raw:
        parts = urlsplit(raw)
        if not parts.scheme and not parts.netloc and parts.path == queue_path:
            return raw
    return queue_path


@requires("ticket.view")
@reads(BulkChange)
def bulk_action() -> Response:
    """The queue's bulk form (``BulkChange``); each ticket's failure is a message."""
    principal = current_principal()
    back = _safe_back(request.form.get("back"))
    # A refused form is the 422 page naming the field; the ticket ids are repeated inputs.
    data = read_page(BulkChange, ids=LIST, page_ids=LIST)
    ids = data.page_ids if data.all_on_page else data.ids
    value = {"assign": data.assignee, "status": data.status,
             "priority": data.priority, "add_tag": data.tag,
             "department": data.department_id, "merge": data.into}[data.action]
    try:
        ticket_ids = bulk.parse_ids(ids)
        with ext().unit_of_work():
            result = bulk.apply(principal, ticket_ids, data.action, value)
    except ServiceError as exc:
        flash(exc.message, "error")
        return redirect(back, 303)
    if result.done:
        verb = f"Merged into {data.into}:" if data.action == "merge" else "Updated"
        flash(f"{verb} {len(result.done)} ticket{'s' if len(result.done) != 1 else ''}.",
              "success")
    for ticket_id, message in result.failed.items():
        flash(f"{result.label(ticket_id)} was not changed: {message}", "error")
    return redirect(back, 303)


# ---------------------------------------------------------------------------- ticket page
def _status_labels() -> dict[str, str]:
    return {s.slug: s.label for s in statuses.all_statuses(include_inactive=True)}


def _kb_search_url(principal: Principal) -> str | None:
    """The JSON API's knowledge-base search, for the composer's link box: none without the API
    or without an article the agent could find (the page says so, the script asks nothing)."""
    if not current_app.config[Config.API_ENABLED] or not kb.searchable(principal):
        return None
    return url_for("escalated.api.search_kb")


def _render_ticket(ticket: Ticket, principal: Principal, *, status: int = 200,
                   error: str | None = None, draft: dict[str, str] | None = None,
                   errors: dict[str, Any] | None = None) -> tuple[str, int]:
    history = workspace.timeline(ticket)
    follower_ids = followers.list_followers(ticket)
    agent_ids = [a.user_id for a in agents.list_agents()]
    people = serializers.People([ticket.requester_user_id, ticket.assignee_id, *follower_ids,
                                 *agent_ids, *history.user_ids()])

    def may(permission: str) -> bool:
        return can_act_on_ticket(principal, ticket, permission)

    return render_template(
        "escalated/agent/ticket.html",
        ticket=ticket, timeline=history, people=people, followers=follower_ids,
        following=principal.user_id in follower_ids, agents=agent_ids, me=principal.user_id,
        allowed_statuses=statuses.allowed_targets(ticket.status),
        status_labels=_status_labels(), priorities=PRIORITIES,
        departments=departments.list_departments(include_inactive=False),
        sla_targets=sla.state(ticket), sla_now=ext().now(),
        macros=macros.visible(principal) if may("ticket.view")
        and principal.can_anywhere("macro.view") else [],
        snooze_presets=snooze.PRESETS, may=may, error=error, draft=draft or {},
        errors=by_input(errors),
        kb_search_url=_kb_search_url(principal), render_body=message_html,
        canned_responses=canned.available(principal)
        if principal.can_anywhere("canned.view") else [],
        requester=people.user(ticket.requester_user_id) if ticket.requester_user_id
        else serializers.contact(ticket.contact),
        cf_fields=custom_fields.form_fields(for_customer=False),
        cf_values={**{f"cf.{k}": v for k, v in
                      custom_fields.custom_field_values(ticket).items()},
                   **{k: v for k, v in (draft or {}).items() if k.startswith("cf.")}},
    ), status


@requires("ticket.view")
def show_ticket(ident: str) -> tuple[str, int]:
    ticket, principal = load_ticket(ident)
    return _render_ticket(ticket, principal)


def _after_failure(ident: str, exc: ServiceError, draft: dict[str, str], *,
                   prefix: str = "") -> tuple[str, int]:
    """Re-render the ticket with the error, each field at fault named, and the agent's text
    (the change rolled back). ``prefix`` keys the fields of a form other than the composer
    (``side_``), so its errors show beside its own inputs."""
    ticket, principal = load_ticket(ident)
    errors = {prefix + k: v for k, v in (exc.fields or {}).items()}
    return _render_ticket(ticket, principal, status=exc.status, error=exc.message, draft=draft,
                          errors=errors)


def _change(ident: str, permission: str, model: type[V],
            change: Callable[[Ticket, Principal, V], str], *,
            only: tuple[str, ...] | None = None, extra: dict[str, Any] | None = None,
            draft: dict[str, str] | None = None, consumed: Iterable[str] = ()) -> Any:
    """Read the form through ``model`` (a refused one re-renders the page with 422), then run
    one property change under the optimistic lock; PRG on success. ``draft`` is the text that
    comes back when the page is shown again."""
    ticket, principal = load_ticket(ident, permission)
    typed = draft or {}
    try:
        data = read_page(model, only=only, consumed=[*(extra or ()), *consumed], extra=extra)
        with ext().unit_of_work():
            tickets.check_version(ticket, data.version)
            message = change(ticket, principal, data)
    except (StaleVersion, StaleDataError):
        return _after_failure(ident, StaleVersion(
            "Someone changed this ticket while you were looking at it; nothing was saved. "
            "Here is the current version: check it and submit again."), typed)
    except ServiceError as exc:
        return _after_failure(ident, exc, typed)
    flash(message, "success")
    return redirect(url_for(".ticket", ident=ticket.reference), 303)


#: The composer's inputs: ``kind`` is one of ``ReplyCreate``'s visibility aliases, spelled
#: exactly (``Note``, ``NOTE``, ``private`` are refused, never read as a public reply).
COMPOSER = ("body", "kind", "version")


@requires("reply.create")
@reads(AgentReply)
def post_reply(ident: str) -> Any:
    kind = request.form.get("kind")
    uploads = [attachments.Upload(f.filename or "", f.stream)
               for f in request.files.getlist("files") if f.filename]

    def add(ticket: Ticket, principal: Principal, data: AgentReply) -> str:
        if not data.model_fields_set & set(VISIBILITY_ALIASES):
            raise ValidationError(
                "Choose whether this is a reply to the customer or an internal note; nothing "
                "was sent.", {"kind": "reply or note"})
        internal = data.is_note
        if internal and not can_act_on_ticket(principal, ticket, "reply.create_internal"):
            raise PermissionDenied("You need the 'reply.create_internal' permission for this.")
        replies.add_reply(ticket, data.body, principal.actor, internal=internal,
                          uploads=uploads)
        return "Internal note added." if internal else "Reply sent."

    # Shown again, the draft has "note" chosen unless the agent chose a reply: sent again
    # unchanged, a text whose kind was unclear stays internal.
    draft = {"body": request.form.get("body", ""), "kind": "reply" if kind == "reply" else "note"}
    # The canned-response picker's select sits in the composer (its Insert button posts the
    # draft elsewhere): sending the reply leaves it alone.
    return _change(ident, "reply.create", AgentReply, add, only=COMPOSER, draft=draft,
                   consumed=("canned_id",))


def _status_permission() -> str:
    target = request.form.get("status") or ""
    try:
        closing = statuses.category_of(target) in CLOSED_CATEGORIES
    except ValidationError:
        closing = False
    return "ticket.close" if closing else "ticket.edit"


@reads(StatusChange)
def change_status(ident: str) -> Any:
    def move(ticket: Ticket, principal: Principal, data: StatusChange) -> str:
        tickets.change_status(ticket, data.status, principal.actor)
        return f"Status set to {_status_labels().get(ticket.status, ticket.status)}."

    return _change(ident, _status_permission(), StatusChange, move)


@reads(PriorityChange)
def change_priority(ident: str) -> Any:
    def apply(ticket: Ticket, principal: Principal, data: PriorityChange) -> str:
        tickets.change_priority(ticket, data.priority, principal.actor)
        return f"Priority set to {ticket.priority}."

    return _change(ident, "ticket.edit", PriorityChange, apply)


@reads(Versioned)
def change_fields(ident: str) -> Any:
    """The "Fields" panel: every offered field at once, through the same validation as the
    API (display conditions, types, options). The offered fields' inputs are read apart (their
    keys are the desk's own); any other input is refused as unknown."""
    offered = custom_fields.form_fields(for_customer=False)
    values = custom_fields.from_form(request.form, offered, clear_empty=True)
    draft = {k: v for k, v in request.form.items() if k.startswith("cf.")}

    def apply(ticket: Ticket, principal: Principal, data: Versioned) -> str:
        tickets.update_ticket(ticket, {"custom_fields": values}, principal.actor)
        return "Fields saved."

    return _change(ident, "ticket.edit", Versioned, apply, draft=draft,
                   consumed=[f"cf.{f.key}" for f in offered])


@reads(AssigneeChange)
def change_assignee(ident: str) -> Any:
    def apply(ticket: Ticket, principal: Principal, data: AssigneeChange) -> str:
        choice = data.assignee
        if choice in (None, "none"):
            assignment.unassign(ticket, principal.actor)
            return "The ticket is unassigned."
        uid = principal.user_id if choice == "me" else choice
        assignment.assign(ticket, uid, principal.actor)
        return "Assigned."

    return _change(ident, "ticket.assign", AssigneeChange, apply)


@reads(DepartmentChange)
def change_department(ident: str) -> Any:
    def apply(ticket: Ticket, principal: Principal, data: DepartmentChange) -> str:
        tickets.change_department(ticket, data.department_id, principal.actor)
        return "Department changed."

    return _change(ident, "ticket.edit", DepartmentChange, apply)


@reads(TagsAdd)
def add_tags(ident: str) -> Any:
    """The page's one text input, comma-separated, read as ``TicketTags``' list."""
    raw = request.form.get("tags") or ""
    names = [n.strip() for n in raw.split(",") if n.strip()]

    def apply(ticket: Ticket, principal: Principal, data: TagsAdd) -> str:
        if not data.tags:
            raise ValidationError("Type a tag to add.", {"tags": "required"})
        added = tags.add_tags(ticket, data.tags, principal.actor)
        return f"Added {len(added)} tag{'s' if len(added) != 1 else ''}."

    return _change(ident, "ticket.edit", TagsAdd, apply, only=("version",),
                   extra={"tags": names}, draft={"tags": raw})


@reads(TagRemove)
def remove_tag(ident: str) -> Any:
    def apply(ticket: Ticket, principal: Principal, data: TagRemove) -> str:
        if not tags.remove_tags(ticket, [data.tag], principal.actor):
            raise NotFound(f"The ticket has no tag '{data.tag}'.")
        return "Tag removed."

    return _change(ident, "ticket.edit", TagRemove, apply)


@reads(SnoozeChange)
def snooze_ticket(ident: str) -> Any:
    def apply(ticket: Ticket, principal: Principal, data: SnoozeChange) -> str:
        if data.preset == "wake":
            snooze.unsnooze(ticket, principal.actor)
            return "The ticket is awake."
        until = snooze.parse_until(data.preset, None, principal.actor)
        snooze.snooze(ticket, until, principal.actor)
        return f"Snoozed until {until.strftime('%Y-%m-%d %H:%M')} UTC."

    return _change(ident, "ticket.edit", SnoozeChange, apply)


@reads(MacroApply)
def apply_macro(ident: str) -> Any:
    def apply(ticket: Ticket, principal: Principal, data: MacroApply) -> str:
        if not principal.can_anywhere("macro.view"):
            raise PermissionDenied("You need the 'macro.view' permission for this.")
        done = macros.apply(principal, data.macro_id, ticket)
        return f"Macro applied ({len(done)} action{'s' if len(done) != 1 else ''})."

    return _change(ident, "ticket.view", MacroApply, apply)


_CHANGES: dict[str, Callable[[str], Any]] = {
    name: requires("ticket.view")(view) for name, view in {
        "status": change_status, "priority": change_priority, "assign": change_assignee,
        "department": change_department, "tags": add_tags, "untag": remove_tag,
        "snooze": snooze_ticket, "macro": apply_macro, "fields": change_fields,
    }.items()
}


@requires("ticket.edit")
@reads(FollowChange)
def follow(ident: str) -> Any:
    def apply(ticket: Ticket, principal: Principal, data: FollowChange) -> str:
        if data.action == "follow":
            followers.follow(ticket, principal.user_id, principal.actor)
            return "You follow this ticket."
        followers.unfollow(ticket, principal.user_id, principal.actor)
        return "You no longer follow this ticket."

    return _change(ident, "ticket.edit", FollowChange, apply)


@requires("reply.create_internal")
@reads(PinChange)
def pin(ident: str, reply_id: int) -> Any:
    def apply(ticket: Ticket, principal: Principal, data: PinChange) -> str:
        pinned = data.pinned == "1"
        replies.set_pinned(ticket, reply_id, pinned, principal.actor)
        return "Note pinned." if pinned else "Note unpinned."

    return _change(ident, "reply.create_internal", PinChange, apply)
