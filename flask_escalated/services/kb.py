"""The knowledge base: categories, articles, publishing and helpfulness votes.

Who sees what: agents holding ``kb.view`` see every article (drafts and internal ones too);
everyone else sees published public articles only, and only while the knowledge base is
switched on (``ESCALATED_ENABLE_KB`` and the run-time setting ``kb_enabled``). An article a
caller may not see is a 404, never a 403, so its existence does not leak. Writing needs
``kb.create``, ``kb.edit`` or ``kb.delete``; publishing (or unpublishing) needs ``kb.publish``.

Markdown bodies are rendered once, on write, through :mod:`.sanitize`; the plain text beside
them feeds search and snippets. Article writes keep the SQLite FTS5 table in step
(:mod:`.kb_search`) and record ``article_*`` domain events.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import unicodedata
from typing import Any

from flask import current_app
from sqlalchemy import ColumnElement, and_, or_, select, update
from sqlalchemy.exc import IntegrityError

from ..clock import now
from ..config import Config
from ..events import record
from ..models import KbArticle, KbCategory, KbFeedback
from ..models.kb import KB_PUBLIC, KB_PUBLISHED, KB_STATUSES, KB_VISIBILITIES
from . import audit, committed_one, deletion, kb_search, savepoint, session, settings
from .errors import Conflict, NotFound, PermissionDenied, ValidationError
from .ids import parse_id
from .permissions import Principal

ARTICLE_FIELDS = frozenset({"title", "slug", "body", "category_id", "status", "visibility",
                            "tags"})
CATEGORY_FIELDS = frozenset({"name", "slug", "description", "parent_id", "position"})
MAX_BODY = 50_000
#: Rendered HTML must fit a TEXT column on MariaDB (64 KiB).
MAX_STORED_BYTES = 65_000
MAX_TAGS = 20
MAX_TITLE_FILTER = 200
_SLUG_CHARS = re.compile(r"[^a-z0-9]+")


# ---------------------------------------------------------------------------- who sees what
def public_enabled() -> bool:
    """The knowledge base is open to the public: the config allows it and admins left it on."""
    return bool(current_app.config[Config.ENABLE_KB]) and bool(settings.value("kb_enabled"))


def sees_hidden(principal: Principal) -> bool:
    """Agents with ``kb.view`` see drafts and internal articles."""
    return principal.is_agent and principal.can("kb.view")


def readable(principal: Principal) -> bool:
    """May ``principal`` read the knowledge base at all (agents always; others when public)?"""
    return sees_hidden(principal) or public_enabled()


def searchable(principal: Principal) -> bool:
    """Would a search by ``principal`` find anything: the knowledge base is open to them and
    holds a published article they may see (one indexed lookup)? The reply composer offers
    its article search only then."""
    if not readable(principal):
        return False
    query = select(KbArticle.id).where(KbArticle.status == KB_PUBLISHED)
    if not sees_hidden(principal):
        query = query.where(KbArticle.visibility == KB_PUBLIC)
    return session().execute(query.limit(1)).first() is not None


def _require(principal: Principal, permission: str) -> None:
    if not principal.can(permission):
        raise PermissionDenied(f"You need the '{permission}' permission for this.")


def _public_only() -> ColumnElement[bool]:
    return and_(KbArticle.status == KB_PUBLISHED, KbArticle.visibility == KB_PUBLIC)


def may_see(principal: Principal | None, article: KbArticle) -> bool:
    if principal is not None and sees_hidden(principal):
        return True
    return (public_enabled() and article.status == KB_PUBLISHED
            and article.visibility == KB_PUBLIC)


# ---------------------------------------------------------------------------- slugs
def slugify(value: str, fallback: str = "article") -> str:
    """Lower-case ASCII words joined by dashes (accents folded), at most 200 characters."""
    folded = unicodedata.normalize("NFKD", value or "").encode("ascii", "ignore").decode()
    slug = _SLUG_CHARS.sub("-", folded.lower()).strip("-")[:200].strip("-")
    return slug or fallback


def _unique_slug(model: Any, base: str, own_id: int | None) -> str:
    """``base``, or ``base-2``, ``base-3``... whichever is free (one query)."""
    taken = set(session().execute(
        select(model.slug).where(or_(model.slug == base, model.slug.like(base + "-%")),
                                 model.id != (own_id or 0))).scalars())
    if base not in taken:
        return base
    n = 2
    while f"{base}-{n}" in taken:
        n += 1
    return f"{base}-{n}"


def _explicit_slug(model: Any, raw: Any, own_id: int | None) -> str:
    if not isinstance(raw, str) or not raw.strip():
        raise ValidationError("slug must be text.", {"slug": "lower-case words and dashes"})
    slug = slugify(raw, fallback="")
    if not slug:
        raise ValidationError("slug needs letters or digits.", {"slug": "invalid"})
    clash = session().execute(select(model.id).where(model.slug == slug,
                                                     model.id != (own_id or 0))).first()
    if clash:
        raise Conflict(f"The slug '{slug}' is taken.", {"slug": "taken"})
    return slug


def _unknown(data: dict[str, Any], allowed: frozenset[str]) -> None:
    unknown = sorted(str(k)[:40] for k in set(data) - allowed)
    if unknown:
        raise ValidationError(f"Unknown field(s): {', '.join(unknown)}.",
                              {k: "unknown field" for k in unknown})


def _text(data: dict[str, Any], name: str, limit: int, *, required: bool) -> str | None:
    value = data.get(name)
    if value is None and not required:
        return None
    if not isinstance(value, str) or (required and not value.strip()) or len(value) > limit:
        raise ValidationError(f"{name} must be text of 1 to {limit} characters.",
                              {name: f"1-{limit} characters"})
    return value.strip()


def _id(value: Any, name: str) -> int | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValidationError(f"{name} must be an id or null.", {name: "integer or null"})
    return value


# ---------------------------------------------------------------------------- categories
def category_values(row: KbCategory) -> dict[str, Any]:
    return {"name": row.name, "slug": row.slug, "description": row.description,
            "parent_id": row.parent_id, "position": row.position}


def list_categories() -> list[KbCategory]:
    return list(session().execute(
        select(KbCategory).order_by(KbCategory.position, KbCategory.name, KbCategory.id)
    ).scalars())


def get_category(ident: object) -> KbCategory:
    """By id (an int or digits) or by slug."""
    row = None
    number = parse_id(ident)
    if number is not None:
        row = session().get(KbCategory, number)
    if row is None and isinstance(ident, str) and len(ident) <= 140:
        row = session().execute(
            select(KbCategory).where(KbCategory.slug == ident)).scalar_one_or_none()
    if row is None:
        raise NotFound("No such category.")
    return row


def _apply_category(row: KbCategory, data: dict[str, Any], creating: bool) -> None:
    _unknown(data, CATEGORY_FIELDS)
    if creating or "name" in data:
        row.name = _text(data, "name", 120, required=True) or ""
    if "description" in data:
        row.description = _text(data, "description", 2000, required=False)
    if "position" in data:
        if isinstance(data["position"], bool) or not isinstance(data["position"], int):
            raise ValidationError("position must be an integer.", {"position": "integer"})
        row.position = data["position"]
    if "parent_id" in data:
        parent_id = _id(data["parent_id"], "parent_id")
        if parent_id is not None:
            parent = session().get(KbCategory, parent_id)
            if parent is None:
                raise ValidationError("No such parent category.", {"parent_id": "not found"})
            if parent.id == row.id or parent.parent_id is not None:
                raise ValidationError("Categories nest one level: the parent must be a "
                                      "top-level category.", {"parent_id": "not top-level"})
            if row.id is not None and session().execute(select(KbCategory.id).where(
                    KbCategory.parent_id == row.id)).first():
                raise ValidationError("This category has sub-categories, so it cannot have "
                                      "a parent.", {"parent_id": "has children"})
        row.parent_id = parent_id
    if "slug" in data and data["slug"] not in (None, ""):
        row.slug = _explicit_slug(KbCategory, data["slug"], row.id)
    elif creating:
        row.slug = _unique_slug(KbCategory, slugify(row.name, "category"), None)


def create_category(principal: Principal, data: dict[str, Any]) -> KbCategory:
    _require(principal, "kb.create")
    row = KbCategory(position=0)
    _apply_category(row, data, creating=True)
    session().add(row)
    session().flush()
    audit.log(principal.actor, "kb_category.created", "kb_category", row.id,
              new=category_values(row))
    return row


def update_category(principal: Principal, ident: object, data: dict[str, Any]) -> KbCategory:
    _require(principal, "kb.edit")
    row = get_category(ident)
    old = category_values(row)
    _apply_category(row, data, creating=False)
    session().flush()
    audit.log(principal.actor, "kb_category.updated", "kb_category", row.id, old=old,
              new=category_values(row))
    return row


def delete_category(principal: Principal, ident: object) -> None:
    """Sub-categories become top-level; its articles become uncategorised."""
    _require(principal, "kb.delete")
    row = get_category(ident)
    audit.log(principal.actor, "kb_category.deleted", "kb_category", row.id,
              old=category_values(row))
    deletion.delete_with_dependants(row)


# ---------------------------------------------------------------------------- articles
def article_values(row: KbArticle) -> dict[str, Any]:
    return {"title": row.title, "slug": row.slug, "category_id": row.category_id,
            "status": row.status, "visibility": row.visibility, "tags": list(row.tags or [])}


def get_article(principal: Principal | None, ident: object) -> KbArticle:
    """By id or slug, if ``principal`` may see it (``None``: the public); 404 otherwise."""
    row = None
    number = parse_id(ident)
    if number is not None:
        row = session().get(KbArticle, number)
    if row is None and isinstance(ident, str) and len(ident) <= 255:
        row = session().execute(
            select(KbArticle).where(KbArticle.slug == ident)).scalar_one_or_none()
    if row is None or not may_see(principal, row):
        raise NotFound("No such article.")
    return row


def list_articles(principal: Principal | None, *, limit: int, after_id: int | None = None,
                  status: str | None = None, visibility: str | None = None,
                  category_id: int | None = None,
                  title: str | None = None) -> tuple[list[KbArticle], bool]:
    """A keyset page, newest first; returns the rows and whether more follow. The public
    (``principal`` None or without ``kb.view``) get published public articles only.
    ``title``: only articles whose title contains it, in any case (drafts included, which
    full-text search leaves out: it is how editors find their article)."""
    stmt = select(KbArticle).order_by(KbArticle.id.desc()).limit(limit + 1)
    if title is not None and title.strip():
        if len(title) > MAX_TITLE_FILTER:
            raise ValidationError(f"Search for at most {MAX_TITLE_FILTER} characters.",
                                  {"q": f"at most {MAX_TITLE_FILTER} characters"})
        stmt = stmt.where(KbArticle.title.icontains(title.strip(), autoescape=True))
    if principal is None or not sees_hidden(principal):
        if not public_enabled():
            return [], False
        stmt = stmt.where(_public_only())
    for name, value, allowed in (("status", status, KB_STATUSES),
                                 ("visibility", visibility, KB_VISIBILITIES)):
        if value is not None:
            if value not in allowed:
                raise ValidationError(f"{name} must be one of {', '.join(allowed)}.",
                                      {name: "invalid"})
            stmt = stmt.where(getattr(KbArticle, name) == value)
    if category_id is not None:
        stmt = stmt.where(KbArticle.category_id == category_id)
    if after_id is not None:
        stmt = stmt.where(KbArticle.id < after_id)
    rows = list(session().execute(stmt).scalars())
    return rows[:limit], len(rows) > limit


def public_articles_in(category: KbCategory) -> list[KbArticle]:
    """Published public articles of ``category`` and of its sub-categories, by title."""
    children = select(KbCategory.id).where(KbCategory.parent_id == category.id)
    return list(session().execute(
        select(KbArticle).where(_public_only(), or_(
            KbArticle.category_id == category.id,
            KbArticle.category_id.in_(children.scalar_subquery())))
        .order_by(KbArticle.title, KbArticle.id).limit(500)).scalars())


def popular_public_articles(limit: int = 10) -> list[KbArticle]:
    return list(session().execute(
        select(KbArticle).where(_public_only())
        .order_by(KbArticle.view_count.desc(), KbArticle.id.desc()).limit(limit)).scalars())


def _render(row: KbArticle, body: str) -> None:
    from .sanitize import html_to_text, markdown_to_html

    html = markdown_to_html(body)
    plain = html_to_text(html)
    if len(html.encode()) > MAX_STORED_BYTES or len(body.encode()) > MAX_STORED_BYTES:
        raise ValidationError("The article is too long; split it in two.",
                              {"body": "too long once rendered"})
    row.body, row.body_html, row.body_text = body, html, plain


def preview_html(body: Any) -> str:
    """``body`` rendered as a saved article's would be (the same Markdown renderer and
    sanitizer), for an editor to look at before saving; nothing is stored."""
    if not isinstance(body, str) or len(body) > MAX_BODY:
        raise ValidationError(f"body must be Markdown text of at most {MAX_BODY} characters.",
                              {"body": "text"})
    from .sanitize import markdown_to_html

    return markdown_to_html(body)


def _tags(value: Any) -> list[str]:
    if not isinstance(value, list) or len(value) > MAX_TAGS or not all(
            isinstance(t, str) and 0 < len(t.strip()) <= 50 for t in value):
        raise ValidationError(f"tags must be a list of at most {MAX_TAGS} short words.",
                              {"tags": "list of strings (1-50 characters)"})
    return sorted({t.strip().lower() for t in value})


def _apply_article(principal: Principal, row: KbArticle, data: dict[str, Any],
                   creating: bool) -> None:
    _unknown(data, ARTICLE_FIELDS)
    if creating or "title" in data:
        row.title = _text(data, "title", 255, required=True) or ""
    if creating or "body" in data:
        body = data.get("body")
        if not isinstance(body, str) or len(body) > MAX_BODY:
            raise ValidationError(f"body must be Markdown text of at most {MAX_BODY} "
                                  "characters.", {"body": "text"})
        _render(row, body)
    if "category_id" in data:
        category_id = _id(data["category_id"], "category_id")
        if category_id is not None and session().get(KbCategory, category_id) is None:
            raise ValidationError("No such category.", {"category_id": "not found"})
        row.category_id = category_id
    if "visibility" in data:
        if data["visibility"] not in KB_VISIBILITIES:
            raise ValidationError("visibility must be public or internal.",
                                  {"visibility": "public | internal"})
        row.visibility = data["visibility"]
    if "tags" in data:
        row.tags = _tags(data["tags"])
    if "status" in data and data["status"] != row.status:
        if data["status"] not in KB_STATUSES:
            raise ValidationError("status must be draft or published.",
                                  {"status": "draft | published"})
        _require(principal, "kb.publish")
        row.status = data["status"]
        if row.status == KB_PUBLISHED and row.published_at is None:
            row.published_at = now()
    if "slug" in data and data["slug"] not in (None, ""):
        row.slug = _explicit_slug(KbArticle, data["slug"], row.id)
    elif creating:
        row.slug = _unique_slug(KbArticle, slugify(row.title), None)


def create_article(principal: Principal, data: dict[str, Any]) -> KbArticle:
    _require(principal, "kb.create")
    row = KbArticle(author_user_id=principal.user_id, status="draft", visibility=KB_PUBLIC,
                    tags=[], view_count=0, helpful_count=0, not_helpful_count=0)
    _apply_article(principal, row, data, creating=True)
    session().add(row)
    session().flush()
    kb_search.index_article(row)
    audit.log(principal.actor, "kb_article.created", "kb_article", row.id,
              new=article_values(row))
    record(session(), "article_created", actor=principal.actor, article=row)
    if row.status == KB_PUBLISHED:
        record(session(), "article_published", actor=principal.actor, article=row)
    return row


def update_article(principal: Principal, ident: object, data: dict[str, Any]) -> KbArticle:
    _require(principal, "kb.edit")
    row = get_article(principal, ident)
    old = article_values(row)
    body_before = row.body
    _apply_article(principal, row, data, creating=False)
    session().flush()
    new = article_values(row)
    changes = {k: {"old": old[k], "new": new[k]} for k in new if old[k] != new[k]}
    if row.body != body_before:
        changes["body"] = {"old": None, "new": None}  # changed; bodies stay out of the log
    if changes:
        kb_search.index_article(row)
        audit.log(principal.actor, "kb_article.updated", "kb_article", row.id, old=old, new=new)
        record(session(), "article_updated", actor=principal.actor, article=row,
               changes=changes)
        if "status" in changes and row.status == KB_PUBLISHED:
            record(session(), "article_published", actor=principal.actor, article=row)
    return row


def publish(principal: Principal, ident: object, published: bool = True) -> KbArticle:
    return update_article(principal, ident, {"status": KB_PUBLISHED if published else "draft"})


def delete_article(principal: Principal, ident: object) -> None:
    _require(principal, "kb.delete")
    row = get_article(principal, ident)
    gone = {"id": row.id, "slug": row.slug, "title": row.title}
    audit.log(principal.actor, "kb_article.deleted", "kb_article", row.id,
              old=article_values(row))
    kb_search.unindex_article(row.id)
    deletion.delete_with_dependants(row)
    record(session(), "article_deleted", actor=principal.actor, article=gone)


# ---------------------------------------------------------------------------- votes
def voter_key(*, user_id: str | None = None, ip: str | None = None,
              email: str | None = None, cookie: str | None = None) -> str:
    """A keyed hash naming one voter: the signed-in user, else the address with the e-mail
    (widget) or the visitor cookie (pages). Nothing personal is stored in clear."""
    if user_id is not None:
        material = f"user:{user_id}"
    else:
        extra = (email or "").strip().lower()[:320] or (cookie or "")[:100]
        material = f"anon:{ip or '?'}|{extra}"
    secret = str(current_app.secret_key or "escalated-unsigned").encode()
    return hmac.new(secret, material.encode(), hashlib.sha256).hexdigest()


def vote(article_id: object, voter: str, helpful: Any,
         principal: Principal | None = None) -> KbArticle:
    """Record ``voter``'s opinion of an article they may see; a second vote replaces the
    first (the counts move with it), so each visitor counts once."""
    if not isinstance(helpful, bool):
        raise ValidationError("helpful must be true or false.", {"helpful": "boolean"})
    row = get_article(principal, article_id)
    if row.status != KB_PUBLISHED:
        raise NotFound("No such article.")
    db = session()
    existing = db.execute(select(KbFeedback).where(
        KbFeedback.article_id == row.id, KbFeedback.voter_hash == voter)).scalar_one_or_none()
    if existing is None:
        try:
            with savepoint():
                db.add(KbFeedback(article_id=row.id, voter_hash=voter, helpful=helpful))
        except IntegrityError:  # the same visitor, twice at once: treat as a change
            existing = committed_one(select(KbFeedback).where(
                KbFeedback.article_id == row.id, KbFeedback.voter_hash == voter))
        else:
            _count(row, helpful, +1)
            return row
    if existing.helpful != helpful:
        _count(row, existing.helpful, -1)
        _count(row, helpful, +1)
        existing.helpful = helpful
    return row


def _count(row: KbArticle, helpful: bool, delta: int) -> None:
    """Move a counter in SQL (``count = count + 1``), so concurrent votes are never lost."""
    column = KbArticle.helpful_count if helpful else KbArticle.not_helpful_count
    session().execute(update(KbArticle).where(KbArticle.id == row.id)
                      .values({column: column + delta}).execution_options(
                          synchronize_session=False))
    session().expire(row, ["helpful_count", "not_helpful_count"])


# ---------------------------------------------------------------------------- JSON shapes
def serialize_category(row: KbCategory) -> dict[str, Any]:
    from .serializers import iso

    return {"id": row.id, **category_values(row), "created_at": iso(row.created_at),
            "updated_at": iso(row.updated_at)}


def serialize_article(row: KbArticle, *, full: bool = False) -> dict[str, Any]:
    from .serializers import iso

    out = {"id": row.id, **article_values(row), "url": article_url(row.slug),
           "view_count": row.view_count, "helpful_count": row.helpful_count,
           "not_helpful_count": row.not_helpful_count, "author_user_id": row.author_user_id,
           "published_at": iso(row.published_at), "created_at": iso(row.created_at),
           "updated_at": iso(row.updated_at)}
    if full:
        out["body"] = row.body
        out["body_html"] = row.body_html
    return out


def article_url(slug: str) -> str:
    """The article's public page (absolute during a request)."""
    from flask import has_request_context, url_for
    from werkzeug.routing import BuildError

    try:
        return url_for("escalated.kb.article", slug=slug, _external=has_request_context())
    except (BuildError, RuntimeError):
        prefix = str(current_app.config[Config.ROUTE_PREFIX]).rstrip("/")
        return f"{prefix}/kb/articles/{slug}"
