"""JSON API v1: knowledge-base categories, articles and search.

Reading is open to everyone the knowledge base is open to: anonymous callers and customers
see published public articles while it is switched on; agents with ``kb.view`` see drafts and
internal articles too, always (the reply composer searches it to link an article).
"""

from __future__ import annotations

from flask import Response, jsonify

from ...services import kb, kb_search
from ...services.errors import NotFound
from ...services.permissions import Principal
from ..security import current_principal
from .base import decode_cursor, encode_cursor, page_limit, route
from .commit import committed
from .schemas import parse_body, parse_query
from .schemas.kb import (
    ArticleCreate,
    ArticleEnvelope,
    ArticleList,
    ArticlePage,
    ArticleUpdate,
    CategoryCreate,
    CategoryEnvelope,
    CategoryList,
    CategoryUpdate,
    KbSearch,
    SearchResults,
)


def _reader() -> Principal:
    """The caller, if the knowledge base is open to them (404 otherwise: it is not there)."""
    principal = current_principal()
    if not kb.readable(principal):
        raise NotFound("There is no knowledge base here.")
    return principal


# ---------------------------------------------------------------------------- categories
@route("/kb/categories", ["GET"], summary="Knowledge-base categories", tag="Knowledge base",
       anonymous=True, response=CategoryList)
def list_kb_categories() -> Response:
    _reader()
    return jsonify({"data": [kb.serialize_category(c) for c in kb.list_categories()]})


@route("/kb/categories", ["POST"], summary="Create a category", tag="Knowledge base",
       permission="kb.create", body=CategoryCreate, status=201, response=CategoryEnvelope)
def create_kb_category() -> tuple[Response, int]:
    data = parse_body(CategoryCreate).changes()
    with committed():
        row = kb.create_category(current_principal(), data)
    return jsonify({"data": kb.serialize_category(row)}), 201


@route("/kb/categories/<int:category_id>", ["GET"], summary="Show a category",
       tag="Knowledge base", anonymous=True, response=CategoryEnvelope)
def show_kb_category(category_id: int) -> Response:
    _reader()
    return jsonify({"data": kb.serialize_category(kb.get_category(category_id))})


@route("/kb/categories/<int:category_id>", ["PATCH"], summary="Update a category",
       tag="Knowledge base", permission="kb.edit", body=CategoryUpdate,
       response=CategoryEnvelope)
def update_kb_category(category_id: int) -> Response:
    data = parse_body(CategoryUpdate).changes()
    with committed():
        row = kb.update_category(current_principal(), category_id, data)
    return jsonify({"data": kb.serialize_category(row)})


@route("/kb/categories/<int:category_id>", ["DELETE"],
       summary="Delete a category (its articles become uncategorised)", tag="Knowledge base",
       permission="kb.delete", status=204)
def delete_kb_category(category_id: int) -> tuple[str, int]:
    with committed():
        kb.delete_category(current_principal(), category_id)
    return "", 204


# ---------------------------------------------------------------------------- articles
@route("/kb/articles", ["GET"], summary="Articles, newest first", tag="Knowledge base",
       anonymous=True, paged=True, query=ArticleList, response=ArticlePage)
def list_kb_articles() -> Response:
    principal = _reader()
    args = parse_query(ArticleList)
    limit = page_limit()
    cursor = decode_cursor("kb")
    after = cursor if isinstance(cursor, int) and not isinstance(cursor, bool) else None
    rows, more = kb.list_articles(
        principal, limit=limit, after_id=after, status=args.status,
        visibility=args.visibility, category_id=args.category_id, title=args.q)
    return jsonify({"data": [kb.serialize_article(r) for r in rows],
                    "next_cursor": encode_cursor("kb", rows[-1].id if more else None)})


@route("/kb/articles", ["POST"], summary="Create an article", tag="Knowledge base",
       permission="kb.create", body=ArticleCreate, status=201, response=ArticleEnvelope)
def create_kb_article() -> tuple[Response, int]:
    data = parse_body(ArticleCreate).changes()
    with committed():
        row = kb.create_article(current_principal(), data)
    return jsonify({"data": kb.serialize_article(row, full=True)}), 201


@route("/kb/articles/<int:article_id>", ["GET"], summary="Show an article",
       tag="Knowledge base", anonymous=True, response=ArticleEnvelope)
def show_kb_article(article_id: int) -> Response:
    principal = _reader()
    return jsonify({"data": kb.serialize_article(kb.get_article(principal, article_id),
                                                 full=True)})


@route("/kb/articles/<int:article_id>", ["PATCH"],
       summary="Update an article (changing status needs kb.publish)", tag="Knowledge base",
       permission="kb.edit", body=ArticleUpdate, response=ArticleEnvelope)
def update_kb_article(article_id: int) -> Response:
    data = parse_body(ArticleUpdate).changes()
    with committed():
        row = kb.update_article(current_principal(), article_id, data)
    return jsonify({"data": kb.serialize_article(row, full=True)})


@route("/kb/articles/<int:article_id>", ["DELETE"], summary="Delete an article",
       tag="Knowledge base", permission="kb.delete", status=204)
def delete_kb_article(article_id: int) -> tuple[str, int]:
    with committed():
        kb.delete_article(current_principal(), article_id)
    return "", 204


# ---------------------------------------------------------------------------- search
@route("/kb/search", ["GET"], summary="Search published articles, best match first",
       tag="Knowledge base", anonymous=True, query=KbSearch,
       response=SearchResults)
def search_kb() -> Response:
    principal = _reader()
    args = parse_query(KbSearch)
    hits = kb_search.search(args.q, include_internal=kb.sees_hidden(principal),
                            limit=args.limit)
    return jsonify({"data": [
        {"id": h.id, "title": h.title, "slug": h.slug, "url": h.url,
         "snippet": h.snippet, "visibility": h.visibility} for h in hits]})
