/* Custom fields' display conditions, live in the browser.
 *
 * The server renders each custom field in a box marked data-cf-key="<key>", with its conditions
 * (the rules the server enforces on submit) as JSON in data-cf-conditions, and its inputs named
 * cf.<key>. This script shows a field only while all its conditions hold, re-checking as the
 * controlling fields change, and disables the inputs of a hidden field so that no value is
 * posted for it (the server refuses one). The evaluation follows custom_fields._holds and
 * visible_keys: a hidden field's value counts as empty, a ticked checkbox reads "true" and an
 * unticked one is empty (as the form posts them).
 *
 * Progressive: without this script every field is shown and the server names any field that
 * does not apply. No dependencies. The widget's embed script carries it too, and binds its own
 * form (window.EscalatedFields.bind): the host's page is left alone.
 */
(function () {
  "use strict";
  if (window.EscalatedFields) return;

  function inputsOf(box, key) {
    return Array.prototype.filter.call(box.querySelectorAll("input, select, textarea"), function (el) {
      return el.name === "cf." + key;
    });
  }

  /* The value the server would read from the box's inputs (null: empty). */
  function valueOf(box, key) {
    var inputs = inputsOf(box, key);
    if (!inputs.length) return null;
    var first = inputs[0];
    if (first.type === "checkbox") return first.checked ? true : null;
    if (first.tagName === "SELECT" && first.multiple) {
      var chosen = Array.prototype.filter.call(first.options, function (o) { return o.selected && o.value; })
        .map(function (o) { return o.value; });
      return chosen.length ? chosen : null;
    }
    var text = first.value.trim();
    if (text === "") return null;
    if (first.type === "number" && isFinite(Number(text))) return String(Number(text));
    return text;
  }

  function holds(cond, current) {
    var empty = current === null || current === undefined || current === "" ||
      (Array.isArray(current) && !current.length);
    if (cond.operator === "is_empty") return empty;
    if (cond.operator === "is_not_empty") return !empty;
    var values = Array.isArray(current) ? current
      : typeof current === "boolean" ? [current ? "true" : "false"]
      : empty ? [] : [String(current)];
    var wanted = cond.value;
    if (cond.operator === "equals") return values.indexOf(wanted) >= 0;
    if (cond.operator === "not_equals") return values.indexOf(wanted) < 0;
    return values.some(function (v) { return String(v).indexOf(wanted) >= 0; }); /* contains */
  }

  /* {key: [conditions]} and {key: value} to the set of keys shown (an object used as a set). */
  function visibleKeys(conditions, values) {
    var memo = {};
    function shown(key) {
      if (!(key in memo)) {
        memo[key] = false; /* cycles are refused when the fields are saved; guard anyway */
        memo[key] = key in conditions && conditions[key].every(function (c) {
          return holds(c, shown(c.field) ? values[c.field] : null);
        });
      }
      return memo[key];
    }
    var out = {};
    Object.keys(conditions).forEach(function (key) { if (shown(key)) out[key] = true; });
    return out;
  }

  function parse(text) {
    try {
      var found = JSON.parse(text || "[]");
      return Array.isArray(found) ? found : [];
    } catch (e) {
      return [];
    }
  }

  /* Keep the fields inside ``root`` (a form) shown or hidden as their conditions change. */
  function bind(root) {
    var boxes = Array.prototype.slice.call(root.querySelectorAll("[data-cf-key]"));
    if (!boxes.length || root.__escalatedFields) return;
    root.__escalatedFields = true;
    var conditions = {};
    boxes.forEach(function (box) { conditions[box.getAttribute("data-cf-key")] = parse(box.getAttribute("data-cf-conditions")); });
    if (!boxes.some(function (box) { return conditions[box.getAttribute("data-cf-key")].length; })) return;

    function refresh() {
      var values = {};
      boxes.forEach(function (box) { var key = box.getAttribute("data-cf-key"); values[key] = valueOf(box, key); });
      var shown = visibleKeys(conditions, values);
      boxes.forEach(function (box) {
        var key = box.getAttribute("data-cf-key");
        var hide = !shown[key];
        if (box.hidden === hide) return;
        box.hidden = hide;
        inputsOf(box, key).forEach(function (el) { el.disabled = hide; });
      });
    }
    root.addEventListener("change", refresh);
    root.addEventListener("input", refresh);
    refresh();
  }

  function bindAll() {
    Array.prototype.forEach.call(document.querySelectorAll("form"), bind);
  }

  window.EscalatedFields = { bind: bind, holds: holds, visibleKeys: visibleKeys };
  var own = document.currentScript;
  if (!own || !/\/fields\.js(\?|$)/.test(own.src)) return; /* carried by the widget */
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", bindAll);
  else bindAll();
})();
