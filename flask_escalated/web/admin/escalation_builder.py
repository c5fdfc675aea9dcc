"""A rule's conditions and actions as rows of plain form inputs: no JSON to type, no
JavaScript needed.

The API takes a condition group (``{"all"|"any": [condition | group, ...]}``, see
:mod:`...services.conditions`) and a list of actions (``[{"type", "value"}]``, see
:func:`...services.rules.validate_actions`). A page edits them as rows:

* conditions: a match select for the top group, then rows of *group / field / operator /
  choice / value*. A row's group is the top group (blank) or one of the numbered sub-groups,
  each with its own match select, so "all of A, B and (any of C, D)" is one level of nesting
  without JavaScript. A group the rows cannot say exactly (deeper nesting, values a row cannot
  spell) is edited as JSON instead, so saving a page never rewrites a rule it cannot show;
* actions: rows of *type* and the inputs a type takes (a choice of status / priority / agent /
  department, a text, or the e-mail and webhook settings of the notify actions).

Blank rows are unused, so a page renders a few spare ones; the optional ``admin.js`` adds
more and hides the inputs a row's field or type does not use. The rows read back into the
same JSON the API takes and go through the same schema and services; the service's error
names the item (``.all[1].any[0]``, ``actions[2]``), which :func:`editors` maps back to the
row that holds it.

This is the escalation rules' layout of the rule editor (a :class:`.rules.RuleEditor`); what
it offers comes from :mod:`.builder`, as for the other kinds: the fields, operators and action
types of :func:`.builder.catalogue`, their labels, the desk's lists
(:func:`.builder.desk_lists`) and how typed text reads as a value (:func:`.builder.scalar`).
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from flask import g, request
from werkzeug.datastructures import MultiDict

from ...services import conditions
from ...services.rules import ACTION_TYPES
from .builder import (
    FIELD_LABELS,
    OPERATOR_LABELS,
    Option,
    catalogue,
    condition_text,
    desk_lists,
    scalar,
    suggestion_key,
)

#: Blank rows a page offers below the ones in use.
SPARE_CONDITIONS = 3
SPARE_ACTIONS = 2
#: Sub-groups offered on top of the ones in use.
SPARE_GROUPS = 2
#: Rows a form may carry; inputs of rows beyond are refused as unknown fields.
MAX_ROWS = 250

_COND_ROW = re.compile(r"^cond-(\d{1,3})-(group|field|operator|choice|value)$")
_COND_GROUP = re.compile(r"^cond-group-(\d{1,3})-match$")
_ACT_ROW = re.compile(r"^act-(\d{1,3})-(type|choice|tag|text|to|subject|url)$")
_COND_CHROME = frozenset({"cond-match", "cond-json"})
_ERROR_PATH = re.compile(r"^(\S*?): (.*)$", re.S)
_STASH = "_escalated_builder"

#: Action types whose value is picked from a list (the choice select), and the list.
CHOICE_ACTIONS = {"set_status": "status", "set_priority": "priority",
                  "assign_agent": "agent", "assign_department": "department"}
TAG_ACTIONS = frozenset({"add_tag", "remove_tag"})
TEXT_ACTIONS = frozenset({"add_note", "send_reply"})
#: ``admin.js`` shows a row's inputs by these names (its ``data-uses``).
ACTION_USES = {**{t: "choice" for t in CHOICE_ACTIONS}, **{t: "tag" for t in TAG_ACTIONS},
               **{t: "text" for t in TEXT_ACTIONS}, "notify_email": "email text",
               "notify_webhook": "url", "escalate": "", "close": ""}


@dataclass(frozen=True)
class OptionGroup:
    """An ``<optgroup>`` of the choice select; ``key`` is what it serves (a condition field,
    or an action's list)."""

    key: str
    label: str
    options: tuple[Option, ...]


@dataclass
class ConditionRow:
    index: int
    group: str = ""
    field: str = ""
    operator: str = "eq"
    choice: str = ""
    value: str = ""
    error: str | None = None


@dataclass
class ConditionEditor:
    """What the page shows of a condition group."""

    match: str
    #: ``(group number, its match)`` of every sub-group offered.
    groups: list[tuple[str, str]]
    rows: list[ConditionRow]
    #: The group as JSON text, edited instead of the rows when ``as_json``.
    json: str
    as_json: bool
    fields: list[Option]
    operators: list[Option]
    #: Each field's kind, and the operators of each kind (``admin.js`` narrows by them).
    kinds: dict[str, str]
    operator_kinds: dict[str, list[str]]
    #: The option group each field's choice comes from.
    list_keys: dict[str, str]
    choices: list[OptionGroup]
    error: str | None = None


@dataclass
class ActionRow:
    index: int
    type: str = ""
    choice: str = ""
    tag: str = ""
    text: str = ""
    to: str = ""
    subject: str = ""
    url: str = ""
    error: str | None = None


@dataclass
class ActionEditor:
    rows: list[ActionRow]
    types: list[Option]
    choices: list[OptionGroup]
    tags: list[str]
    uses: dict[str, str] = field(default_factory=lambda: dict(ACTION_USES))
    list_keys: dict[str, str] = field(default_factory=lambda: dict(CHOICE_ACTIONS))
    error: str | None = None


# ---------------------------------------------------------------------------- choices
def _condition_choices(fields: Sequence[str]) -> list[OptionGroup]:
    """One option group per list the fields pick from (:func:`.builder.desk_lists`), named
    after the first field that uses it."""
    lists = desk_lists()
    seen: dict[str, str] = {}
    for name in fields:
        key = suggestion_key(name)
        if key is not None and key not in seen:
            seen[key] = "Yes / no" if key == "bool" else FIELD_LABELS.get(name, name)
    return [OptionGroup(key, label, lists[key]) for key, label in seen.items()]


def _indices(form: Mapping[str, Any], pattern: re.Pattern[str]) -> list[int]:
    """The row numbers of ``pattern``'s inputs in ``form``, in order (rows past
    :data:`MAX_ROWS` are left out, so their inputs are refused as unknown)."""
    found = {int(m.group(1)) for k in form if (m := pattern.match(k))}
    return sorted(i for i in found if i < MAX_ROWS)


def _row_inputs(form: Mapping[str, Any], pattern: re.Pattern[str]) -> list[str]:
    return [k for k in form if (m := pattern.match(k)) and int(m.group(1)) < MAX_ROWS]


# ---------------------------------------------------------------------------- conditions
class _Absent:
    """A condition without a value (``is_null``)."""


ABSENT = _Absent()


def _read_value(name: str, operator: str, choice: str, text: str) -> Any:
    if operator in ("is_null", "is_not_null"):
        return ABSENT
    if operator in ("in", "not_in"):
        items: list[str] = []
        for part in ([choice] if choice else []) + text.split(","):
            part = part.strip()
            if part and part not in items:
                items.append(part)
        return [scalar(name, v) for v in items]
    raw = text.strip() or choice
    return None if raw == "" else scalar(name, raw)


def read_conditions(form: MultiDict[str, str]) -> tuple[Any, list[str], dict[str, int],
                                                        str | None]:
    """The condition group the rows (or the JSON text) say: ``(group, consumed input names,
    item path -> row, JSON error)``."""
    consumed = [k for k in form if k in _COND_CHROME or _COND_GROUP.match(k)]
    consumed += _row_inputs(form, _COND_ROW)
    text = (form.get("cond-json") or "").strip()
    if text:
        try:
            return json.loads(text), consumed, {}, None
        except ValueError as exc:
            return text, consumed, {}, f"is not valid JSON ({exc})"
    top_key = form.get("cond-match") or "all"
    indices = _indices(form, _COND_ROW)
    top: list[Any] = []
    subgroups: dict[str, tuple[int, str, list[Any]]] = {}
    paths: dict[str, int] = {}
    for i in indices:
        name = (form.get(f"cond-{i}-field") or "").strip()
        if not name:
            continue
        operator = form.get(f"cond-{i}-operator") or "eq"
        item: dict[str, Any] = {"field": name, "operator": operator}
        value = _read_value(name, operator, form.get(f"cond-{i}-choice") or "",
                            form.get(f"cond-{i}-value") or "")
        if value is not ABSENT:
            item["value"] = value
        gid = (form.get(f"cond-{i}-group") or "").strip()
        if not gid:
            paths[f".{top_key}[{len(top)}]"] = i
            top.append(item)
            continue
        if gid not in subgroups:
            match = form.get(f"cond-group-{gid}-match") or "all"
            subgroups[gid] = (len(top), match, [])
            top.append({match: subgroups[gid][2]})
        at, match, items = subgroups[gid]
        paths[f".{top_key}[{at}].{match}[{len(items)}]"] = i
        items.append(item)
    return {top_key: top}, consumed, paths, None


def _value_inputs(name: str, value: Any) -> tuple[str, str]:
    """``(choice, text)`` showing ``value``."""
    if isinstance(value, list):
        return "", condition_text(value)
    key = suggestion_key(name)
    text = condition_text(value)
    if key is not None and any(o.value == text for o in desk_lists()[key]):
        return text, ""
    return "", text


def _rows_of(group: Mapping[str, Any]) -> tuple[str, list[tuple[str, str]],
                                                list[ConditionRow]] | None:
    """The rows showing ``group``, or None when it nests deeper than rows can."""
    if not isinstance(group, Mapping) or len(group) != 1:
        return None
    top_key, items = next(iter(group.items()))
    if not isinstance(items, list):
        return None
    groups: list[tuple[str, str]] = []
    rows: list[ConditionRow] = []

    def row(item: Any, gid: str) -> bool:
        if not isinstance(item, Mapping) or set(item) & {"all", "any"}:
            return False
        name = str(item.get("field") or "")
        choice, text = _value_inputs(name, item.get("value"))
        rows.append(ConditionRow(len(rows), gid, name, str(item.get("operator") or ""),
                                 choice, text))
        return True

    for item in items:
        if isinstance(item, Mapping) and len(item) == 1 and set(item) <= {"all", "any"}:
            match, sub = next(iter(item.items()))
            gid = str(len(groups) + 1)
            groups.append((gid, str(match)))
            if not isinstance(sub, list) or not sub or not all(row(s, gid) for s in sub):
                return None
        elif not row(item, ""):
            return None
    return str(top_key), groups, rows


def _as_form(match: str, groups: Sequence[tuple[str, str]],
             rows: Sequence[ConditionRow]) -> MultiDict[str, str]:
    pairs = [("cond-match", match)] + [(f"cond-group-{gid}-match", m) for gid, m in groups]
    for r in rows:
        pairs += [(f"cond-{r.index}-group", r.group), (f"cond-{r.index}-field", r.field),
                  (f"cond-{r.index}-operator", r.operator),
                  (f"cond-{r.index}-choice", r.choice), (f"cond-{r.index}-value", r.value)]
    return MultiDict(pairs)


def _stored_conditions(group: Any) -> tuple[str, list[tuple[str, str]], list[ConditionRow],
                                            str | None]:
    """Rows for a stored group, or its JSON when the rows would not say exactly the same."""
    if not group:
        return "all", [], [], None
    shown = _rows_of(group)
    if shown is not None and len(shown[2]) <= MAX_ROWS - SPARE_CONDITIONS:
        match, groups, rows = shown
        if read_conditions(_as_form(match, groups, rows))[0] == group:
            return match, groups, rows, None
    return "all", [], [], json.dumps(group, indent=2, ensure_ascii=False)


def _typed_conditions(form: MultiDict[str, str]) -> tuple[str, list[tuple[str, str]],
                                                          list[ConditionRow], str | None]:
    """The rows as they were posted (kept beside the error)."""
    indices = _indices(form, _COND_ROW)
    rows = [ConditionRow(n, form.get(f"cond-{i}-group") or "",
                         form.get(f"cond-{i}-field") or "",
                         form.get(f"cond-{i}-operator") or "eq",
                         form.get(f"cond-{i}-choice") or "", form.get(f"cond-{i}-value") or "")
            for n, i in enumerate(indices)]
    gids = sorted({m.group(1) for k in form if (m := _COND_GROUP.match(k))}, key=int)
    groups = [(gid, form.get(f"cond-group-{gid}-match") or "all") for gid in gids]
    text = form.get("cond-json") or ""
    return form.get("cond-match") or "all", groups, rows, text if text.strip() else None


# ---------------------------------------------------------------------------- actions
def _read_action(kind: str, form: MultiDict[str, str], i: int) -> dict[str, Any]:
    def get(name: str) -> str:
        return form.get(f"act-{i}-{name}") or ""

    choice, text = get("choice"), get("text").replace("\r\n", "\n")
    if kind in CHOICE_ACTIONS:
        value: Any = choice or text.strip()
    elif kind in TAG_ACTIONS:
        value = get("tag").strip()
    elif kind in TEXT_ACTIONS:
        value = text
    elif kind == "notify_email":
        value = {"to": get("to").strip() or "assignee", "subject": get("subject").strip(),
                 "body": text}
    elif kind == "notify_webhook":
        value = {"url": get("url").strip()}
    elif kind in ACTION_TYPES:
        value = None
    else:
        value = choice or text or None
    return {"type": kind, "value": value}


def read_actions(form: MultiDict[str, str]) -> tuple[list[dict[str, Any]], list[str],
                                                     dict[str, int]]:
    """The actions the rows say: ``(actions, consumed input names, item path -> row)``."""
    consumed = _row_inputs(form, _ACT_ROW)
    indices = _indices(form, _ACT_ROW)
    actions: list[dict[str, Any]] = []
    paths: dict[str, int] = {}
    for i in indices:
        kind = (form.get(f"act-{i}-type") or "").strip()
        if kind:
            paths[f"actions[{len(actions)}]"] = i
            actions.append(_read_action(kind, form, i))
    return actions, consumed, paths


def _action_row(index: int, action: Any) -> ActionRow:
    if not isinstance(action, Mapping):
        return ActionRow(index, text=json.dumps(action))
    kind, value = str(action.get("type") or ""), action.get("value")
    row = ActionRow(index, kind)
    if kind in CHOICE_ACTIONS:
        text = condition_text(value)
        if any(o.value == text for o in desk_lists()[CHOICE_ACTIONS[kind]]):
            row.choice = text
        else:
            row.text = text
    elif kind == "notify_email" and isinstance(value, Mapping):
        row.to, row.subject = condition_text(value.get("to")), condition_text(value.get("subject"))
        row.text = condition_text(value.get("body"))
    elif kind == "notify_webhook" and isinstance(value, Mapping):
        row.url = condition_text(value.get("url"))
    elif kind in TAG_ACTIONS and isinstance(value, str):
        row.tag = value
    elif value is not None:
        row.text = value if isinstance(value, str) else json.dumps(value)
    return row


def _typed_actions(form: MultiDict[str, str]) -> list[ActionRow]:
    indices = _indices(form, _ACT_ROW)
    return [ActionRow(n, *(form.get(f"act-{i}-{name}") or "" for name in
                           ("type", "choice", "tag", "text", "to", "subject", "url")))
            for n, i in enumerate(indices)]


# ---------------------------------------------------------------------------- the page
def read() -> tuple[dict[str, Any], list[str]]:
    """``extra_input`` of a rule's form: the ``conditions`` and ``actions`` its rows say (and
    the inputs they consumed); every kind reads alike, the service says which action types a
    kind takes. The item paths are kept for :func:`editors`."""
    form = request.form
    group, used, cond_paths, json_error = read_conditions(form)
    actions, act_used, act_paths = read_actions(form)
    g._escalated_builder = {"conditions": cond_paths, "actions": act_paths,
                            "json_error": json_error}
    return {"conditions": group, "actions": actions}, used + act_used


def _split_error(message: str | None) -> tuple[str | None, str | None]:
    """``("<path>", "<reason>")`` of a service's ``"<path>: <reason>"`` field text."""
    if not message:
        return None, None
    m = _ERROR_PATH.match(message)
    return (m.group(1), m.group(2)) if m else (None, message)


def row_errors(errors: Mapping[str, str], name: str, paths: Mapping[str, int]
                ) -> tuple[dict[int, str], str | None]:
    """Errors of ``name`` (``conditions``/``actions``) per row, and the rest."""
    rows: dict[int, str] = {}
    loose: list[str] = []
    for key, message in errors.items():
        if key == name:
            path, reason = _split_error(message)
            if path is not None and name == "conditions":
                path = path.removeprefix("conditions")
            if path is not None and name == "actions" and path.startswith("["):
                path = name + path  # "[2]: ..." names the action too
            if path is not None and path in paths:
                rows[paths[path]] = reason or message
            else:
                loose.append(message)
        elif key.startswith(name + "[") or key.startswith(name + "."):
            m = re.match(rf"^{name}(\[\d+\])", key)
            path = f"{name}{m.group(1)}" if m else None
            if path is not None and path in paths:
                rows[paths[path]] = f"{key[len(path) + 1:] or 'value'}: {message}"
            else:
                loose.append(f"{key}: {message}")
    return rows, "; ".join(loose) or None


@dataclass
class Editors:
    conditions: ConditionEditor
    actions: ActionEditor
    #: The form's errors for its summary, the builder's named by row ("Condition 2").
    errors: dict[str, str]

    #: How ``admin/builder_form.html`` draws it (``builder.Builder`` is the "tree").
    layout = "table"


def _summary(errors: Mapping[str, str], condition: ConditionEditor,
             action: ActionEditor) -> dict[str, str]:
    out = {k: v for k, v in errors.items()
           if not k.startswith(("conditions", "actions"))}
    out.update({f"Condition {r.index + 1}": r.error for r in condition.rows if r.error})
    if condition.error:
        out["Conditions"] = condition.error
    out.update({f"Action {a.index + 1}": a.error for a in action.rows if a.error})
    if action.error:
        out["Actions"] = action.error
    return out


def editors(kind: str, stored: Mapping[str, Any] | None,
            errors: Mapping[str, str]) -> Editors:
    """The condition and action editors of a rule's page: the stored rule (or a blank one)
    with a few blank rows, or, after a refused post, the rows as typed with each error beside
    its row."""
    cat = catalogue(kind)
    fields = [o.value for o in cat.fields]
    posted = request.method == "POST" and ("cond-match" in request.form
                                           or "cond-json" in request.form)
    stash: dict[str, Any] = g.get(_STASH) or {}
    if posted:
        match, groups, rows, text = _typed_conditions(request.form)
        act_rows = _typed_actions(request.form)
        # the rows are shown renumbered from 0 in posted order: so are the paths' rows
        order = {i: n for n, i in enumerate(_indices(request.form, _COND_ROW))}
        cond_paths = {p: order[i] for p, i in stash.get("conditions", {}).items()}
        act_order = {i: n for n, i in enumerate(_indices(request.form, _ACT_ROW))}
        act_paths = {p: act_order[i] for p, i in stash.get("actions", {}).items()}
    else:
        stored = stored or {}
        match, groups, rows, text = _stored_conditions(stored.get("conditions"))
        act_rows = [_action_row(n, a) for n, a in enumerate(stored.get("actions") or [])]
        cond_paths, act_paths = {}, {}
    cond_errors, cond_loose = row_errors(errors, "conditions", cond_paths)
    act_errors, act_loose = row_errors(errors, "actions", act_paths)
    if stash.get("json_error"):
        cond_loose = f"JSON {stash['json_error']}"
    as_json = text is not None
    # posted rows already hold their blanks: add one only when none is left
    spare_rows = (0 if any(not r.field for r in rows) else 1) if posted else SPARE_CONDITIONS
    spare_actions = (0 if any(not a.type for a in act_rows) else 1) if posted \
        else SPARE_ACTIONS
    if not as_json:
        rows = rows + [ConditionRow(len(rows) + n) for n in range(spare_rows)]
        used = len(groups)
        groups = groups + [(str(used + n + 1), "all")
                           for n in range(0 if posted else SPARE_GROUPS)]
    for r in rows:
        r.error = cond_errors.get(r.index)
    act_rows = act_rows + [ActionRow(len(act_rows) + n) for n in range(spare_actions)]
    for a in act_rows:
        a.error = act_errors.get(a.index)
    kinds = {n: conditions.FIELDS[n].kind for n in fields}
    condition = ConditionEditor(
        match=match, groups=groups, rows=rows, json=text or "", as_json=as_json,
        fields=list(cat.fields),
        operators=[Option(o, label) for o, label in OPERATOR_LABELS.items()],
        kinds=kinds, operator_kinds={k: list(ops) for k, ops in conditions.OPERATORS.items()},
        list_keys={n: key for n in fields if (key := suggestion_key(n)) is not None},
        choices=_condition_choices(fields), error=cond_loose)
    lists = desk_lists()
    action = ActionEditor(
        rows=act_rows, types=list(cat.actions),
        choices=[OptionGroup(key, label, lists[key]) for key, label in
                 (("status", "Status"), ("priority", "Priority"), ("agent", "Agent"),
                  ("department", "Department"))],
        tags=[o.label for o in lists["tag"]], error=act_loose)
    return Editors(condition, action, _summary(errors, condition, action))


def describe(group: Any) -> str:
    """A one-line reading of a condition group for a list ("all of 3 conditions")."""
    if not isinstance(group, Mapping) or len(group) != 1:
        return "—"
    key, items = next(iter(group.items()))
    count = len(items) if isinstance(items, list) else 0
    if not count:
        return "every ticket"
    if count == 1 and isinstance(items[0], Mapping) and "field" in items[0]:
        item = items[0]
        label = FIELD_LABELS.get(str(item.get("field")), str(item.get("field")))
        op = OPERATOR_LABELS.get(str(item.get("operator")), str(item.get("operator")))
        value = item.get("value")
        shown = condition_text(value)
        return f"{label} {op} {shown}".strip()
    return f"{key} of {count} conditions"


def page_context(kind: str, stored: Mapping[str, Any] | None) -> dict[str, Any]:
    """The form page's ``builder`` and ``builder_summary`` (see :class:`.rules.RuleEditor`):
    both read the one :class:`Editors` made for the page's errors."""
    made: dict[str, Editors] = {}

    def page(errors: Mapping[str, str]) -> Editors:
        if "editors" not in made:
            made["editors"] = editors(kind, stored, errors)
        return made["editors"]

    return {"builder": page, "builder_summary": lambda errors: page(errors).errors}
