"""The admin console (``<prefix>/admin``): server-rendered pages for the desk's administrators.

Every page is guarded twice: the blueprint lets in only signed-in agents who hold at least one
permission of :data:`CONSOLE_ENTRY` (admins hold them all; anonymous visitors go to
the host's sign-in page, others get a 403), and each view names its own permission with
:func:`~..security.requires`. A new section registers its view and appends a :class:`NavItem`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from flask import Blueprint, render_template, url_for
from werkzeug.routing import BuildError
from werkzeug.wrappers import Response

from ...services.errors import ServiceError
from ...services.permissions import ALL_PERMISSIONS, Principal
from ..html import install_html_errors, staff_pages
from ..security import csrf_token, current_principal, requires


@dataclass(frozen=True)
class NavItem:
    endpoint: str
    label: str
    #: The permission the page needs (``None``: anyone allowed into the console).
    permission: str | None


#: The console's navigation, in order. The overview is always first.
NAV: list[NavItem] = [
    NavItem("escalated.admin.overview", "Overview", None),
    NavItem("escalated.admin.reports", "Reports", "report.view"),
]


def nav_for(principal: Principal) -> list[NavItem]:
    return [item for item in NAV
            if item.permission is None or principal.can_anywhere(item.permission)]


#: The permissions that open the console: changing the desk's set-up, or reading its reports.
#: Read-only permissions every agent holds (``tag.view``, ``audit.view``, ...) do not: the
#: console is for the people who run the desk.
CONSOLE_ENTRY: frozenset[str] = frozenset(
    {p for p in ALL_PERMISSIONS if p.endswith(".manage")}
    | {"department.create", "department.edit", "department.delete", "report.view",
       "report.export", "kb.create", "kb.edit", "kb.delete", "kb.publish"})


def may_enter(principal: Principal) -> bool:
    """Admins, and agents holding a permission that opens the console."""
    return principal.is_admin or (principal.is_agent and any(
        principal.can_anywhere(p) for p in CONSOLE_ENTRY))


def create_admin_blueprint() -> Blueprint:
    from . import (
        access,
        canned,
        custom_fields,
        kb,
        lifecycle,
        logs,
        people,
        reports,
        routing,
        rules,
        saved_views,
        sla,
        tokens,
        webhooks,
    )
    from . import settings as settings_page

    bp = Blueprint("admin", __name__, url_prefix="/admin")
    bp.before_request(_console_only)
    install_html_errors(bp)
    bp.add_url_rule("", "overview", overview)
    bp.add_url_rule("/reports", "reports", reports.reports_page)
    people.register_all(bp)
    access.register_all(bp)
    lifecycle.register_all(bp)
    sla.register_all(bp)
    rules.register_all(bp)
    kb.register_all(bp)
    canned.register_all(bp)
    custom_fields.register_all(bp)
    saved_views.register_all(bp)
    webhooks.register_all(bp)
    tokens.register_all(bp)
    routing.register_all(bp)
    logs.register_all(bp)
    settings_page.register(bp)
    bp.app_context_processor(_template_helpers)
    return bp


def _console_only() -> Response | None:
    return staff_pages(may_enter, "The admin console is for the desk's administrators.")


def _may_enter_console() -> bool:
    """For the shared layout's header (never raises)."""
    try:
        return may_enter(current_principal())
    except ServiceError:
        return False


def _template_helpers() -> dict[str, Any]:
    return {"escalated_may_admin": _may_enter_console, "csrf_token": csrf_token,
            "escalated_admin_nav": lambda: nav_for(current_principal())}


#: Who sees which health figure on the overview: ticket counts with the reports, webhook
#: failures with the webhooks, mail and jobs with the settings (they are the desk's plumbing).
HEALTH_PERMISSIONS: dict[str, str] = {"tickets": "report.view", "webhooks": "webhook.manage",
                                      "mail": "settings.manage", "jobs": "settings.manage"}


@requires(None)
def overview() -> str:
    from ...services import health

    principal = current_principal()
    shown = [name for name, permission in HEALTH_PERMISSIONS.items()
             if principal.can_anywhere(permission)]
    return render_template("escalated/admin/overview.html", nav=nav_for(principal),
                           health=health.desk_health(shown), stuck_after=health.STUCK_AFTER,
                           url_if=_url_if)


def _url_if(endpoint: str, **values: Any) -> str | None:
    """The URL of ``endpoint``, or ``None`` when this app has no such page (a section that is
    not installed, the agent workspace with the UI off)."""
    try:
        return url_for(endpoint, **values)
    except BuildError:
        return None
