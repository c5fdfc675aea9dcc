"""Custom fields: the field definitions (values travel on tickets as ``custom_fields``)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import Field

from ....models.custom_fields import CONDITION_OPERATORS, FIELD_CONTEXTS, FIELD_TYPES
from ._base import Body, Out, absent

FieldType = Literal[FIELD_TYPES]  # type: ignore[valid-type]
FieldContext = Literal[FIELD_CONTEXTS]  # type: ignore[valid-type]
Operator = Literal[CONDITION_OPERATORS]  # type: ignore[valid-type]
FieldKey = Annotated[str, Field(min_length=1, max_length=64, pattern=r"^[a-z][a-z0-9_]*$",
                                examples=["order_number"])]
Short = Annotated[str, Field(min_length=1, max_length=255)]


class OptionIn(Body):
    value: Short
    label: Short


class ConditionIn(Body):
    """Show the field only while the other field ``field`` satisfies ``operator value``
    (``is_empty`` / ``is_not_empty`` take no value)."""

    field: FieldKey
    operator: Operator
    value: Annotated[str, Field(max_length=255)] | None = None


Options = Annotated[list[OptionIn], Field(max_length=200, description="select and "
                                          "multi_select: the choices.")]
Conditions = Annotated[list[ConditionIn], Field(max_length=20, description="Display "
                                                "conditions, ANDed; enforced by the server.")]


class CustomFieldCreate(Body):
    key: FieldKey
    label: Annotated[str, Field(min_length=1, max_length=120)]
    description: Annotated[str, Field(max_length=2000)] | None = None
    type: FieldType
    options: Options = absent()
    required: bool = absent()
    context: FieldContext = absent()
    position: Annotated[int, Field(ge=0, le=100_000)] = absent()
    active: bool = absent()
    customer_visible: bool = absent()
    customer_editable: bool = absent()
    conditions: Conditions = absent()


class CustomFieldUpdate(CustomFieldCreate):
    key: FieldKey = absent()
    label: Annotated[str, Field(min_length=1, max_length=120)] = absent()
    type: FieldType = absent()


class OptionOut(Out):
    value: str
    label: str


class ConditionOut(Out):
    field: str
    operator: Operator
    value: str | None


class CustomFieldOut(Out):
    id: int
    key: str
    label: str
    description: str | None
    type: FieldType
    options: list[OptionOut]
    required: bool
    context: FieldContext
    position: int
    active: bool
    customer_visible: bool
    customer_editable: bool
    conditions: list[ConditionOut]
    created_at: datetime | None
    updated_at: datetime | None


class CustomFieldEnvelope(Out):
    data: CustomFieldOut


class CustomFieldList(Out):
    data: list[CustomFieldOut]
