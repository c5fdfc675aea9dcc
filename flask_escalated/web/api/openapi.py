"""The OpenAPI 3.1 document, built from the same registry the routes are added from.

Because the document and the URL map come from one list (``base.ROUTES``), they cannot drift;
a test still walks the app's URL map to prove every API rule is described.
"""

from __future__ import annotations

import re
from typing import Any

from flask import Response, current_app, jsonify

from ... import __version__
from ...config import Config
from .base import ROUTES, RouteDoc, route

_BINARY = "application/octet-stream"
_CONVERTER = re.compile(r"<(?:(\w+):)?(\w+)>")

_ERROR = {
    "type": "object",
    "required": ["error"],
    "properties": {
        "error": {
            "type": "object",
            "required": ["code", "message", "fields"],
            "properties": {
                "code": {"type": "string"},
                "message": {"type": "string"},
                "fields": {"type": "object"},
            },
        }
    },
}


def openapi_path(rule: str) -> str:
    return _CONVERTER.sub(lambda m: "{" + m.group(2) + "}", rule)


def _parameters(doc: RouteDoc) -> list[dict[str, Any]]:
    params = [
        {"name": m.group(2), "in": "path", "required": True,
         "schema": {"type": "integer" if m.group(1) == "int" else "string"}}
        for m in _CONVERTER.finditer(doc.rule)
    ]
    params += [
        {"name": name, "in": "query", "required": False, "description": text,
         "schema": {"type": "string"}}
        for name, text in doc.query.items()
    ]
    if doc.paged:
        params += [
            {"name": "limit", "in": "query", "schema": {"type": "integer", "minimum": 1}},
            {"name": "cursor", "in": "query", "schema": {"type": "string"},
             "description": "next_cursor from the previous page"},
        ]
    return params


def _operation(doc: RouteDoc, method: str) -> dict[str, Any]:
    op: dict[str, Any] = {
        "operationId": f"{doc.endpoint}",
        "summary": doc.summary,
        "tags": [doc.tag],
        "parameters": _parameters(doc),
        "responses": {
            str(doc.status): {"description": "Success"},
            "400": {"$ref": "#/components/responses/Error"},
            "401": {"$ref": "#/components/responses/Error"},
            "403": {"$ref": "#/components/responses/Error"},
            "404": {"$ref": "#/components/responses/Error"},
            "409": {"$ref": "#/components/responses/Error"},
            "413": {"$ref": "#/components/responses/Error"},
            "422": {"$ref": "#/components/responses/Error"},
        },
    }
    if doc.public:
        op["security"] = []
    if doc.permission:
        op["x-escalated-permission"] = doc.permission
    if doc.paged:
        op["responses"][str(doc.status)]["content"] = {"application/json": {"schema": {
            "type": "object",
            "properties": {"data": {"type": "array"},
                           "next_cursor": {"type": ["string", "null"]}},
        }}}
    if doc.binary:
        op["responses"][str(doc.status)]["content"] = {
            _BINARY: {"schema": {"type": "string", "contentMediaType": _BINARY}}
        }
    if doc.body is not None and method in ("POST", "PUT", "PATCH"):
        props = {k: {"description": v} for k, v in doc.body.items()}
        content: dict[str, Any] = {
            "application/json": {"schema": {"type": "object", "properties": props}}
        }
        if doc.multipart:
            files = {"type": "array", "items": {"type": "string", "contentMediaType": _BINARY}}
            content["multipart/form-data"] = {
                "schema": {"type": "object", "properties": {**props, "files": files}}
            }
        op["requestBody"] = {"required": True, "content": content}
    return op


def build_document() -> dict[str, Any]:
    base = current_app.config[Config.ROUTE_PREFIX].rstrip("/") + "/api/v1"
    paths: dict[str, dict[str, Any]] = {}
    for doc in ROUTES:
        item = paths.setdefault(openapi_path(doc.rule), {})
        for method in doc.methods:
            item[method.lower()] = _operation(doc, method)
    return {
        "openapi": "3.1.0",
        "info": {
            "title": f"{current_app.config[Config.APP_NAME]} helpdesk API",
            "version": __version__,
            "description": "Tickets, replies, notes, tags, departments, statuses and more. "
                           "Errors are {\"error\": {\"code\", \"message\", \"fields\"}}; lists "
                           "are keyset paged with ?limit= and ?cursor=.",
        },
        "servers": [{"url": base}],
        "security": [{"bearerAuth": []}, {"sessionCookie": []}],
        "paths": paths,
        "components": {
            "securitySchemes": {
                "bearerAuth": {"type": "http", "scheme": "bearer"},
                "sessionCookie": {"type": "apiKey", "in": "cookie", "name": "session"},
            },
            "schemas": {"Error": _ERROR},
            "responses": {"Error": {"description": "An error", "content": {
                "application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}}},
        },
    }


@route("/openapi.json", ["GET"], summary="This document", tag="Meta", anonymous=True)
def openapi_json() -> Response:
    return jsonify(build_document())
