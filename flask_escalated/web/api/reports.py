"""JSON API v1: the reports (``/reports/<name>``), as JSON or ``?format=csv``.

The query string is checked by ``schemas.reports.ReportQuery``: an unknown or repeated key, a
date that is not ``YYYY-MM-DD`` or an id out of range is a 422 naming the field.
"""

from __future__ import annotations

from collections.abc import Callable

from flask import Response, jsonify

from ...services import reports
from ...services.errors import PermissionDenied
from ...services.reports.export import filename, to_csv
from ..security import current_principal
from .base import route
from .schemas import parse_query
from .schemas.reports import ReportOut, ReportQuery


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
        return answer(name, parse_query(ReportQuery))

    view.__name__ = "report_" + name.replace("-", "_")
    return view


for _name in reports.REPORTS:
    route(f"/reports/{_name}", ["GET"], summary=f"Report: {reports.REPORTS[_name][0]}",
          tag="Reports", permission="report.view", query=ReportQuery, csv=True,
          response=ReportOut)(_view(_name))
