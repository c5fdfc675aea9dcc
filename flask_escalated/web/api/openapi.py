"""The OpenAPI 3.1 document, built from the same registry the routes are added from.

Because the document and the URL map come from one list (``base.ROUTES``), and the request
schemas are the pydantic models the views validate with, the document cannot drift from what
the server enforces; a test still walks the app's URL map to prove every API rule is described.
"""

from __future__ import annotations

import json
import re
from typing import Any

from flask import Response, current_app, jsonify
from pydantic import BaseModel
from pydantic.json_schema import models_json_schema

from ... import __version__
from ...config import Config
from ..security import CSRF_HEADER
from .base import ROUTES, RouteDoc, route
from .schemas.common import CURSOR_DOC, LIMIT_DOC, Error, Paged

_BINARY = "application/octet-stream"
_CONVERTER = re.compile(r"<(?:(\w+):)?(\w+)>")
_REF = "#/components/schemas/{model}"
_WRITES = frozenset({"POST", "PUT", "PATCH", "DELETE"})

#: Operation ids that the path and method alone would not name well.
OPERATION_IDS = {
    "change_status": "tickets.status.change", "assign_ticket": "tickets.assign",
    "snooze_ticket": "tickets.snooze", "wake_ticket": "tickets.wake",
    "pin_note": "tickets.notes.pin", "unpin_note": "tickets.notes.unpin",
    "add_ticket_tags": "tickets.tags.add", "set_ticket_tags": "tickets.tags.replace",
    "download_attachment": "attachments.download", "apply_macro": "tickets.macros.apply",
    "preview_canned_response": "tickets.canned_responses.preview",
    "view_counts": "views.counts", "make_default_view": "views.default.set",
    "merge_ticket": "tickets.merge", "split_ticket": "tickets.split",
    "reprocess_inbound": "inbound_emails.reprocess", "openapi_json": "openapi.show",
    "me": "me.show", "redeliver": "webhooks.deliveries.redeliver",
    "show_agent_roles": "agents.roles.show", "get_transitions": "status_transitions.show",
    "show_settings": "settings.show", "csat_report": "reports.csat.show",
    "search_kb": "kb.search", "permission_catalogue": "permissions.show",
    "revoke_token": "api_tokens.revoke", "rotate_webhook_secret": "webhooks.secret.rotate",
    "close_side_conversation": "tickets.side_conversations.close",
    "reopen_side_conversation": "tickets.side_conversations.reopen",
}
_VERBS = {("GET", True): "list", ("POST", True): "create", ("PUT", True): "replace",
          ("PATCH", True): "update", ("DELETE", True): "delete", ("GET", False): "show",
          ("PATCH", False): "update", ("PUT", False): "replace", ("DELETE", False): "delete",
          ("POST", False): "create"}

_PATH_DOCS = {
    "ident": "A ticket id or its reference (e.g. ESC-00042).",
    "user_id": "A host user id.",
    "slug": "A slug.",
    "reply_id": "A reply (note) id.",
}


def openapi_path(rule: str) -> str:
    return _CONVERTER.sub(lambda m: "{" + m.group(2) + "}", rule)


def operation_id(doc: RouteDoc, method: str) -> str:
    """``tickets.create``, ``tickets.replies.create``, ``webhooks.deliveries.list`` ..."""
    if doc.endpoint in OPERATION_IDS:
        return OPERATION_IDS[doc.endpoint]
    parts = [p for p in doc.rule.strip("/").split("/")]
    nouns = [p.replace("-", "_") for p in parts if not p.startswith("<")]
    collection = not parts[-1].startswith("<")
    return ".".join([*nouns, _VERBS[(method, collection)]])


def _tidy(schema: Any, *, is_map: bool = False) -> Any:
    """Property titles off (generators would make types of them) and no ``default: null``
    on a field that is never null (absent means "leave it alone" there). ``is_map``: a map of
    names to schemas (``properties``, ``$defs``), whose keys are the caller's names."""
    if isinstance(schema, list):
        return [_tidy(v) for v in schema]
    if not isinstance(schema, dict):
        return schema
    if is_map:
        return {k: _tidy(v) for k, v in schema.items()}
    out = {k: _tidy(v, is_map=k in ("properties", "$defs", "patternProperties"))
           for k, v in schema.items()}
    props = out.get("properties")
    if isinstance(props, dict):
        for prop in props.values():
            if isinstance(prop, dict):
                prop.pop("title", None)
                if "default" in prop and prop["default"] is None and not _nullable(prop):
                    del prop["default"]
    return out


def _nullable(prop: dict[str, Any]) -> bool:
    if prop.get("type") == "null" or "null" in (prop.get("type") or []):
        return True
    return any(_nullable(p) for p in prop.get("anyOf", []) + prop.get("oneOf", []))


def _models() -> tuple[dict[type[BaseModel], dict[str, Any]], dict[str, Any]]:
    """Every declared model's ``$ref`` and the component schemas they need."""
    wanted: list[type[BaseModel]] = [Error]
    for doc in ROUTES:
        for model in (doc.body, doc.response):
            if isinstance(model, type) and issubclass(model, BaseModel) and model not in wanted:
                wanted.append(model)
    refs, top = models_json_schema([(m, "validation") for m in wanted], ref_template=_REF)
    return {m: refs[(m, "validation")] for m in wanted}, _tidy(top.get("$defs", {}))


def _query_parameters(model: type[BaseModel]) -> list[dict[str, Any]]:
    schema = _tidy(model.model_json_schema(ref_template=_REF))
    required = set(schema.get("required", []))
    params: list[dict[str, Any]] = []
    paged = issubclass(model, Paged)
    for name, prop in schema.get("properties", {}).items():
        if paged and name in Paged.model_fields:
            params.append({"$ref": f"#/components/parameters/{name}"})
            continue
        param: dict[str, Any] = {"name": name, "in": "query", "required": name in required}
        description = prop.pop("description", None)
        if description:
            param["description"] = description
        param["schema"] = prop
        if _is_array(prop):
            param["style"], param["explode"] = "form", True
        params.append(param)
    return params


def _is_array(prop: dict[str, Any]) -> bool:
    return prop.get("type") == "array" or any(p.get("type") == "array"
                                              for p in prop.get("anyOf", []))


def _parameters(doc: RouteDoc) -> list[dict[str, Any]]:
    params: list[dict[str, Any]] = []
    for m in _CONVERTER.finditer(doc.rule):
        name = m.group(2)
        schema: dict[str, Any] = ({"type": "integer", "minimum": 1, "maximum": 2**63 - 1}
                                  if m.group(1) == "int" else {"type": "string",
                                                               "maxLength": 500})
        param = {"name": name, "in": "path", "required": True, "schema": schema}
        if name in _PATH_DOCS:
            param["description"] = _PATH_DOCS[name]
        params.append(param)
    return params + _query_parameters(doc.query)


def _responses(doc: RouteDoc, refs: dict[type[BaseModel], dict[str, Any]]) -> dict[str, Any]:
    success: dict[str, Any] = {"description": doc.summary}
    if doc.binary:
        # A file is served as the type it was stored with (active types such as HTML or SVG
        # as application/octet-stream), so any media type may come back.
        success["content"] = {"*/*": {"schema": {"type": "string",
                                                 "contentMediaType": _BINARY}}}
    elif doc.status != 204:
        if isinstance(doc.response, type) and issubclass(doc.response, BaseModel):
            schema: dict[str, Any] = refs[doc.response]
        elif doc.paged:
            schema = {"$ref": "#/components/schemas/Page"}
        else:
            schema = {"type": "object"}
        success["content"] = {"application/json": {"schema": schema}}
        if doc.csv:
            success["content"]["text/csv"] = {"schema": {
                "type": "string", "description": "With ?format=csv: the same rows as CSV, "
                                                 "served as an attachment."}}
    responses: dict[str, Any] = {str(doc.status): success}
    for status, when in (doc.also or {}).items():
        responses[str(status)] = {**success, "description": when}
    errors = ["400", "401", "403", "404", "409", "413", "415", "422", "429", "503"]
    if doc.public:
        errors.remove("401")
    if doc.multipart:
        errors.append("507")  # attachment storage full
    special = {"429": "RateLimited", "503": "Unavailable"}
    for code in errors:
        responses[code] = {"$ref": "#/components/responses/" + special.get(code, "Error")}
    return responses


def _operation(doc: RouteDoc, method: str, refs: dict[type[BaseModel], Any]) -> dict[str, Any]:
    op: dict[str, Any] = {
        "operationId": operation_id(doc, method),
        "summary": doc.summary,
        "tags": [doc.tag],
        "parameters": _parameters(doc),
        "responses": _responses(doc, refs),
    }
    if doc.view.__doc__:
        op["description"] = " ".join(doc.view.__doc__.split())
    if doc.public:
        op["security"] = [{}, {"bearerAuth": []}, {"sessionCookie": []}]
    elif method in _WRITES:
        op["security"] = [{"bearerAuth": []}, {"sessionCookie": [], "csrfHeader": []}]
    if doc.permission:
        op["x-escalated-permission"] = doc.permission
    if doc.body is not None and method in ("POST", "PUT", "PATCH"):
        body = refs[doc.body]
        content: dict[str, Any] = {"application/json": {"schema": body}}
        if doc.multipart:
            files = {"type": "array", "items": {"type": "string", "contentMediaType": _BINARY}}
            content["multipart/form-data"] = {"schema": {"allOf": [body, {
                "type": "object", "properties": {"files": files}}]}}
            if not doc.body.model_fields:
                content.pop("application/json")
        optional = not any(f.is_required() for f in doc.body.model_fields.values())
        op["requestBody"] = {"required": not optional, "content": content}
    return op


def build_document() -> dict[str, Any]:
    cfg = current_app.config
    base = cfg[Config.ROUTE_PREFIX].rstrip("/") + "/api/v1"
    refs, schemas = _models()
    paths: dict[str, dict[str, Any]] = {}
    for doc in ROUTES:
        item = paths.setdefault(openapi_path(doc.rule), {})
        for method in doc.methods:
            item[method.lower()] = _operation(doc, method, refs)
    return {
        "openapi": "3.1.0",
        "info": {
            "title": f"{cfg[Config.APP_NAME]} helpdesk API",
            "version": __version__,
            "description": "Tickets, replies, notes, tags, departments, statuses and more. "
                           "Every body and query string is validated strictly: an unknown "
                           "field answers 422 unknown_field, a wrong type 422 "
                           "validation_error. Errors are {\"error\": {\"code\", \"message\", "
                           "\"fields\"}}; lists are keyset paged with ?limit= and ?cursor=.",
        },
        "servers": [{"url": base}],
        "security": [{"bearerAuth": []}, {"sessionCookie": []}],
        "tags": [{"name": t} for t in dict.fromkeys(doc.tag for doc in ROUTES)],
        "paths": paths,
        "components": {
            "securitySchemes": {
                "bearerAuth": {"type": "http", "scheme": "bearer",
                               "description": "An API token (POST /api-tokens)."},
                "sessionCookie": {"type": "apiKey", "in": "cookie",
                                  "name": cfg.get("SESSION_COOKIE_NAME") or "session",
                                  "description": "The host app's signed-in session."},
                "csrfHeader": {"type": "apiKey", "in": "header", "name": CSRF_HEADER,
                               "description": "With the session cookie, every write sends "
                                              "the page's CSRF token."},
            },
            "schemas": {
                **schemas,
                "Page": {
                    "type": "object", "required": ["data", "next_cursor"],
                    "description": "One page of a keyset-paged list.",
                    "properties": {
                        "data": {"type": "array", "items": {}},
                        "next_cursor": {"type": ["string", "null"],
                                        "description": "Pass as ?cursor= for the next page; "
                                                       "null on the last."}},
                },
            },
            "parameters": {
                "limit": {"name": "limit", "in": "query", "required": False,
                          "description": LIMIT_DOC,
                          "schema": {"type": "integer", "minimum": 1,
                                     "maximum": cfg[Config.API_MAX_PAGE_SIZE],
                                     "default": cfg[Config.API_PAGE_SIZE]}},
                "cursor": {"name": "cursor", "in": "query", "required": False,
                           "description": CURSOR_DOC,
                           "schema": {"type": "string", "maxLength": 500}},
            },
            "headers": {
                "Retry-After": {"description": "Seconds to wait before retrying.",
                                "schema": {"type": "integer", "minimum": 0}},
                "X-RateLimit-Limit": {"description": "Requests allowed in the window.",
                                      "schema": {"type": "integer"}},
                "X-RateLimit-Remaining": {"description": "Requests left in the window.",
                                          "schema": {"type": "integer"}},
                "X-RateLimit-Reset": {"description": "When the window resets (Unix time).",
                                      "schema": {"type": "integer"}},
            },
            "responses": {
                "Error": {"description": "An error", "content": {
                    "application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}},
                "Unavailable": {
                    "description": "The database or the attachment storage is unavailable "
                                   "for a moment; nothing was changed. Retry after "
                                   "Retry-After seconds.",
                    "headers": {"Retry-After": {"$ref": "#/components/headers/Retry-After"}},
                    "content": {"application/json": {
                        "schema": {"$ref": "#/components/schemas/Error"}}}},
                "RateLimited": {
                    "description": "Too many requests: wait for Retry-After seconds.",
                    "headers": {name: {"$ref": f"#/components/headers/{name}"} for name in (
                        "Retry-After", "X-RateLimit-Limit", "X-RateLimit-Remaining",
                        "X-RateLimit-Reset")},
                    "content": {"application/json": {
                        "schema": {"$ref": "#/components/schemas/Error"}}}},
            },
        },
    }


def render_document() -> str:
    """The document as text that is the same on every run for the same app and version:
    sorted keys, two-space indent, a final newline (what ``flask escalated openapi`` prints and
    ``docs/openapi.json`` holds). Nothing in it depends on the request: the server URL is the
    path of the API, with no host or port."""
    return json.dumps(build_document(), sort_keys=True, indent=2, ensure_ascii=False) + "\n"


@route("/openapi.json", ["GET"], summary="This document", tag="Meta", anonymous=True)
def openapi_json() -> Response:
    return jsonify(build_document())
