"""Console section: custom fields (definitions; values are edited on tickets)."""

from __future__ import annotations

from typing import Any

from flask import Blueprint

from ...services import custom_fields
from ..api.schemas.custom_fields import CustomFieldCreate, CustomFieldUpdate
from ..forms import FieldSpec, specs_for
from .crud import Column, Resource, link, register, simple_rows


def _specs(model: Any) -> list[FieldSpec]:
    return specs_for(
        model, description={"widget": "textarea"},
        options={"widget": "json", "help": 'select and multi_select: '
                 '[{"value": "billing", "label": "Billing"}, …]'},
        conditions={"widget": "json", "help": 'Shown only while all hold: [{"field": '
                    '"kind", "operator": "equals", "value": "billing"}]; operators equals, '
                    'not_equals, contains, is_empty, is_not_empty. The server enforces them.'},
        customer_visible={"help": "The customer sees the field and its value."},
        customer_editable={"help": "The customer may fill it in (needs customer visible)."})


CUSTOM_FIELDS = Resource(
    name="custom-fields", label="Custom fields", singular="custom field",
    view="custom_field.manage", create_permission="custom_field.manage",
    edit_permission="custom_field.manage", delete_permission="custom_field.manage",
    load=custom_fields.get_field, serialize=custom_fields.as_dict,
    rows=simple_rows(custom_fields.list_fields),
    title=lambda row: row.label,
    columns=[Column("Label", link("custom-fields", lambda f: f.label)),
             Column("Key", lambda f: f.key), Column("Type", lambda f: f.type),
             Column("Required", lambda f: "yes" if f.required else "no"),
             Column("Customer", lambda f: "edits" if f.customer_editable
                    else "sees" if f.customer_visible else "no"),
             Column("Conditions", lambda f: len(f.conditions or [])),
             Column("Active", lambda f: "yes" if f.active else "no")],
    create_model=CustomFieldCreate, update_model=CustomFieldUpdate,
    create=custom_fields.create_field, update=custom_fields.update_field,
    delete=custom_fields.delete_field, specs=_specs,
    initial=lambda: {"active": True, "context": "ticket", "options": [], "conditions": []},
    intro="Fields tickets carry beyond the built-in ones; display conditions show a field "
          "only when other fields hold given values.")


def register_all(bp: Blueprint) -> None:
    register(bp, CUSTOM_FIELDS)
