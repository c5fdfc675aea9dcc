"""The reports' filters (``/reports/<name>`` and the admin reports page)."""

from __future__ import annotations

import re
from datetime import date
from typing import Annotated, Any, Literal

from pydantic import BeforeValidator, Field, StringConstraints
from pydantic_core import PydanticCustomError
from werkzeug.datastructures import MultiDict

from ....domain import CHANNELS
from ....services import reports
from ._base import Id, Out, Query, from_text, validate


def _local_date(value: Any) -> Any:
    if isinstance(value, str):
        if not re.fullmatch(r"[0-9]{4}-[0-9]{2}-[0-9]{2}", value):
            raise PydanticCustomError("date_parsing", "a date as YYYY-MM-DD")
        try:
            return date.fromisoformat(value)
        except ValueError:
            raise PydanticCustomError("date_parsing", "a date as YYYY-MM-DD") from None
    return value


#: A calendar day in the desk's time zone, written ``YYYY-MM-DD``.
LocalDate = Annotated[date, BeforeValidator(_local_date),
                      Field(json_schema_extra={"format": "date"}, examples=["2026-03-02"])]

Text = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=80)]


class ReportQuery(Query):
    """The filters every report takes. Empty values (a form's blank choice) mean "any"."""

    first: LocalDate | None = Field(
        None, alias="from",
        description="First local date, YYYY-MM-DD (default: 29 days before 'to').")
    last: LocalDate | None = Field(
        None, alias="to",
        description="Last local date, YYYY-MM-DD (default: today in the desk's time zone).")
    department_id: Id | None = Field(None,
                                      description="Only tickets of this department.")
    agent: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1,
                                            max_length=64)] | None = Field(
        None, description="Host user id: tickets assigned to (ratings about, replies by) "
                          "this agent.")
    channel: Literal[CHANNELS] | None = None  # type: ignore[valid-type]
    tag: Text | None = Field(None, description="Tag name or slug.")
    format: Literal["json", "csv"] = Field("json", description="json (default) or csv "
                                           "(needs report.export).")

    @classmethod
    def parse(cls, args: MultiDict[str, str]) -> ReportQuery:
        """From a query string (the admin page's form); a blank value means "any"."""
        return validate(cls, from_text(cls, MultiDict(
            [(k, v) for k, v in args.items(multi=True) if v.strip() != ""])))

    def params(self) -> reports.Params:
        return reports.Params(first=self.first, last=self.last,
                              department_id=self.department_id, agent=self.agent,
                              channel=self.channel, tag=self.tag)


# ---------------------------------------------------------------------------- responses
class ReportOut(Out):
    data: dict[str, Any] = Field(description="The report's figures: each report its own "
                                 "shape, with from, to, timezone and filters.")
    report: Literal[tuple(reports.REPORTS)]  # type: ignore[valid-type]
    title: str
