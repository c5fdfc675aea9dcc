"""The building blocks of the API's declared contract, and the one door input comes through.

Every request body and query string is validated by a pydantic v2 model from this package
(one module per resource). The models are *strict*: unknown keys are refused
(``extra="forbid"``), a string is never read as a number or a boolean, ``1.5`` is not an id,
``"false"`` is not ``true``, and an integer field takes no decimal point, not even ``1.0``.
The same models generate ``openapi.json``, so the document cannot describe a contract the
server does not enforce.

:func:`parse_body`, :func:`parse_query` and :func:`parse_form` turn pydantic's errors into the
API's error envelope: 422 ``unknown_field`` naming every unknown key when there is one, else
422 ``validation_error`` naming every bad field and why.
"""

from __future__ import annotations

import functools
import re
import types
import typing
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Annotated, Any, TypeVar, Union, get_args, get_origin

from flask import current_app, request
from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    WithJsonSchema,
)
from pydantic import ValidationError as PydanticError
from pydantic_core import PydanticCustomError
from werkzeug.datastructures import MultiDict

from ....config import Config
from ....services.errors import UnknownField, ValidationError

M = TypeVar("M", bound=BaseModel)

#: The largest id any table holds (a signed 64-bit key); larger numbers are refused, not sent
#: to the database.
MAX_ID = 2**63 - 1
#: ``ESCALATED_MAX_BODY_LENGTH``'s default; the running limit is the app's config value.
DEFAULT_MAX_BODY = 200_000


class Body(BaseModel):
    """A JSON request body: strict types, unknown keys refused."""

    model_config = ConfigDict(extra="forbid", strict=True, populate_by_name=False,
                              regex_engine="python-re", defer_build=True)

    def changes(self) -> dict[str, Any]:
        """The fields the caller sent (absent and null differ on a PATCH), as plain values."""
        return self.model_dump(exclude_unset=True, mode="python")


class Query(BaseModel):
    """A query string: the same strictness; its values arrive as text and are read by the
    field's declared type (ASCII digits for numbers, exact words for choices)."""

    model_config = ConfigDict(extra="forbid", strict=True, regex_engine="python-re",
                              defer_build=True)


class Out(BaseModel):
    """A response body: every key declared (a serializer that drifts from its schema fails the
    suite-wide response check, see ``web/api/contract.py``), JSON types exact."""

    model_config = ConfigDict(extra="forbid", strict=True, defer_build=True)


class Empty(Body):
    """No fields: the body of an operation that takes none."""


class EmptyQuery(Query):
    """No parameters."""


# ---------------------------------------------------------------------------- field types
def _ascii_int(value: Any) -> Any:
    """Query and form values are text: only ASCII digits (an optional leading '-') are a
    number; fullwidth digits, ``"1.5"``, ``"1_000"`` and ``" 3"`` stay text and fail."""
    if isinstance(value, str) and re.fullmatch(r"-?[0-9]{1,19}", value):
        return int(value)
    return value


def _check_body_length(value: str) -> str:
    limit = int(current_app.config[Config.MAX_BODY_LENGTH])
    if len(value) > limit:
        raise PydanticCustomError("string_too_long",
                                  "String should have at most {max_length} characters",
                                  {"max_length": limit})
    return value


def _user_ref(value: Any) -> Any:
    # Host apps' user ids are strings here; a host with integer ids may send the number.
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    return value


def _iso_datetime(value: Any) -> Any:
    if isinstance(value, str):
        if not re.fullmatch(r"\d{4}-\d\d-\d\d[T ][0-9:.]+(Z|[+-]\d\d:?\d\d)?", value):
            raise PydanticCustomError("datetime_parsing", "an ISO 8601 date-time with a zone")
        try:
            parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            raise PydanticCustomError("datetime_parsing",
                                      "an ISO 8601 date-time with a zone") from None
        if parsed.tzinfo is None:
            raise PydanticCustomError("timezone_aware", "needs a time zone (e.g. 'Z')")
        return parsed
    return value


#: A row id: a whole number from 1 to 2**63-1 (no bools, no floats, no strings in JSON).
Id = Annotated[int, Field(ge=1, le=MAX_ID)]
#: A whole number that may be negative (positions), bounded.
Position = Annotated[int, Field(ge=-10_000, le=10_000)]
#: A host user id (text; a host whose ids are integers may send the number, read as its
#: decimal text: the same user either way).
UserRef = Annotated[str, Field(min_length=1, max_length=64), BeforeValidator(_user_ref),
                    WithJsonSchema({"type": ["string", "integer"], "minLength": 1,
                                    "maxLength": 64, "minimum": 1, "examples": ["42"]})]
#: Message text (ticket descriptions, replies, notes): at most ``ESCALATED_MAX_BODY_LENGTH``.
LongText = Annotated[str, AfterValidator(_check_body_length),
                     Field(max_length=DEFAULT_MAX_BODY,
                           description="At most ESCALATED_MAX_BODY_LENGTH characters "
                                       "(default 200000).")]
Color = Annotated[str, Field(pattern=r"^#[0-9a-fA-F]{6}$", examples=["#2563eb"])]
IsoDateTime = Annotated[datetime, BeforeValidator(_iso_datetime),
                        WithJsonSchema({"type": "string", "format": "date-time",
                                        "examples": ["2026-01-31T09:00:00Z"]})]


def absent(**kwargs: Any) -> Any:
    """The default of a field that may be left out but is never null: absent means "leave
    it alone" (or the service's default), and an explicit null is refused by its type."""
    return Field(None, **kwargs)


# ---------------------------------------------------------------------------- errors
class ModelError(ValueError):
    """A model validator's refusal (fields that disagree, one that needs another), naming the
    fields it concerns: the error is reported under each of them (relative to the model, so a
    nested model's validator is named by its path)."""

    def __init__(self, message: str, *fields: str) -> None:
        super().__init__(message)
        self.fields = fields


def _loc(loc: tuple[Any, ...]) -> str:
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += ("." if out else "") + str(part)
    return out


def _whole(model: type[BaseModel]) -> str:
    """How an error about the whole input (a model validator that names no field) is named."""
    if issubclass(model, Query):
        return "query string"
    return "request body"


#: What an integer field says of a value that is not one. A number with a decimal point is
#: refused even when it is whole (``1.0``, which JSON Schema counts as an integer): the
#: models are strict, so that ``1.5`` is never read as ``1`` and no float turns into an id.
WHOLE_NUMBER = "Input should be a whole number"
WHOLE_NUMBER_NO_POINT = "Input should be a whole number without a decimal point (1, not 1.0)"


#: What a field of one of these patterns expects, in words.
PATTERN_WORDS = {r"^[0-9]{2}:[0-9]{2}$": "Expected HH:MM, e.g. 09:00"}


def _message(err: Any) -> str:
    """Pydantic's message, without the ``Value error, `` or ``Assertion failed, `` pydantic
    puts before the text of an exception raised in a validator, and in the API's words for
    an integer field (the same for JSON, query strings and forms)."""
    cause = (err.get("ctx") or {}).get("error")
    if err["type"] in ("value_error", "assertion_error") and isinstance(cause, Exception):
        return str(cause) or err["msg"]
    kind, ctx = err["type"], err.get("ctx") or {}
    if kind in ("int_type", "int_parsing", "int_from_float"):
        value = err.get("input")
        pointed = isinstance(value, float) or (isinstance(value, str) and "." in value)
        return WHOLE_NUMBER_NO_POINT if pointed else WHOLE_NUMBER
    # Pydantic's words that name its internals (a pattern, a class, "after validation") say
    # what is expected instead: the same text reaches a visitor in the widget and the pages.
    # A length bound after a text's own validator is checked as "too_short" too.
    if kind == "string_too_short" or (kind == "too_short" and isinstance(err.get("input"), str)):
        least = ctx.get("min_length", 1)
        return "Field required" if least == 1 else f"At least {least} characters"
    if kind == "too_short":
        least = ctx.get("min_length", 1)
        return f"At least {least} {'item' if least == 1 else 'items'}"
    if kind == "string_pattern_mismatch":
        pattern = str(ctx.get("pattern", ""))
        if pattern in PATTERN_WORDS:
            return PATTERN_WORDS[pattern]
        if "@" in pattern:
            return "Not an e-mail address (name@example.com)"
        return f"Not in the expected form (the pattern {pattern})"
    if kind in ("model_type", "model_attributes_type", "dict_type"):
        return "Input should be an object"
    return str(err["msg"])


class Repeated(list[str]):
    """The values of a single-valued query or form field given more than once (see
    :func:`from_text`): the model refuses a list there, and the error says why."""


#: The error of a field :class:`Repeated`.
_REPEATED_WHY = "given more than once; send it once"


def _names(err: Any, model: type[BaseModel]) -> list[str]:
    """The fields an error is reported under: where pydantic says it is, or, for a model
    validator's, the fields its :class:`ModelError` names (else the whole input)."""
    if isinstance(err.get("input"), Repeated):
        return [_loc(tuple(err["loc"])[:1])]
    where = _loc(tuple(err["loc"]))
    cause = (err.get("ctx") or {}).get("error")
    fields = getattr(cause, "fields", ()) if isinstance(cause, ModelError) else ()
    if fields:
        return [f"{where}.{name}" if where else name for name in fields]
    return [where or _whole(model)]


def raise_for(exc: PydanticError, model: type[BaseModel]) -> typing.NoReturn:
    """Raise the API's 422 for a pydantic error: unknown keys first, else every bad field."""
    unknown: list[str] = []
    bad: dict[str, str] = {}
    for err in exc.errors(include_url=False, include_context=True, include_input=True):
        if err["type"] == "extra_forbidden":
            where = _loc(tuple(err["loc"]))[:120]
            if where not in unknown:
                unknown.append(where)
            continue
        message = _REPEATED_WHY if isinstance(err.get("input"), Repeated) else _message(err)
        for where in _names(err, model):
            bad.setdefault(where[:120], message)
    if unknown:
        raise UnknownField(
            f"Unknown field(s): {', '.join(unknown)}. This operation does not take them; "
            "see openapi.json for the fields it does.", unknown)
    names = ", ".join(f"{k} ({v})" for k, v in bad.items())
    raise ValidationError(f"Some fields are not valid: {names}."[:1000], bad)


def validate(model: type[M], data: Any) -> M:
    """``data`` checked against ``model``; a 422 in the API's envelope otherwise."""
    try:
        return model.model_validate(data)
    except PydanticError as exc:
        raise_for(exc, model)


# ---------------------------------------------------------------------------- the doors
def _declared(model: type[BaseModel], kind: str) -> None:
    """A view validates with the model its route declares (the one openapi.json shows)."""
    doc = getattr(request, "escalated_route", None)
    declared = getattr(doc, kind, None) if doc is not None else None
    if doc is not None and declared is not model:
        raise RuntimeError(f"{doc.endpoint} declares {kind}={declared!r} but reads {model!r}")


def parse_body(model: type[M]) -> M:
    """The request's JSON object validated by ``model`` (the raw object comes from
    :func:`~flask_escalated.web.api.base.json_body`, which refuses what is not JSON)."""
    from ..base import json_body

    _declared(model, "body")
    return validate(model, json_body())


def optional_body(model: type[M]) -> M:
    """Like :func:`parse_body`, for operations whose every field is optional: no body at all
    reads as ``{}``."""
    if not request.content_length and not request.is_json and not request.data:
        return validate(model, {})
    return parse_body(model)


def _is_list(annotation: Any) -> bool:
    origin = get_origin(annotation)
    if origin in (Union, types.UnionType):
        return any(_is_list(a) for a in get_args(annotation) if a is not type(None))
    if origin is typing.Annotated:
        return _is_list(get_args(annotation)[0])
    return origin is list


def _is(annotation: Any, kind: type) -> bool:
    """Whether a field's annotation is ``kind`` (or a list of it), through unions and
    ``Annotated``."""
    if annotation is kind:
        return True
    origin = get_origin(annotation)
    if origin in (Union, types.UnionType, list):
        return any(_is(a, kind) for a in get_args(annotation) if a is not type(None))
    if origin is typing.Annotated:
        return _is(get_args(annotation)[0], kind)
    return False


@dataclass(frozen=True)
class _TextKind:
    """How a field reads text: a list or one value, a boolean, a number."""

    is_list: bool = False
    is_bool: bool = False
    is_int: bool = False

    @classmethod
    def of(cls, annotation: Any) -> _TextKind:
        return cls(_is_list(annotation), _is(annotation, bool),
                   _is(annotation, int) and not _is(annotation, str))

    def read(self, value: str) -> Any:
        if self.is_bool and value in ("true", "false"):
            return value == "true"
        if self.is_int:
            return _ascii_int(value)
        return value


_TEXT = _TextKind()


@functools.cache
def _text_kinds(model: type[BaseModel]) -> dict[str, _TextKind]:
    """Each declared field's kind, worked out once per model (walking the annotations on every
    request cost more than the validation itself). Keyed by the model's own field names only,
    so what a caller sends never grows it."""
    return {name: _TextKind.of(field.annotation) for name, field in model.model_fields.items()}


def _read_text(value: str, annotation: Any) -> Any:
    """One text value as the field's type would have it in JSON: ``true``/``false`` for a
    boolean, ASCII digits for a number; anything else stays text (and fails if wrong)."""
    return _TextKind.of(annotation).read(value)


def from_text(model: type[BaseModel], values: MultiDict[str, str] | Mapping[str, Any],
              *, skip: frozenset[str] = frozenset(), csv: bool = True) -> dict[str, Any]:
    """A query string or a form as the dict ``model`` validates: list fields take every value
    (and, for queries, comma-separated ones), booleans are exactly ``true`` or ``false`` (any
    other spelling stays text and fails), a repeated single-valued key is an error."""
    out: dict[str, Any] = {}
    kinds = _text_kinds(model)
    getlist = values.getlist if isinstance(values, MultiDict) else (
        lambda k: [values[k]])
    for key in values:
        if key in skip:
            continue
        raw = getlist(key)
        kind = kinds.get(key, _TEXT)
        if kind.is_list:
            out[key] = [kind.read(v) for r in raw
                        for v in (r.split(",") if csv else [r]) if v != ""]
        elif len(raw) > 1:
            # A list where one value is expected: refused by the model, as given twice.
            out[key] = Repeated(raw)
        else:
            out[key] = kind.read(raw[0])
    return out


def parse_query(model: type[M]) -> M:
    """The query string validated by ``model`` (once a request: the route's wrapper already
    did); an empty parameter (``?q=``) reads as absent."""
    cached = getattr(request, "escalated_query", None)
    if isinstance(cached, model):
        return cached
    # Open-ended parameter families (``cf.<key>``) are read by the view, not the model.
    prefixes = tuple(getattr(model, "open_prefixes", ()))
    data = from_text(model, MultiDict([(k, v) for k, v in request.args.items(multi=True)
                                       if v != "" and not (prefixes and k.startswith(prefixes))]))
    parsed = validate(model, data)
    request.escalated_query = parsed  # type: ignore[attr-defined]
    return parsed


def parse_form(model: type[M], *, skip: frozenset[str] = frozenset({"files"})) -> M:
    """A multipart or urlencoded form validated by ``model`` (file fields are read apart)."""
    _declared(model, "body")
    data = from_text(model, request.form, skip=skip, csv=False)
    files = [k for k in request.files if k not in skip]
    if files:
        data.update({k: "(file)" for k in files})
    return validate(model, data)
