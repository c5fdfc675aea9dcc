"""The reports page: every report for one period and set of filters, with charts and tables.

The filter form is a plain GET form, so it works without JavaScript and every view of the
page is a link. Bad filters re-render the form with the field named (422), never a 500.
"""

from __future__ import annotations

from typing import Any

from flask import current_app, render_template, request

from ...config import Config
from ...domain import CHANNELS
from ...services import agents, departments, reports, serializers
from ...services import tags as tag_service
from ...services.errors import ValidationError
from ..api.schemas import UnknownField
from ..api.schemas.reports import ReportQuery
from ..security import current_principal, requires
from . import charts


@requires("report.view")
def reports_page() -> tuple[str, int] | str:
    principal = current_principal()
    form = {k: (request.args.get(k) or "")[:100] for k in
            ("from", "to", "department_id", "agent", "channel", "tag")}
    errors: dict[str, Any] = {}
    results: dict[str, reports.Report] = {}
    try:
        query = ReportQuery.parse(request.args)
        if query.format != "json":
            raise ValidationError("The page shows HTML; use the CSV links for files.",
                                  {"format": "not on this page"})
        params = query.params()
        results = {name: reports.run(name, params) for name in reports.REPORTS}
    except (ValidationError, UnknownField) as exc:
        errors = exc.fields or {"query": exc.message}
    profiles = agents.list_agents()
    people = serializers.People([p.user_id for p in profiles])
    agent_choices = [(p.user_id, (people.user(p.user_id) or {}).get("name") or p.user_id)
                     for p in profiles]
    status = 422 if errors else 200
    page = render_template(
        "escalated/admin/reports.html", form=form, errors=errors, results=results,
        charts=charts.for_reports(results) if results else {},
        departments=departments.list_departments(), agents=agent_choices,
        channels=CHANNELS, tags=tag_service.list_tags(),
        # The CSV links point at the API's report routes, which exist only with the API on.
        can_export=principal.can("report.export") and current_app.config[Config.API_ENABLED],
        csv_query={k: v for k, v in form.items() if v},
    )
    return (page, status) if status != 200 else page
