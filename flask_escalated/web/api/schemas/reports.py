"""The reports' filters (``/reports/<name>`` and the admin reports page)."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints
from pydantic import ValidationError as PydanticError
from werkzeug.datastructures import MultiDict

from ....domain import CHANNELS
from ....services import reports
from ....services.errors import ValidationError
from ._base import MAX_ID, UnknownField

Text = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=80)]


class ReportQuery(BaseModel):
    """The filters every report takes. Empty values (a form's blank choice) mean "any"."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True, frozen=True)

    first: date | None = Field(
        None, alias="from",
        description="First local date, YYYY-MM-DD (default: 29 days before 'to').")
    last: date | None = Field(
        None, alias="to",
        description="Last local date, YYYY-MM-DD (default: today in the desk's time zone).")
    department_id: int | None = Field(None, ge=1, le=MAX_ID,
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
