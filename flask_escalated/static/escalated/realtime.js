/* Escalated live updates. No dependencies.
 *
 * A page opts in with <main data-live-channels="escalated.tickets.42" data-ticket-id="42">.
 * With <meta name="escalated-realtime" content="/support/socket.io/"> it speaks Socket.IO v5 over
 * Engine.IO v4 on a plain WebSocket to the /escalated namespace; otherwise, or while the socket
 * is down, it polls <meta name="escalated-live-poll">. On a change it re-fetches the page and
 * swaps each [data-live-region] for its fresh copy (nothing outside those regions is touched, so
 * text typed in a composer survives), then fires "escalated:updated" on document.
 * Presence: "viewing" on load, "typing" on input in [data-presence-typing], "left" on pagehide;
 * [data-presence] shows "Alice is viewing · Bob is typing".
 */
(function () {
  "use strict";

  var NS = "/escalated";

  /* ---- the wire format (Engine.IO v4 packet type, then Socket.IO v5 packet) ---- */
  function encode(event, data, ackId) {
    return "42" + NS + "," + (ackId ? String(ackId) : "") + JSON.stringify([event, data]);
  }

  function decode(text) {
    if (typeof text !== "string" || !text) return { kind: "noop" };
    var eio = text.charAt(0);
    if (eio === "0") return { kind: "open", info: JSON.parse(text.slice(1) || "{}") };
    if (eio === "1") return { kind: "close" };
    if (eio === "2") return { kind: "ping" };
    if (eio !== "4") return { kind: "noop" };
    var type = text.charAt(1), rest = text.slice(2);
    if (rest.indexOf(NS + ",") === 0) rest = rest.slice(NS.length + 1);
    else if (rest === NS) rest = "";
    else return { kind: "noop" }; /* another namespace, or the default one */
    if (type === "0") return { kind: "connect" };
    if (type === "1") return { kind: "disconnect" };
    if (type === "4") return { kind: "connect_error", data: rest ? JSON.parse(rest) : null };
    if (type === "2" || type === "3") {
      var m = /^(\d*)([\s\S]*)$/.exec(rest);
      var args = JSON.parse(m[2] || "[]");
      if (type === "2") return { kind: "event", id: m[1], name: args[0], data: args[1] };
      return { kind: "ack", id: m[1], data: args[0] };
    }
    return { kind: "noop" };
  }

  function presenceText(viewers, selfId) {
    return (viewers || []).filter(function (v) {
      return String(v.user_id) !== String(selfId) && v.state !== "left";
    }).map(function (v) {
      return String(v.name) + (v.state === "typing" ? " is typing" : " is viewing");
    }).join(" \u00b7 ");
  }

  if (typeof module === "object" && module.exports) {
    module.exports = { encode: encode, decode: decode, presenceText: presenceText, NS: NS };
    return;
  }

  /* ---- the page ---- */
  var root = document.querySelector("[data-live-channels]");
  if (!root || !window.fetch) return;
  var script = document.currentScript || document.querySelector("script[data-poll]");
  function setting(metaName, attr) {
    var meta = document.querySelector('meta[name="' + metaName + '"]');
    if (meta) return meta.getAttribute("content");
    return script ? script.getAttribute(attr) : null;
  }
  var cfg = {
    socket: setting("escalated-realtime", "data-socket"),
    poll: setting("escalated-live-poll", "data-poll"),
    presence: script && script.getAttribute("data-presence-url"),
    csrf: (script && script.getAttribute("data-csrf")) || "",
    userId: script && script.getAttribute("data-user-id")
  };
  var channels = root.getAttribute("data-live-channels").split(/[\s,]+/).filter(Boolean);
  var ticketId = root.getAttribute("data-ticket-id");
  var POLL_MS = 3000, HIDDEN_POLL_MS = 30000, MAX_MS = 60000, HEARTBEAT_MS = 15000;

  /* Re-fetch the page and swap its live regions (coalescing bursts of events). */
  var refreshTimer = null, refreshing = false, again = false;
  function scheduleRefresh(detail) {
    clearTimeout(refreshTimer);
    refreshTimer = setTimeout(function () { refresh(detail); }, 150);
  }
  /* Boxes the person ticked (a bulk selection in the queue) stay ticked in the fresh copy, and
   * focus stays on the same control when it still exists. */
  function keepChoices(old, next) {
    var key = function (input) { return input.name + "\u0000" + input.value; };
    var ticked = {};
    old.querySelectorAll("input[type=checkbox]:checked").forEach(function (input) {
      ticked[key(input)] = true;
    });
    next.querySelectorAll("input[type=checkbox]").forEach(function (input) {
      if (ticked[key(input)]) input.checked = true;
    });
    var focused = document.activeElement;
    if (focused && old.contains(focused) && focused.id) {
      requestAnimationFrame(function () {
        var again = document.getElementById(focused.id);
        if (again) again.focus();
      });
    }
  }

  function refresh(detail) {
    if (refreshing) { again = true; return; }
    refreshing = true;
    fetch(location.href, { credentials: "same-origin",
                           headers: { "X-Requested-With": "XMLHttpRequest", "Accept": "text/html" } })
      .then(function (r) { if (!r.ok) throw new Error("HTTP " + r.status); return r.text(); })
      .then(function (html) {
        var fresh = new DOMParser().parseFromString(html, "text/html");
        var byName = {};
        fresh.querySelectorAll("[data-live-region]").forEach(function (el) {
          var name = el.getAttribute("data-live-region");
          if (!(name in byName)) byName[name] = el;
        });
        document.querySelectorAll("[data-live-region]").forEach(function (el) {
          var copy = byName[el.getAttribute("data-live-region")];
          if (!copy || !el.parentNode) return;
          var next = document.importNode(copy, true);
          keepChoices(el, next);
          el.parentNode.replaceChild(next, el);
        });
        if (lastViewers) renderPresence(lastViewers);
        document.dispatchEvent(new CustomEvent("escalated:updated", { detail: detail || {} }));
      })
      .catch(function () { /* the next change or poll tries again */ })
      .then(function () {
        refreshing = false;
        if (again) { again = false; refresh(detail); }
      });
  }

  var lastViewers = null;
  function renderPresence(viewers) {
    lastViewers = viewers;
    var text = presenceText(viewers, cfg.userId);
    document.querySelectorAll("[data-presence]").forEach(function (el) {
      el.textContent = text;
      el.hidden = !text;
    });
  }

  /* ---- Socket.IO over a plain WebSocket ---- */
  var sock = null, reconnectMs = 2000;
  function connect() {
    var url = (location.protocol === "https:" ? "wss://" : "ws://") + location.host + cfg.socket +
      (cfg.socket.indexOf("?") < 0 ? "?" : "&") + "EIO=4&transport=websocket";
    var ws, watchdog = null, deadAfter = 60000, acks = {}, nextAck = 1, ready = false;
    try { ws = new WebSocket(url); } catch (e) { startPolling(); return; }
    function alive() {
      clearTimeout(watchdog);
      watchdog = setTimeout(function () { ws.close(); }, deadAfter);
    }
    var self = {
      emit: function (event, data, ack) {
        if (!ready) return false;
        var id = "";
        if (ack) { id = nextAck++; acks[id] = ack; }
        ws.send(encode(event, data, id));
        return true;
      },
      close: function () { ws.onclose = null; clearTimeout(watchdog); ws.close(); }
    };
    ws.onmessage = function (msg) {
      var p;
      try { p = decode(msg.data); } catch (e) { return; }
      alive();
      if (p.kind === "open") {
        deadAfter = (p.info.pingInterval || 25000) + (p.info.pingTimeout || 20000) + 5000;
        ws.send("40" + NS + ",");
      } else if (p.kind === "ping") {
        ws.send("3");
      } else if (p.kind === "connect") {
        ready = true;
        sock = self;
        reconnectMs = 2000;
        var wasPolling = polling;
        stopPolling();
        channels.forEach(function (name) { self.emit("join", { channel: name }, function () {}); });
        sendPresence(presenceState);
        if (wasPolling) scheduleRefresh({ event: "reconnected" });
      } else if (p.kind === "event") {
        onEvent(p.name, p.data);
      } else if (p.kind === "ack") {
        var cb = acks[p.id];
        delete acks[p.id];
        if (cb) cb(p.data);
      } else if (p.kind === "connect_error" || p.kind === "disconnect" || p.kind === "close") {
        ws.close();
      }
    };
    ws.onclose = function () {
      clearTimeout(watchdog);
      ready = false;
      if (sock === self) sock = null;
      if (!polling) { startPolling(); sendPresence(presenceState); }
      setTimeout(connect, reconnectMs);
      reconnectMs = Math.min(reconnectMs * 2, MAX_MS);
    };
    alive();
  }

  function onEvent(name, data) {
    if (name === "ticket:presence") {
      if (data && String(data.ticket_id) === String(ticketId)) renderPresence(data.viewers);
      return;
    }
    if (name === "ticket:updated" || name === "ticket:reply" || name === "queue:changed" ||
        name === "ticket:assigned") {
      scheduleRefresh({ event: name, data: data });
    }
  }

  /* ---- polling ---- */
  var polling = false, pollTimer = null, inFlight = false, cursor = null, failures = 0;
  function startPolling() {
    if (polling) return;
    polling = true;
    poll();
  }
  function stopPolling() { polling = false; clearTimeout(pollTimer); }
  function pollDelay() {
    var base = document.hidden ? HIDDEN_POLL_MS : POLL_MS;
    return Math.min(base * Math.pow(2, failures), MAX_MS);
  }
  function poll() {
    if (!polling || inFlight) return;
    inFlight = true;
    var url = cfg.poll + "?channels=" + encodeURIComponent(channels.join(",")) +
      (cursor ? "&since=" + encodeURIComponent(cursor) : "");
    fetch(url, { credentials: "same-origin",
                 headers: { "Accept": "application/json", "X-Requested-With": "XMLHttpRequest" } })
      .then(function (r) { if (!r.ok) throw new Error("HTTP " + r.status); return r.json(); })
      .then(function (d) {
        failures = 0;
        if (d.changed) scheduleRefresh({ event: "changed" });
        cursor = d.cursor;
        if (ticketId && d.presence) {
          renderPresence(d.presence.filter(function (v) {
            return String(v.ticket_id) === String(ticketId);
          }));
        }
      })
      .catch(function () { failures = Math.min(failures + 1, 5); })
      .then(function () {
        inFlight = false;
        clearTimeout(pollTimer);
        if (polling) pollTimer = setTimeout(poll, pollDelay());
      });
  }
  document.addEventListener("visibilitychange", function () {
    if (!document.hidden && polling) { clearTimeout(pollTimer); poll(); }
  });

  /* ---- presence ---- */
  var presenceState = "viewing", lastTypingSent = 0, idleTimer = null;
  function sendPresence(state, leaving) {
    if (!ticketId) return;
    var payload = { ticket_id: Number(ticketId), state: state };
    if (sock && sock.emit("presence", payload)) return;
    if (!cfg.presence) return;
    fetch(cfg.presence, {
      method: "POST", credentials: "same-origin", keepalive: !!leaving,
      headers: { "Content-Type": "application/json", "X-CSRF-Token": cfg.csrf },
      body: JSON.stringify(payload)
    }).then(function (r) { return r.ok ? r.json() : null; })
      .then(function (d) { if (d && d.viewers && !leaving) renderPresence(d.viewers); })
      .catch(function () {});
  }
  document.addEventListener("input", function (e) {
    if (!e.target || !e.target.closest || !e.target.closest("[data-presence-typing]")) return;
    presenceState = "typing";
    var now = Date.now();
    if (now - lastTypingSent > 3000) { lastTypingSent = now; sendPresence("typing"); }
    clearTimeout(idleTimer);
    idleTimer = setTimeout(function () {
      presenceState = "viewing";
      lastTypingSent = 0;
      sendPresence("viewing");
    }, 5000);
  });
  window.addEventListener("pagehide", function () { sendPresence("left", true); });
  window.addEventListener("pageshow", function (e) { if (e.persisted) sendPresence(presenceState); });
  setInterval(function () { sendPresence(presenceState); }, HEARTBEAT_MS);

  if (cfg.socket && window.WebSocket) connect();
  else startPolling();
  if (!cfg.socket || !window.WebSocket) sendPresence("viewing");
}());
