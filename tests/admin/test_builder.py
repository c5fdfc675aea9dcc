"""The condition builder and action list (web/admin/builder.py): rows of form inputs read
back into the JSON the API takes, blank rows skipped, stored items kept verbatim when their row
comes back unchanged, and the services' refusals placed on the rows they are about.

:func:`browser_form` (used by the page tests too) reads a page's form the way a browser
submits it, so a round trip goes through the real HTML."""

from __future__ import annotations

import json
from html.parser import HTMLParser
from typing import Any

import pytest
from werkzeug.datastructures import MultiDict

from flask_escalated.services import conditions
from flask_escalated.services.errors import ValidationError
from flask_escalated.services.rules import ACTION_TYPES, TIME_FIELDS, validate_actions
from flask_escalated.web.admin import builder
from flask_escalated.web.admin.builder import (
    ActionRow,
    Builder,
    ConditionGroup,
    ConditionRow,
    actions_from_data,
    catalogue,
    conditions_data,
    group_from_data,
    read_input,
)


# ---------------------------------------------------------------------------- a browser
class _FormReader(HTMLParser):
    """The successful controls of the first ``<form>`` with ``marker`` in its class, in
    document order, as a browser would submit them without pressing any named button."""

    def __init__(self, marker: str) -> None:
        super().__init__(convert_charrefs=True)
        self.marker, self.depth = marker, 0
        self.pairs: list[tuple[str, str]] = []
        self._select: dict[str, Any] | None = None
        self._option: dict[str, Any] | None = None
        self._textarea: dict[str, Any] | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: (v if v is not None else "") for k, v in attrs}
        if tag == "form":
            if self.depth or self.marker in a.get("class", "").split():
                self.depth += 1
            return
        if not self.depth or ("disabled" in a and tag != "option"):
            return
        if tag == "input" and a.get("name"):
            kind = a.get("type", "text")
            if kind in ("submit", "button", "image", "reset", "file"):
                return
            if kind in ("checkbox", "radio"):
                if "checked" in a:
                    self.pairs.append((a["name"], a.get("value", "on")))
                return
            self.pairs.append((a["name"], a.get("value", "")))
        elif tag == "select" and a.get("name"):
            self._select = {"name": a["name"], "multiple": "multiple" in a, "options": []}
        elif tag == "option" and self._select is not None:
            self._option = {"value": a.get("value"), "text": "", "selected": "selected" in a}
            self._select["options"].append(self._option)
        elif tag == "textarea" and a.get("name"):
            self._textarea = {"name": a["name"], "text": ""}

    def handle_data(self, data: str) -> None:
        if self._textarea is not None:
            self._textarea["text"] += data
        elif self._option is not None:
            self._option["text"] += data

    def handle_endtag(self, tag: str) -> None:
        if tag == "form" and self.depth:
            self.depth -= 1
        elif tag == "option":
            self._option = None
        elif tag == "select" and self._select is not None:
            options = self._select["options"]
            chosen = [o for o in options if o["selected"]]
            if not chosen and options and not self._select["multiple"]:
                chosen = options[:1]
            for o in chosen if self._select["multiple"] else chosen[-1:]:
                value = o["value"] if o["value"] is not None else o["text"].strip()
                self.pairs.append((self._select["name"], value))
            self._select = None
        elif tag == "textarea" and self._textarea is not None:
            text = self._textarea["text"]
            # The HTML parser drops one newline right after <textarea>; browsers send CRLF.
            text = text[1:] if text.startswith("\n") else text
            self.pairs.append((self._textarea["name"], text.replace("\n", "\r\n")))
            self._textarea = None


def browser_form(html: str, marker: str = "esc-admin-form") -> list[tuple[str, str]]:
    """What submitting the page's form sends (its CSRF token left out: the console helper
    adds the page's own)."""
    reader = _FormReader(marker)
    reader.feed(html)
    assert reader.pairs, "no form on the page"
    return [(k, v) for k, v in reader.pairs if k != "csrf_token"]


# ---------------------------------------------------------------------------- reading rows
def _form(pairs: dict[str, str] | list[tuple[str, str]]) -> MultiDict[str, str]:
    return MultiDict(list(pairs.items()) if isinstance(pairs, dict) else pairs)


def test_rows_become_the_apis_json_and_blank_rows_are_skipped():
    extra, consumed = read_input(form=_form({
        "cond.match": "all",
        "cond.0.field": "priority", "cond.0.operator": "in", "cond.0.value": "high, urgent",
        "cond.1.field": "", "cond.1.operator": "eq", "cond.1.value": "",  # blank
        "cond.2.match": "any",
        "cond.2.0.field": "hours_since_created", "cond.2.0.operator": "gt",
        "cond.2.0.value": "48",
        "cond.2.1.field": "hours_since_updated", "cond.2.1.operator": "gte",
        "cond.2.1.value": "1.5",
        "cond.3.match": "all",  # a group whose rows are all blank is left out
        "cond.3.0.field": "", "cond.3.0.operator": "eq", "cond.3.0.value": " ",
        "cond.4.field": "department_id", "cond.4.operator": "eq", "cond.4.value": "7",
        "cond.5.field": "assignee_id", "cond.5.operator": "is_null", "cond.5.value": "",
        "cond.6.field": "sla_breached", "cond.6.operator": "eq", "cond.6.value": "true",
        "cond.7.field": "assignee_id", "cond.7.operator": "eq", "cond.7.value": "",
        "act.0.type": "add_tag", "act.0.value": " vip ",
        "act.1.type": "", "act.1.value": "",  # blank
        "act.2.type": "add_note", "act.2.value": "Line one\r\nLine two",
        "act.3.type": "notify_email", "act.3.value": '{"to": "assignee", "subject": "Hi"}',
        "act.4.type": "escalate", "act.4.value": "ignored",
        "builder_more": "conditions",
    }))
    assert extra["conditions"] == {"all": [
        {"field": "priority", "operator": "in", "value": ["high", "urgent"]},
        {"any": [{"field": "hours_since_created", "operator": "gt", "value": 48},
                 {"field": "hours_since_updated", "operator": "gte", "value": 1.5}]},
        {"field": "department_id", "operator": "eq", "value": 7},
        {"field": "assignee_id", "operator": "is_null"},
        {"field": "sla_breached", "operator": "eq", "value": True},
        {"field": "assignee_id", "operator": "eq", "value": None},
    ]}
    assert conditions.validate(extra["conditions"])  # what the service takes
    assert extra["actions"] == [
        {"type": "add_tag", "value": "vip"},
        {"type": "add_note", "value": "Line one\nLine two"},
        {"type": "notify_email", "value": {"to": "assignee", "subject": "Hi"}},
        {"type": "escalate", "value": None}]
    assert "builder_more" in consumed and "cond.3.0.value" in consumed
    assert "act.1.type" in consumed


def test_a_macro_reads_actions_only_and_foreign_names_are_left_for_the_model():
    extra, consumed = read_input(conditions=False, form=_form({
        "act.0.type": "close", "act.0.value": "", "cond.0.field": "priority",
        "act.x.type": "close", "cond.0.1.2.3.4.5.6.field": "priority", "cond.field": "x"}))
    assert extra == {"actions": [{"type": "close", "value": None}]}
    assert consumed == ["act.0.type", "act.0.value"]
    # Repeated, malformed or too deep names are not the builder's: the schema refuses them.
    _, consumed = read_input(form=_form([("cond.0.field", "a"), ("cond.0.field", "b"),
                                         ("act.x.type", "close"),
                                         ("cond.0.1.2.3.4.5.6.field", "priority"),
                                         ("cond.field", "x")]))
    assert consumed == []


def test_text_that_is_not_the_fields_type_goes_to_the_service_as_typed():
    extra, _ = read_input(form=_form({
        "cond.0.field": "sla_breached", "cond.0.operator": "eq", "cond.0.value": "maybe",
        "cond.1.field": "hours_since_created", "cond.1.operator": "gt", "cond.1.value": "2d",
        "act.0.type": "notify_webhook", "act.0.value": "{not json",
        "act.1.type": "notify_email", "act.1.value": "{\"n\": NaN}"}))
    assert [c["value"] for c in extra["conditions"]["all"]] == ["maybe", "2d"]
    assert [a["value"] for a in extra["actions"]] == ["{not json", "{\"n\": NaN}"]
    with pytest.raises(ValidationError) as refused:
        validate_actions("workflow", extra["actions"])
    assert refused.value.fields == {"actions": "[0]: value must be an object."}


# ---------------------------------------------------------------------------- round trip
STORED = {"any": [
    {"field": "department_id", "operator": "in", "value": ["3", 4]},
    {"all": [{"field": "assignee_id", "operator": "eq", "value": 12},
             {"any": [{"field": "tag", "operator": "not_in", "value": ["a", "b"]},
                      {"field": "hours_since_resolved", "operator": "lt", "value": 24.0}]}]},
    {"field": "assignee_id", "operator": "is_not_null", "value": None},
    {"field": "unassigned", "operator": "neq", "value": False},
]}
ACTIONS = [{"type": "add_note", "value": "\nStarts with a line break\nand has two"},
           {"type": "notify_email", "value": {"to": "assignee", "subject": "", "body": "x"}},
           {"type": "close", "value": None}]


def _posted(group: ConditionGroup, rows: list[ActionRow]) -> MultiDict[str, str]:
    """The inputs the rows render as, sent back untouched (CRLF, as browsers send)."""
    pairs: list[tuple[str, str]] = []

    def walk(g: ConditionGroup) -> None:
        pairs.append((g.name("match"), g.match))
        for node in g.items:
            if isinstance(node, ConditionGroup):
                walk(node)
            else:
                pairs.extend([(node.name("field"), node.field),
                              (node.name("operator"), node.operator or "eq"),
                              (node.name("value"), node.value)])
                if node.was:
                    pairs.append((node.name("was"), node.was))

    walk(group)
    for row in rows:
        pairs += [(row.name("type"), row.type), (row.name("value"), row.value.replace(
            "\n", "\r\n"))] + ([(row.name("was"), row.was)] if row.was else [])
    return MultiDict(pairs)


def test_stored_json_comes_back_identical_through_the_rows():
    group, rows = group_from_data(STORED), actions_from_data(ACTIONS)
    group.pad(2)
    rows.append(ActionRow("9"))
    extra, _ = read_input(form=_posted(group, rows))
    assert extra["conditions"] == STORED and extra["actions"] == ACTIONS
    assert json.dumps(extra["conditions"]) == json.dumps(STORED)  # types and key order too


def test_a_changed_row_is_read_again_and_the_others_are_kept():
    group, rows = group_from_data(STORED), actions_from_data(ACTIONS)
    first = group.items[0]
    assert isinstance(first, ConditionRow)
    first.value = "3, 4, 5"
    rows[2].type = "set_priority"
    rows[2].value = "high"
    extra, _ = read_input(form=_posted(group, rows))
    assert extra["conditions"]["any"][0]["value"] == [3, 4, 5]
    assert extra["conditions"]["any"][1:] == STORED["any"][1:]
    assert extra["actions"][2] == {"type": "set_priority", "value": "high"}
    assert extra["actions"][:2] == ACTIONS[:2]


def test_a_tampered_stored_item_is_only_a_starting_point():
    """The hidden JSON is used only when the visible row matches it, and what it holds is
    validated like any other input."""
    extra, _ = read_input(form=_form({
        "cond.0.field": "priority", "cond.0.operator": "eq", "cond.0.value": "low",
        "cond.0.was": json.dumps({"field": "priority", "operator": "eq", "value": "high"}),
        "act.0.type": "add_tag", "act.0.value": "x", "act.0.was": "not json",
        "act.1.type": "add_tag", "act.1.value": "y", "act.1.was": "[" * 5000,
        "act.2.type": "add_tag", "act.2.value": "z",
        "act.2.was": '{"type": "add_tag", "value": "z", "extra": NaN}'}))
    assert extra["conditions"] == {"all": [{"field": "priority", "operator": "eq",
                                            "value": "low"}]}
    assert extra["actions"] == [{"type": "add_tag", "value": "x"},
                                {"type": "add_tag", "value": "y"},
                                {"type": "add_tag", "value": "z"}]


# ---------------------------------------------------------------------------- refusals
def _builder(form: dict[str, str], kind: str = "automation") -> Builder:
    from flask_escalated.web.admin.builder import actions_from_form, group_from_form

    group, _ = group_from_form(_form(form))
    actions, _ = actions_from_form(_form(form))
    return Builder(catalogue(kind), group, actions)


def test_a_refusal_is_placed_on_the_row_that_made_it():
    form = {"cond.0.field": "", "cond.0.operator": "eq", "cond.0.value": "",
            "cond.1.match": "any",
            "cond.1.0.field": "", "cond.1.0.operator": "eq", "cond.1.0.value": "",
            "cond.1.1.field": "priority", "cond.1.1.operator": "gt", "cond.1.1.value": "1",
            "act.0.type": "", "act.0.value": "",
            "act.1.type": "add_tag", "act.1.value": "",
            "act.2.type": "close", "act.2.value": ""}
    extra, _ = read_input(form=_form(form))
    with pytest.raises(ValidationError) as cond_refusal:
        conditions.validate(extra["conditions"])
    with pytest.raises(ValidationError) as action_refusal:
        validate_actions("automation", extra["actions"])
    page = _builder(form)
    page.place({**cond_refusal.value.fields, **action_refusal.value.fields,
                "actions[1].type": "Input should be 'add_tag'"})
    group = page.group.items[1]
    assert isinstance(group, ConditionGroup)
    assert group.items[1].error == "operator one of eq, neq, in, not_in"
    assert page.actions[1].error == "value must be a non-empty string."
    assert page.actions[2].error == "type: Input should be 'add_tag'"
    assert not page.condition_errors and not page.action_errors


def test_refusals_that_name_no_row_are_shown_above_the_part():
    page = _builder({"act.0.type": "", "act.0.value": ""}, kind="workflow")
    page.place({"conditions": "time-based: workflows run on events",
                "actions": "List should have at least 1 item after validation, not 0"})
    assert page.condition_errors == ["time-based: workflows run on events"]
    assert page.action_errors == ["List should have at least 1 item after validation, not 0"]
    page = _builder({"cond.match": "all"})
    page.place({"conditions": ".all: a list of 1 to 50 conditions"})
    assert page.group.error == "a list of 1 to 50 conditions"
    assert builder.summary_errors({"actions[0].type": "x", "name": "y"}) == {
        "actions": "x", "name": "y"}


# ---------------------------------------------------------------------------- catalogue
def test_the_catalogue_is_the_services():
    assert set(builder.ACTION_VALUES) == set(ACTION_TYPES)  # a new action needs its input
    assert {o.value for o in catalogue("automation").fields} == set(conditions.FIELDS)
    assert not {o.value for o in catalogue("workflow").fields} & TIME_FIELDS
    assert not catalogue("macro").has_conditions
    assert [o.value for o in catalogue("macro").actions] == [
        k for k, (_, kinds) in ACTION_TYPES.items() if "macro" in kinds]
    assert {o.value for o in catalogue("workflow").operators} == {
        op for ops in conditions.OPERATORS.values() for op in ops}


def test_padding_and_groups_number_rows_after_the_last():
    group = group_from_data({"all": [{"field": "priority", "operator": "eq", "value": "low"},
                                     {"any": [{"field": "tag", "operator": "eq",
                                               "value": "a"}]}]})
    group.pad(2)
    group.add_group(1)
    assert [n.key for n in group.items] == ["0", "1", "2", "3", "4"]
    nested = group.items[1]
    assert isinstance(nested, ConditionGroup)
    assert [n.key for n in nested.items] == ["1.0", "1.1", "1.2"]
    assert conditions_data(group) == {"all": [
        {"field": "priority", "operator": "eq", "value": "low"},
        {"any": [{"field": "tag", "operator": "eq", "value": "a"}]}]}
