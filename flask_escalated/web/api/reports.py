"""JSON API v1: the reports (``/reports/<name>``), as JSON or ``?format=csv``.

The query string is checked by one strict pydantic model: an unknown or repeated key, a date
that is not ``YYYY-MM-DD`` or an id out of range is a 422 naming the field.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Annotated, Literal

from flask import Response, jsonify, request
from pydantic import BaseModel, ConfigDict, Field, StringConstraints
from pydantic import ValidationError as PydanticError
from werkzeug.datastructures import MultiDict

from ...domain import CHANNELS
from ...services import reports
from ...services.errors import PermissionDenied, ValidationError
from ...services.reports.export import filename, to_csv
from ..security import current_principal
from .base import route

Text = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=80)]


class UnknownField(ValidationError):
    code = "unknown_field"


class ReportQuery(BaseModel):
    """The filters every report takes. Empty values (a form's blank choice) mean "any"."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True, frozen=True)

    first: date | None = Field(None, alias="from")
    last: date | None = Field(None, alias="to")
    department_id: int | None = Field(None, ge=1, le=2**53)
    agent: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1,
                                            max_length=64)] | None = None
    channel: Literal[CHANNELS] | None = None  # type: ignore[valid-type]
    tag: Text | None = None
    format: Literal["json", "csv"] = "json"

    @classmethod
    def parse(cls, args: MultiDict[str, str], *, extra: frozenset[str] = frozenset()
              ) -> ReportQuery:
        """From a query string; ``extra`` keys are the caller's own and are skipped."""
        names = {f.alias or n for n, f in cls.model_fields.items()}
        unknown = sorted(k for k in args if k not in names and k not in extra)
        if unknown:
            raise UnknownField(
                f"Unknown query parameter '{unknown[0][:40]}'. Known: {', '.join(sorted(names))}.",
                {k[:40]: "unknown_field" for k in unknown[:10]})
        repeated = sorted(k for k in names if len(args.getlist(k)) > 1)
        if repeated:
            raise ValidationError(f"Give '{repeated[0]}' once.", {k: "repeated" for k in repeated})
        values = {k: args[k] for k in names if args.get(k, "").strip() != ""}
        try:
            return cls.model_validate(values)
        except PydanticError as exc:
            fields = {}
            for err in exc.errors():
                name = str(err["loc"][0]) if err["loc"] else "query"
                fields[cls.model_fields[name].alias or name if name in cls.model_fields
                       else name] = err["msg"]
            first = next(iter(fields))
            raise ValidationError(f"'{first}' is not valid: {fields[first]}.", fields) from None

    def params(self) -> reports.Params:
        return reports.Params(first=self.first, last=self.last,
                              department_id=self.department_id, agent=self.agent,
                              channel=self.channel, tag=self.tag)


QUERY_DOC = {
    "from": "first local date, YYYY-MM-DD (default: 29 days before 'to')",
    "to": "last local date, YYYY-MM-DD (default: today in the desk's time zone)",
    "department_id": "only tickets of this department",
    "agent": "host user id: tickets assigned to (ratings about, replies by) this agent",
    "channel": "one of " + ", ".join(CHANNELS),
    "tag": "tag name or slug",
    "format": "json (default) or csv",
}


def answer(name: str, query: ReportQuery) -> Response:
    """The report as JSON or as a CSV attachment (CSV needs ``report.export``)."""
    if query.format == "csv" and not current_principal().can("report.export"):
        raise PermissionDenied("You need the 'report.export' permission for this.")
    result = reports.run(name, query.params())
    if query.format == "csv":
        response = Response(to_csv(result), mimetype="text/csv")
        response.headers.set("Content-Disposition", "attachment", filename=filename(result))
        return response
    return jsonify({"data": result.data, "report": result.name, "title": result.title})


def _view(name: str) -> Callable[[], Response]:
    def view() -> Response:
        return answer(name, ReportQuery.parse(request.args))

    view.__name__ = "report_" + name.replace("-", "_")
    return view


for _name in reports.REPORTS:
    route(f"/reports/{_name}", ["GET"], summary=f"Report: {reports.REPORTS[_name][0]}",
          tag="Reports", permission="report.view", query=QUERY_DOC)(_view(_name))
