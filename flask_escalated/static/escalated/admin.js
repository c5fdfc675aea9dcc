/* Admin console: small progressive extras. Every page works without this file; each block
   below only adds conveniences to markup that is complete on its own. */
(function () {
  "use strict";

  /* Renumber a cloned row's inputs: the row index is the first run of digits after the
     given prefix in each name / id / for / aria-describedby. */
  function renumber(node, pattern, index) {
    node.querySelectorAll("[name], [id], [for], [aria-describedby]").forEach(function (el) {
      ["name", "id", "for", "aria-describedby"].forEach(function (attr) {
        var value = el.getAttribute(attr);
        if (value) { el.setAttribute(attr, value.replace(pattern, "$1" + index + "$2")); }
      });
      if (el.matches("input, textarea")) { el.value = ""; }
      if (el.matches("select")) { el.selectedIndex = 0; }
      el.removeAttribute("aria-invalid");
    });
    node.querySelectorAll(".esc-error, .esc-schedule-overnight").forEach(function (el) {
      el.remove();
    });
  }

  function addButton(container, label, onClick) {
    var button = document.createElement("button");
    button.type = "button";
    button.className = "esc-button-secondary esc-add-row";
    button.textContent = label;
    button.addEventListener("click", onClick);
    container.appendChild(button);
    return button;
  }

  /* ---- business schedules: "add a shift" per weekday (sla.py / schedule_form.html) ---- */
  document.querySelectorAll("[data-schedule-day]").forEach(function (day) {
    var list = day.querySelector("[data-interval-list]");
    var name = day.getAttribute("data-schedule-day");
    var pattern = new RegExp("(hours\\." + name + "\\.)\\d+(\\.|$)", "g");
    var button = addButton(day, "Add a shift", function () {
      var rows = list.querySelectorAll("[data-interval]");
      if (rows.length >= 24) { button.disabled = true; return; }
      var copy = rows[rows.length - 1].cloneNode(true);
      renumber(copy, pattern, rows.length);
      copy.querySelectorAll("label").forEach(function (el) {
        el.textContent = el.textContent.replace(/shift \d+/, "shift " + (rows.length + 1));
      });
      list.appendChild(copy);
      copy.querySelector("input").focus();
    });
  });

  /* ---- rule builder: narrow choices to the row's field / type, add rows (escalation_builder.py: builder_macros.html, table layout) ---- */
  function json(el, attr) {
    try { return JSON.parse(el.getAttribute(attr) || "{}"); } catch (e) { return {}; }
  }

  function narrowChoices(select, key) {
    if (!select) { return; }
    select.querySelectorAll("optgroup").forEach(function (group) {
      var keep = group.getAttribute("data-list") === key;
      group.hidden = !keep;
      group.disabled = !keep;
    });
    var chosen = select.options[select.selectedIndex];
    if (chosen && chosen.parentNode.disabled) { select.selectedIndex = 0; }
  }

  function wireConditions(box) {
    var kinds = json(box, "data-field-kinds");
    var operators = json(box, "data-operator-kinds");
    var lists = json(box, "data-list-keys");
    function update(row) {
      var field = row.querySelector("[data-builder-field]");
      if (!field) { return; }
      var allowed = operators[kinds[field.value]] || null;
      var op = row.querySelector("[data-builder-operator]");
      Array.prototype.forEach.call(op.options, function (o) {
        var keep = !allowed || allowed.indexOf(o.value) >= 0;
        o.hidden = !keep;
        o.disabled = !keep;
      });
      if (op.options[op.selectedIndex] && op.options[op.selectedIndex].disabled) {
        var first = Array.prototype.find.call(op.options, function (o) { return !o.disabled; });
        if (first) { op.value = first.value; }
      }
      narrowChoices(row.querySelector("[data-builder-choice]"), lists[field.value]);
    }
    box.addEventListener("change", function (event) {
      if (event.target.matches("[data-builder-field]")) {
        update(event.target.closest("[data-builder-row]"));
      }
    });
    box.querySelectorAll("[data-builder-row]").forEach(update);
    var body = box.querySelector("[data-builder-rows]");
    if (body) {
      addButton(box.querySelector(".esc-table-wrap") || box, "Add a condition", function () {
        var rows = body.querySelectorAll("[data-builder-row]");
        var copy = rows[rows.length - 1].cloneNode(true);
        renumber(copy, /(cond-)\d+(-|$)/g, rows.length);
        body.appendChild(copy);
        update(copy);
      });
    }
  }

  function wireActions(box) {
    var uses = json(box, "data-action-uses");
    var lists = json(box, "data-list-keys");
    function update(row) {
      var type = row.querySelector("[data-builder-type]");
      var wanted = (uses[type.value] || "").split(" ");
      row.querySelectorAll("[data-uses]").forEach(function (el) {
        var own = el.getAttribute("data-uses").split(" ");
        el.hidden = type.value !== "" && !own.some(function (u) { return wanted.indexOf(u) >= 0; });
        if (el.tagName === "DETAILS" && !el.hidden && type.value) { el.open = true; }
      });
      narrowChoices(row.querySelector("[data-builder-choice]"), lists[type.value]);
    }
    box.addEventListener("change", function (event) {
      if (event.target.matches("[data-builder-type]")) {
        update(event.target.closest("[data-builder-row]"));
      }
    });
    box.querySelectorAll("[data-builder-row]").forEach(update);
    var list = box.querySelector("[data-builder-rows]");
    addButton(box, "Add an action", function () {
      var rows = list.querySelectorAll("[data-builder-row]");
      var copy = rows[rows.length - 1].cloneNode(true);
      renumber(copy, /(act-)\d+(-|$)/g, rows.length);
      copy.querySelector("label").textContent = "Action " + (rows.length + 1);
      list.appendChild(copy);
      update(copy);
    });
  }

  document.querySelectorAll("[data-builder=conditions]").forEach(wireConditions);
  document.querySelectorAll("[data-builder=actions]").forEach(wireActions);
})();

/* Admin console enhancements. Every page works without this file: each block below only
 * makes a form quicker to fill in. No dependencies; nothing is inserted as HTML. Sections keep
 * their code in their own clearly named block. */
(function () {
  "use strict";

  /* ------------------------------------------------------------ rule builder
   * (automations, workflows, macros: templates/escalated/admin/builder_macros.html)
   * Choosing a condition's field narrows its comparisons to the ones that field takes and
   * points its value's suggestions at the field's list; choosing an action does the same for
   * the action's value. The server still checks everything. */
  function builderSuggest(input, name) {
    if (!input || input.tagName !== "INPUT") { return; }
    if (name && document.getElementById("esc-dl-" + name)) {
      input.setAttribute("list", "esc-dl-" + name);
    } else {
      input.removeAttribute("list");
    }
  }

  function builderField(select, keepSelection) {
    var row = select.closest("[data-builder-row]");
    if (!row) { return; }
    var chosen = select.options[select.selectedIndex];
    var allowed = chosen && chosen.getAttribute("data-operators");
    var ops = row.querySelector("[data-builder-operator]");
    if (ops) {
      var names = allowed ? allowed.split(" ") : null;
      var firstAllowed = null;
      Array.prototype.forEach.call(ops.options, function (option) {
        var ok = !names || names.indexOf(option.value) !== -1;
        /* Never disable the selected option on load: a disabled option is not submitted. */
        option.disabled = !ok && !(keepSelection && option.selected);
        if (ok && firstAllowed === null) { firstAllowed = option; }
      });
      var current = ops.options[ops.selectedIndex];
      if (current && current.disabled && firstAllowed) { firstAllowed.selected = true; }
    }
    builderSuggest(row.querySelector("[data-builder-value]"),
                   chosen && chosen.getAttribute("data-suggest"));
  }

  function builderAction(select) {
    var row = select.closest("[data-builder-row]");
    var chosen = select.options[select.selectedIndex];
    if (row) {
      builderSuggest(row.querySelector("[data-builder-value]"),
                     chosen && chosen.getAttribute("data-suggest"));
    }
  }

  document.addEventListener("change", function (event) {
    var target = event.target;
    if (!target.matches) { return; }
    if (target.matches("[data-builder-field]")) { builderField(target, false); }
    if (target.matches("[data-builder-action]")) { builderAction(target); }
  });

  function builderInit() {
    Array.prototype.forEach.call(document.querySelectorAll("[data-builder-field]"),
                                 function (select) { builderField(select, true); });
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", builderInit);
  } else {
    builderInit();
  }
  /* ------------------------------------------------------------ end rule builder */
})();
