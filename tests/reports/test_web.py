"""The reports API (JSON and CSV) and the admin reports page: access, input, output."""

from __future__ import annotations

import csv
import io

from flask_escalated.events import Actor
from flask_escalated.services import agents, roles, tags, tickets
from flask_escalated.services.reports import REPORTS

from ..hosts import intid

API = "/support/api/v1/reports"
PAGE = "/support/admin/reports"
MARCH = "from=2026-03-02&to=2026-03-04"


def _role(ext, user, permissions):
    slug = "report-" + "-".join(sorted(p.replace(".", "_") for p in permissions))
    with ext.unit_of_work():
        if not roles.role_exists(slug):
            roles.create_role(Actor.system(), {"slug": slug, "name": slug,
                                               "permissions": sorted(permissions)})
        agents.make_agent(str(user.id), Actor.system(), role=slug)


def test_every_report_answers_json_for_admins(desk, client_as, users):
    client = client_as(users.admin)
    for name in REPORTS:
        r = client.get(f"{API}/{name}?{MARCH}")
        assert r.status_code == 200, (name, r.get_data(True)[:300])
        body = r.get_json()
        assert body["report"] == name and body["data"]["timezone"] == "Europe/Berlin"
    volume = client.get(f"{API}/volume?{MARCH}&tag=billing").get_json()["data"]
    assert volume["totals"] == {"created": 2, "resolved": 2, "reopened": 1}


def test_csv_parses_back_to_the_report(desk, client_as, users):
    client = client_as(users.admin)
    r = client.get(f"{API}/volume?{MARCH}&format=csv")
    assert r.status_code == 200 and r.mimetype == "text/csv"
    assert r.headers["Content-Disposition"] == \
        "attachment; filename=escalated-volume-2026-03-02-to-2026-03-04.csv"
    rows = list(csv.reader(io.StringIO(r.get_data(as_text=True))))
    assert rows == [["date", "created", "resolved", "reopened"],
                    ["2026-03-02", "2", "1", "0"], ["2026-03-03", "1", "1", "1"],
                    ["2026-03-04", "0", "0", "0"]]
    agents_csv = list(csv.DictReader(io.StringIO(
        client.get(f"{API}/agents?{MARCH}&format=csv").get_data(as_text=True))))
    alex = next(row for row in agents_csv if row["name"] == "Alex Agent")
    assert (alex["resolved"], alex["median_first_response"], alex["csat_average"]) == (
        "1", "7200", "4.0")


def test_csv_cells_cannot_become_spreadsheet_formulas(app, ext, users, client_as, clock):
    with ext.unit_of_work():
        tickets.create_ticket(tickets.NewTicket(
            requester_user_id=str(users.customer.id), subject="s", description="d",
            tags=["=HYPERLINK(\"http://evil.test\")"]), Actor.system())
    text = client_as(users.admin).get(f"{API}/tags?format=csv").get_data(as_text=True)
    rows = list(csv.reader(io.StringIO(text)))
    assert rows[1][1] == "'=HYPERLINK(\"http://evil.test\")"


def test_bad_queries_are_422_naming_the_field(app, users, client_as):
    client = client_as(users.admin)
    r = client.get(f"{API}/volume?since=2026-01-01")
    assert r.status_code == 422 and r.get_json()["error"]["code"] == "unknown_field"
    assert "since" in r.get_json()["error"]["fields"]
    for query, field in (("from=2026-02-30", "from"), ("to=yesterday", "to"),
                         ("department_id=0", "department_id"), ("department_id=x", "department_id"),
                         ("channel=fax", "channel"), ("format=xml", "format"),
                         ("from=2026-03-05&to=2026-03-01", "from"),
                         ("from=2020-01-01&to=2026-01-01", "to"), ("tag=" + "x" * 81, "tag"),
                         ("agent=1&agent=2", "agent")):
        r = client.get(f"{API}/volume?{query}")
        assert r.status_code == 422, query
        assert field in r.get_json()["error"]["fields"], (query, r.get_json())
    assert client.get(f"{API}/nonsense").status_code == 404


def test_only_report_viewers_get_in(app, ext, users, client_as):
    for who in (users.agent, users.light, users.customer):
        client = client_as(who)
        assert client.get(f"{API}/volume").status_code == 403
        r = client.get(PAGE)
        assert r.status_code == 403 and "administrators" in r.get_data(as_text=True)
        assert client.get("/support/admin").status_code == 403
    assert client_as(None).get(f"{API}/volume").status_code == 401
    assert client_as(None).get(PAGE).status_code == 401  # the test host has no login page
    assert client_as(users.admin).get("/support/admin").status_code == 200


def test_report_view_without_export_gets_json_but_no_csv(app, ext, users, client_as):
    _role(ext, users.agent2, {"report.view"})
    client = client_as(users.agent2)
    assert client.get(f"{API}/channels").status_code == 200
    r = client.get(f"{API}/channels?format=csv")
    assert r.status_code == 403 and "report.export" in r.get_json()["error"]["message"]
    page = client.get(PAGE)
    assert page.status_code == 200 and "Download CSV" not in page.get_data(as_text=True)
    assert "Admin" in client.get("/support/tickets").get_data(as_text=True)
    overview = client.get("/support/admin").get_data(as_text=True)
    assert 'href="/support/admin/reports"' in overview


def test_page_renders_every_section_with_hostile_names_escaped(desk, app, ext, users,
                                                               client_as):
    evil_name = '<script>alert("agent")</script>'
    evil_tag = '<img src=x onerror=alert(1)>'
    with ext.unit_of_work():
        villain = intid.make_user("villain@example.test", evil_name)
        agents.make_agent(str(villain.id), Actor.system(), role="agent")
        t = tickets.get_ticket(str(desk.t4))
        tags.add_tags(t, [evil_tag], Actor.system())
        from flask_escalated.services import assignment

        assignment.assign(t, str(villain.id), Actor.system())
    r = client_as(users.admin).get(f"{PAGE}?{MARCH}")
    html = r.get_data(as_text=True)
    assert r.status_code == 200
    for section in ("volume", "backlog", "response-times", "sla", "csat", "agents", "tags",
                    "channels"):
        assert f'id="{section}"' in html
    assert html.count("<svg") >= 7 and html.count("<table") >= 8
    assert "<script>alert" not in html and "<img src=x" not in html
    assert "&lt;script&gt;alert" in html and "&lt;img src=x onerror=alert(1)&gt;" in html
    assert "Quick &amp; kind &lt;3" in html
    assert 'href="/support/api/v1/reports/volume?format=csv&amp;from=2026-03-02' in html


def test_page_keeps_bad_filters_and_names_the_field(app, users, client_as):
    r = client_as(users.admin).get(f"{PAGE}?from=2026-13-01&tag=%3Cb%3E&colour=red")
    assert r.status_code == 422
    html = r.get_data(as_text=True)
    assert "colour" in html and "unknown field" in html
    r = client_as(users.admin).get(f"{PAGE}?from=2026-13-01&tag=%3Cb%3E")
    html = r.get_data(as_text=True)
    assert r.status_code == 422 and 'id="err-from"' in html
    assert 'value="2026-13-01"' in html and 'value="&lt;b&gt;"' in html


def test_default_page_shows_the_last_30_days(app, users, client_as, clock):
    html = client_as(users.admin).get(PAGE).get_data(as_text=True)
    assert "2026-02-01 to 2026-03-02, days in UTC" in html


def test_hostile_filter_values_are_just_values(desk, client_as, users):
    client = client_as(users.admin)
    for query in ("agent=%27%20OR%201%3D1%20--", "tag=%C3%BC%F0%9F%92%A5", "tag=%25",
                  "department_id=9223372036854775807", "agent=" + "9" * 64):
        r = client.get(f"{API}/volume?{MARCH}&{query}")
        assert r.status_code == 200, query
        assert r.get_json()["data"]["totals"]["created"] == 0, query
    assert client.get(f"{API}/volume?department_id=9223372036854775808").status_code == 422
    assert client.get(f"{API}/volume?agent=" + "9" * 65).status_code == 422


def test_page_works_without_the_api(make_app, users_for):
    app = make_app(ESCALATED_API_ENABLED=False)
    people = users_for(app)
    r = app.test_client(user=people.admin).get(PAGE)
    assert r.status_code == 200 and "Download CSV" not in r.get_data(as_text=True)
