/* Agent workspace enhancements. Every page works without this file: it only adds
 * select-all for bulk actions, Ctrl+Enter in the composer, a saved draft, the note/reply
 * look, the "Insert KB article" search and the canned-response type-ahead. No dependencies;
 * text goes into the page through textContent (or a textarea's value) only, never as HTML. */
(function () {
  "use strict";

  /* ------------------------------------------------------------ bulk selection */
  function rows(form) {
    return Array.prototype.slice.call(form.querySelectorAll("[data-select-row]"));
  }

  function syncBulk(form) {
    var all = form.querySelector("[data-select-all]");
    var boxes = rows(form);
    var checked = boxes.filter(function (b) { return b.checked; }).length;
    if (all) {
      all.checked = boxes.length > 0 && checked === boxes.length;
      all.indeterminate = checked > 0 && checked < boxes.length;
    }
    var count = form.querySelector("[data-bulk-count]");
    if (count) {
      count.textContent = checked ? checked + " selected" : "";
    }
  }

  document.addEventListener("change", function (event) {
    var target = event.target;
    var form = target.closest && target.closest("[data-bulk]");
    if (!form) { return; }
    if (target.matches("[data-select-all]")) {
      rows(form).forEach(function (b) { b.checked = target.checked; });
    }
    syncBulk(form);
  });

  /* A live refresh keeps the ticked rows (realtime.js); recount them. */
  document.addEventListener("escalated:updated", function () {
    Array.prototype.forEach.call(document.querySelectorAll("[data-bulk]"), syncBulk);
  });

  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (!form.matches || !form.matches("[data-bulk]")) { return; }
    if (!rows(form).some(function (b) { return b.checked; })) {
      event.preventDefault();
      var count = form.querySelector("[data-bulk-count]");
      if (count) { count.textContent = "Select at least one ticket first."; }
    }
  });

  /* ------------------------------------------------------------ composer */
  function setupComposer(form) {
    var textarea = form.querySelector("textarea[name=body]");
    var button = form.querySelector("[data-composer-submit]");
    var main = document.querySelector("main[data-ticket-id]");
    var key = main ? "escalated-draft-" + main.getAttribute("data-ticket-id") : null;
    if (!textarea) { return; }

    function mode() {
      var note = form.querySelector("input[name=kind][value=note]");
      var isNote = !!(note && note.checked);
      form.classList.toggle("esc-composer-note", isNote);
      if (button) { button.textContent = isNote ? "Add internal note" : "Send reply"; }
    }
    form.addEventListener("change", function (event) {
      if (event.target.name === "kind") { mode(); }
    });
    mode();

    try {
      if (key && !textarea.value && window.sessionStorage.getItem(key)) {
        textarea.value = window.sessionStorage.getItem(key);
      }
    } catch (e) { /* storage may be off */ }
    textarea.addEventListener("input", function () {
      try { if (key) { window.sessionStorage.setItem(key, textarea.value); } } catch (e) { /* */ }
    });

    textarea.addEventListener("keydown", function (event) {
      if (event.key === "Enter" && (event.ctrlKey || event.metaKey)) {
        event.preventDefault();
        if (form.requestSubmit) { form.requestSubmit(); } else { form.submit(); }
      }
    });

    form.addEventListener("submit", function () {
      // The properties panel may have been refreshed live since the page loaded: the agent
      // has seen the newer version, so answer against it.
      var panel = document.querySelector("[data-ticket-version]");
      var version = form.querySelector("input[name=version]");
      if (panel && version) { version.value = panel.getAttribute("data-ticket-version"); }
      try { if (key) { window.sessionStorage.removeItem(key); } } catch (e) { /* */ }
      if (button) { button.disabled = true; }
    });
  }

  /* ------------------------------------------------------------ KB insert */
  function markdownLink(title, url) {
    var text = String(title).replace(/([\\\[\]])/g, "\\$1");
    var href = String(url).replace(/ /g, "%20").replace(/\(/g, "%28").replace(/\)/g, "%29");
    return "[" + text + "](" + href + ")";
  }

  function safeUrl(url) {
    try {
      var parsed = new URL(url, window.location.href);
      return parsed.protocol === "http:" || parsed.protocol === "https:" ? parsed.href : null;
    } catch (e) { return null; }
  }

  function insertAtCursor(textarea, text) {
    var start = textarea.selectionStart || 0;
    var end = textarea.selectionEnd || start;
    var value = textarea.value;
    textarea.value = value.slice(0, start) + text + value.slice(end);
    textarea.focus();
    textarea.selectionStart = textarea.selectionEnd = start + text.length;
    textarea.dispatchEvent(new Event("input", { bubbles: true }));
  }

  function setupKb(box, textarea) {
    var endpoint = box.getAttribute("data-kb-search");
    var input = box.querySelector("input[type=search]");
    var list = box.querySelector("ul");
    var timer = null;
    var seq = 0;
    if (!endpoint || !input || !list || !textarea || !window.fetch) { return; }

    function get(q) {
      var sep = endpoint.indexOf("?") === -1 ? "?" : "&";
      return fetch(endpoint + sep + "q=" + encodeURIComponent(q), {
        credentials: "same-origin", headers: { "Accept": "application/json" }
      });
    }

    // The page renders the box only when a search can find something; it stays hidden
    // without the script, which it needs. No request until the agent types.
    box.hidden = false;

    function render(items) {
      list.textContent = "";
      items.forEach(function (item) {
        var url = safeUrl(item.url);
        if (!url || !item.title) { return; }
        var li = document.createElement("li");
        var button = document.createElement("button");
        button.type = "button";
        button.className = "esc-link-button";
        button.textContent = item.title;
        button.addEventListener("click", function () {
          insertAtCursor(textarea, markdownLink(item.title, url));
          list.textContent = "";
          input.value = "";
        });
        li.appendChild(button);
        if (item.snippet) {
          var snippet = document.createElement("span");
          snippet.className = "esc-meta";
          snippet.textContent = " " + item.snippet;
          li.appendChild(snippet);
        }
        list.appendChild(li);
      });
      if (!list.children.length && input.value.trim()) {
        var none = document.createElement("li");
        none.className = "esc-meta";
        none.textContent = "No articles found.";
        list.appendChild(none);
      }
    }

    function search() {
      var q = input.value.trim();
      var mine = ++seq;
      if (!q) { list.textContent = ""; return; }
      get(q).then(function (response) {
        if (response.status === 404) { box.hidden = true; return null; }
        return response.ok ? response.json() : null;
      }).then(function (body) {
        if (mine !== seq || !body) { return; }
        render(Array.isArray(body.data) ? body.data : []);
      }).catch(function () { /* leave the list as it is */ });
    }

    input.addEventListener("input", function () {
      window.clearTimeout(timer);
      timer = window.setTimeout(search, 250);
    });
    input.addEventListener("keydown", function (event) {
      if (event.key === "Enter") {
        // Enter searches (it must not send the reply around it).
        event.preventDefault();
        window.clearTimeout(timer);
        search();
      } else if (event.key === "ArrowDown") {
        var first = list.querySelector("button");
        if (first) { event.preventDefault(); first.focus(); }
      }
    });
  }

  /* ------------------------------------------------------------ canned responses */
  /* The picker's options are the responses this agent may use; typing filters them by title
   * or shortcut ("/refund"), and choosing one fetches its preview (rendered for this ticket)
   * and inserts the text at the cursor. The text is only ever a textarea's value. */
  function setupCanned(box, textarea) {
    var select = box.querySelector("select[name=canned_id]");
    var search = box.querySelector("[data-canned-search]");
    var input = search && search.querySelector("input[type=search]");
    var list = search && search.querySelector("ul");
    var insert = box.querySelector("[data-canned-insert]");
    if (!select || !input || !list || !textarea || !window.fetch) { return; }
    var options = Array.prototype.slice.call(select.options).filter(function (o) {
      return o.getAttribute("data-preview");
    });
    if (!options.length) { return; }
    search.hidden = false;

    function fetchInto(option) {
      return fetch(option.getAttribute("data-preview"), {
        credentials: "same-origin", headers: { "Accept": "application/json" }
      }).then(function (response) {
        return response.ok ? response.json() : null;
      }).then(function (body) {
        if (body && body.data && typeof body.data.body === "string") {
          insertAtCursor(textarea, body.data.body);
          return true;
        }
        return false;
      });
    }

    function matches(q) {
      var text = q.toLowerCase();
      var shortcut = text.charAt(0) === "/" ? text.slice(1) : null;
      return options.filter(function (o) {
        var sc = (o.getAttribute("data-shortcut") || "").toLowerCase();
        if (shortcut !== null) { return sc.indexOf(shortcut) === 0; }
        return o.textContent.toLowerCase().indexOf(text) !== -1 || sc.indexOf(text) === 0;
      }).slice(0, 10);
    }

    function choose(option) {
      fetchInto(option).then(function (done) {
        if (done) { list.textContent = ""; input.value = ""; }
      }).catch(function () { /* the Insert button still works */ });
    }

    function render() {
      var q = input.value.trim();
      list.textContent = "";
      if (!q) { return; }
      matches(q).forEach(function (option) {
        var li = document.createElement("li");
        var button = document.createElement("button");
        button.type = "button";
        button.className = "esc-link-button";
        button.textContent = option.textContent;
        button.addEventListener("click", function () { choose(option); });
        li.appendChild(button);
        list.appendChild(li);
      });
      if (!list.children.length) {
        var none = document.createElement("li");
        none.className = "esc-meta";
        none.textContent = "No canned response matches.";
        list.appendChild(none);
      }
    }

    input.addEventListener("input", render);
    input.addEventListener("keydown", function (event) {
      if (event.key === "Enter") {
        // Enter picks the first match (it must not submit the form around it).
        event.preventDefault();
        var first = matches(input.value.trim())[0];
        if (first) { choose(first); }
      } else if (event.key === "ArrowDown") {
        var button = list.querySelector("button");
        if (button) { event.preventDefault(); button.focus(); }
      }
    });
    if (insert) {
      // With JavaScript, "Insert" puts the chosen response at the cursor without a reload.
      insert.addEventListener("click", function (event) {
        var option = select.options[select.selectedIndex];
        if (!option || !option.getAttribute("data-preview")) { return; }
        event.preventDefault();
        fetchInto(option).catch(function () {
          // No answer: post the form to the insert view, as without JavaScript.
          if (insert.form.requestSubmit) { insert.form.requestSubmit(insert); }
        });
      });
    }
  }

  function init() {
    Array.prototype.forEach.call(document.querySelectorAll("[data-bulk]"), syncBulk);
    Array.prototype.forEach.call(document.querySelectorAll("[data-composer]"), function (form) {
      setupComposer(form);
      var box = form.querySelector("[data-kb-search]");
      if (box) { setupKb(box, form.querySelector("textarea[name=body]")); }
      var canned = form.querySelector("[data-canned]");
      if (canned) { setupCanned(canned, form.querySelector("textarea[name=body]")); }
    });
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", init);
  } else {
    init();
  }
})();
