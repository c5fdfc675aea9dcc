"""The admin console in a real browser: the demo's admin sets up a department, a business
schedule (weekly hours and a holiday) and an SLA policy for that department, entirely through
the pages under /support/admin; a customer then opens a ticket in that department and the
agent ticket page shows due times counted on that schedule; last, the reports page draws its
charts and tables. No API call and no database write: every change is a form a person fills in.

The due times are worked out by hand. The schedule's time zone is the fixed-offset zone where
it is nearest noon now, so "today" there cannot end while the test runs; today is the
schedule's holiday, so a ticket opened now counts no business time until tomorrow's first
shift (09:00-17:00 local, every day).
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, time, timedelta, timezone

import pytest

from .test_portal_e2e import open_ticket, unique

pytestmark = [pytest.mark.e2e, pytest.mark.xdist_group("e2e")]  # one demo server

ADMIN = "/support/admin"
DAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
OPENS, CLOSES = time(9), time(17)
#: The policy's targets for a medium ticket (minutes of business time).
FIRST_RESPONSE, RESOLUTION = 30, 600


def noon_zone(now: datetime) -> tuple[str, timezone]:
    """The ``Etc/GMT±N`` zone whose wall clock is nearest noon at ``now`` (its IANA name, and
    the offset as Python spells it: ``Etc/GMT-5`` is five hours *ahead* of UTC)."""
    hours = max(-12, min(14, round(12 - (now.hour + now.minute / 60))))
    name = "Etc/GMT" if hours == 0 else f"Etc/GMT{-hours:+d}"
    return name, timezone(timedelta(hours=hours))


def shown(local_day: date, at: time, zone: timezone, plus: timedelta = timedelta()) -> str:
    """A local wall-clock time as the agent page prints it (UTC)."""
    moment = datetime.combine(local_day, at, zone) + plus
    return moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")


def create(page, section: str, title: str | None = None) -> str:
    """Press Create on a console form, expect the saved row's page (its URL is returned) and,
    given its ``title``, find the row in the section's list."""
    with page.expect_navigation():
        page.get_by_role("button", name="Create", exact=True).click()
    assert page.locator(".esc-flash-success").count() == 1, page.locator("main").inner_text()
    url = page.url
    assert re.search(rf"{ADMIN}/{section}/\d+$", url), url
    if title is not None:
        page.goto(f"{ADMIN}/{section}")
        assert page.get_by_role("link", name=title, exact=True).is_visible()
    return url


def test_admin_sets_up_a_desk_that_gives_a_new_ticket_its_sla(signed_in, screenshot):
    admin = signed_in("admin@demo.test")
    marker = unique("E2E")
    zone_name, zone = noon_zone(datetime.now(UTC))
    today = datetime.now(zone).date()

    # The console's overview links every section.
    admin.goto(ADMIN)
    assert admin.get_by_role("heading", name="Admin", exact=False).first.is_visible()
    screenshot(admin, "admin-overview")

    # 1. A department, with Alex Agent in it.
    with admin.expect_navigation():
        admin.get_by_role("link", name="Departments").first.click()
    with admin.expect_navigation():
        admin.get_by_role("link", name=re.compile("New department", re.I)).click()
    department = f"Field service {marker}"
    admin.get_by_label("Name").fill(department)
    admin.get_by_label("Description").fill("On-site repairs.")
    admin.get_by_label("Alex Agent").check()
    admin.get_by_label("Assignment strategy").select_option("round_robin")
    screenshot(admin, "admin-department-new")
    create(admin, "departments", department)

    # 2. A business schedule: 09:00-17:00 every day, then today as a holiday on its edit
    #    page.
    admin.goto(f"{ADMIN}/business-schedules/new")
    schedule = f"Field hours {marker}"
    admin.get_by_label("Name").fill(schedule)
    admin.get_by_label("Time zone").select_option(zone_name)
    for day in DAYS:
        admin.get_by_label(f"{day}, shift 1, from").fill("09:00")
        admin.get_by_label(f"{day}, shift 1, to").fill("17:00")
    screenshot(admin, "admin-schedule-new")
    create(admin, "business-schedules")
    assert admin.get_by_label("Sunday, shift 1, to").input_value() == "17:00"
    holidays = admin.locator("#holidays")
    holidays.get_by_label("Name").fill("Founders' day")
    holidays.get_by_label("Date").fill(today.isoformat())
    with admin.expect_navigation():
        holidays.get_by_role("button", name="Add holiday").click()
    assert "Founders' day" in admin.locator("#holidays").inner_text()
    assert today.isoformat() in admin.locator("#holidays").inner_text()
    screenshot(admin, "admin-schedule-holiday")

    # 3. An SLA policy on that schedule for that department, tried before the demo's
    #    catch-all policy (position 0).
    admin.goto(f"{ADMIN}/sla-policies/new")
    policy = f"Field SLA {marker}"
    admin.get_by_label("Name").fill(policy)
    admin.get_by_label("Position").fill("-1")
    admin.get_by_label("Counted on").select_option(label=f"{schedule} ({zone_name})")
    admin.get_by_label(department).check()
    admin.get_by_label("First response for medium priority (minutes)").fill(
        str(FIRST_RESPONSE))
    admin.get_by_label("Resolution for medium priority (minutes)").fill(str(RESOLUTION))
    admin.get_by_label("First response for urgent priority (minutes)").fill("10")
    admin.get_by_label("Resolution for urgent priority (minutes)").fill("120")
    screenshot(admin, "admin-sla-policy-new")
    create(admin, "sla-policies", policy)
    screenshot(admin, "admin-sla-policies")

    # 4. A customer opens a medium ticket in the department through the portal.
    customer = signed_in("customer@demo.test")
    reference = open_ticket(customer, unique("Boiler makes a noise"),
                            "It knocks every few minutes.", priority="medium",
                            department=department)

    # The agent page shows due times on the new schedule: today is a holiday, so the clock
    # starts at tomorrow's 09:00; 600 minutes are tomorrow's 8 hours and 2 the day after.
    admin.goto(f"/support/agent/tickets/{reference}")
    sla = admin.locator("section[aria-labelledby=sla-h]")
    first = sla.locator("li").filter(has_text="First response")
    resolution = sla.locator("li").filter(has_text="Resolution")
    tomorrow = today + timedelta(days=1)
    assert f"due {shown(tomorrow, OPENS, zone, timedelta(minutes=FIRST_RESPONSE))}" in \
        first.inner_text()
    rest = timedelta(minutes=RESOLUTION - (CLOSES.hour - OPENS.hour) * 60)
    assert f"due {shown(tomorrow + timedelta(days=1), OPENS, zone, rest)}" in \
        resolution.inner_text()
    assert sla.locator("li").filter(has_text="Next response").count() == 0
    screenshot(admin, "admin-ticket-sla")

    # 5. The reports page: filters, a chart and a data table per report.
    admin.goto(f"{ADMIN}/reports")
    assert admin.get_by_role("heading", name="Reports", level=1).is_visible()
    admin.get_by_label("Department").select_option(label=department)
    with admin.expect_navigation():
        admin.locator("form[aria-label='Report filters']").get_by_role("button").click()
    assert "department_id=" in admin.url
    for section in ("volume", "backlog", "response-times", "sla"):
        assert admin.locator(f"section#{section}").is_visible(), section
    assert admin.locator("section#volume svg").count() >= 1
    assert admin.locator("section#backlog svg").count() >= 1
    # the department's one ticket, in the summary and in the chart's data table
    volume = admin.locator("section#volume")
    assert volume.get_by_text(re.compile(r"^1 created, 0 resolved")).is_visible()
    table = volume.get_by_role("table", name="Tickets per day")
    created = [int(n) for n in table.locator("tbody tr td:nth-of-type(1)").all_inner_texts()]
    assert sum(created) == 1, created
    screenshot(admin, "admin-reports")

