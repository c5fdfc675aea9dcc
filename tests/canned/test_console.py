"""The console's shared canned responses: list with search, new, edit, delete."""

from __future__ import annotations

import pytest

from flask_escalated.models import CannedResponse

from ..admin.conftest import admin, console, db, field_error  # noqa: F401  (fixtures)

pytestmark = pytest.mark.all_databases


def test_admin_manages_shared_responses(admin, users, ext, make_canned):  # noqa: F811
    make_canned("agent", title="Personal one")  # not the console's business
    admin.get("/canned-responses/new")
    assert 'name="shortcut"' in admin.html and "{{requester.name}}" in admin.html
    r = admin.post("/canned-responses/new", {"title": "Refund <done>", "shortcut": "refund",
                                             "department_id": "", "body": "Hi\r\nthere"},
                   status=302)
    row = db().query(CannedResponse).filter_by(title="Refund <done>").one()
    ident = row.id
    assert (row.is_shared, row.shortcut, row.body) == (True, "refund", "Hi\nthere")
    assert r.headers["Location"].endswith(f"/support/admin/canned-responses/{row.id}")

    listing = admin.get("/canned-responses")
    assert "Refund &lt;done&gt;" in listing and "/refund" in listing
    assert "Personal one" not in listing
    assert "No canned responses match" in admin.get("/canned-responses?q=zzz")
    assert "Refund" in admin.get("/canned-responses?q=REF")

    admin.get(f"/canned-responses/{row.id}")
    r = admin.post(f"/canned-responses/{row.id}", {"title": "", "body": "x"}, status=422)
    assert field_error(r.get_data(True), "title")
    admin.post(f"/canned-responses/{row.id}", {"title": "Refund sent", "body": "Done.",
                                               "shortcut": "refund"}, status=302)
    assert db().get(CannedResponse, row.id).title == "Refund sent"

    taken = make_canned("admin", title="Other", shared=True, shortcut="other")
    admin.get(f"/canned-responses/{taken}")
    r = admin.post(f"/canned-responses/{taken}", {"title": "Other", "body": "b",
                                                  "shortcut": "refund"})
    assert r.status_code == 409 and field_error(r.get_data(True), "shortcut")

    admin.get(f"/canned-responses/{row.id}/delete")
    assert "Refund sent" in admin.html
    admin.post(f"/canned-responses/{row.id}/delete", {}, status=302)
    assert db().get(CannedResponse, ident) is None


def test_agents_without_canned_manage_stay_out(console, users):  # noqa: F811
    r = console(users.agent).client.get("/support/admin/canned-responses")
    assert r.status_code == 403
