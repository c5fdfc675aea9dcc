"""Which chart each report gets, from its data (the SVG itself is drawn by :mod:`.svg`)."""

from __future__ import annotations

from markupsafe import Markup

from ...services.reports import Report
from .svg import Series, bars, lines, stacked_areas

HOUR = 3600.0


def _day_labels(days: list[dict[str, object]]) -> list[str]:
    return [str(d["date"])[5:] for d in days]  # MM-DD


def for_reports(results: dict[str, Report]) -> dict[str, Markup]:
    out: dict[str, Markup] = {}
    volume = results["volume"].data["days"]
    out["volume"] = lines("Tickets per day", _day_labels(volume), [
        Series("Created", [d["created"] for d in volume]),
        Series("Resolved", [d["resolved"] for d in volume]),
        Series("Reopened", [d["reopened"] for d in volume])],
        "Tickets created, resolved and reopened per day")
    backlog = results["backlog"].data
    out["backlog"] = stacked_areas("Open tickets at the end of each day",
                                   _day_labels(backlog["days"]), [
        Series(backlog["labels"][c], [d[c] for d in backlog["days"]])
        for c in backlog["categories"]], "Open tickets by status category, stacked")
    times = results["response-times"].data
    labels = [b["bucket"] for b in times["first_response"]["histogram"]]
    out["response-times"] = bars("How long tickets waited (calendar time)", labels, [
        Series("First response", [b["count"] for b in times["first_response"]["histogram"]]),
        Series("Resolution", [b["count"] for b in times["resolution"]["histogram"]])],
        "Number of tickets per waiting-time range")
    sla = results["sla"].data["targets"]
    out["sla"] = bars("SLA compliance per target (%)",
                      [t["target"].replace("_", " ") for t in sla],
                      [Series("Compliance %", [round((t["compliance"] or 0) * 100, 1)
                                               for t in sla])])
    dist = results["csat"].data["distribution"]
    out["csat"] = bars("Ratings", [f"{k} ★" for k in dist],
                       [Series("Ratings", list(dist.values()))], "Number of ratings per score")
    tags = results["tags"].data["tags"][:10]
    out["tags"] = bars("Top tags", [t["name"] for t in tags],
                       [Series("Tickets", [t["tickets"] for t in tags])])
    channels = results["channels"].data["channels"]
    out["channels"] = bars("Tickets per channel", [c["channel"] for c in channels],
                           [Series("Tickets", [c["tickets"] for c in channels])])
    return out
