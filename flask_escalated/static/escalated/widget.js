/* flask-escalated support widget. Embed with one tag:
 *   <script src="https://help.example.com/support/widget/embed.js" async></script>
 * Optional attributes: data-base-url (default: where this script came from),
 * data-position="left". No cookies; a guest token per ticket is kept in localStorage.
 * Everything shown is set with textContent, except message bodies: those come as HTML the
 * server sanitized (body_html), are parsed inert and rebuilt from an allow-list (see rich()). */
(function () {
  "use strict";
  var script = document.currentScript;
  if (!script || window.__escalatedWidget) { return; }
  window.__escalatedWidget = true;
  var base = script.getAttribute("data-base-url") || script.src.replace(/\/embed\.js(\?.*)?$/, "");
  var left = script.getAttribute("data-position") === "left";
  var STORE = "escalated-widget-tickets";

  function el(tag, props, children) {
    var node = document.createElement(tag);
    Object.keys(props || {}).forEach(function (k) {
      if (k === "text") { node.textContent = props[k]; }
      else if (k === "on") { Object.keys(props.on).forEach(function (e) { node.addEventListener(e, props.on[e]); }); }
      else { node.setAttribute(k, props[k]); }
    });
    (children || []).forEach(function (c) { if (c) { node.appendChild(c); } });
    return node;
  }
  function api(method, path, body) {
    return fetch(base + path, {
      method: method, credentials: "omit",
      headers: body ? { "Content-Type": "application/json" } : {},
      body: body ? JSON.stringify(body) : undefined
    }).catch(function () {
      // No answer this page may read: the helpdesk is down, or (most often) this site is not
      // among the origins it serves. Tell the visitor plainly and the site's owner precisely.
      if (window.console) {
        console.warn("Support widget: " + base + " did not answer this page. If this site is new, " +
          "the helpdesk's admin must list " + location.origin + " in its widget_origins setting.");
      }
      throw new Error("Support cannot be reached from this page right now.");
    }).then(function (r) {
      return r.json().catch(function () { return {}; }).then(function (data) {
        if (!r.ok) {
          var msg = (data.error && data.error.message) || "Something went wrong (" + r.status + ").";
          if (r.status === 429) { msg = "Too many requests. Please wait a moment and try again."; }
          throw new Error(msg);
        }
        return data;
      });
    });
  }
  /* A message body. The server sends it sanitized (the same Markdown renderer and sanitizer as
   * its own pages); here it is still never assigned as markup: DOMParser builds an inert
   * document (no script runs, nothing loads) and only allow-listed tags and attributes are
   * copied into the page, with http(s)/mailto URLs resolved against the helpdesk, links
   * opening in a new tab. Without body_html (an older server) the text is shown as text. */
  var TAGS = ("a abbr b blockquote br code dd del div dl dt em h1 h2 h3 h4 h5 h6 hr i img kbd li ol p pre " +
              "s small span strong sub sup table tbody td tfoot th thead tr u ul").split(" ");
  var DROP = ["script", "style", "template", "iframe", "object", "embed", "noscript", "title", "svg", "math"];
  var ATTRS = ["href", "src", "alt", "title", "colspan", "rowspan", "scope", "start", "width", "height"];
  function safeUrl(value) {
    try {
      var url = new URL(value, base + "/");
      return /^(https?|mailto):$/.test(url.protocol) ? url.href : null;
    } catch (e) { return null; }
  }
  function rebuild(from, into) {
    Array.prototype.forEach.call(from.childNodes, function (node) {
      if (node.nodeType === 3) { into.appendChild(document.createTextNode(node.nodeValue)); return; }
      if (node.nodeType !== 1) { return; }
      var tag = node.tagName.toLowerCase();
      if (DROP.indexOf(tag) >= 0) { return; }
      if (TAGS.indexOf(tag) < 0) { rebuild(node, into); return; }
      var copy = document.createElement(tag);
      Array.prototype.forEach.call(node.attributes, function (attr) {
        var name = attr.name.toLowerCase(), value = attr.value;
        if (ATTRS.indexOf(name) < 0) { return; }
        if (name === "href" || name === "src") { value = safeUrl(value); if (!value) { return; } }
        copy.setAttribute(name, value);
      });
      if (tag === "a") { copy.setAttribute("target", "_blank"); copy.setAttribute("rel", "noopener noreferrer nofollow"); }
      rebuild(node, copy);
      into.appendChild(copy);
    });
  }
  function rich(html, text) {
    if (typeof html !== "string") { return el("div", { "class": "esc-w-body esc-w-plain", text: text || "" }); }
    var box = el("div", { "class": "esc-w-body" });
    rebuild(new DOMParser().parseFromString(html, "text/html").body, box);
    return box;
  }
  function saved() { try { return JSON.parse(localStorage.getItem(STORE) || "[]"); } catch (e) { return []; } }
  function remember(token, reference) {
    var list = saved().filter(function (t) { return t.token !== token; });
    list.unshift({ token: token, reference: reference });
    try { localStorage.setItem(STORE, JSON.stringify(list.slice(0, 10))); } catch (e) { /* private mode */ }
  }

  var css = ".esc-w{position:fixed;bottom:20px;" + (left ? "left" : "right") + ":20px;z-index:2147483000;font:14px/1.4 system-ui,sans-serif;color:#1f2937}" +
    ".esc-w button{font:inherit;cursor:pointer}.esc-w-launch{border:0;border-radius:24px;padding:12px 18px;color:#fff;box-shadow:0 4px 12px rgba(0,0,0,.2)}" +
    ".esc-w-panel{width:340px;max-width:calc(100vw - 40px);max-height:70vh;overflow:auto;background:#fff;border-radius:10px;box-shadow:0 8px 30px rgba(0,0,0,.25);margin-bottom:10px;padding:14px}" +
    ".esc-w-tabs{display:flex;gap:6px;margin-bottom:10px}.esc-w-tabs button{flex:1;border:1px solid #d1d5db;background:#f9fafb;border-radius:6px;padding:6px}" +
    ".esc-w-tabs button[aria-selected=true]{background:#fff;border-color:#6b7280;font-weight:600}" +
    ".esc-w label{display:block;margin:8px 0 2px;font-weight:600}.esc-w input,.esc-w textarea,.esc-w select{width:100%;box-sizing:border-box;border:1px solid #d1d5db;border-radius:6px;padding:6px;font:inherit}" +
    ".esc-w .esc-w-go{margin-top:10px;border:0;border-radius:6px;padding:8px 12px;color:#fff}.esc-w-msg{margin:8px 0;padding:6px;border-radius:6px;background:#f3f4f6}" +
    ".esc-w-err{background:#fee2e2;color:#991b1b}.esc-w-reply{border-top:1px solid #e5e7eb;padding:6px 0}.esc-w-reply b{display:block}" +
    ".esc-w-body{overflow-wrap:anywhere}.esc-w-body p{margin:.2em 0}.esc-w-body img{max-width:100%;height:auto}.esc-w-body pre{white-space:pre-wrap}.esc-w-plain{white-space:pre-wrap}";
  document.head.appendChild(el("style", { text: css }));

  var colour = "#2563eb";
  var root = el("div", { "class": "esc-w" });
  var panel = el("div", { "class": "esc-w-panel", role: "dialog", "aria-label": "Support" });
  panel.hidden = true;
  var launch = el("button", { "class": "esc-w-launch", type: "button", "aria-expanded": "false", text: "Help" });
  root.appendChild(panel);
  root.appendChild(launch);
  document.body.appendChild(root);
  launch.addEventListener("click", function () {
    panel.hidden = !panel.hidden;
    launch.setAttribute("aria-expanded", String(!panel.hidden));
  });

  function message(text, error) { return el("p", { "class": "esc-w-msg" + (error ? " esc-w-err" : ""), role: error ? "alert" : "status", text: text }); }
  function field(label, input) { var id = "esc-w-" + Math.random().toString(36).slice(2); input.id = id; return el("div", {}, [el("label", { "for": id, text: label }), input]); }
  function go(text) { var b = el("button", { "class": "esc-w-go", type: "submit", text: text }); b.style.background = colour; return b; }
  function fail(box) { return function (err) { box.appendChild(message(err.message, true)); }; }

  var body = el("div");
  var tabs = el("div", { "class": "esc-w-tabs", role: "tablist" });
  var views = {};
  function show(name) {
    Array.prototype.forEach.call(tabs.children, function (b) { b.setAttribute("aria-selected", String(b.dataset.view === name)); });
    body.textContent = "";
    body.appendChild(views[name]());
  }
  function tab(name, label) {
    var b = el("button", { type: "button", role: "tab", text: label, on: { click: function () { show(name); } } });
    b.dataset.view = name;
    tabs.appendChild(b);
  }
  panel.appendChild(tabs);
  panel.appendChild(body);

  views.search = function () {
    var box = el("div"), q = el("input", { type: "search", maxlength: "200" }), out = el("div");
    var form = el("form", { on: { submit: function (e) {
      e.preventDefault(); out.textContent = "";
      api("GET", "/kb/search?q=" + encodeURIComponent(q.value)).then(function (data) {
        if (!data.data.length) { out.appendChild(message("No articles found.")); }
        data.data.forEach(function (a) {
          out.appendChild(el("p", {}, [el("a", { href: a.url, target: "_blank", rel: "noopener", text: a.title }), el("br"), el("span", { text: a.snippet || "" })]));
        });
      }).catch(fail(out));
    } } }, [field("Search our help articles", q), go("Search")]);
    box.appendChild(form); box.appendChild(out);
    return box;
  };

  /* The customer-editable custom fields (config.custom_fields), rendered as the portal renders
   * them (a box per field carrying its display conditions) so fields.js shows and hides them. */
  function customFields() {
    return (config.custom_fields || []).map(function (f) {
      var name = "cf." + f.key, input;
      if (f.type === "checkbox") {
        input = el("input", { type: "checkbox", name: name, value: "true" });
        input.style.width = "auto";
        var box = el("div", { "data-cf-key": f.key, "data-cf-conditions": JSON.stringify(f.conditions || []) },
          [el("label", {}, [input, document.createTextNode(" " + f.label)])]);
        return box;
      }
      if (f.type === "select" || f.type === "multi_select") {
        input = el("select", { name: name }, f.type === "select" ? [el("option", { value: "", text: "—" })] : []);
        if (f.type === "multi_select") { input.multiple = true; }
        (f.options || []).forEach(function (o) { input.appendChild(el("option", { value: o.value, text: o.label })); });
      } else if (f.type === "textarea") {
        input = el("textarea", { name: name, rows: "3" });
      } else {
        input = el("input", { name: name, type: { number: "number", date: "date" }[f.type] || "text" });
        if (f.type === "number") { input.step = "any"; }
      }
      var row = field(f.label + (f.required ? " *" : ""), input);
      row.setAttribute("data-cf-key", f.key);
      row.setAttribute("data-cf-conditions", JSON.stringify(f.conditions || []));
      return row;
    });
  }
  /* {key: value} of the shown custom fields (a hidden field's inputs are disabled). */
  function customValues(form) {
    var out = {};
    Array.prototype.forEach.call(form.querySelectorAll("[data-cf-key]"), function (box) {
      var key = box.getAttribute("data-cf-key");
      var input = box.querySelector("input, select, textarea");
      if (!input || input.disabled) { return; }
      if (input.type === "checkbox") { if (input.checked) { out[key] = true; } return; }
      if (input.multiple) {
        var chosen = Array.prototype.filter.call(input.options, function (o) { return o.selected; }).map(function (o) { return o.value; });
        if (chosen.length) { out[key] = chosen; }
        return;
      }
      if (input.value !== "") { out[key] = input.value; }
    });
    return out;
  }

  views.contact = function () {
    var box = el("div"), out = el("div");
    var name = el("input", { maxlength: "255", autocomplete: "name" });
    var email = el("input", { type: "email", maxlength: "320", autocomplete: "email", required: "" });
    var subject = el("input", { maxlength: "500", required: "" });
    var text = el("textarea", { rows: "4", required: "" });
    var dept = el("select", {}, [el("option", { value: "", text: "Not sure" })]);
    var code = el("input", { inputmode: "numeric", maxlength: "8" });
    var codeRow = field("Code we e-mailed you", code); codeRow.hidden = true;
    var challenge = null;
    (config.departments || []).forEach(function (d) { dept.appendChild(el("option", { value: String(d.id), text: d.name })); });
    var form = el("form", { on: { submit: function (e) {
      e.preventDefault(); out.textContent = "";
      var payload = { name: name.value, email: email.value, subject: subject.value, description: text.value,
                      department_id: dept.value ? Number(dept.value) : null, custom_fields: customValues(form) };
      if (config.mailbox_proof && !challenge) {
        api("POST", "/verify", { email: email.value }).then(function (data) {
          challenge = data.verification_id; codeRow.hidden = false;
          out.appendChild(message("We sent a code to " + email.value + ". Enter it to send your message."));
        }).catch(fail(out));
        return;
      }
      if (challenge) { payload.verification_id = challenge; payload.verification_code = code.value; }
      api("POST", "/tickets", payload).then(function (data) {
        remember(data.token, data.data.reference);
        form.reset(); challenge = null; codeRow.hidden = true;
        out.appendChild(message("Thanks! Your request " + data.data.reference + " is open. Follow it under \u201cMy requests\u201d."));
      }).catch(fail(out));
    } } }, [field("Name", name), field("E-mail", email), field("Subject", subject), field("How can we help?", text),
           config.departments && config.departments.length ? field("Department", dept) : null]
      .concat(customFields(), [codeRow, go("Send")]));
    box.appendChild(form); box.appendChild(out);
    if (window.EscalatedFields) { window.EscalatedFields.bind(form); }
    return box;
  };

  views.status = function () {
    var box = el("div");
    var list = saved();
    if (!list.length) { box.appendChild(message("Requests you send from this browser appear here.")); }
    list.forEach(function (t) {
      box.appendChild(el("button", { type: "button", "class": "esc-w-go", text: t.reference, on: { click: function () { open(t.token, box); } } }));
    });
    return box;
  };

  function open(token, box) {
    box.textContent = "";
    api("GET", "/tickets/" + encodeURIComponent(token)).then(function (data) {
      var t = data.data;
      box.appendChild(el("h3", { text: t.reference + " \u2014 " + t.subject }));
      box.appendChild(message("Status: " + t.status.replace(/_/g, " ")));
      box.appendChild(el("div", { "class": "esc-w-reply" }, [el("b", { text: "You" }), rich(t.description_html, t.description)]));
      t.replies.forEach(function (r) {
        box.appendChild(el("div", { "class": "esc-w-reply" }, [el("b", { text: r.from === "you" ? "You" : "Support" }), rich(r.body_html, r.body)]));
      });
      var out = el("div");
      if (t.can_reply) {
        var reply = el("textarea", { rows: "3", required: "" });
        box.appendChild(el("form", { on: { submit: function (e) {
          e.preventDefault();
          api("POST", "/tickets/" + encodeURIComponent(token) + "/replies", { body: reply.value })
            .then(function () { open(token, box); }).catch(fail(out));
        } } }, [field("Reply", reply), go("Send reply")]));
      }
      if (t.can_rate) {
        var stars = el("select", {}, [5, 4, 3, 2, 1].map(function (n) { return el("option", { value: String(n), text: n + " \u2014 " + ["", "Terrible", "Poor", "Okay", "Good", "Excellent"][n] }); }));
        var comment = el("textarea", { rows: "2", maxlength: "2000" });
        box.appendChild(el("form", { on: { submit: function (e) {
          e.preventDefault();
          api("POST", "/tickets/" + encodeURIComponent(token) + "/rate", { rating: Number(stars.value), comment: comment.value })
            .then(function () { open(token, box); }).catch(fail(out));
        } } }, [field("How did we do?", stars), field("Comment (optional)", comment), go("Rate")]));
      } else if (t.rating) {
        box.appendChild(message("You rated this " + t.rating.rating + "/5. Thank you!"));
      }
      box.appendChild(out);
    }).catch(fail(box));
  }

  var config = {};
  api("GET", "/config").then(function (data) {
    config = data;
    colour = data.color || colour;
    launch.style.background = colour;
    launch.textContent = "Help";
    if (data.kb_enabled) { tab("search", "Search"); }
    tab("contact", "Contact us");
    tab("status", "My requests");
    show(data.kb_enabled ? "search" : "contact");
  }).catch(function () { launch.style.background = colour; tab("contact", "Contact us"); tab("status", "My requests"); show("contact"); });
})();
