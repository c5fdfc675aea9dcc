"""Every kind of rule is one ``rules.rule_resource``: escalation rules differ only by the
parameters they pass (their row editor, their log, a "When" column, no on/off switch)."""

from __future__ import annotations

from flask_escalated.events import Actor
from flask_escalated.services import rules
from flask_escalated.web.admin import escalation_builder
from flask_escalated.web.admin import rules as rule_pages
from flask_escalated.web.admin.escalation import ESCALATION_RULES


def test_escalation_rules_take_the_rule_section_with_their_own_parts(app, admin, ext):
    with ext.unit_of_work():
        rules.create("escalation", Actor.system(), {
            "name": "Urgent", "conditions": {"all": [
                {"field": "priority", "operator": "eq", "value": "urgent"}]},
            "actions": [{"type": "escalate"}]})
    listing = admin.get("/escalation-rules")
    assert "Priority is urgent" in listing and "Escalate" in listing
    assert "Turn off" not in listing and ">On<" in listing  # no switch: no route for one
    endpoints = {rule.endpoint for rule in app.url_map.iter_rules()}
    assert "escalated.admin.escalation_rules_active" not in endpoints
    assert "escalated.admin.automations_active" in endpoints
    assert ESCALATION_RULES.extra_input is escalation_builder.read
    assert ESCALATION_RULES.form_template == rule_pages.AUTOMATIONS.form_template
    assert ESCALATION_RULES.edit_panels == ("escalated/admin/escalation_log.html",)
    # the table layout offers what the tree offers for the kind
    with app.test_request_context():
        cat = escalation_builder.catalogue("escalation")
        editors = escalation_builder.editors("escalation", None, {})
    assert [o.value for o in editors.actions.types] == [o.value for o in cat.actions]
    assert [o.value for o in editors.conditions.fields] == [o.value for o in cat.fields]
