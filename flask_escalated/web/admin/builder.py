"""The condition builder and the action list: a rule's JSON as rows of plain form inputs.

A rule's ``conditions`` (``{"all"|"any": [condition | group, ...]}``, see
:mod:`...services.conditions`) and its ``actions`` (``[{"type", "value"}, ...]``, see
:mod:`...services.rules`) are edited as rows of selects and text inputs, so a page needs no
JavaScript and no hand-written JSON. The inputs are named by the item's place in the tree:

* ``cond.match`` is the top group's ``all``/``any``; ``cond.3.match`` a nested group's;
* ``cond.0.field`` / ``cond.0.operator`` / ``cond.0.value`` the first condition of the top
  group, ``cond.3.1.field`` ... the second condition of the nested group at ``3``;
* ``act.0.type`` / ``act.0.value`` the first action.

Reading them back (:func:`read_input`, a :attr:`.crud.Resource.extra_input`) rebuilds the JSON
the API takes, which the same pydantic model and the same service then validate: a refusal
names the item (``conditions.all[2]``, ``actions[1]``) and :meth:`Builder.place` shows it beside
the row that produced it. Blank rows are skipped, so a page renders a few spare rows and the
"Add rows" button (a submit that re-renders the form as typed, saving nothing) makes more.

Every stored row also carries its JSON in a hidden ``was`` input: when the row comes back with
the same field, operator and text, the stored item is kept verbatim. Posting an edit page
unchanged therefore leaves the rule identical, whatever types the API stored (``"3"`` or
``3``), and the rule's condition window is not re-armed by a save that changed only its name.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any, Union

from flask import g, request
from werkzeug.datastructures import MultiDict

from ...domain import PRIORITIES
from ...services import agents, departments, serializers, statuses, tags
from ...services.conditions import FIELDS, OPERATORS
from ...services.errors import ServiceError
from ...services.rules import TIME_FIELDS, actions_for
from ..inputs import parse_json

COND = "cond"
ACT = "act"
#: The submit buttons that re-render the form with more rows (``builder_more=conditions`` or
#: ``=actions``) or one more group instead of saving it; a :class:`.crud.Resource` lists them
#: in ``refresh_inputs``.
MORE = "builder_more"
GROUP = "builder_group"
REFRESH_INPUTS = (MORE, GROUP)
#: Blank rows under each group and action list: on a new page, after stored rows, per "Add
#: rows".
NEW_BLANKS, SPARE_BLANKS, MORE_BLANKS = 3, 2, 3

OPERATOR_LABELS = {
    "eq": "is", "neq": "is not", "in": "is one of", "not_in": "is none of",
    "is_null": "is empty", "is_not_null": "is set", "gt": "more than", "gte": "at least",
    "lt": "less than", "lte": "at most",
}
FIELD_LABELS = {
    "status": "Status", "status_category": "Status category", "priority": "Priority",
    "channel": "Channel", "ticket_type": "Ticket type", "assignee_id": "Assignee",
    "department_id": "Department", "tag": "Tag", "requester_type": "Requester type",
    "unassigned": "Unassigned", "sla_breached": "Any SLA target breached",
    "first_response_breached": "First response breached",
    "next_response_breached": "Next response breached",
    "resolution_breached": "Resolution breached",
    "sla_due_within_minutes": "An SLA target due within (minutes)",
    "hours_since_created": "Hours since created", "hours_since_updated": "Hours since updated",
    "hours_since_last_reply": "Hours since the last reply",
    "hours_since_last_customer_reply": "Hours since the customer's last reply",
    "hours_since_last_agent_reply": "Hours since an agent's last reply",
    "hours_since_resolved": "Hours since resolved",
}
ACTION_LABELS = {
    "set_status": "Set the status", "escalate": "Escalate", "set_priority": "Set the priority",
    "assign_agent": "Assign to an agent", "assign_department": "Move to a department",
    "add_tag": "Add a tag", "remove_tag": "Remove a tag", "add_note": "Add an internal note",
    "send_reply": "Send a public reply", "close": "Close",
    "notify_email": "Send an e-mail", "notify_webhook": "Call a webhook",
}
#: What each action's value is: which input it gets, which suggestions, how its text is read.
#: ``none``: no value; ``text``: free text (a textarea); ``object``: a JSON object; the others
#: one word, suggested from the list of that name.
ACTION_VALUES = {
    "set_status": "status", "escalate": "none", "set_priority": "priority",
    "assign_agent": "agent", "assign_department": "department", "add_tag": "tag",
    "remove_tag": "tag", "add_note": "text", "send_reply": "text", "close": "none",
    "notify_email": "object", "notify_webhook": "object",
}
ACTION_HINTS = {
    "add_note": "An internal note; {reference} and {subject} are filled in.",
    "send_reply": "A reply to the requester; {reference} and {subject} are filled in.",
    "notify_email": 'A JSON object: {"to": "assignee" or an address, "subject", "body"}.',
    "notify_webhook": 'A JSON object: {"url": "https://..."}.',
}
_VALUE_HELP = {
    "none": "No value.", "status": "A status (its slug, e.g. waiting_on_customer).",
    "priority": "One of " + ", ".join(PRIORITIES) + ".",
    "agent": "An agent's user id.", "department": "A department's id.",
    "tag": "A tag's slug (a new one is created).",
}
#: Condition fields whose values are suggested from a list (the others are numbers or take
#: the field's own choices, listed as ``field-<name>``).
_FIELD_LISTS = {"status": "status", "assignee_id": "agent", "department_id": "department",
                "tag": "tag"}
#: How a field's fixed choices read where the value alone says little.
_CHOICE_LABELS = {"requester_type": {"user": "Signed-in user", "contact": "Guest"}}
_LIST_CAP = 500
_PATH = re.compile(r"^cond((?:\.[0-9]{1,3}){0,6})\.(match|field|operator|value|was)$")
_ACTION = re.compile(r"^act\.([0-9]{1,3})\.(type|value|was)$")
_ERROR_PATH = re.compile(r"^((?:\.[a-z_]{1,10}\[[0-9]{1,4}\])*)(\.[a-z_]{1,10})?: (.*)$", re.S)
_ACTION_ERROR = re.compile(r"^\[([0-9]{1,4})\]: (.*)$", re.S)
_ACTION_KEY = re.compile(r"^actions\[([0-9]{1,4})\](?:\.([a-z_]{1,20}))?$")


def _label(name: str) -> str:
    return FIELD_LABELS.get(name) or name.replace("_", " ").capitalize()


def action_label(name: object) -> str:
    """An action type as a person reads it ("Add a tag")."""
    return ACTION_LABELS.get(str(name)) or _label(str(name))


# ---------------------------------------------------------------------------- catalogue
@dataclass(frozen=True)
class Option:
    value: str
    label: str
    #: For a condition field: its operators and its suggestion list; for an action type:
    #: its value kind (``ACTION_VALUES``).
    operators: tuple[str, ...] = ()
    suggest: str | None = None
    hint: str | None = None


@dataclass(frozen=True)
class Catalogue:
    """What a builder offers for one kind of rule: condition fields (none for a macro) and
    action types, as the conditions and rules services define them."""

    kind: str
    fields: tuple[Option, ...]
    operators: tuple[Option, ...]
    actions: tuple[Option, ...]

    @property
    def has_conditions(self) -> bool:
        return bool(self.fields)


def catalogue(kind: str) -> Catalogue:
    """The builder's choices for ``kind`` (``escalation``, ``automation``, ``workflow`` or
    ``macro``). Workflows run on events, so the time-based fields are not offered."""
    fields: tuple[Option, ...] = ()
    if kind != "macro":
        fields = tuple(
            Option(name, _label(name), OPERATORS[spec.kind], suggestion_key(name))
            for name, spec in FIELDS.items() if kind != "workflow" or name not in TIME_FIELDS)
    operators = tuple(Option(op, OPERATOR_LABELS.get(op, op)) for op in
                      dict.fromkeys(op for ops in OPERATORS.values() for op in ops))
    actions = tuple(Option(name, action_label(name), suggest=ACTION_VALUES.get(name, "word"),
                           hint=ACTION_HINTS.get(name)) for name in actions_for(kind))
    return Catalogue(kind, fields, operators, actions)


def suggestion_key(name: str) -> str | None:
    """The name of the list a condition field's values come from (:func:`desk_lists`), or
    None for a number or an unknown field."""
    spec = FIELDS.get(name)
    if spec is None:
        return None
    if name in _FIELD_LISTS:
        return _FIELD_LISTS[name]
    if spec.kind == "bool":
        return "bool"
    return f"field-{name}" if spec.choices else None


def desk_lists() -> dict[str, tuple[Option, ...]]:
    """The values a rule's rows are offered, by list name (read once a request): what the
    desk knows (statuses, agents, departments, tags), priorities, yes / no, and each
    condition field's fixed choices as ``field-<name>``. Offers only: the service decides."""
    cached: dict[str, tuple[Option, ...]] | None = g.get("_escalated_desk_lists")
    if cached is not None:
        return cached
    agent_rows = agents.list_agents()[:_LIST_CAP]
    people = serializers.People([a.user_id for a in agent_rows])
    out: dict[str, tuple[Option, ...]] = {
        "status": tuple(Option(s.slug, s.label) for s in statuses.all_statuses()),
        "priority": tuple(Option(p, p.capitalize()) for p in PRIORITIES),
        "agent": tuple(Option(str(a.user_id), _person(people.user(a.user_id)) or a.user_id)
                       for a in agent_rows),
        "department": tuple(Option(str(d.id), d.name)
                            for d in departments.list_departments()[:_LIST_CAP]),
        "tag": tuple(Option(t.slug, t.name) for t in tags.list_tags()[:_LIST_CAP]),
        "bool": (Option("true", "Yes"), Option("false", "No")),
    }
    for name, spec in FIELDS.items():
        if spec.choices:
            labels = _CHOICE_LABELS.get(name, {})
            out[f"field-{name}"] = tuple(
                Option(c, labels.get(c) or c.replace("_", " ").capitalize())
                for c in spec.choices)
    g._escalated_desk_lists = out
    return out


def suggestions() -> dict[str, list[tuple[str, str]]]:
    """The ``<datalist>`` of each list name (:func:`desk_lists`)."""
    return {name: [(o.value, o.label) for o in options]
            for name, options in desk_lists().items()}


def _person(user: Mapping[str, Any] | None) -> str | None:
    return (user.get("name") or user.get("email")) if user else None


# ---------------------------------------------------------------------------- rows
@dataclass
class ConditionRow:
    """One condition as the page shows it: the typed text, and the stored item's JSON."""

    key: str
    field: str = ""
    operator: str = ""
    value: str = ""
    was: str = ""
    error: str | None = None

    is_group = False

    def name(self, attr: str) -> str:
        return f"{COND}.{self.key}.{attr}"

    @property
    def blank(self) -> bool:
        return not self.field and not self.value.strip()

    def item(self) -> dict[str, Any]:
        """The condition as the API takes it (the stored one when nothing was changed)."""
        stored = _stored(self.was)
        if stored is not None and stored.get("field") == self.field and \
                stored.get("operator") == self.operator and \
                _same(condition_text(stored.get("value")), self.value):
            return stored
        item: dict[str, Any] = {"field": self.field, "operator": self.operator}
        if self.operator not in ("is_null", "is_not_null"):
            item["value"] = _condition_value(self.field, self.operator, self.value)
        return item


@dataclass
class ConditionGroup:
    """A group of conditions and nested groups (``key`` is ``""`` for the top group)."""

    key: str
    match: str = "all"
    items: list[Node] = field(default_factory=list)
    error: str | None = None

    is_group = True

    def name(self, attr: str) -> str:
        return f"{COND}.{self.key}.{attr}" if self.key else f"{COND}.{attr}"

    def child_key(self, index: int) -> str:
        return f"{self.key}.{index}" if self.key else str(index)

    def next_index(self) -> int:
        return 1 + max((int(n.key.rsplit(".", 1)[-1]) for n in self.items), default=-1)

    def pad(self, blanks: int) -> None:
        """Append ``blanks`` empty rows here and in every nested group."""
        for node in self.items:
            if isinstance(node, ConditionGroup):
                node.pad(blanks)
        start = self.next_index()
        self.items.extend(ConditionRow(self.child_key(start + i)) for i in range(blanks))

    def add_group(self, blanks: int) -> None:
        group = ConditionGroup(self.child_key(self.next_index()), match="any")
        group.pad(blanks)
        self.items.append(group)

    @property
    def depth(self) -> int:
        return self.key.count(".") + 1 if self.key else 0


Node = Union[ConditionRow, ConditionGroup]  # noqa: UP007 - a runtime alias


@dataclass
class ActionRow:
    key: str
    type: str = ""
    value: str = ""
    was: str = ""
    error: str | None = None

    def name(self, attr: str) -> str:
        return f"{ACT}.{self.key}.{attr}"

    @property
    def blank(self) -> bool:
        return not self.type and not self.value.strip()

    @property
    def kind(self) -> str:
        """The value's kind (``ACTION_VALUES``); a blank row's is free text."""
        return ACTION_VALUES.get(self.type, "text" if not self.type else "word")

    def item(self) -> dict[str, Any]:
        stored = _stored(self.was)
        if stored is not None and stored.get("type") == self.type and \
                _same(action_text(stored.get("value")), self.value):
            return stored
        return {"type": self.type, "value": _action_value(self.type, self.value)}


def _json(text: str) -> Any:
    """``text`` as strict JSON (the API's rules: no NaN, no NUL escapes, bounded depth and
    numbers), or :data:`_NOT_JSON`."""
    try:
        return parse_json(text.encode("utf-8", "surrogatepass"))
    except ServiceError:
        return _NOT_JSON


_NOT_JSON = object()


def _stored(was: str) -> dict[str, Any] | None:
    value = _json(was) if was else None
    return value if isinstance(value, dict) else None


def _same(shown: str, typed: str) -> bool:
    """Whether the typed text is what the page showed (browsers send CRLF line breaks)."""
    return shown.replace("\r\n", "\n") == typed.replace("\r\n", "\n")


# ---------------------------------------------------------------------------- values
def condition_text(value: Any) -> str:
    """A condition's value as its text input shows it (lists comma-separated)."""
    if value is None:
        return ""
    if isinstance(value, list):
        return ", ".join(condition_text(v) for v in value)
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str | int | float):
        return str(value)
    return json.dumps(value, ensure_ascii=False)


def _condition_value(name: str, operator: str, text: str) -> Any:
    """Typed text as the JSON the API takes: a list for ``in``/``not_in``, numbers for
    elapsed-time fields, ``true``/``false`` for yes-no fields. Text that does not read as
    its field's type is passed on as text, and the service says why it is wrong."""
    text = text.strip()
    if operator in ("in", "not_in"):
        return [scalar(name, part.strip()) for part in text.split(",") if part.strip()]
    return None if text == "" else scalar(name, text)


def scalar(name: str, text: str) -> Any:
    """One value of field ``name`` as the condition's JSON carries it (a number, a yes / no);
    text that is not the field's type stays text, for the service to refuse by name."""
    kind = FIELDS[name].kind if name in FIELDS else "enum"
    if kind == "bool":
        return {"true": True, "false": False, "yes": True, "no": False}.get(text.lower(), text)
    if kind in ("hours", "minutes"):
        if re.fullmatch(r"[0-9]{1,9}", text):
            return int(text)
        if re.fullmatch(r"[0-9]{1,9}\.[0-9]{1,6}", text):
            return float(text)
        return text
    if name == "department_id" and re.fullmatch(r"[0-9]{1,18}", text):
        return int(text)
    return text


def action_text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    return json.dumps(value, ensure_ascii=False)


def _action_value(kind: str, text: str) -> Any:
    what = ACTION_VALUES.get(kind, "word")
    if what == "none":
        return None
    if what == "text":
        return text.replace("\r\n", "\n")
    if what == "object":
        if not text.strip():
            return {}
        value = _json(text)
        return text if value is _NOT_JSON else value  # not JSON: "must be an object"
    return text.strip()


# ---------------------------------------------------------------------------- stored JSON
def group_from_data(data: Any, key: str = "") -> ConditionGroup:
    """The rows of stored conditions (anything that is not a group shows as an empty one)."""
    if not isinstance(data, dict) or len(data) != 1:
        return ConditionGroup(key)
    match, items = next(iter(data.items()))
    group = ConditionGroup(key, match=str(match))
    for i, item in enumerate(items if isinstance(items, list) else []):
        child = group.child_key(i)
        if isinstance(item, dict) and set(item) & {"all", "any"}:
            group.items.append(group_from_data(item, child))
        elif isinstance(item, dict):
            group.items.append(ConditionRow(
                child, field=str(item.get("field", "")), operator=str(item.get("operator", "")),
                value=condition_text(item.get("value")),
                was=json.dumps(item, ensure_ascii=False, sort_keys=True)))
    return group


def actions_from_data(data: Any) -> list[ActionRow]:
    return [ActionRow(str(i), type=str(a.get("type", "")), value=action_text(a.get("value")),
                      was=json.dumps(a, ensure_ascii=False, sort_keys=True))
            for i, a in enumerate(data if isinstance(data, list) else [])
            if isinstance(a, dict)]


# ---------------------------------------------------------------------------- the form
def _single(form: MultiDict[str, str], name: str) -> str | None:
    values = form.getlist(name)
    return values[0] if len(values) == 1 else None


def group_from_form(form: MultiDict[str, str]) -> tuple[ConditionGroup, list[str]]:
    """The condition rows as posted, and the input names read. A name that is not a
    builder's (or is repeated) is left for the model, which refuses it as unknown."""
    nodes: dict[tuple[int, ...], dict[str, str]] = {(): {}}
    consumed: list[str] = []
    for name in form:
        m = _PATH.match(name)
        value = _single(form, name)
        if m is None or value is None:
            continue
        path = tuple(int(p) for p in m.group(1).split(".")[1:])
        if not path and m.group(2) != "match":
            continue
        nodes.setdefault(path, {})[m.group(2)] = value
        consumed.append(name)
    # Every prefix of a row's place is a group, even when its "match" input is missing.
    for path in list(nodes):
        for n in range(len(path)):
            nodes.setdefault(path[:n], {})
    children: dict[tuple[int, ...], list[int]] = {}
    for path in nodes:
        if path:
            children.setdefault(path[:-1], []).append(path[-1])

    def build(path: tuple[int, ...]) -> Node:
        attrs = nodes[path]
        key = ".".join(map(str, path))
        if path and "match" not in attrs and path not in children:
            return ConditionRow(key, field=attrs.get("field", ""),
                                operator=attrs.get("operator", ""),
                                value=attrs.get("value", ""), was=attrs.get("was", ""))
        group = ConditionGroup(key, match=attrs.get("match", "all"))
        group.items = [build((*path, i)) for i in sorted(children.get(path, []))]
        return group

    top = build(())
    assert isinstance(top, ConditionGroup)
    return top, consumed


def actions_from_form(form: MultiDict[str, str]) -> tuple[list[ActionRow], list[str]]:
    rows: dict[int, dict[str, str]] = {}
    consumed: list[str] = []
    for name in form:
        m = _ACTION.match(name)
        value = _single(form, name)
        if m is None or value is None:
            continue
        rows.setdefault(int(m.group(1)), {})[m.group(2)] = value
        consumed.append(name)
    return [ActionRow(str(i), type=a.get("type", ""), value=a.get("value", ""),
                      was=a.get("was", "")) for i, a in sorted(rows.items())], consumed


def conditions_data(group: ConditionGroup, paths: dict[str, str] | None = None,
                    where: str = "") -> dict[str, Any]:
    """The group as the API takes it, blank rows and empty nested groups left out.
    ``paths`` collects each item's place in the JSON (``.all[2].any[0]``, as the service's
    errors name it) against its row's key."""
    paths = {} if paths is None else paths
    paths[where] = group.key
    items: list[Any] = []
    for node in group.items:
        place = f"{where}.{group.match}[{len(items)}]"
        if isinstance(node, ConditionGroup):
            sub = conditions_data(node, paths, place)
            if next(iter(sub.values())):
                items.append(sub)
        elif not node.blank:
            paths[place] = node.key
            items.append(node.item())
    return {group.match: items}


def actions_data(rows: Iterable[ActionRow], places: list[str] | None = None) -> list[Any]:
    """The actions as the API takes them, blank rows left out; ``places`` collects the key
    of the row behind each action."""
    places = [] if places is None else places
    out = []
    for row in rows:
        if not row.blank:
            places.append(row.key)
            out.append(row.item())
    return out


def read_input(*, conditions: bool = True,
               form: MultiDict[str, str] | None = None) -> tuple[dict[str, Any],
                                                              list[str]]:
    """A :attr:`.crud.Resource.extra_input`: the builder's inputs as ``conditions`` and
    ``actions`` (just ``actions`` for a macro), and the names it read."""
    form = request.form if form is None else form
    consumed = [name for name in REFRESH_INPUTS if name in form]
    rows, names = actions_from_form(form)
    extra: dict[str, Any] = {"actions": actions_data(rows)}
    consumed += names
    if conditions:
        group, names = group_from_form(form)
        extra["conditions"] = conditions_data(group)
        consumed += names
    return extra, consumed


# ---------------------------------------------------------------------------- the page
@dataclass
class Builder:
    """The builder as one page shows it: the rows (stored, or as posted), the catalogue, and
    the refusals placed on the rows they are about."""

    catalogue: Catalogue
    group: ConditionGroup
    actions: list[ActionRow]
    #: Refusals that name no row (e.g. "at least one action"), per part.
    condition_errors: list[str] = field(default_factory=list)
    action_errors: list[str] = field(default_factory=list)

    #: How ``admin/builder_form.html`` draws it (the escalation rules' rows are a "table").
    layout = "tree"

    @classmethod
    def for_page(cls, kind: str, stored: Mapping[str, Any] | None,
                 errors: Mapping[str, str]) -> Builder:
        """The builder of a form page: posted rows on a POST (with more blank rows when
        "Add rows" or "Add a group" was pressed), else the stored rule's rows and a few
        spare ones."""
        cat = catalogue(kind)
        if request.method == "POST":
            group, _ = group_from_form(request.form)
            actions, _ = actions_from_form(request.form)
            more = request.form.get(MORE)
            if more is not None and more != "actions":
                group.pad(MORE_BLANKS)
            if more is not None and more != "conditions":
                actions += _blank_actions(actions, MORE_BLANKS)
            if GROUP in request.form:
                group.add_group(NEW_BLANKS)
        else:
            stored = stored or {}
            group = group_from_data(stored.get("conditions"))
            actions = actions_from_data(stored.get("actions"))
            group.pad(SPARE_BLANKS if stored else NEW_BLANKS)
            actions += _blank_actions(actions, SPARE_BLANKS if stored else NEW_BLANKS)
        page = cls(cat, group, actions)
        page.place(errors)
        return page

    def place(self, errors: Mapping[str, str]) -> None:
        """Put each refusal beside its row (or its group); the rest above the part."""
        paths: dict[str, str] = {}
        conditions_data(self.group, paths)
        places: list[str] = []
        actions_data(self.actions, places)
        rows = {r.key: r for r in self.actions}
        for key, message in errors.items():
            if key == "conditions" and self.catalogue.has_conditions:
                self._place_condition(message, paths)
            elif key == "actions" or key.startswith("actions["):
                m, index = _ACTION_KEY.match(key), None
                if m is not None:
                    index = int(m.group(1))
                    message = f"{m.group(2)}: {message}" if m.group(2) else message
                elif (found := _ACTION_ERROR.match(message)) is not None:
                    index, message = int(found.group(1)), found.group(2)
                row = rows.get(places[index]) if index is not None and \
                    index < len(places) else None
                if row is not None:
                    row.error = message
                else:
                    self.action_errors.append(message)

    def _place_condition(self, message: str, paths: Mapping[str, str]) -> None:
        m = _ERROR_PATH.match(message)
        node = self._node(paths.get(m.group(1))) if m is not None else None
        if m is None or node is None:
            self.condition_errors.append(message)
        else:
            node.error = m.group(3)

    def _node(self, key: str | None) -> Node | None:
        if key is None:
            return None
        if key == "":
            return self.group
        node: Node = self.group
        for part in key.split("."):
            if not isinstance(node, ConditionGroup):
                return None
            wanted = f"{node.key}.{part}" if node.key else part
            node = next((n for n in node.items if n.key == wanted), None)  # type: ignore[assignment]
            if node is None:
                return None
        return node

    @staticmethod
    def operator_label(operator: str) -> str:
        return OPERATOR_LABELS.get(operator, operator)

    @staticmethod
    def value_help(kind: str | None) -> str:
        return _VALUE_HELP.get(kind or "", "A word.")

    @property
    def has_errors(self) -> bool:
        return bool(self.condition_errors or self.action_errors)

    @cached_property
    def suggestions(self) -> dict[str, list[tuple[str, str]]]:
        return suggestions()

    @property
    def field_options(self) -> dict[str, Option]:
        return {o.value: o for o in self.catalogue.fields}

    @property
    def action_options(self) -> dict[str, Option]:
        return {o.value: o for o in self.catalogue.actions}


def _blank_actions(rows: list[ActionRow], count: int) -> list[ActionRow]:
    start = 1 + max((int(r.key) for r in rows), default=-1)
    return [ActionRow(str(start + i)) for i in range(count)]


#: Error keys the builder shows on its rows, for the form's summary of refusals.
SHOWN = ("conditions", "actions")


def summary_errors(errors: Mapping[str, str]) -> dict[str, str]:
    """The form's errors with the builder's folded into ``conditions`` / ``actions`` (the
    rows show the detail; the summary at the top only says where to look)."""
    out: dict[str, str] = {}
    for key, message in errors.items():
        out["actions" if key.startswith("actions[") else key] = message
    return out
