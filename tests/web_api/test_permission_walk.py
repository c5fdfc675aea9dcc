"""The permission walk: every route is guarded as the catalogue says, derived from the routes.

For each API route the registry names the permission its guard demands. The walk checks, for
that permission: an agent whose role holds everything *but* it is refused (403); an agent whose
role holds only it (plus seeing tickets) gets past every guard; an admin's API token without an
ability covering it is refused. The hand-written matrix next door covers the fixed callers
(anonymous, customers, system roles) and proves the walk sees every route.
"""

from __future__ import annotations

import pytest

from flask_escalated.events import Actor
from flask_escalated.services import agents, roles, tokens
from flask_escalated.services.permissions import ABILITIES, ALL_PERMISSIONS, expand
from flask_escalated.web.api.base import ROUTES

from .test_access import MATRIX

API = "/support/api/v1"
#: Routes that need more than the route's guard for the object at hand: resolving needs
#: ticket.close; someone else's macro needs macro.manage; a macro's actions need what they do;
#: a report as CSV needs report.export.
BODY_NEEDS = {
    ("GET", "/reports/agents?format=csv"): {"report.export"},
    ("POST", "/tickets/{t}/status"): {"ticket.close"},
    ("PATCH", "/macros/{x}"): {"macro.manage"},
    ("DELETE", "/macros/{x}"): {"macro.manage"},
    ("POST", "/tickets/{t}/macros/{x}"): {"ticket.edit"},
    ("PATCH", "/canned-responses/{cr}"): {"canned.manage"},
    ("DELETE", "/canned-responses/{cr}"): {"canned.manage"},
    ("PATCH", "/views/{sv}"): {"view.manage"},
    ("DELETE", "/views/{sv}"): {"view.manage"},
}


def _route_doc(app, method, path):
    endpoint, _ = app.url_map.bind("localhost").match(API + path.split("?")[0], method=method)
    name = endpoint.rsplit(".", 1)[-1]
    (doc,) = [d for d in ROUTES if d.endpoint == name and method in d.methods]
    return doc


def _set_role(ext, user, permissions):
    slug = f"walk-{abs(hash(tuple(sorted(permissions)))) % 10**8}"
    with ext.unit_of_work():
        if not roles.role_exists(slug):
            roles.create_role(Actor.system(), {"slug": slug, "name": slug,
                                               "permissions": sorted(permissions)})
        agents.make_agent(str(user.id), Actor.system(), role=slug)


def _ability_without(permission):
    return next(name for name, pats in sorted(ABILITIES.items())
                if permission not in expand(pats))


@pytest.mark.parametrize(("method", "path", "body", "expected"), MATRIX,
                         ids=[f"{m} {p}" for m, p, _, _ in MATRIX])
def test_route_guard_follows_the_catalogue(app, ext, users, client_as, world, method, path,
                                           body, expected):
    url = path.format(**world)
    doc = _route_doc(app, method, url)
    if doc.public:
        assert expected["anonymous"] < 400
        return
    assert expected["anonymous"] == 401
    if doc.permission is None:
        return  # signed-in only: everyone in the matrix gets past the guard
    assert doc.permission in ALL_PERMISSIONS
    agent = users.agent2

    def call(client):
        return client.open(API + url, method=method, json=body)

    _set_role(ext, agent, ALL_PERMISSIONS - {doc.permission})
    response = call(client_as(agent))
    assert response.status_code == 403, response.get_data(True)[:300]
    assert doc.permission in response.get_json()["error"]["message"]

    needed = {doc.permission, "ticket.view"} | BODY_NEEDS.get((method, path), set())
    _set_role(ext, agent, needed)
    response = call(client_as(agent))
    assert response.status_code not in (401, 403), response.get_data(True)[:300]

    ability = _ability_without(doc.permission)
    with ext.unit_of_work():
        _, plain = tokens.create_token(str(users.admin.id), "walk", [ability], Actor.system())
    response = app.test_client().open(API + url, method=method, json=body,
                                      headers={"Authorization": f"Bearer {plain}"})
    assert response.status_code == 403, (ability, response.get_data(True)[:300])


def test_every_escalated_view_carries_a_guard(app):
    """No route is reachable without passing :func:`requires` or being marked public."""
    unguarded = []
    for rule in app.url_map.iter_rules():
        if not rule.endpoint.startswith("escalated.") or rule.endpoint == "escalated.static":
            continue
        view = app.view_functions[rule.endpoint]
        if not (hasattr(view, "escalated_permission") or getattr(view, "escalated_public", False)):
            unguarded.append(rule.endpoint)
    assert unguarded == []
