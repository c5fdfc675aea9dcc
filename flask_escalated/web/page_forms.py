"""The glue between a page's form and the schemas: read, and refuse the way the API does.

:func:`read_page` reads the submitted form into a pydantic model with
:func:`~flask_escalated.web.forms.read_form` (inputs derived from the model by ``specs_for``).
A form that does not validate raises :class:`FormRefused`, a 422 that names each field at
fault (an unknown input is named as unknown) and carries what was typed, so the view can show
the page again with the draft kept; a view that has no page to show again lets the blueprint's
error page answer, which shows the same message.

A view declares the model it reads with :func:`reads` (as an API route declares its body), so
tools that walk the URL map (the hostile-input corpus) know each page form's fields, and a view
that reads another model than it declares fails loudly.

The page's plumbing (the CSRF token, the submit button, ``next``/``back`` and the inputs a
view reads apart, such as file inputs) is declared ``consumed`` and never reported as unknown.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any, TypeVar

from flask import current_app, request
from pydantic import BaseModel

from ..services.errors import ServiceError
from .forms import FormData, read_form, specs_for

M = TypeVar("M", bound=BaseModel)
F = TypeVar("F", bound=Callable[..., Any])

#: Inputs of a page's own machinery, on any page form.
PLUMBING = frozenset({"next", "back", "files"})


class FormRefused(ServiceError):
    """A page form that does not validate: 422 with each field named and the typed text."""

    status = 422

    def __init__(self, form: FormData[Any]) -> None:
        errors = dict(form.errors)
        unknown = [k for k, v in errors.items() if v == "unknown field"]
        self.code = "unknown_field" if unknown else "validation_error"
        if unknown:
            message = f"Unknown field(s): {', '.join(unknown)}. Nothing was saved."
        else:
            message = "Nothing was saved: " + "; ".join(
                f"{k}: {v}" if k != "form" else v for k, v in errors.items())
        super().__init__(message[:1000], errors)
        self.values: dict[str, Any] = form.values


def reads(model: type[BaseModel]) -> Callable[[F], F]:
    """Declare the model a view reads its form with (innermost decorator)."""

    def mark(view: F) -> F:
        view.escalated_form = model  # type: ignore[attr-defined]
        return view

    return mark


def declared_form(endpoint: str) -> type[BaseModel] | None:
    """The model the view at ``endpoint`` declares with :func:`reads`, if any."""
    view = current_app.view_functions.get(endpoint)
    return getattr(view, "escalated_form", None)


def read_page(model: type[M], *, only: Sequence[str] | None = None,
              consumed: Iterable[str] = (), extra: Mapping[str, Any] | None = None,
              **overrides: Mapping[str, Any]) -> M:
    """The submitted form as ``model`` (the inputs of the fields in ``only``, or of all its
    fields; ``overrides`` as in ``specs_for``); :class:`FormRefused` when it is not valid.
    An input that is not one of those fields is handed to the model as typed, which refuses
    it (unknown, or of the wrong type)."""
    declared = declared_form(request.endpoint or "")
    if declared is not model:
        raise RuntimeError(f"{request.endpoint} declares {declared!r} but reads {model!r}")
    form = read_form(model, specs_for(model, only=only, **overrides),
                     consumed=PLUMBING | set(consumed), extra=extra)
    if not form.ok or form.model is None:
        raise FormRefused(form)
    return form.model



def by_input(errors: Mapping[str, Any] | None) -> dict[str, str]:
    """Errors keyed by the input they belong to: ``tags[2]`` (one item of a list read from one
    text input) is shown beside ``tags``; the first message per input is kept."""
    out: dict[str, str] = {}
    for key, message in (errors or {}).items():
        out.setdefault(re.split(r"[\[.]", str(key), maxsplit=1)[0], str(message))
    return out
