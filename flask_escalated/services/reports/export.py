"""A report's table as CSV, safe to open in a spreadsheet."""

from __future__ import annotations

import csv
import io
from typing import Any

from .core import Report

#: A cell starting with one of these is a formula to a spreadsheet (CSV injection): tag and
#: agent names come from outside, so such cells get a leading apostrophe.
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def _cell(value: Any) -> Any:
    if isinstance(value, str) and value.startswith(_FORMULA_START):
        return "'" + value
    return "" if value is None else value


def to_csv(report: Report) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(report.columns)
    for row in report.rows:
        writer.writerow([_cell(v) for v in row])
    return out.getvalue()


def filename(report: Report) -> str:
    data = report.data
    return f"escalated-{report.name}-{data['from']}-to-{data['to']}.csv"
