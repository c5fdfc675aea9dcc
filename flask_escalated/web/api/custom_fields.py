"""JSON API v1: custom field definitions."""

from __future__ import annotations

from typing import Any

from flask import Response, jsonify

from ...models import CustomField
from ...services import custom_fields, serializers
from ..security import current_principal
from .base import route
from .commit import committed
from .schemas import parse_body
from .schemas.custom_fields import (
    CustomFieldCreate,
    CustomFieldEnvelope,
    CustomFieldList,
    CustomFieldUpdate,
)


def _out(row: CustomField) -> dict[str, Any]:
    return {**custom_fields.as_dict(row), "created_at": serializers.iso(row.created_at),
            "updated_at": serializers.iso(row.updated_at)}


@route("/custom-fields", ["GET"], summary="List custom fields", tag="Custom fields",
       permission="custom_field.view", response=CustomFieldList)
def list_fields() -> Response:
    return jsonify({"data": [_out(f) for f in custom_fields.list_fields()]})


@route("/custom-fields", ["POST"], summary="Create a custom field", tag="Custom fields",
       permission="custom_field.manage", body=CustomFieldCreate, status=201,
       response=CustomFieldEnvelope)
def create_field() -> tuple[Response, int]:
    data = parse_body(CustomFieldCreate).changes()
    with committed():
        row = custom_fields.create_field(current_principal().actor, data)
    return jsonify({"data": _out(row)}), 201


@route("/custom-fields/<int:field_id>", ["GET"], summary="Show a custom field",
       tag="Custom fields", permission="custom_field.view", response=CustomFieldEnvelope)
def show_field(field_id: int) -> Response:
    return jsonify({"data": _out(custom_fields.get_field(field_id))})


@route("/custom-fields/<int:field_id>", ["PATCH"], summary="Update a custom field",
       tag="Custom fields", permission="custom_field.manage", body=CustomFieldUpdate,
       response=CustomFieldEnvelope)
def update_field(field_id: int) -> Response:
    data = parse_body(CustomFieldUpdate).changes()
    with committed():
        row = custom_fields.update_field(current_principal().actor, field_id, data)
    return jsonify({"data": _out(row)})


@route("/custom-fields/<int:field_id>", ["DELETE"], summary="Delete a custom field and its "
       "values", tag="Custom fields", permission="custom_field.manage", status=204)
def delete_field(field_id: int) -> tuple[str, int]:
    with committed():
        custom_fields.delete_field(current_principal().actor, field_id)
    return "", 204
