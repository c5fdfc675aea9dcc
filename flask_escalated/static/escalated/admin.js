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
