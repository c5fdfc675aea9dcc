"""The composer's canned-response picker, without JavaScript.

The picker is a select inside the reply form with an "Insert" button whose ``formaction`` posts
the whole form here: the response is rendered for the ticket and appended to the typed draft,
and the ticket page comes back with the composer holding both (nothing is sent or saved).
``agent.js`` does the same in place, at the cursor, through the API's preview.

"My canned responses" (``/agent/canned-responses``) is where an agent keeps their personal
ones, through the API's schemas and the same service.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, flash, redirect, render_template, request, url_for

from ..services import canned, ext
from ..services.errors import ServiceError, ValidationError
from .api.schemas import Empty
from .api.schemas.canned import CannedCreate, CannedUpdate
from .api.schemas.pages import CannedInsert
from .forms import FieldSpec, initial_values, read_form, specs_for
from .page_forms import FormRefused, read_page, reads
from .security import current_principal, load_ticket, requires


def register(bp: Blueprint) -> None:
    bp.add_url_rule("/tickets/<ident>/canned", "canned_insert", insert_canned, methods=["POST"])
    bp.add_url_rule("/canned-responses", "my_canned", my_canned)
    bp.add_url_rule("/canned-responses/new", "new_canned", new_canned, methods=["GET", "POST"])
    bp.add_url_rule(
        "/canned-responses/<escalated_id:ident>",
        "edit_canned",
        edit_canned,
        methods=["GET", "POST"],
    )
    bp.add_url_rule(
        "/canned-responses/<escalated_id:ident>/delete",
        "delete_canned",
        delete_canned,
        methods=["GET", "POST"],
    )


def appended(draft: str, text: str) -> str:
    """``text`` after the draft, a blank line between them (a new paragraph in Markdown)."""
    draft = draft.replace("\r\n", "\n")
    return f"{draft.rstrip()}\n\n{text}" if draft.strip() else text


@requires("canned.view")
@reads(CannedInsert)
def insert_canned(ident: str) -> tuple[str, int]:
    from .agent import _render_ticket

    ticket, principal = load_ticket(ident)
    typed = request.form.get("body") or ""
    draft = {"body": typed, "kind": "note" if request.form.get("kind") == "note" else "reply"}
    try:
        data = read_page(CannedInsert)
        text = canned.preview(principal, data.canned_id, ticket)
    except FormRefused as exc:
        refusal: ServiceError = exc
        if set(exc.fields) == {"canned_id"}:
            refusal = ValidationError("Choose a canned response to insert.",
                                      {"canned_id": "choose one"})
        return _render_ticket(ticket, principal, status=refusal.status,
                              error=refusal.message, draft=draft)
    except ServiceError as exc:
        return _render_ticket(ticket, principal, status=exc.status, error=exc.message,
                              draft=draft)
    draft["body"] = appended(typed, text)
    return _render_ticket(ticket, principal, draft=draft)


# ---------------------------------------------------------------------------- my responses
#: The inputs of an agent's own responses (shared ones are kept in the console).
_OWN_FIELDS = ("title", "shortcut", "body")


def _specs(model: type[Any]) -> list[FieldSpec]:
    return specs_for(
        model,
        only=_OWN_FIELDS,
        title={"required": model is CannedCreate},
        shortcut={"help": "Type /shortcut in the composer's picker (optional)."},
        body={
            "widget": "textarea",
            "rows": 10,
            "label": "Body (Markdown)",
            "required": model is CannedCreate,
            "help": "Placeholders: "
            + ", ".join("{{" + p + "}}" for p in canned.PLACEHOLDERS)
            + ". Unknown ones stay as written.",
        },
    )


def _own(ident: int) -> Any:
    from ..services.errors import NotFound

    row = canned.get(current_principal(), ident)
    if row.is_shared:
        raise NotFound("Shared canned responses are kept in the admin console.")
    return row


def _page(mode: str, status: int = 200, **context: Any) -> tuple[str, int]:
    return render_template("escalated/agent/canned.html", mode=mode, **context), status


@requires("canned.view")
def my_canned() -> tuple[str, int]:
    rows, _ = canned.list_page(current_principal(), limit=500, shared=False)
    return _page("list", rows=rows)


def _save(model: type[Any], row: Any) -> Any:
    specs = _specs(model)
    if request.method == "GET":
        values = initial_values(canned.serialize(row) if row is not None else {}, specs)
        return _page("form", row=row, specs=specs, values=values, errors={})
    extra = {n: "" for n in ("title", "body") if request.form.get(n) == ""}
    if request.form.get("body"):
        extra["body"] = request.form["body"].replace("\r\n", "\n")
    form = read_form(model, specs, extra=extra)
    if form.ok:
        assert form.model is not None
        principal = current_principal()
        try:
            with ext().unit_of_work():
                saved = (
                    canned.create(principal, form.model.changes())
                    if row is None
                    else canned.update(principal, row.id, form.model.changes())
                )
        except ServiceError as exc:
            form.fail(exc)
            return _page(
                "form", exc.status, row=row, specs=specs, values=form.values, errors=form.errors
            )
        flash(f"The canned response “{saved.title}” was saved.", "success")
        return redirect(url_for(".my_canned"), 303)
    return _page("form", 422, row=row, specs=specs, values=form.values, errors=form.errors,
                 error=FormRefused(form).message)


@requires("canned.create")
@reads(CannedCreate)
def new_canned() -> Any:
    return _save(CannedCreate, None)


@requires("canned.create")
@reads(CannedUpdate)
def edit_canned(ident: int) -> Any:
    return _save(CannedUpdate, _own(ident))


@requires("canned.create")
@reads(Empty)
def delete_canned(ident: int) -> Any:
    row = _own(ident)
    if request.method == "POST":
        read_page(Empty)
        title = row.title
        with ext().unit_of_work():
            canned.remove(current_principal(), row.id)
        flash(f"The canned response “{title}” was deleted.", "success")
        return redirect(url_for(".my_canned"), 303)
    return _page("delete", row=row)
