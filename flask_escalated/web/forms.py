"""HTML forms on the API's schemas: one contract for a page and for a JSON client.

A page's form is read into the same pydantic model the API validates with
(``web/api/schemas``), so a field the API refuses is refused the same way in a page: unknown
inputs are an error naming them, bad values name the field and why. What the person typed is
kept (:attr:`FormData.values`) so the page can show it again beside the error.

Forms are text, JSON is typed; the translation is deliberate and small:

* a checkbox that is not ticked sends nothing, so a rendered ``checkbox`` field that is absent
  reads as ``false``;
* an empty text input of an optional field means "leave it alone" (or, for a nullable field,
  "clear it");
* several values (checkboxes, ``<select multiple>``) become a list;
* a ``json`` field (a textarea) is parsed as JSON;
* a textarea's line breaks, which browsers send as CRLF, are read as LF;
* numbers are ASCII digits and booleans exactly ``true``/``false``, as in a query string.

:func:`specs_for` derives the inputs a model needs (label, widget, choices, bounds) so a page
can render a form with one macro (``escalated/_form.html``) and override only what it knows
better (e.g. the choices of a list of agent ids).
"""

from __future__ import annotations

import json
import types
import typing
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from enum import Enum
from typing import Any, Generic, Literal, TypeVar, Union, get_args, get_origin

from flask import request
from pydantic import BaseModel
from werkzeug.datastructures import MultiDict

from ..services.errors import ServiceError
from .api.schemas._base import Repeated, _is, _is_list, _read_text, validate
from .security import CSRF_FIELD

M = TypeVar("M", bound=BaseModel)

Widget = Literal["text", "textarea", "number", "checkbox", "select", "checkboxes", "json",
                 "color", "date", "time", "email", "url", "password", "hidden"]

#: Inputs every form may carry that are not fields of the model.
FORM_CHROME = frozenset({CSRF_FIELD, "submit", "_method"})


@dataclass(frozen=True)
class FieldSpec:
    """One input of a form: how the page renders it and how its text is read back."""

    name: str
    label: str
    widget: Widget = "text"
    required: bool = False
    #: ``(value, label)`` pairs of a select or a group of checkboxes.
    choices: Sequence[tuple[str, str]] = ()
    help: str | None = None
    max_length: int | None = None
    minimum: int | None = None
    maximum: int | None = None
    nullable: bool = False
    #: The select offers an empty choice (``""``: leave out / clear).
    blank: str | None = None
    rows: int = 4


@dataclass
class FormData(Generic[M]):
    """A read form: the model when it was valid, else the errors per field; always the text
    as it was typed."""

    values: dict[str, Any]
    model: M | None = None
    errors: dict[str, str] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return self.model is not None and not self.errors

    def fail(self, exc: ServiceError) -> None:
        """Record a service's refusal (its fields, or the whole form)."""
        self.model = None
        if exc.fields:
            self.errors.update({str(k): str(v) for k, v in exc.fields.items()})
        else:
            self.errors["form"] = exc.message


# ---------------------------------------------------------------------------- reading
def read_form(model: type[M], specs: Iterable[FieldSpec], *,
              extra: Mapping[str, Any] | None = None,
              consumed: Iterable[str] = (),
              values: MultiDict[str, str] | None = None) -> FormData[M]:
    """Read the submitted form into ``model``.

    ``specs`` are the inputs the page rendered. ``extra`` is data the view assembled from
    inputs of its own (a grid, a rule builder); the names in ``consumed`` are those inputs, so
    they are not reported as unknown. Any other input is passed to the model, which refuses it.
    """
    form = values if values is not None else request.form
    by_name = {s.name: s for s in specs}
    skip = FORM_CHROME | set(consumed)
    kept: dict[str, Any] = {}
    data: dict[str, Any] = {}
    errors: dict[str, str] = {}
    for spec in by_name.values():
        raw = form.getlist(spec.name)
        kept[spec.name] = raw if spec.widget == "checkboxes" else (raw[0] if raw else "")
        try:
            present, value = _read_input(model, spec, raw)
        except ValueError as exc:
            errors[spec.name] = str(exc)
            continue
        if present:
            data[spec.name] = value
    for key in form:
        if key in by_name or key in skip:
            continue
        raw = form.getlist(key)
        kept[key] = raw[0] if len(raw) == 1 else raw
        data[key] = raw[0] if len(raw) == 1 else raw  # refused by the model as unknown
    if extra:
        data.update(extra)
    result: FormData[M] = FormData(values=kept, errors=errors)
    if errors:
        return result
    try:
        result.model = validate(model, data)
    except ServiceError as exc:
        result.fail(exc)
    return result


def _read_input(model: type[BaseModel], spec: FieldSpec, raw: list[str]) -> tuple[bool, Any]:
    """``(present, value)`` of one input, as the model's JSON would carry it."""
    info = model.model_fields.get(spec.name)
    annotation = info.annotation if info is not None else str
    if spec.widget == "checkbox":
        return True, bool(raw) and raw[-1] in ("true", "on", "1")
    if spec.widget == "checkboxes" or (_is_list(annotation) and spec.widget != "json"):
        return True, [_read_text(v, annotation) for v in raw if v != ""]
    text = raw[0] if len(raw) == 1 else ("" if not raw else None)
    if text is None:
        return True, Repeated(raw)  # one value expected, several sent: the model says so
    if spec.widget == "json":
        if not text.strip():
            return _empty(spec)
        from .inputs import parse_json

        try:
            return True, parse_json(text.encode("utf-8"))
        except ServiceError as exc:  # the API's one strict reader: depth, NaN, huge numbers
            raise ValueError(f"is not valid JSON ({exc.message})") from None
    if text == "":
        return _empty(spec)
    if spec.widget == "textarea":
        text = text.replace("\r\n", "\n")  # browsers send a textarea's line breaks as CRLF
    return True, _read_text(text, annotation)


def _empty(spec: FieldSpec) -> tuple[bool, Any]:
    if spec.required:
        return False, None  # the model reports the missing field
    return (True, None) if spec.nullable else (False, None)


# ---------------------------------------------------------------------------- specs
def specs_for(model: type[BaseModel], *, only: Sequence[str] | None = None,
              **overrides: Mapping[str, Any] | FieldSpec) -> list[FieldSpec]:
    """The inputs ``model`` needs, in its field order (or ``only``'s), each derived from the
    field's type and bounds; ``overrides`` replace a spec or some of its attributes by name."""
    names = list(only) if only is not None else list(model.model_fields)
    out: list[FieldSpec] = []
    for name in names:
        override = overrides.get(name)
        if isinstance(override, FieldSpec):
            out.append(override)
            continue
        spec = _derive(model, name)
        if override:
            spec = replace(spec, **dict(override))
        out.append(spec)
    return out


def _derive(model: type[BaseModel], name: str) -> FieldSpec:
    info = model.model_fields[name]
    annotation = info.annotation
    nullable = _nullable(annotation)
    core = _strip(annotation)
    bounds = {k: v for m in (*_nested_metadata(annotation), *info.metadata)
              for k, v in _bounds(m).items()}
    label = info.title or name.replace("_", " ").capitalize().replace(" id", "").replace(
        " ids", "s")
    base = FieldSpec(name=name, label=label, required=info.is_required(), help=info.description,
                     nullable=nullable, max_length=bounds.get("max_length"),
                     minimum=bounds.get("minimum"), maximum=bounds.get("maximum"))
    choices = _choices(core)
    if get_origin(core) is list:
        item_choices = _choices(_strip(get_args(core)[0])) if get_args(core) else ()
        base = replace(base, max_length=None)  # a count of items, not of characters
        if item_choices:
            return replace(base, widget="checkboxes", choices=item_choices)
        return replace(base, widget="json", help=base.help or "A JSON list.")
    if choices:
        return replace(base, widget="select", choices=choices,
                       blank="—" if nullable or not base.required else None)
    if _is(annotation, bool):
        return replace(base, widget="checkbox")
    if _is(annotation, int):
        return replace(base, widget="number")
    if get_origin(core) is dict or (isinstance(core, type) and issubclass(core, BaseModel)):
        return replace(base, widget="json", help=base.help or "A JSON object.", rows=8)
    if _is(annotation, str):
        long = base.max_length is None or base.max_length > 500
        return replace(base, widget="textarea" if long else "text")
    return replace(base, widget="json")


def _nullable(annotation: Any) -> bool:
    origin = get_origin(annotation)
    if origin in (Union, types.UnionType):
        return type(None) in get_args(annotation)
    if origin is typing.Annotated:
        return _nullable(get_args(annotation)[0])
    return False


def _strip(annotation: Any) -> Any:
    """The annotation without ``Annotated`` and ``None``."""
    origin = get_origin(annotation)
    if origin is typing.Annotated:
        return _strip(get_args(annotation)[0])
    if origin in (Union, types.UnionType):
        rest = [a for a in get_args(annotation) if a is not type(None)]
        return _strip(rest[0]) if len(rest) == 1 else annotation
    return annotation


def _choices(core: Any) -> tuple[tuple[str, str], ...]:
    if get_origin(core) is Literal:
        return tuple((str(v), str(v).replace("_", " ").capitalize()) for v in get_args(core))
    if isinstance(core, type) and issubclass(core, Enum):
        return tuple((str(m.value), m.name.replace("_", " ").capitalize()) for m in core)
    return ()


def _nested_metadata(annotation: Any) -> list[Any]:
    """The constraints of an optional annotated type (``Annotated[str, Field(...)] | None``):
    pydantic keeps them inside the union, not in the field's own metadata, and without them a
    one-line input such as a slug would read as unbounded text."""
    origin = get_origin(annotation)
    if origin is typing.Annotated:
        return [*get_args(annotation)[1:], *_nested_metadata(get_args(annotation)[0])]
    if origin in (Union, types.UnionType):
        return [m for arg in get_args(annotation) for m in _nested_metadata(arg)]
    return []


def _bounds(meta: Any) -> dict[str, int]:
    out: dict[str, int] = {}
    for attr, key in (("max_length", "max_length"), ("ge", "minimum"), ("le", "maximum")):
        value = getattr(meta, attr, None)
        if isinstance(value, int) and not isinstance(value, bool):
            out[key] = value
    for inner in getattr(meta, "metadata", ()) or ():
        out.update(_bounds(inner))
    return out


def initial_values(row: Mapping[str, Any], specs: Iterable[FieldSpec]) -> dict[str, Any]:
    """A form's starting text from a serialized row (``None`` reads as empty)."""
    out: dict[str, Any] = {}
    for spec in specs:
        value = row.get(spec.name)
        if spec.widget == "json":
            out[spec.name] = "" if value is None else json.dumps(value, indent=2,
                                                                 ensure_ascii=False)
        elif spec.widget == "checkboxes":
            out[spec.name] = [str(v) for v in (value or [])]
        elif spec.widget == "checkbox":
            out[spec.name] = bool(value)
        else:
            out[spec.name] = "" if value is None else (
                "true" if value is True else "false" if value is False else str(value))
    return out
