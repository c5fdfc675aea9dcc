"""The edge every request crosses before a view reads it: ids in URLs, text, and JSON bodies.

One place refuses what no view should ever see, so each view does not have to remember to:

- ``<escalated_id:name>`` in a URL rule (the API's ``<int:name>`` is mapped onto it) matches 1 to
  19 ASCII digits that fit a 64-bit column; anything else is "no such URL" (404). Werkzeug's
  own ``int`` converter matches any Unicode decimal digit and any length.
- :func:`guard_request` (a ``before_request`` of every Escalated blueprint that takes input from
  browsers or API clients) answers 404 for a URL part that is not printable ASCII, and refuses
  a NUL character or a lone surrogate in a query string, a form field or an uploaded file's
  name (PostgreSQL cannot store NUL in text, so without this the same input is a 500 there and
  stored on the other databases), refuses a multipart body it cannot read (no boundary, no
  part: Werkzeug reads it as an empty form), and parses a JSON body strictly with
  :func:`parse_json` (a body streamed without a Content-Length over the limit is a 413).
- :func:`parse_json` accepts standard JSON only: no ``NaN``/``Infinity`` (Python writes them but
  they are not JSON, so a stored one makes every later read of the row invalid), no number that
  overflows to infinity, no integer beyond 64 bits, no duplicate keys, at most
  :data:`MAX_JSON_DEPTH` levels of nesting, valid UTF-8, and no NUL or lone surrogate in any
  string or key.

The inbound e-mail webhook is left out on purpose: it stores what the provider sent and marks a
bad message as failed in the inbound log instead of refusing it.
"""

from __future__ import annotations

import json
import math
import re
from typing import Any

from flask import Blueprint, request
from werkzeug.exceptions import NotFound as HTTPNotFound
from werkzeug.exceptions import RequestEntityTooLarge
from werkzeug.routing import BaseConverter

from ..services.errors import ServiceError, ValidationError
from ..services.ids import MAX_ID, parse_id

#: Deepest nesting of arrays and objects a JSON body may have (the deepest real one, a rule's
#: condition groups, is 5 groups of 2 levels each).
MAX_JSON_DEPTH = 32

#: Characters no text field may hold: NUL, and UTF-16 surrogate halves (a JSON ``"\\ud800"``
#: escape decodes to one; it cannot be encoded to UTF-8, so every database write fails).
_FORBIDDEN = re.compile("[\x00\ud800-\udfff]")

#: Where the JSON body parsed by :func:`guard_request` is kept for :func:`json_payload`: in the
#: request's environ, not on ``g`` (an app context, and so ``g``, can outlive one request).
_ENVIRON_KEY = "flask_escalated.json"
_UNSET = object()


class MalformedBody(ServiceError):
    """The body is not the JSON the server reads (syntax, constants, depth, encoding)."""

    status = 400
    code = "bad_request"


# ---------------------------------------------------------------------------- ids in URLs
class IdConverter(BaseConverter):
    """A row id in a URL: ASCII digits only, at most 19, within a signed 64-bit integer.

    Digits that are no id (``0``, or past 2**63 - 1) name no row: a 404 at once. Declining
    the match instead would let another method's rule for the same path answer 405 (werkzeug
    counts a rule whose path matched but whose method did not as "allowed elsewhere"), so a
    ``PATCH /business-schedules/0`` said "method not allowed". No rule has a string part where
    an id rule has an id, so nothing else could have matched those digits.
    """

    regex = r"[0-9]{1,19}"
    weight = 50

    def to_python(self, value: str) -> int:
        number = parse_id(value)
        if number is None:
            raise HTTPNotFound()
        return number

    def to_url(self, value: Any) -> str:
        return str(int(value))


ID_CONVERTER = "escalated_id"


def id_rule(rule: str) -> str:
    """``rule`` with every ``<int:name>`` read as an id (see :class:`IdConverter`)."""
    return rule.replace("<int:", f"<{ID_CONVERTER}:")


# ---------------------------------------------------------------------------- text
def plain_url_part(value: str) -> bool:
    """Whether a URL part (a ticket id or reference, a slug, a token, a host user id) is
    printable ASCII, as every one Escalated issues is. Anything else names nothing: it is a 404
    before any lookup, which also keeps MariaDB's width- and accent-insensitive collation from
    finding the row of ``"1"`` under a fullwidth or superscript one."""
    return value.isascii() and value.isprintable()


def bad_text(value: str) -> bool:
    """Whether ``value`` holds a character no stored text may hold."""
    return _FORBIDDEN.search(value) is not None


def _why(value: str) -> str:
    """What is wrong with text :func:`bad_text` refuses, said plainly."""
    return ("contains a NUL character" if "\x00" in value
            else "contains an unpaired surrogate")


def _field_name(name: str) -> str:
    """A key as the error names it: at most 60 characters, a character no text may hold shown
    as its JSON escape (``\\u0000``), so the name says where the bad character is."""
    return _FORBIDDEN.sub(lambda m: f"\\u{ord(m.group()):04x}", name[:60])


def _join(where: str, key: str) -> str:
    """The dotted path of ``key`` inside the object at ``where`` (the error fields' form)."""
    return f"{where}.{_field_name(key)}" if where else _field_name(key)


def _check_pairs(pairs: Any, where: str) -> None:
    for key, value in pairs:
        name = _field_name(key)
        if bad_text(key):
            raise ValidationError(f"The name of a {where} field ('{name}') {_why(key)}.",
                                  {name: f"the name {_why(key)}"})
        if isinstance(value, str) and bad_text(value):
            raise ValidationError(f"The {where} field '{name}' {_why(value)}.",
                                  {name: _why(value)})


# ---------------------------------------------------------------------------- JSON
def _reject_constant(name: str) -> Any:
    raise MalformedBody(f"{name} is not a JSON number; send a finite number or null.",
                        {"body": "non-finite number"})


def _parse_float(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise MalformedBody(f"The number {text[:40]} is too large.", {"body": "number too large"})
    return value


def _parse_int(text: str) -> int:
    if len(text.lstrip("-")) > 19 or not -MAX_ID - 1 <= (value := int(text)) <= MAX_ID:
        raise ValidationError(f"The number {text[:40]} is beyond 64 bits.",
                              {"body": "integer out of range"})
    return value


class _Duplicated(dict[str, Any]):
    """An object in which a key appears twice: :func:`_check_strings`, which knows where the
    object is, refuses it by its path (the hook that builds objects does not know it)."""

    duplicate: str


def _object(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    result: dict[str, Any] = {}
    for key, value in pairs:
        if key in result:
            marked = _Duplicated(result)
            marked.duplicate = key
            return marked
        result[key] = value
    return result


def _depth(text: str) -> int:
    """The deepest nesting of ``[`` and ``{`` in JSON ``text`` (strings skipped), counted
    without recursion so that a hostile body cannot exhaust the stack."""
    depth = deepest = 0
    in_string = escaped = False
    for ch in text:
        if in_string:
            if escaped:
                escaped = False
            elif ch == "\\":
                escaped = True
            elif ch == '"':
                in_string = False
        elif ch == '"':
            in_string = True
        elif ch in "[{":
            depth += 1
            if depth > deepest:
                deepest = depth
                if deepest > MAX_JSON_DEPTH:
                    return deepest
        elif ch in "]}":
            depth -= 1
    return deepest


def _check_strings(value: Any, path: str) -> None:
    """Every string and key in ``value`` is storable text and no object repeats a key; what
    is refused is named by its dotted path (iterative: depth is bounded)."""
    stack: list[tuple[Any, str]] = [(value, path)]
    while stack:
        item, where = stack.pop()
        if isinstance(item, str):
            if bad_text(item):
                raise ValidationError(f"{where or 'The body'} {_why(item)}.",
                                      {where or "body": _why(item)})
        elif isinstance(item, dict):
            if isinstance(item, _Duplicated):
                name = _join(where, item.duplicate)
                raise MalformedBody(f"The key '{name}' appears twice in one object.",
                                    {name: "duplicate key"})
            for key, child in item.items():
                name = _join(where, key)
                if bad_text(key):
                    raise ValidationError(f"The key '{name}' {_why(key)}.",
                                          {name: f"the key {_why(key)}"})
                stack.append((child, name))
        elif isinstance(item, list):
            stack.extend((child, f"{where}[{i}]") for i, child in enumerate(item))


def parse_json(raw: bytes) -> Any:
    """``raw`` as strict JSON (see the module docstring); a 400 or 422 that says what is wrong."""
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise MalformedBody("The body is not valid UTF-8.", {"body": "invalid UTF-8"}) from None
    if text.startswith("\ufeff"):
        text = text[1:]
    if _depth(text) > MAX_JSON_DEPTH:
        raise MalformedBody(f"The JSON nests deeper than {MAX_JSON_DEPTH} levels.",
                            {"body": "nested too deep"})
    try:
        data = json.loads(text, parse_constant=_reject_constant, parse_float=_parse_float,
                          parse_int=_parse_int, object_pairs_hook=_object)
    except (ValueError, RecursionError):
        raise MalformedBody("The body is not valid JSON.", {"body": "invalid JSON"}) from None
    _check_strings(data, "")
    return data


def body_within_limit() -> bytes:
    """The request's body, refused with a 413 when it is larger than the request's limit.

    A ``Content-Length`` over the limit is refused by Werkzeug before anything is read; a body
    streamed without one (``Transfer-Encoding: chunked``) is read up to the limit and silently
    cut there, which made a valid body too large to take a 400 "not valid JSON". So a streamed
    body that fills the limit is read one byte further: if there is one, it is too large.
    """
    raw = request.get_data(cache=True)
    limit = request.max_content_length
    if (limit is not None and len(raw) >= limit and request.content_length is None
            and "wsgi.input_terminated" in request.environ
            and request.environ["wsgi.input"].read(1)):
        raise RequestEntityTooLarge()
    return raw


def json_payload() -> Any:
    """The request's JSON body, parsed strictly (once per request); None when there is none."""
    cached = request.environ.get(_ENVIRON_KEY, _UNSET)
    if cached is _UNSET:
        raw = body_within_limit()
        cached = parse_json(raw) if raw.strip() else None
        request.environ[_ENVIRON_KEY] = cached
    return cached


# ---------------------------------------------------------------------------- the guard
def _check_multipart() -> None:
    """A multipart body Werkzeug can read: it reads one without a boundary, or whose parts it
    cannot find, as an empty form without a word, and the view then said "body: Field
    required". A multipart body has at least one part (RFC 2046); an empty one is no input."""
    if request.content_length == 0:
        return
    if not request.mimetype_params.get("boundary"):
        raise MalformedBody(
            "The multipart body is malformed: its Content-Type names no boundary (send "
            "'multipart/form-data; boundary=...', as an HTTP library does for a form).",
            {"body": "malformed multipart: no boundary"})
    if not request.form and not request.files:
        raise MalformedBody(
            "The multipart body is malformed: no part was found (is the boundary in the "
            "Content-Type the one the body uses?).",
            {"body": "malformed multipart: no part"})


def guard_request() -> None:
    """``before_request``: refuse unstorable text anywhere in the request (see module doc)."""
    for value in (request.view_args or {}).values():
        if isinstance(value, str) and not plain_url_part(value):
            raise HTTPNotFound()
    _check_pairs(request.args.items(multi=True), "query")
    if request.method in ("GET", "HEAD", "OPTIONS"):
        return
    if request.is_json:
        json_payload()
    elif request.mimetype in ("application/x-www-form-urlencoded", "multipart/form-data"):
        if request.mimetype == "multipart/form-data":
            _check_multipart()
        _check_pairs(request.form.items(multi=True), "form")
        for upload in request.files.values():
            if upload.filename and bad_text(upload.filename):
                raise ValidationError(f"A file name {_why(upload.filename)}.",
                                      {"files": f"a file name {_why(upload.filename)}"})


def install(bp: Blueprint) -> None:
    """Guard ``bp``'s requests (after the blueprint's own ``before_request`` functions, which
    set the body size limit and check sign-in first)."""
    bp.before_request(guard_request)
