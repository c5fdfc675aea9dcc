"""Helpers shared by the API views: JSON input, paging cursors, route registry, ticket loading."""

from __future__ import annotations

import functools
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from flask import Blueprint, Response, current_app, jsonify, request
from itsdangerous import BadSignature, URLSafeSerializer
from pydantic import BaseModel

from ...config import Config
from ...services.errors import ServiceError, ValidationError
from ..inputs import id_rule, json_payload
from ..security import public, requires
from .schemas import Empty, EmptyQuery, parse_query, validate
from .schemas.common import Paged

#: A whole number in a query string: ASCII digits only (``int()`` reads other scripts' digits).
_WHOLE_NUMBER = re.compile(r"-?[0-9]{1,19}\Z")


class BadRequest(ServiceError):
    status = 400
    code = "bad_request"


@dataclass
class RouteDoc:
    """What the OpenAPI document says of one route."""

    rule: str
    methods: list[str]
    endpoint: str
    view: Callable[..., Any]
    summary: str
    tag: str
    permission: str | None
    public: bool = False
    body: type[BaseModel] | None = None
    query: type[BaseModel] = EmptyQuery
    response: Any = None
    paged: bool = False
    multipart: bool = False
    binary: bool = False
    #: The success response may also be CSV (``?format=csv``), beside the JSON.
    csv: bool = False
    status: int = 200
    #: Other success statuses the operation answers with the same body, and when.
    also: dict[int, str] | None = None


#: Every API route, in registration order; the OpenAPI document is built from it.
ROUTES: list[RouteDoc] = []


def route(
    rule: str,
    methods: list[str],
    *,
    summary: str,
    tag: str,
    permission: str | None = None,
    anonymous: bool = False,
    body: type[BaseModel] | None = None,
    query: type[BaseModel] | None = None,
    response: Any = None,
    paged: bool = False,
    multipart: bool = False,
    binary: bool = False,
    csv: bool = False,
    status: int = 200,
    also: dict[int, str] | None = None,
) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Declare an API view with its guard, its contract and its OpenAPI description in one
    place.

    ``body`` and ``query`` are the pydantic models (``schemas/``) of the request body and the
    query string; ``response`` the model of the success body. The query string is validated
    before the view runs (after the guard), and so is any JSON body sent to an operation that
    takes none; the view reads its body with ``parse_body(Model)``, which must be the model
    declared here. Views are collected at import; :func:`add_routes` puts them on each app's
    blueprint.
    """
    query_model = query or (Paged if paged else EmptyQuery)

    def decorator(view: Callable[..., Any]) -> Callable[..., Any]:
        doc = RouteDoc(rule=rule, methods=methods, endpoint=view.__name__, view=view,
                       summary=summary, tag=tag, permission=permission, public=anonymous,
                       body=body, query=query_model, response=response, paged=paged,
                       multipart=multipart, binary=binary, csv=csv, status=status,
                       also=also)

        @functools.wraps(view)
        def checked(*args: Any, **kwargs: Any) -> Any:
            if getattr(request, "escalated_route", None) is None:
                # The operation the client called (a view may call another to render).
                request.escalated_route = doc  # type: ignore[attr-defined]
                parse_query(doc.query)
                if body is None:
                    refuse_body()
            return view(*args, **kwargs)

        doc.view = public(checked) if anonymous else requires(permission)(checked)
        ROUTES.append(doc)
        return doc.view

    return decorator


def add_routes(bp: Blueprint) -> None:
    """Put every API route on ``bp``; an ``<int:...>`` part is an id (ASCII, 64-bit)."""
    for doc in ROUTES:
        bp.add_url_rule(id_rule(doc.rule), doc.endpoint, doc.view, methods=doc.methods)


#: Methods whose body the API never reads (the guard leaves it unparsed, as HTTP does).
_SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


def refuse_body() -> None:
    """An operation that declares no body (any method: a DELETE as much as a POST) refuses
    every key sent to it, as one with a body refuses the keys it does not declare: a JSON
    object's keys and a form's fields are 422 ``unknown_field``, never ignored. An empty body
    (or ``{}``) is no input."""
    if request.method in _SAFE_METHODS:
        return
    if request.is_json:
        if json_payload() is not None:
            validate(Empty, json_body())
    elif request.mimetype in ("application/x-www-form-urlencoded", "multipart/form-data"):
        names = list(dict.fromkeys([*request.form.keys(), *request.files.keys()]))
        if names:
            validate(Empty, dict.fromkeys(names[:50], ""))


def json_body() -> dict[str, Any]:
    """The request's JSON object, parsed strictly (see :mod:`..inputs`), or a 400/415/422
    that says what was wrong."""
    if not request.is_json:
        raise ServiceError("Send a JSON object with Content-Type: application/json.")
    data = json_payload()
    if not isinstance(data, dict):
        raise BadRequest("The body is not a JSON object.", {"body": "expected a JSON object"})
    return data


def query_int(name: str, default: int, *, low: int, high: int) -> int:
    raw = request.args.get(name)
    if raw is None or raw == "":
        return default
    if not _WHOLE_NUMBER.match(raw):
        raise ValidationError(f"{name} must be a whole number.", {name: "not a number"})
    value = int(raw)
    if not low <= value <= high:
        raise ValidationError(f"{name} must be between {low} and {high}.", {name: "out of range"})
    return value


def page_limit() -> int:
    cfg = current_app.config
    return query_int("limit", cfg[Config.API_PAGE_SIZE], low=1, high=cfg[Config.API_MAX_PAGE_SIZE])


def _signer(kind: str) -> URLSafeSerializer:
    secret = current_app.secret_key or "escalated-unsigned"
    return URLSafeSerializer(str(secret), salt=f"escalated-cursor-{kind}")


def encode_cursor(kind: str, value: Any) -> str | None:
    return None if value is None else _signer(kind).dumps(value)


def decode_cursor(kind: str) -> Any:
    raw = request.args.get("cursor")
    if not raw:
        return None
    try:
        return _signer(kind).loads(raw)
    except BadSignature:
        raise ValidationError("The cursor is not valid.", {"cursor": "invalid"}) from None


def keyset_page(kind: str, fetch: Callable[[int | None, int], list[Any]],
                render: Callable[[Any], dict[str, Any]], **extra: Any) -> Response:
    """A keyset page of rows newest first: ``fetch(before, limit)`` is the service's query
    (``before``: the id the signed cursor carries), asked for one row more than the page to
    know whether another follows; ``extra`` keys join the body. The shape of every log-like
    list in the API."""
    limit = page_limit()
    cursor = decode_cursor(kind)
    before = cursor if isinstance(cursor, int) and not isinstance(cursor, bool) else None
    rows = fetch(before, limit + 1)
    more = len(rows) > limit
    rows = rows[:limit]
    return jsonify({"data": [render(r) for r in rows],
                    "next_cursor": encode_cursor(kind, rows[-1].id if more else None), **extra})
