"""Custom fields end to end: the server enforces the display rules, types, options and who
may set or see a field; values show on tickets, filter the queue, drive rule conditions and
ride in webhook payloads."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import text

from flask_escalated.events import Actor
from flask_escalated.models import AuditLog, CustomField, CustomFieldValue, Ticket
from flask_escalated.services import conditions, custom_fields, tickets, webhooks
from flask_escalated.services.errors import ValidationError

pytestmark = pytest.mark.all_databases


def new(api, user, **cf):
    return api(user).post("/tickets", {"subject": "S", "description": "D",
                                       "custom_fields": cf})


def field_errors(response):
    assert response.status_code == 422, (response.status_code, response.get_data(True)[:400])
    return response.get_json()["error"]["fields"]


# ---------------------------------------------------------------------------- server rules
def test_hidden_required_field_is_not_required(api, users, fields):
    r = new(api, users.customer, kind="tech")
    assert r.status_code == 201, r.json
    assert r.json["data"]["custom_fields"] == {"kind": "tech"}


def test_visible_required_field_must_be_present(api, users, fields):
    errors = field_errors(new(api, users.customer, kind="billing"))
    assert errors == {"custom_fields.order_number": "required"}
    r = new(api, users.customer, kind="billing", order_number="A-17")
    assert r.status_code == 201
    assert r.json["data"]["custom_fields"] == {"kind": "billing", "order_number": "A-17"}


def test_value_posted_for_a_hidden_field_is_refused(api, users, fields):
    errors = field_errors(new(api, users.customer, kind="tech", order_number="A-17"))
    assert set(errors) == {"custom_fields.order_number"}
    assert "hidden" in errors["custom_fields.order_number"]
    # Nothing was stored.
    assert field_errors(new(api, users.agent, order_number="x"))


@pytest.mark.parametrize(("key", "value", "message"), [
    ("amount", "lots", "a number"),
    ("amount", True, "a number"),
    ("due", "31/12/2026", "a date"),
    ("vip", "yes", "true or false"),
    ("kind", "sales", "one of billing, tech"),
    ("topics", ["a", "z"], "a list of a, b"),
    ("nope", "x", "unknown field"),
])
def test_wrong_type_or_option_names_the_field(api, users, fields, key, value, message):
    errors = field_errors(new(api, users.agent, **{key: value}))
    assert message in errors[f"custom_fields.{key}"], errors


def test_customer_cannot_set_agent_only_fields_nor_see_them(api, users, fields, make_ticket):
    errors = field_errors(new(api, users.customer, vip=True))
    assert errors == {"custom_fields.vip": "unknown field"}
    tid = make_ticket()
    r = api(users.agent).patch(f"/tickets/{tid}", {"custom_fields": {
        "vip": True, "amount": 12.5, "kind": "tech", "topics": ["b", "a"]}})
    assert r.status_code == 200, r.json
    assert r.json["data"]["custom_fields"] == {
        "vip": True, "amount": 12.5, "kind": "tech", "topics": ["a", "b"]}
    seen = api(users.customer).get(f"/tickets/{tid}").json["data"]["custom_fields"]
    assert seen == {"kind": "tech"}
    r = api(users.agent).get(f"/tickets/{tid}")
    assert r.json["data"]["custom_fields"]["vip"] is True


def test_update_that_hides_a_field_clears_its_value(app, ext, users, fields, make_ticket):
    tid = make_ticket()
    with ext.unit_of_work():
        t = tickets.get_ticket(tid)
        tickets.update_ticket(t, {"custom_fields": {"kind": "billing", "order_number": "A1"}},
                              Actor.agent(users.agent.id))
    with ext.unit_of_work():
        t = tickets.get_ticket(tid)
        tickets.update_ticket(t, {"custom_fields": {"kind": "tech"}},
                              Actor.agent(users.agent.id))
        assert custom_fields.custom_field_values(t) == {"kind": "tech"}
        with pytest.raises(ValidationError) as exc:
            tickets.update_ticket(t, {"custom_fields": {"kind": "billing"}},
                                  Actor.agent(users.agent.id))
        assert exc.value.fields == {"custom_fields.order_number": "required"}


# ---------------------------------------------------------------------------- definitions
def test_definition_crud_and_condition_checks(api, users, ext, fields):
    admin = api(users.admin)
    r = admin.post("/custom-fields", {"key": "ref", "label": "Ref", "type": "text",
                                      "conditions": [{"field": "ghost", "operator": "equals",
                                                      "value": "x"}]})
    assert "unknown field" in field_errors(r)["conditions"]
    r = admin.post("/custom-fields", {"key": "kind", "label": "Again", "type": "text"})
    assert r.status_code == 409
    r = admin.post("/custom-fields", {"key": "pick", "label": "Pick", "type": "select"})
    assert "options" in field_errors(r)
    r = admin.post("/custom-fields", {"key": "x", "label": "X", "type": "text", "extra": 1})
    assert r.status_code == 422 and r.json["error"]["code"] == "unknown_field"
    r = admin.post("/custom-fields", {"key": "x", "label": "X", "type": "text", "conditions": [
        {"field": "kind", "operator": "equals", "value": "billing", "valeu": "x"}]})
    assert r.status_code == 422 and r.json["error"]["unknown_fields"] == [
        "conditions[0].valeu"]
    # A cycle: kind -> order_number -> kind.
    r = admin.patch(f"/custom-fields/{fields['kind']}", {"conditions": [
        {"field": "order_number", "operator": "is_not_empty"}]})
    assert "cycle" in field_errors(r)["conditions"]
    r = admin.patch(f"/custom-fields/{fields['amount']}", {"label": "Total"})
    assert r.status_code == 200 and r.json["data"]["label"] == "Total"
    # Referenced by a condition: not deletable.
    assert admin.delete(f"/custom-fields/{fields['kind']}").status_code == 409
    assert admin.delete(f"/custom-fields/{fields['amount']}").status_code == 204
    assert admin.get(f"/custom-fields/{fields['amount']}").status_code == 404
    keys = [f["key"] for f in admin.get("/custom-fields").json["data"]]
    assert "amount" not in keys and "kind" in keys
    assert api(users.customer).get("/custom-fields").status_code == 403
    assert api(users.agent).post("/custom-fields", {"key": "z", "label": "Z",
                                                    "type": "text"}).status_code == 403
    ext.session.rollback()
    actions = {a for (a,) in ext.session.query(AuditLog.action)}
    assert {"custom_field.created", "custom_field.updated", "custom_field.deleted"} <= actions


# ---------------------------------------------------------------------------- filters
def test_queue_filters_equality_and_ranges(api, users, ext, fields, make_ticket,
                                           count_queries):
    agent = api(users.agent)
    ids = {}
    for name, values in {
        "small": {"amount": 5, "due": "2026-01-10", "kind": "tech", "vip": False},
        "big": {"amount": 500, "due": "2026-06-01", "kind": "tech", "vip": True},
        "none": {},
    }.items():
        ids[name] = make_ticket(subject=name)
        if values:
            assert agent.patch(f"/tickets/{ids[name]}",
                               {"custom_fields": values}).status_code == 200

    def found(query):
        r = agent.get("/tickets?" + query)
        assert r.status_code == 200, r.json
        return {t["id"] for t in r.json["data"]}

    assert found("cf.amount__gte=100") == {ids["big"]}
    assert found("cf.amount__lte=100&cf.amount__gte=1") == {ids["small"]}
    assert found("cf.due__gte=2026-03-01") == {ids["big"]}
    assert found("cf.kind=tech") == {ids["small"], ids["big"]}
    assert found("cf.vip=true") == {ids["big"]}
    assert found("cf.vip=false") == {ids["small"]}
    r = agent.get("/tickets?cf.ghost=1&cf.kind__gte=a&cf.amount=abc")
    assert field_errors(r) == {"cf.ghost": "unknown custom field",
                               "cf.kind__gte": "ranges apply to number and date fields",
                               "cf.amount": "a number"}
    # Customers filter only by fields they can see.
    assert field_errors(api(users.customer).get("/tickets?cf.vip=true")) == {
        "cf.vip": "unknown custom field"}
    # The filter is one subquery, not a query per ticket or per value.
    for extra in range(5):
        make_ticket(subject=f"more {extra}")
    with count_queries() as few:
        found("cf.kind=tech")
    for extra in range(5):
        tid = make_ticket(subject=f"tech {extra}")
        agent.patch(f"/tickets/{tid}", {"custom_fields": {"kind": "tech"}})
    with count_queries() as many:
        assert len(found("cf.kind=tech")) == 7
    assert many.count == few.count


def test_filter_uses_the_value_index(app, ext, fields):
    """The plan of the equality filter reads the composite index (PostgreSQL/MariaDB/SQLite
    all report the index by name when they use it)."""
    engine = ext.session.get_bind()
    query = custom_fields.matching_tickets(ext.session.get(CustomField, fields["kind"]), "eq",
                                           "tech")
    sql = str(query.compile(engine, compile_kwargs={"literal_binds": True}))
    explain = {"sqlite": "EXPLAIN QUERY PLAN ", "postgresql": "EXPLAIN ",
               "mysql": "EXPLAIN "}[engine.dialect.name]
    if engine.dialect.name == "postgresql":
        # A nearly empty table is cheapest to scan; ask whether the index serves the query.
        ext.session.execute(text("SET LOCAL enable_seqscan = off"))
    plan = " ".join(str(row) for row in ext.session.execute(text(explain + sql)))
    # On a nearly empty table the planner may take any index led by field_id (each is
    # (field_id, value_*, ticket_id)); what matters is that an index, not a scan, serves it.
    assert re.search(r"ix_escalated_cfv_field_(text|number|date|long)", plan), plan
    assert "Seq Scan on escalated_custom_field_values" not in plan, plan


def test_range_bounds_of_one_field_share_one_subquery(app, ext, fields):
    """``__gte`` and ``__lte`` on one field test the same value row: one index range bounded at
    both ends, not two half-open ranges (each reading most of the field's values) intersected."""
    clauses = custom_fields.filter_clauses(
        [("amount", "gte", "1"), ("amount", "lte", "100"), ("kind", "eq", "tech")],
        for_customer=False)
    assert len(clauses) == 2
    sql = " ".join(str(c.compile(compile_kwargs={"literal_binds": True})) for c in clauses)
    assert ">= 1.0" in sql and "<= 100.0" in sql
    assert sql.count("FROM escalated_custom_field_values") == 2


# ---------------------------------------------------------------------------- rules, hooks
def test_rule_conditions_on_custom_fields(app, ext, users, fields, make_ticket, clock):
    from sqlalchemy import select

    a, b = make_ticket(), make_ticket()
    with ext.unit_of_work():
        for tid, amount in ((a, 10), (b, 1000)):
            tickets.update_ticket(tickets.get_ticket(tid), {"custom_fields": {
                "amount": amount, "kind": "billing", "order_number": f"N{tid}"}},
                Actor.system())

    def matching(group):
        cond = conditions.compile_group(conditions.validate(group), clock())
        return set(ext.session.execute(select(Ticket.id).where(cond)).scalars()) & {a, b}

    assert matching({"all": [{"field": "custom_field.amount", "operator": "gt",
                              "value": 100}]}) == {b}
    assert matching({"all": [{"field": "custom_field.kind", "operator": "eq",
                              "value": "billing"}]}) == {a, b}
    assert matching({"all": [{"field": "custom_field.kind", "operator": "neq",
                              "value": "billing"}]}) == set()
    assert matching({"all": [{"field": "custom_field.vip", "operator": "is_null"}]}) == {a, b}
    for bad in ({"field": "custom_field.ghost", "operator": "eq", "value": "x"},
                {"field": "custom_field.kind", "operator": "gt", "value": "x"},
                {"field": "custom_field.kind", "operator": "eq", "value": "sales"}):
        with pytest.raises(ValidationError):
            conditions.validate({"all": [bad]})


def test_webhook_payload_and_placeholder_hook(app, ext, users, fields, make_ticket):
    tid = make_ticket()
    with ext.unit_of_work():
        t = tickets.get_ticket(tid)
        tickets.update_ticket(t, {"custom_fields": {"amount": 3, "vip": True}}, Actor.system())
        from flask_escalated.events import pending

        (event,) = [e for e in pending(ext.session) if e.name == "ticket_updated"]
        body = webhooks.payload_for(event)
        assert body["ticket"]["custom_fields"] == {"amount": 3, "vip": True}
        assert body["changes"]["custom_fields"] == {"old": {"amount": None, "vip": None},
                                                    "new": {"amount": 3, "vip": True}}
        assert custom_fields.custom_field_values(t) == {"amount": 3, "vip": True}
    ext.session.rollback()
    rows = ext.session.query(CustomFieldValue).filter_by(ticket_id=tid).count()
    assert rows == 2
