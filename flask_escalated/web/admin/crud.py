"""The console's list / create / edit / delete pages, declared once per resource.

A :class:`Resource` names the service functions the JSON API already calls and the schemas it
validates with; :func:`register` adds its four pages under ``/admin/<name>`` and its place in
the navigation. Every change therefore takes the API's one path: the same validation (the
schema, through :mod:`..forms`), the same service (audit rows, signals, webhooks), the same
errors (a refused change re-renders the form with the field named and the typed text kept,
with the service error's status).

Deleting is two steps: ``GET /<id>/delete`` shows what will go and a confirmation form, and
``POST`` deletes and redirects to the list.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from flask import Blueprint, flash, redirect, render_template, request, url_for
from markupsafe import Markup
from pydantic import BaseModel
from werkzeug.datastructures import MultiDict
from werkzeug.wrappers import Response

from ...events import Actor
from ...services import ext
from ...services.errors import PermissionDenied, ServiceError, ValidationError
from ..forms import FieldSpec, FormData, initial_values, read_form, specs_for
from ..security import current_principal, requires

#: Rows per page of a paged list.
PAGE_SIZE = 50


@dataclass(frozen=True)
class Column:
    """One column of a list: its heading and the cell of a row (text, or Markup)."""

    label: str
    cell: Callable[[Any], Any]


@dataclass(frozen=True)
class Page:
    """One page of a list: its rows and the cursor of the next page (``None``: the last)."""

    rows: list[Any]
    next_cursor: Any = None


@dataclass
class Resource:
    """One section of the console, and how its pages reach the services."""

    #: The URL segment (the API's resource name, e.g. ``sla-policies``).
    name: str
    label: str
    singular: str
    #: The permission to see the list (and the edit page, read-only without ``edit``).
    view: str
    load: Callable[[Any], Any]
    #: A row as the API serializes it: the edit form's starting values.
    serialize: Callable[[Any], dict[str, Any]]
    columns: Sequence[Column]
    #: ``(q, cursor, limit)`` to a :class:`Page`; ``q`` only when ``searchable``, and the
    #: parsed ``filters`` model in its place when the section has filters.
    rows: Callable[[Any, Any, int], Page]
    title: Callable[[Any], str] = lambda row: str(getattr(row, "name", row))
    create_model: type[BaseModel] | None = None
    update_model: type[BaseModel] | None = None
    create: Callable[[Actor, dict[str, Any]], Any] | None = None
    update: Callable[[Actor, Any, dict[str, Any]], Any] | None = None
    delete: Callable[[Actor, Any], Any] | None = None
    create_permission: str | None = None
    edit_permission: str | None = None
    delete_permission: str | None = None
    #: The form's inputs for a model (default: derived from the schema).
    specs: Callable[[type[BaseModel]], list[FieldSpec]] | None = None
    #: Builds data from inputs of the page's own (a grid, a builder): ``(extra, consumed)``.
    extra_input: Callable[[], tuple[dict[str, Any], Sequence[str]]] | None = None
    #: Submit buttons that re-render the form as typed instead of saving it (a builder's
    #: "Add rows"): a page grows without JavaScript, and nothing is written.
    refresh_inputs: Sequence[str] = ()
    #: A new row's starting values, as the API would serialize them (the service's defaults,
    #: e.g. a rule starts active).
    initial: Callable[[], dict[str, Any]] | None = None
    searchable: bool = False
    #: The list's filters: the query-string schema (the API's list query, so a page and a
    #: JSON client are refused alike) and the inputs of its GET form (named as the query's
    #: keys). A bad value re-renders the list with the field named (422), never a 500.
    filters: type[BaseModel] | None = None
    filter_specs: Callable[[], list[FieldSpec]] | None = None
    #: What the delete step is called (verb, past tense): a token is revoked, not deleted.
    delete_words: tuple[str, str] = ("delete", "deleted")
    #: Whether a row offers the delete step at all (a revoked token does not): like a
    #: locked row it has no delete link and its delete page answers 409, but it stays editable.
    deletable: Callable[[Any], bool] = lambda row: True
    #: A sentence under the heading: what this section is for.
    intro: str | None = None
    #: Templates included on the edit page below the form (logs, sub-lists).
    edit_panels: Sequence[str] = ()
    #: Extra template context for the form pages: ``(row or None) -> dict``.
    context: Callable[[Any], dict[str, Any]] | None = None
    #: The form template (default: the generic one).
    form_template: str = "escalated/admin/form.html"
    #: What the API row's values are called when they differ from the form's field names.
    form_values: Callable[[Any], dict[str, Any]] | None = None
    after_create: Callable[[Any], Response | None] | None = None
    #: The URL converter of a row's key and the key of a row (roles go by slug, agents by
    #: user id; everything else by its numeric id).
    key_rule: str = "escalated_id"
    key: Callable[[Any], Any] = lambda row: row.id
    #: Why a row can be neither changed nor deleted (built-in roles and statuses), or
    #: ``None``: its edit page is read-only, it has no delete link, and posting answers 409.
    locked: Callable[[Any], str | None] | None = None
    #: What the delete page says will happen (default: it cannot be undone).
    delete_note: str = "This cannot be undone."
    _nav: bool = field(default=True, repr=False)

    # -- derived --
    def endpoint(self, page: str) -> str:
        return f"escalated.admin.{self.name.replace('-', '_').replace('/', '_')}_{page}"

    def inputs(self, model: type[BaseModel]) -> list[FieldSpec]:
        return self.specs(model) if self.specs is not None else specs_for(model)

    def may(self, permission: str | None) -> bool:
        return permission is not None and current_principal().can_anywhere(permission)

    def lock_reason(self, row: Any) -> str | None:
        return self.locked(row) if self.locked is not None and row is not None else None

    def delete_refusal(self, row: Any) -> str | None:
        """Why ``row`` has no delete step (it is locked, or already removed), or ``None``."""
        if (reason := self.lock_reason(row)) is not None:
            return reason
        if row is not None and not self.deletable(row):
            return f"The {self.singular} “{self.title(row)}” is already {self.delete_words[1]}."
        return None


def simple_rows(listing: Callable[[], Sequence[Any]]) -> Callable[[str | None, Any, int], Page]:
    """A list that stays small (departments, roles, tags): every row on one page."""
    return lambda q, cursor, limit: Page(list(listing()))


# ---------------------------------------------------------------------------- pages
def register(bp: Blueprint, res: Resource) -> None:
    """Add the resource's pages (and its navigation entry)."""
    from . import NAV, NavItem

    stem = res.name.replace("-", "_").replace("/", "_")
    base = f"/{res.name}"
    bp.add_url_rule(base, f"{stem}_list", requires(res.view)(lambda: _list(res)))
    if res.create is not None:
        bp.add_url_rule(f"{base}/new", f"{stem}_new",
                        requires(res.create_permission)(lambda: _new(res)),
                        methods=["GET", "POST"])
    bp.add_url_rule(f"{base}/<{res.key_rule}:ident>", f"{stem}_edit",
                    requires(res.view)(lambda ident: _edit(res, ident)),
                    methods=["GET", "POST"])
    if res.delete is not None:
        bp.add_url_rule(f"{base}/<{res.key_rule}:ident>/delete", f"{stem}_delete",
                        requires(res.delete_permission)(lambda ident: _delete(res, ident)),
                        methods=["GET", "POST"])
    item = NavItem(res.endpoint("list"), res.label, res.view)
    if res._nav and item not in NAV:  # a second app registers the same sections
        NAV.append(item)


def _list(res: Resource) -> tuple[str, int]:
    from ..api.base import decode_cursor, encode_cursor

    q = (request.args.get("q") or "").strip()[:200] or None if res.searchable else None
    query, errors, typed = _read_filters(res) if res.filters is not None else (q, {}, {})
    cursor = decode_cursor(f"admin-{res.name}")
    page = Page([])
    if not errors:
        try:
            page = res.rows(query, cursor, PAGE_SIZE)
        except ValidationError as exc:  # filters the service refuses together ('from' > 'to')
            errors = {str(k): str(v) for k, v in (exc.fields or {"query": exc.message}).items()}
    keep: dict[str, Any] = {"q": q} if q else dict(typed)
    nxt = encode_cursor(f"admin-{res.name}", page.next_cursor)
    return render_template(
        "escalated/admin/list.html", res=res, rows=page.rows, q=q or "",
        filter_specs=res.filter_specs() if res.filter_specs is not None else [],
        filter_values=typed, filter_errors=errors, filtered=bool(typed),
        first_url=url_for(res.endpoint("list"), **keep),
        next_url=url_for(res.endpoint("list"), **keep, cursor=nxt) if nxt else None,
        paged=cursor is not None), 422 if errors else 200


def _read_filters(res: Resource) -> tuple[Any, dict[str, str], dict[str, str]]:
    """The list's filters read by the section's schema, as the API reads its query: the
    model (or the errors per field) and the text as typed, for the form and the pager."""
    from ..api.schemas._base import from_text, validate

    assert res.filters is not None
    pairs = [(k, v) for k, v in request.args.items(multi=True)
             if k != "cursor" and v.strip() != ""]
    known = {f.alias or name for name, f in res.filters.model_fields.items()}
    typed = {k: v[:200] for k, v in pairs if k in known}  # unknown keys: refused, not kept
    try:
        return validate(res.filters, from_text(res.filters, MultiDict(pairs))), {}, typed
    except ServiceError as exc:
        fields = exc.fields or {"query": exc.message}
        return None, {str(k): str(v) for k, v in fields.items()}, typed


def _new(res: Resource) -> Any:
    assert res.create_model is not None and res.create is not None
    specs = res.inputs(res.create_model)
    start = res.initial() if res.initial is not None else {}
    form: FormData[Any] = FormData(values=initial_values(start, specs))
    if request.method == "POST":
        form = _read(res, res.create_model, specs)
        if _refreshing(res):
            return _form_page(res, None, specs, FormData(values=form.values))
        if form.ok:
            create = res.create
            try:
                with ext().unit_of_work():
                    row = create(current_principal().actor, _data(form))
            except ServiceError as exc:
                form.fail(exc)
                return _form_page(res, None, specs, form, exc.status)
            flash(f"The {res.singular} “{res.title(row)}” was created.", "success")
            if res.after_create is not None:
                answer = res.after_create(row)
                if answer is not None:
                    return answer
            return redirect(url_for(res.endpoint("edit"), ident=res.key(row)))
        return _form_page(res, None, specs, form, 422)
    return _form_page(res, None, specs, form)


def _edit(res: Resource, ident: Any) -> Any:
    row = res.load(ident)
    model = res.update_model
    editable = model is not None and res.update is not None and res.may(res.edit_permission)
    if (reason := res.lock_reason(row)) is not None:
        if request.method == "POST":
            return _locked_page(res, row, reason)
        editable = False
    specs = res.inputs(model) if model is not None else []
    values = res.form_values(row) if res.form_values else res.serialize(row)
    form: FormData[Any] = FormData(values=initial_values(values, specs))
    if request.method == "POST":
        if not editable:
            raise PermissionDenied(f"You may not change this {res.singular}.")
        assert model is not None and res.update is not None
        form = _read(res, model, specs)
        if _refreshing(res):
            return _form_page(res, row, specs, FormData(values=form.values))
        if form.ok:
            update = res.update
            try:
                with ext().unit_of_work():
                    row = update(current_principal().actor, res.key(row), _data(form))
            except ServiceError as exc:
                form.fail(exc)
                return _form_page(res, row, specs, form, exc.status)
            flash(f"The {res.singular} “{res.title(row)}” was saved.", "success")
            return redirect(url_for(res.endpoint("edit"), ident=res.key(row)))
        return _form_page(res, row, specs, form, 422)
    return _form_page(res, row, specs, form, editable=editable)


@dataclass(frozen=True)
class Confirmation:
    """What a removal's confirmation step says (``admin/delete.html``): a section's row by
    default (:meth:`for_row`), or a part of a row in the section's own words (a schedule's
    holiday)."""

    title: str
    question: str
    consequence: str
    #: Where the button posts, and where "Keep it" goes back to.
    action: str
    back: str
    button: str = "Delete"
    #: The row a part belongs to, as a crumb after the section: ``(title, URL)``.
    parent: tuple[str, str] | None = None

    @classmethod
    def for_row(cls, res: Resource, row: Any) -> Confirmation:
        """A row's removal, in the section's words (``Resource.delete_words``)."""
        verb = res.delete_words[0].capitalize()
        return cls(title=f"{verb} {res.singular}",
                   question=f"{verb} the {res.singular} “{res.title(row)}”?",
                   consequence=res.delete_note,
                   action=url_for(res.endpoint("delete"), ident=res.key(row)),
                   back=url_for(res.endpoint("edit"), ident=res.key(row)), button=verb)


def confirmation_page(res: Resource, confirm: Confirmation,
                      error: ServiceError | None = None) -> tuple[str, int]:
    """The confirmation step, or the same page again with the service's refusal."""
    return (render_template("escalated/admin/delete.html", res=res, confirm=confirm,
                            error=error.message if error is not None else None),
            error.status if error is not None else 200)


def _delete(res: Resource, ident: Any) -> Any:
    assert res.delete is not None
    row = res.load(ident)
    if (reason := res.delete_refusal(row)) is not None:
        return _locked_page(res, row, reason)
    confirm = Confirmation.for_row(res, row)
    if request.method == "POST":
        delete, title = res.delete, res.title(row)
        try:
            with ext().unit_of_work():
                delete(current_principal().actor, res.key(row))
        except ServiceError as exc:
            return confirmation_page(res, confirm, exc)
        flash(f"The {res.singular} “{title}” was {res.delete_words[1]}.", "success")
        return redirect(url_for(res.endpoint("list")))
    return confirmation_page(res, confirm)


def _locked_page(res: Resource, row: Any, reason: str) -> tuple[str, int]:
    """409: a locked row cannot be changed or deleted; a not-deletable one (a revoked token)
    cannot be removed again."""
    what = ("changed or deleted" if res.lock_reason(row) is not None
            else res.delete_words[1])
    heading = f"The {res.singular} “{res.title(row)}” cannot be {what}"
    return render_template("escalated/admin/delete.html", res=res, row=row, error=reason,
                           locked=True, heading=heading), 409


def _read(res: Resource, model: type[BaseModel], specs: list[FieldSpec]) -> FormData[Any]:
    extra, consumed = res.extra_input() if res.extra_input is not None else ({}, ())
    return read_form(model, specs, extra=extra, consumed=[*consumed, *res.refresh_inputs])


def _refreshing(res: Resource) -> bool:
    """Whether the form was posted by one of its "show more inputs" buttons."""
    return any(name in request.form for name in res.refresh_inputs)


def _data(form: FormData[Any]) -> dict[str, Any]:
    assert form.model is not None
    changes: Callable[[], dict[str, Any]] | None = getattr(form.model, "changes", None)
    return changes() if changes is not None else form.model.model_dump(exclude_unset=True)


def _form_page(res: Resource, row: Any, specs: list[FieldSpec], form: FormData[Any],
               status: int = 200, *, editable: bool = True) -> tuple[str, int]:
    context = res.context(row) if res.context is not None else {}
    return render_template(res.form_template, res=res, row=row, specs=specs,
                           values=form.values, errors=form.errors, editable=editable,
                           **context), status


def link(res_name: str, text: Callable[[Any], str],
         key: Callable[[Any], Any] = lambda row: row.id) -> Callable[[Any], Markup]:
    """A list cell linking to the row's edit page."""
    endpoint = f"escalated.admin.{res_name.replace('-', '_').replace('/', '_')}_edit"

    def cell(row: Any) -> Markup:
        return Markup('<a href="{}">{}</a>').format(url_for(endpoint, ident=key(row)), text(row))

    return cell
