"""The eight reports. Each is a fixed handful of grouped queries over a :class:`Context`."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from typing import Any

from sqlalchemy import and_, case, func, select

from ...domain import CLOSED_CATEGORIES, PRIORITIES, STATUS_CATEGORIES, STATUS_LABELS
from ...models import Activity, Reply, SatisfactionRating, SlaPolicy, Tag, Ticket, ticket_tags
from .. import session
from ..serializers import People
from . import sql
from .core import Context, Params, Report, as_iso, bucket_dates

Builder = Callable[[Context], Report]
REPORTS: dict[str, tuple[str, Builder]] = {}

#: Satisfied: ratings of 4 and 5 (the usual "CSAT %").
SATISFIED = 4
#: Comments listed on the CSAT report (newest first).
COMMENT_LIMIT = 20
#: Tags listed on the tags report.
TAG_LIMIT = 20
#: Resolution/first-response time histogram: (upper bound in seconds, label).
BUCKETS = ((3600, "< 1 h"), (4 * 3600, "1-4 h"), (8 * 3600, "4-8 h"), (86400, "8-24 h"),
           (3 * 86400, "1-3 d"), (7 * 86400, "3-7 d"), (float("inf"), "> 7 d"))
SLA_TARGETS = ("first_response", "next_response", "resolution")
OPEN_ORDER = [c for c in STATUS_CATEGORIES if c not in CLOSED_CATEGORIES]


def report(name: str, title: str) -> Callable[[Builder], Builder]:
    def register(fn: Builder) -> Builder:
        REPORTS[name] = (title, fn)
        return fn

    return register


def run(name: str, params: Params) -> Report:
    """Build report ``name`` (one of :data:`REPORTS`) for ``params``."""
    title, build = REPORTS[name]
    result = build(Context(params))
    result.title = title
    return result


# ---------------------------------------------------------------------------- volume
@report("volume", "Ticket volume")
def volume(ctx: Context) -> Report:
    created = ctx.created_per_day()
    resolved, reopened = ctx.resolved_and_reopened()
    days: list[dict[str, Any]] = [{"date": day.isoformat(), "created": created.get(n, 0),
             "resolved": resolved.get(n, 0), "reopened": reopened.get(n, 0)}
            for n, day in bucket_dates(ctx)]
    totals = {key: sum(d[key] for d in days) for key in ("created", "resolved", "reopened")}
    return Report("volume", "", {**ctx.header(), "totals": totals, "days": days},
                  ["date", "created", "resolved", "reopened"],
                  [[d["date"], d["created"], d["resolved"], d["reopened"]] for d in days])


# ---------------------------------------------------------------------------- backlog
@report("backlog", "Backlog by status")
def backlog(ctx: Context) -> Report:
    """Open tickets per category at the end of each day, worked back from today's counts by
    undoing each later day's creations and status changes (closed categories are not
    counted: only moves into and out of the open ones matter)."""
    current: dict[str, int] = defaultdict(int)
    for category, n in session().execute(
            select(Ticket.status_category, func.count())
            .where(Ticket.status_category.in_(OPEN_ORDER), *ctx.ticket_filters())
            .group_by(Ticket.status_category)):
        current[category] += int(n)
    changes: dict[int, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    opening = ctx.opening_category()
    for d, n in ctx.created_per_day(open_ended=True).items():
        changes[d][opening] += n
    for d, old, new, n in ctx.transitions(open_ended=True):
        if old is not None:
            changes[d][old] -= n
        if new is not None:
            changes[d][new] += n
    last = ctx.day_numbers[-1]
    state = dict(current)
    for d, delta in changes.items():  # undo everything after the window's last day
        if d > last:
            for category, n in delta.items():
                state[category] = state.get(category, 0) - n
    days: list[dict[str, Any]] = []
    for number, day in reversed(bucket_dates(ctx)):
        row = {c: max(state.get(c, 0), 0) for c in OPEN_ORDER}
        days.append({"date": day.isoformat(), **row, "total": sum(row.values())})
        for category, n in changes.get(number, {}).items():
            state[category] = state.get(category, 0) - n
    days.reverse()
    return Report("backlog", "", {**ctx.header(), "categories": OPEN_ORDER,
                                  "labels": {c: STATUS_LABELS[c] for c in OPEN_ORDER},
                                  "days": days},
                  ["date", *OPEN_ORDER, "total"],
                  [[d["date"], *(d[c] for c in OPEN_ORDER), d["total"]] for d in days])


# ---------------------------------------------------------------------------- response times
def _summary(spread: sql.Spread | None, column: int) -> dict[str, int | None]:
    """Count, median and 90th percentile of one timing column, in whole seconds."""
    if spread is None:
        return {"count": 0, "median": None, "p90": None}
    values = spread.quantiles[column]
    return {"count": spread.count, "median": round(values[0.5]), "p90": round(values[0.9])}


def _bucketed(column: Any) -> list[Any]:
    """One condition per :data:`BUCKETS` entry: ``lower <= column < upper``."""
    out, lower = [], 0.0
    for upper, _ in BUCKETS:
        bounds = [column >= lower] if lower else []
        if upper != float("inf"):
            bounds.append(column < upper)
        out.append(and_(*bounds) if len(bounds) > 1 else bounds[0])
        lower = upper
    return out


def _timing(ctx: Context, at: Any, calendar: Any, business: Any) -> dict[str, Any]:
    """The stored timings of the tickets whose ``at`` falls in the period."""
    found = sql.spread([*ctx.in_window(at), *ctx.ticket_filters()], [calendar, business],
                       counts=_bucketed(calendar)).get(None)
    counts = found.counts if found is not None else [0] * len(BUCKETS)
    return {"calendar": _summary(found, 0), "business": _summary(found, 1),
            "histogram": [{"bucket": label, "count": n}
                          for (_, label), n in zip(BUCKETS, counts, strict=True)]}


@report("response-times", "First response and resolution times")
def response_times(ctx: Context) -> Report:
    """Over tickets first answered (resolved) inside the period; seconds from creation,
    calendar and business time, as stored on each ticket when it happened (business time on
    its SLA policy's schedule, else the desk's; see :mod:`..timings`)."""
    t = Ticket
    first = _timing(ctx, t.first_response_at, t.first_response_seconds,
                    t.first_response_business_seconds)
    resolution = _timing(ctx, t.resolved_at, t.resolution_seconds, t.resolution_business_seconds)
    rows = [[metric, clock, part[clock]["count"], part[clock]["median"], part[clock]["p90"]]
            for metric, part in (("first_response", first), ("resolution", resolution))
            for clock in ("calendar", "business")]
    return Report("response-times", "", {**ctx.header(), "unit": "seconds",
                                         "first_response": first, "resolution": resolution},
                  ["metric", "clock", "count", "median_seconds", "p90_seconds"], rows)


# ---------------------------------------------------------------------------- SLA
def _sum(condition: Any) -> Any:
    return func.sum(case((condition, 1), else_=0))


@report("sla", "SLA compliance")
def sla(ctx: Context) -> Report:
    """Per target and priority, over tickets created in the period under an SLA policy:
    met, breached and still pending. A target counts only where the ticket's policy sets it
    for the ticket's priority. Breaches are what the SLA sweep recorded (it runs every minute).
    A next-response breach is cleared from the ticket by the agent's reply, so those come from
    the ``sla_breached`` timeline rows, once per ticket, over the tickets that got a first
    response (each may have had several next-response windows)."""
    t = Ticket
    counts = session().execute(
        select(t.sla_policy_id, t.priority, func.count(),
               _sum(and_(t.first_response_at.is_not(None), t.first_response_breached_at.is_(None))),
               _sum(t.first_response_breached_at.is_not(None)),
               _sum(t.first_response_at.is_not(None)),
               _sum(and_(t.resolved_at.is_not(None), t.resolution_breached_at.is_(None))),
               _sum(t.resolution_breached_at.is_not(None)))
        .where(t.sla_policy_id.is_not(None), *ctx.in_window(t.created_at), *ctx.ticket_filters())
        .group_by(t.sla_policy_id, t.priority)).all()
    target_of = Activity.properties["target"].as_string()
    nr_breaches = {(policy, priority): int(n) for policy, priority, n in session().execute(
        select(t.sla_policy_id, t.priority, func.count(func.distinct(Activity.ticket_id)))
        .join(t, t.id == Activity.ticket_id)
        .where(Activity.type == "sla_breached", target_of == "next_response",
               t.sla_policy_id.is_not(None), *ctx.in_window(t.created_at),
               *ctx.ticket_filters())
        .group_by(t.sla_policy_id, t.priority))}
    targets = {pid: spec for pid, spec in session().execute(
        select(SlaPolicy.id, SlaPolicy.targets))}
    table: dict[tuple[str, str], dict[str, int]] = defaultdict(
        lambda: {"tickets": 0, "met": 0, "breached": 0, "pending": 0})
    for policy, priority, n, fr_met, fr_breached, answered, res_met, res_breached in counts:
        wanted = (targets.get(policy) or {}).get(priority) or {}
        n, answered = int(n), int(answered or 0)
        nr_breached = min(nr_breaches.get((policy, priority), 0), answered)
        parts = {"first_response": (n, int(fr_met or 0), int(fr_breached or 0)),
                 "next_response": (answered, answered - nr_breached, nr_breached),
                 "resolution": (n, int(res_met or 0), int(res_breached or 0))}
        for target, (applicable, met, breached) in parts.items():
            if not wanted.get(target):
                continue
            cell = table[(target, priority)]
            cell["tickets"] += applicable
            cell["met"] += met
            cell["breached"] += breached
            cell["pending"] += applicable - met - breached
    order = {p: i for i, p in enumerate(PRIORITIES)}
    rows: list[dict[str, Any]] = []
    for (target, priority), cell in sorted(
            table.items(), key=lambda kv: (SLA_TARGETS.index(kv[0][0]),
                                           order.get(kv[0][1], 99))):
        decided = cell["met"] + cell["breached"]
        rows.append({"target": target, "priority": priority, **cell,
                     "compliance": round(cell["met"] / decided, 4) if decided else None})
    per_target = []
    for target in SLA_TARGETS:
        met = sum(r["met"] for r in rows if r["target"] == target)
        breached = sum(r["breached"] for r in rows if r["target"] == target)
        per_target.append({"target": target, "met": met, "breached": breached,
                           "compliance": round(met / (met + breached), 4)
                           if met + breached else None})
    columns = ["target", "priority", "tickets", "met", "breached", "pending", "compliance"]
    return Report("sla", "", {**ctx.header(), "rows": rows, "targets": per_target},
                  columns, [[r[c] for c in columns] for r in rows])


# ---------------------------------------------------------------------------- CSAT
def _csat_filters(ctx: Context) -> list[Any]:
    where = ctx.ticket_filters(agent=False)
    if ctx.params.agent is not None:
        where.append(SatisfactionRating.agent_id == ctx.params.agent)
    return where


def _csat_base(ctx: Context, *columns: Any) -> Any:
    stmt = select(*columns).select_from(SatisfactionRating)
    if ctx.filtered:
        stmt = stmt.join(Ticket, Ticket.id == SatisfactionRating.ticket_id)
    return stmt.where(*_csat_filters(ctx))


def _csat_by_agent(ctx: Context) -> list[dict[str, Any]]:
    r = SatisfactionRating
    return [{"agent_id": agent, "average": round(float(avg), 2), "count": int(n)}
            for agent, avg, n in session().execute(
                _csat_base(ctx, r.agent_id, func.avg(r.rating), func.count())
                .where(*ctx.in_window(r.rated_at), r.rating.is_not(None))
                .group_by(r.agent_id).order_by(r.agent_id))]


@report("csat", "Customer satisfaction")
def csat(ctx: Context) -> Report:
    """Ratings given in the period: average, share of 4-5, distribution, response rate (of the
    surveys sent in the period), per agent, and the latest comments."""
    r = SatisfactionRating
    rated = ctx.in_window(r.rated_at)
    dist = {int(k): int(n) for k, n in session().execute(
        _csat_base(ctx, r.rating, func.count()).where(*rated, r.rating.is_not(None))
        .group_by(r.rating)) if k is not None}
    sent, answered = session().execute(
        _csat_base(ctx, func.count(), func.count(r.rating)).where(*ctx.in_window(r.created_at))
    ).one()
    by_agent = _csat_by_agent(ctx)
    comments_stmt = (_csat_base(ctx, r.rating, r.comment, r.rated_at, r.agent_id, r.ticket_id)
                     .where(*rated, r.comment.is_not(None), r.comment != "")
                     .order_by(r.rated_at.desc(), r.id.desc()).limit(COMMENT_LIMIT))
    comments = [{"rating": rating, "comment": comment, "rated_at": as_iso(at),
                 "agent_id": agent, "ticket_id": ticket_id}
                for rating, comment, at, agent, ticket_id in session().execute(comments_stmt)]
    total = sum(dist.values())
    average = sum(k * v for k, v in dist.items()) / total if total else None
    satisfied = sum(v for k, v in dist.items() if k >= SATISFIED)
    data = {**ctx.header(), "average": round(average, 2) if average is not None else None,
            "total": total,
            "satisfied_share": round(satisfied / total, 4) if total else None,
            "distribution": {str(k): dist.get(k, 0) for k in range(1, 6)},
            "surveys_sent": int(sent), "surveys_answered": int(answered or 0),
            "response_rate": round(int(answered or 0) / int(sent), 3) if sent else None,
            "by_agent": by_agent, "comments": comments}
    return Report("csat", "", data, ["rating", "count"],
                  [[k, dist.get(k, 0)] for k in range(1, 6)])


# ---------------------------------------------------------------------------- agents
@report("agents", "Agents")
def agents(ctx: Context) -> Report:
    """Per agent: tickets assigned (first assigned or re-assigned to them in the period), tickets
    resolved in the period (by current assignee), public replies written, median first
    response (their tickets answered in the period), and CSAT."""
    table: dict[str, dict[str, Any]] = defaultdict(lambda: {
        "assigned": 0, "resolved": 0, "replies": 0, "median_first_response": None,
        "csat_average": None, "csat_count": 0})
    filters = ctx.ticket_filters(agent=False)
    only = ctx.params.agent
    db = session()

    assignee = Activity.properties["assignee_id"].as_string()
    stmt = (select(assignee, func.count())
            .where(Activity.type == "assigned", *ctx.in_window(Activity.created_at))
            .group_by(assignee))
    if filters:
        stmt = stmt.join(Ticket, Ticket.id == Activity.ticket_id).where(*filters)
    if only is not None:
        stmt = stmt.where(assignee == only)
    for uid, n in db.execute(stmt):
        if uid:
            table[uid]["assigned"] = int(n)

    stmt = (select(Ticket.assignee_id, func.count())
            .where(*ctx.in_window(Ticket.resolved_at), Ticket.assignee_id.is_not(None),
                   *ctx.ticket_filters()).group_by(Ticket.assignee_id))
    for uid, n in db.execute(stmt):
        table[str(uid)]["resolved"] = int(n)

    stmt = (select(Reply.author_user_id, func.count())
            .where(Reply.author_type == "agent", Reply.is_internal.is_(False),
                   Reply.author_user_id.is_not(None), *ctx.in_window(Reply.created_at))
            .group_by(Reply.author_user_id))
    if filters:
        stmt = stmt.join(Ticket, Ticket.id == Reply.ticket_id).where(*filters)
    if only is not None:
        stmt = stmt.where(Reply.author_user_id == only)
    for uid, n in db.execute(stmt):
        table[str(uid)]["replies"] = int(n)

    for uid, found in sql.spread(
            [*ctx.in_window(Ticket.first_response_at), Ticket.assignee_id.is_not(None),
             *ctx.ticket_filters()],
            [Ticket.first_response_seconds, Ticket.first_response_business_seconds],
            group=Ticket.assignee_id).items():
        table[str(uid)]["median_first_response"] = _summary(found, 0)["median"]
        table[str(uid)]["median_first_response_business"] = _summary(found, 1)["median"]

    for row in _csat_by_agent(ctx):
        if row["agent_id"] is not None:
            table[row["agent_id"]]["csat_average"] = row["average"]
            table[row["agent_id"]]["csat_count"] = row["count"]

    people = People(table.keys())
    rows = []
    for uid in sorted(table):
        person = people.user(uid) or {}
        rows.append({"agent_id": uid, "name": person.get("name") or uid,
                     "median_first_response_business": None, **table[uid]})
    rows.sort(key=lambda r: (-r["resolved"], -r["replies"], str(r["name"]).lower()))
    columns = ["agent_id", "name", "assigned", "resolved", "replies", "median_first_response",
               "median_first_response_business", "csat_average", "csat_count"]
    return Report("agents", "", {**ctx.header(), "agents": rows}, columns,
                  [[r[c] for c in columns] for r in rows])


# ---------------------------------------------------------------------------- tags, channels
@report("tags", "Top tags")
def top_tags(ctx: Context) -> Report:
    """The most used tags on tickets created in the period."""
    stmt = (select(Tag.slug, Tag.name, func.count().label("n"))
            .select_from(ticket_tags).join(Tag, Tag.id == ticket_tags.c.tag_id)
            .join(Ticket, Ticket.id == ticket_tags.c.ticket_id)
            .where(*ctx.in_window(Ticket.created_at), *ctx.ticket_filters())
            .group_by(Tag.slug, Tag.name).order_by(func.count().desc(), Tag.slug)
            .limit(TAG_LIMIT))
    tags = [{"slug": slug, "name": name, "tickets": int(n)}
            for slug, name, n in session().execute(stmt)]
    return Report("tags", "", {**ctx.header(), "tags": tags}, ["slug", "name", "tickets"],
                  [[t["slug"], t["name"], t["tickets"]] for t in tags])


@report("channels", "Channel mix")
def channels(ctx: Context) -> Report:
    """Tickets created in the period per channel, with each channel's share."""
    stmt = (select(Ticket.channel, func.count())
            .where(*ctx.in_window(Ticket.created_at), *ctx.ticket_filters())
            .group_by(Ticket.channel).order_by(func.count().desc(), Ticket.channel))
    counts = [(channel, int(n)) for channel, n in session().execute(stmt)]
    total = sum(n for _, n in counts)
    mix = [{"channel": c, "tickets": n, "share": round(n / total, 4)} for c, n in counts]
    return Report("channels", "", {**ctx.header(), "total": total, "channels": mix},
                  ["channel", "tickets", "share"],
                  [[m["channel"], m["tickets"], m["share"]] for m in mix])
