"""What every report shares: the request (:class:`Params`), its resolved :class:`Context`,
the result (:class:`Report`) and the grouped queries several reports build on."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from functools import cached_property
from typing import Any, TypeVar

from sqlalchemy import ColumnElement, Select, func, select

from ...clock import now
from ...domain import CLOSED_CATEGORIES, OPEN, STATUS_CATEGORIES
from ...models import Activity, Tag, Ticket, ticket_tags
from .. import business_hours as bh
from .. import session, statuses
from ..tags import slugify
from . import sql
from .window import Window, desk_schedule

#: A SELECT of any columns (a filter keeps its columns).
Stmt = TypeVar("Stmt", bound=Select)  # type: ignore[type-arg]


@dataclass(frozen=True)
class Params:
    """What a report is asked for. Dates are local dates in the desk's zone, both included."""

    first: date | None = None
    last: date | None = None
    department_id: int | None = None
    agent: str | None = None
    channel: str | None = None
    tag: str | None = None

    def echo(self) -> dict[str, Any]:
        return {"department_id": self.department_id, "agent": self.agent,
                "channel": self.channel, "tag": self.tag}


@dataclass
class Report:
    """One report: ``data`` for JSON, ``columns``/``rows`` for CSV and the accessible table."""

    name: str
    title: str
    data: dict[str, Any]
    columns: list[str]
    rows: list[list[Any]] = field(default_factory=list)


class Context:
    """A request resolved once: the window in the desk's zone, the schedule, the filters."""

    def __init__(self, params: Params) -> None:
        self.params = params
        self.schedule: bh.Schedule = desk_schedule()
        self.now = now()
        today = self.now.astimezone(self.schedule.tz).date()
        self.window = Window.build(params.first, params.last, self.schedule.tz, today)
        self.tag_slug = slugify(params.tag) if params.tag else None

    # ------------------------------------------------------------------ filters
    def ticket_filters(self, *, agent: bool = True, department: bool = True
                       ) -> list[ColumnElement[bool]]:
        p = self.params
        where: list[ColumnElement[bool]] = []
        if department and p.department_id is not None:
            where.append(Ticket.department_id == p.department_id)
        if agent and p.agent is not None:
            where.append(Ticket.assignee_id == p.agent)
        if p.channel is not None:
            where.append(Ticket.channel == p.channel)
        if self.tag_slug is not None:
            tagged = (select(ticket_tags.c.ticket_id)
                      .join(Tag, Tag.id == ticket_tags.c.tag_id)
                      .where(Tag.slug == self.tag_slug))
            where.append(Ticket.id.in_(tagged))
        return where

    def scoped(self, stmt: Stmt, department: Any, ticket_id: Any) -> Stmt:
        """``stmt`` over event rows (timeline, replies, ratings) filtered: by the department
        the row was recorded in (``department``, its own column, so no join), and by the other
        ticket filters through its ticket (``ticket_id``). The agent filter is the caller's."""
        if self.params.department_id is not None:
            stmt = stmt.where(department == self.params.department_id)
        rest = self.ticket_filters(agent=False, department=False)
        if rest:
            stmt = stmt.join(Ticket, Ticket.id == ticket_id).where(*rest)
        return stmt

    @property
    def filtered(self) -> bool:
        return any(v is not None for v in self.params.echo().values())

    def in_window(self, column: Any) -> list[ColumnElement[bool]]:
        return [column >= self.window.start, column < self.window.end]

    def day(self, column: Any) -> ColumnElement[Any]:
        return sql.local_day(column, self.window, max(self.now, self.window.end))

    def date_of(self, number: int) -> date:
        return date(1970, 1, 1) + timedelta(days=int(number))

    @cached_property
    def day_numbers(self) -> list[int]:
        return [self.window.day_number(d) for d in self.window.days]

    def header(self) -> dict[str, Any]:
        return {"from": self.window.first.isoformat(), "to": self.window.last.isoformat(),
                "timezone": self.window.tz.key, "filters": self.params.echo()}

    # ------------------------------------------------------------------ statuses
    @cached_property
    def category(self) -> dict[str, str]:
        """Status slug -> category, for built-in and custom statuses (inactive ones too)."""
        found = {s.slug: s.category for s in statuses.all_statuses(include_inactive=True)}
        return {**{c: c for c in STATUS_CATEGORIES}, **found}

    # ------------------------------------------------------------------ shared queries
    def per_day(self, stmt: Select[Any], column: Any, *, open_ended: bool = False
                ) -> dict[int, int]:
        """``stmt`` counted per local day of ``column`` inside the window (or from its start on,
        when ``open_ended``)."""
        bucket = self.day(column).label("d")
        bounds = [column >= self.window.start] if open_ended else self.in_window(column)
        rows = session().execute(stmt.add_columns(bucket, func.count()).where(*bounds)
                                 .group_by(bucket))
        return {int(d): int(n) for d, n in rows}

    def created_per_day(self, *, open_ended: bool = False) -> dict[int, int]:
        return self.per_day(select().select_from(Ticket).where(*self.ticket_filters()),
                            Ticket.created_at, open_ended=open_ended)

    def transitions(self, *, open_ended: bool = False
                    ) -> list[tuple[int, str | None, str | None, int]]:
        """Status changes per local day as ``(day, from category, to category, count)``."""
        bucket = self.day(Activity.created_at).label("d")
        old = Activity.properties["from"].as_string().label("old")
        new = Activity.properties["to"].as_string().label("new")
        bounds = ([Activity.created_at >= self.window.start] if open_ended
                  else self.in_window(Activity.created_at))
        stmt = (select(bucket, old, new, func.count())
                .where(Activity.type == "status_changed", *bounds)
                .group_by(bucket, old, new))
        filters = self.ticket_filters()
        if filters:
            stmt = stmt.join(Ticket, Ticket.id == Activity.ticket_id).where(*filters)
        out: dict[tuple[int, str | None, str | None], int] = defaultdict(int)
        for d, a, b, n in session().execute(stmt):
            out[(int(d), self.category.get(a or ""), self.category.get(b or ""))] += int(n)
        return [(d, a, b, n) for (d, a, b), n in out.items()]

    def resolved_and_reopened(self) -> tuple[dict[int, int], dict[int, int]]:
        """Per day: moves from an open category into resolved/closed, and back out again."""
        resolved: dict[int, int] = defaultdict(int)
        reopened: dict[int, int] = defaultdict(int)
        for d, old, new, n in self.transitions():
            if old is None or new is None:
                continue
            if new in CLOSED_CATEGORIES and old not in CLOSED_CATEGORIES:
                resolved[d] += n
            elif old in CLOSED_CATEGORIES and new not in CLOSED_CATEGORIES:
                reopened[d] += n
        return resolved, reopened

    def opening_category(self) -> str:
        return self.category.get(OPEN, OPEN)


def bucket_dates(ctx: Context) -> list[tuple[int, date]]:
    return list(zip(ctx.day_numbers, ctx.window.days, strict=True))


def as_iso(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None
