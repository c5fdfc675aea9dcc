"""The public knowledge base: ``/kb`` (home and ``?q=`` search), ``/kb/<category>``,
``/kb/articles/<slug>`` and its yes/no helpfulness form.

There only while ``ESCALATED_ENABLE_KB`` and the run-time setting ``kb_enabled`` are both on
(a 404 otherwise). Visitors see published public articles; drafts and internal articles are a
404 for them (agents with ``kb.view`` may open them, marked as such). Plain HTML that works
without JavaScript; the vote form carries the CSRF token. A page view is counted in memory
(see :mod:`flask_escalated.services.kb_views`), never written per request.
"""

from __future__ import annotations

import secrets

from flask import Blueprint, abort, flash, redirect, render_template, request, session, url_for
from werkzeug.wrappers import Response

from ..services import ext, kb, kb_search, kb_views
from ..services.errors import ServiceError
from . import ratelimits
from .api.schemas.feedback import ArticleVote
from .html import install_html_errors
from .page_forms import read_page, reads
from .security import client_ip, csrf_token, current_principal, protect_form, public

VISITOR_KEY = "_escalated_kb_visitor"


def create_kb_blueprint() -> Blueprint:
    bp = Blueprint("kb", __name__, url_prefix="/kb")
    bp.before_request(_only_when_enabled)
    bp.before_request(protect_form)
    bp.context_processor(lambda: {"csrf_token": csrf_token})
    bp.app_context_processor(lambda: {"escalated_kb_enabled": kb.public_enabled})
    install_html_errors(bp)
    bp.add_url_rule("", "index", index)
    bp.add_url_rule("/articles/<slug>", "article", article)
    bp.add_url_rule("/articles/<slug>/feedback", "feedback", feedback, methods=["POST"])
    bp.add_url_rule("/<category_slug>", "category", category)
    return bp


def _only_when_enabled() -> None:
    if not kb.public_enabled():
        abort(404)


@public
def index() -> tuple[str, int]:
    raw = request.args.get("q")
    if raw is not None:
        try:
            hits = kb_search.search(raw, include_internal=kb.sees_hidden(current_principal()))
        except ServiceError as exc:
            return render_template("escalated/kb/search.html", q=raw[:200], hits=[],
                                   error=exc.message), exc.status
        return render_template("escalated/kb/search.html", q=raw, hits=hits, error=None), 200
    categories = kb.list_categories()
    return render_template("escalated/kb/index.html", categories=categories,
                           popular=kb.popular_public_articles()), 200


@public
def category(category_slug: str) -> str:
    row = kb.get_category(category_slug)
    children = [c for c in kb.list_categories() if c.parent_id == row.id]
    parent = kb.get_category(row.parent_id) if row.parent_id is not None else None
    return render_template("escalated/kb/category.html", category=row, parent=parent,
                           children=children, articles=kb.public_articles_in(row))


@public
def article(slug: str) -> str:
    row = kb.get_article(current_principal(), slug)
    kb_views.count_view(row.id)
    category = None
    if row.category_id is not None:
        category = next((c for c in kb.list_categories() if c.id == row.category_id), None)
    return render_template("escalated/kb/article.html", article=row, category=category,
                           voted=session.get(f"{VISITOR_KEY}:{row.id}"))


@public
@reads(ArticleVote)
def feedback(slug: str) -> Response:
    ratelimits.hit("guest", "kb-vote:" + (client_ip() or "?"))
    choice = read_page(ArticleVote).helpful  # a refused form is the 422 page naming the field
    principal = current_principal()
    visitor = session.get(VISITOR_KEY)
    if visitor is None:
        visitor = session[VISITOR_KEY] = secrets.token_urlsafe(16)
    voter = kb.voter_key(user_id=principal.user_id, ip=client_ip(), cookie=visitor)
    try:
        with ext().unit_of_work():
            row = kb.vote(slug, voter, choice == "yes", principal)
    except ServiceError as exc:
        if exc.status == 404:
            raise
        flash(exc.message, "error")
    else:
        session[f"{VISITOR_KEY}:{row.id}"] = choice
        flash("Thank you for your feedback!", "success")
    return redirect(url_for(".article", slug=slug))
