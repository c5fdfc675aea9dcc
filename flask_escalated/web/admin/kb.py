"""Console sections for the knowledge base: categories, and articles written in Markdown.

Both call the knowledge-base services the JSON API calls (``web/api/kb.py``) with its schemas,
so a page and ``POST /api/v1/kb/articles`` validate, audit and record events alike. The
services take the acting :class:`~...services.permissions.Principal` (publishing needs
``kb.publish`` on top of ``kb.edit``), so the pages hand it the signed-in one.

The article form has a **Preview** button: a second submit button whose ``formaction`` posts
the same form to ``…/preview``, which renders the typed Markdown with the renderer saved
articles go through (:func:`...services.kb.preview_html`) under the form again, typed text
kept and nothing saved. It is plain HTML: no script is involved.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from flask import Blueprint, render_template, request, url_for
from markupsafe import Markup
from pydantic import BaseModel

from ...models.kb import KbArticle, KbCategory
from ...services import kb, session
from ...services.errors import ServiceError
from ..api.schemas.kb import ArticleCreate, ArticleUpdate, CategoryCreate, CategoryUpdate
from ..forms import FieldSpec, read_form, specs_for
from ..security import current_principal, requires
from .crud import Column, Page, Resource, link, register, simple_rows

#: The section's manage-grade permission: agents hold ``kb.view`` only.
VIEW = "kb.edit"


def _as_principal(service: Callable[..., Any]) -> Callable[..., Any]:
    """A KB service called the console's way (``actor, ...``) with the signed-in principal,
    which the KB services check permissions on."""
    return lambda _actor, *args: service(current_principal(), *args)


def _category_name(category_id: int | None) -> str:
    """A category's name from the session's identity map (the page loaded them all)."""
    if category_id is None:
        return "—"
    row = session().get(KbCategory, category_id)
    return row.name if row is not None else "—"


# ---------------------------------------------------------------------------- categories
def _category_specs(model: type[BaseModel]) -> list[FieldSpec]:
    parents = [(str(c.id), c.name) for c in kb.list_categories() if c.parent_id is None]
    return specs_for(
        model,
        slug={"help": "Lower-case words and dashes; empty: made from the name."},
        description={"rows": 3},
        parent_id={"widget": "select", "choices": parents, "blank": "— none (top level) —",
                   "label": "Parent category",
                   "help": "Categories nest one level deep: a parent is a top-level category."},
        position={"help": "Lower numbers come first."})


CATEGORIES = Resource(
    name="kb/categories", label="KB categories", singular="category", view=VIEW,
    create_permission="kb.create", edit_permission="kb.edit", delete_permission="kb.delete",
    load=kb.get_category, serialize=kb.serialize_category,
    rows=simple_rows(kb.list_categories),
    columns=[Column("Name", link("kb/categories", lambda c: c.name)),
             Column("Slug", lambda c: c.slug),
             Column("Parent", lambda c: _category_name(c.parent_id)),
             Column("Position", lambda c: c.position)],
    create_model=CategoryCreate, update_model=CategoryUpdate,
    create=_as_principal(kb.create_category), update=_as_principal(kb.update_category),
    delete=_as_principal(kb.delete_category), specs=_category_specs,
    intro="Categories group the help articles on the public knowledge base. Deleting one "
          "leaves its articles uncategorised and its sub-categories top-level.")


# ---------------------------------------------------------------------------- articles
def _article_rows(q: str | None, cursor: Any, limit: int) -> Page:
    after = cursor if isinstance(cursor, int) and not isinstance(cursor, bool) else None
    kb.list_categories()  # one query: the list's category names come from the session
    rows, more = kb.list_articles(current_principal(), limit=limit, after_id=after, title=q)
    return Page(rows, rows[-1].id if more and rows else None)


def _article_specs(model: type[BaseModel]) -> list[FieldSpec]:
    categories = [(str(c.id), c.name) for c in kb.list_categories()]
    may_publish = current_principal().can_anywhere("kb.publish")
    names = [n for n in ("title", "body", "category_id", "status", "visibility", "tags", "slug")
             if n != "status" or may_publish]
    return specs_for(
        model, only=names,
        title={"required": True},
        body={"label": "Body (Markdown)", "rows": 18, "required": model is ArticleCreate,
              "help": "Markdown: **bold**, _italic_, lists, links, tables and `code`. Raw "
                      "HTML is not passed through. Preview shows it as readers will see it."},
        category_id={"widget": "select", "choices": categories, "blank": "— uncategorised —",
                     "label": "Category"},
        status={"label": "Status", "blank": None,
                "choices": (("draft", "Draft: agents only"),
                            ("published", "Published"))},
        visibility={"blank": None,
                    "choices": (("public", "Public: anyone, once published"),
                                ("internal", "Internal: agents only"))},
        tags={"widget": "text", "help": "Separated by commas."},
        slug={"help": "The address: lower-case words and dashes; empty: made from the title."})


def _article_input() -> tuple[dict[str, Any], Sequence[str]]:
    """What the form's text means to the API: the tags input is one line of words separated
    by commas (the API takes a list); an emptied title or body is sent empty, for the schema
    to judge, rather than read as "leave it alone"; and the body's line breaks are the
    Markdown's ``\n`` (browsers send a textarea's as ``\r\n``, which would make every save
    a change)."""
    form = request.form
    extra: dict[str, Any] = {name: "" for name in ("title", "body") if form.get(name) == ""}
    if form.get("body"):
        extra["body"] = form["body"].replace("\r\n", "\n")
    if "tags" in form:
        extra["tags"] = [t.strip() for t in form["tags"].split(",") if t.strip()]
    return extra, ()


def _article_values(row: KbArticle) -> dict[str, Any]:
    return {**kb.serialize_article(row, full=True), "tags": ", ".join(row.tags or [])}


def _status(row: KbArticle) -> Markup:
    return Markup('<span class="esc-status esc-kb-{}">{}</span>').format(
        row.status, "Published" if row.status == "published" else "Draft")


def _article_context(row: KbArticle | None) -> dict[str, Any]:
    target = (url_for("escalated.admin.kb_articles_preview", ident=row.id) if row is not None
              else url_for("escalated.admin.kb_articles_preview_new"))
    public = kb.article_url(row.slug) if row is not None and row.status == "published" \
        and row.visibility == "public" else None
    return {"preview_url": target, "preview": None, "public_url": public}


ARTICLES = Resource(
    name="kb/articles", label="KB articles", singular="article", view=VIEW,
    create_permission="kb.create", edit_permission="kb.edit", delete_permission="kb.delete",
    load=lambda ident: kb.get_article(current_principal(), ident),
    serialize=lambda row: kb.serialize_article(row, full=True),
    form_values=_article_values, title=lambda row: row.title,
    rows=_article_rows, searchable=True,
    columns=[Column("Title", link("kb/articles", lambda a: a.title)),
             Column("Status", _status),
             Column("Visibility", lambda a: a.visibility),
             Column("Category", lambda a: _category_name(a.category_id)),
             Column("Views", lambda a: a.view_count)],
    create_model=ArticleCreate, update_model=ArticleUpdate,
    create=_as_principal(kb.create_article), update=_as_principal(kb.update_article),
    delete=_as_principal(kb.delete_article),
    specs=_article_specs, extra_input=_article_input, context=_article_context,
    form_template="escalated/admin/kb_article_form.html",
    intro="Help articles in Markdown. Drafts and internal articles are for agents; published "
          "public ones are on the knowledge base (and its search) for everyone.")


def preview(ident: int | None = None) -> tuple[str, int]:
    """The article form again, as typed, with the body rendered below it; nothing saved."""
    row = ARTICLES.load(ident) if ident is not None else None
    model = ArticleUpdate if row is not None else ArticleCreate
    specs = ARTICLES.inputs(model)
    form = read_form(model, specs, extra=_article_input()[0])
    errors: dict[str, str] = {}
    rendered: Markup | None = None
    try:
        rendered = Markup(kb.preview_html(request.form.get("body", "")))  # noqa: S704 (sanitized)
    except ServiceError as exc:
        errors = {str(k): str(v) for k, v in (exc.fields or {"body": exc.message}).items()}
    context = {**_article_context(row), "preview": rendered}
    return render_template(ARTICLES.form_template, res=ARTICLES, row=row, specs=specs,
                           values=form.values, errors=errors, editable=True,
                           **context), 422 if errors else 200


def register_all(bp: Blueprint) -> None:
    register(bp, CATEGORIES)
    register(bp, ARTICLES)
    bp.add_url_rule("/kb/articles/preview", "kb_articles_preview_new",
                    requires("kb.create")(lambda: preview()), methods=["POST"])
    bp.add_url_rule("/kb/articles/<escalated_id:ident>/preview", "kb_articles_preview",
                    requires("kb.edit")(preview), methods=["POST"])
