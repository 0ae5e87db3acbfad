"use strict";

(function () {
  var scheme = location.protocol === "https:" ? "wss:" : "ws:";
  var baseUrl = scheme + "//" + location.host + "/";

  function $(id) { return document.getElementById(id); }

  function setState(el, state, detail) {
    el.setAttribute("data-state", state);
    el.textContent = detail ? state + " (" + detail + ")" : state;
  }

  // Open a WebSocket and wire the state badge. Returns null if the constructor throws.
  function openSocket(url, protocol, stateEl, onMessage, onChange) {
    var ws;
    setState(stateEl, "connecting");
    try {
      ws = new WebSocket(url, protocol);
    } catch (e) {
      setState(stateEl, "closed", "error");
      if (onChange) onChange(false);
      return null;
    }
    ws.onopen = function () {
      setState(stateEl, "open");
      if (onChange) onChange(true);
    };
    ws.onmessage = function (ev) {
      try { onMessage(ev); } catch (e) { /* never let bad data escape */ }
    };
    ws.onerror = function () { /* reported through onclose */ };
    ws.onclose = function (ev) {
      var detail = String(ev.code) + (ev.reason ? " " + ev.reason : "");
      setState(stateEl, "closed", detail);
      if (onChange) onChange(false);
    };
    return ws;
  }

  function safeSend(ws, text) {
    if (ws && ws.readyState === WebSocket.OPEN) ws.send(text);
  }

  /* ---------- Dumb increment ---------- */

  var incState = $("increment-state");
  var counterEl = $("counter");
  var resetBtn = $("reset-button");
  var closeBtn = $("closeme-button");
  var reconnectBtn = $("increment-reconnect");
  var incWs = null;

  function setIncButtons(open) {
    resetBtn.disabled = !open;
    closeBtn.disabled = !open;
  }

  function connectIncrement() {
    if (incWs) {
      incWs.onopen = incWs.onmessage = incWs.onclose = null;
      try { incWs.close(); } catch (e) { /* ignore */ }
    }
    setIncButtons(false);
    incWs = openSocket(baseUrl, "dumb-increment-protocol", incState, function (ev) {
      if (typeof ev.data === "string") counterEl.textContent = ev.data;
    }, setIncButtons);
  }

  resetBtn.addEventListener("click", function () { safeSend(incWs, "reset\n"); });
  closeBtn.addEventListener("click", function () { safeSend(incWs, "closeme\n"); });
  reconnectBtn.addEventListener("click", connectIncrement);

  /* ---------- Mirror ---------- */

  var mirrorName = new URLSearchParams(location.search).get("mirror") || "";
  var canvas = $("mirror-canvas");
  var ctx = canvas.getContext("2d");
  var colorInput = $("mirror-color");
  var receivedEl = $("mirror-received");
  var received = 0;
  var pending = "";
  var flushTimer = null;
  var lastPoint = null;
  var activePointer = null;

  $("mirror-name").textContent = mirrorName === "" ? "(default)" : mirrorName;

  var mirrorUrl = mirrorName === "" ? baseUrl : baseUrl + "?mirror=" + encodeURIComponent(mirrorName);
  var mirrorWs = openSocket(mirrorUrl, "lws-mirror-protocol", $("mirror-state"), function (ev) {
    if (typeof ev.data === "string") drawCommands(ev.data);
  });

  var COLOR_RE = /^#[0-9a-fA-F]{6}$/;
  var INT_RE = /^-?\d{1,6}$/;

  function allInts(parts, from) {
    for (var i = from; i < parts.length; i++) {
      if (!INT_RE.test(parts[i])) return false;
    }
    return true;
  }

  function drawCommands(text) {
    var cmds = text.split(";");
    // The last piece is whatever followed the final ';' (normally empty): ignore it.
    for (var i = 0; i < cmds.length - 1; i++) {
      var p = cmds[i].trim().split(/\s+/);
      if (p.length < 2 || !COLOR_RE.test(p[1]) || !allInts(p, 2)) continue;
      var n = p.map(Number);
      ctx.strokeStyle = p[1];
      ctx.beginPath();
      if (p[0] === "d" && p.length === 6) {
        ctx.moveTo(n[2], n[3]);
        ctx.lineTo(n[4], n[5]);
      } else if (p[0] === "c" && p.length === 5 && n[4] >= 0) {
        ctx.arc(n[2], n[3], n[4], 0, Math.PI * 2);
      } else {
        continue;
      }
      ctx.stroke();
      received++;
    }
    receivedEl.textContent = String(received);
  }

  function flush() {
    if (flushTimer !== null) { clearTimeout(flushTimer); flushTimer = null; }
    if (pending) {
      safeSend(mirrorWs, pending);
      pending = "";
    }
  }

  function queue(cmd) {
    pending += cmd;
    if (pending.length >= 400) flush();
    else if (flushTimer === null) flushTimer = setTimeout(flush, 1);
  }

  function canvasPoint(ev) {
    var r = canvas.getBoundingClientRect();
    var sx = r.width ? canvas.width / r.width : 1;
    var sy = r.height ? canvas.height / r.height : 1;
    return {
      x: Math.round((ev.clientX - r.left) * sx),
      y: Math.round((ev.clientY - r.top) * sy)
    };
  }

  canvas.addEventListener("pointerdown", function (ev) {
    if (activePointer !== null || (ev.pointerType === "mouse" && ev.button !== 0)) return;
    ev.preventDefault();
    activePointer = ev.pointerId;
    try { canvas.setPointerCapture(ev.pointerId); } catch (e) { /* ignore */ }
    lastPoint = canvasPoint(ev);
    queue("c " + colorInput.value + " " + lastPoint.x + " " + lastPoint.y + " 1;");
  });

  canvas.addEventListener("pointermove", function (ev) {
    if (ev.pointerId !== activePointer || !lastPoint) return;
    ev.preventDefault();
    var pt = canvasPoint(ev);
    if (pt.x === lastPoint.x && pt.y === lastPoint.y) return;
    queue("d " + colorInput.value + " " + lastPoint.x + " " + lastPoint.y + " " + pt.x + " " + pt.y + ";");
    lastPoint = pt;
  });

  function endStroke(ev) {
    if (ev.pointerId !== activePointer) return;
    activePointer = null;
    lastPoint = null;
  }
  canvas.addEventListener("pointerup", endStroke);
  canvas.addEventListener("pointercancel", endStroke);
  canvas.addEventListener("lostpointercapture", endStroke);

  $("mirror-clear").addEventListener("click", function () {
    ctx.clearRect(0, 0, canvas.width, canvas.height);
  });

  /* ---------- Server status ---------- */

  var versionEl = $("status-version");
  var hostnameEl = $("status-hostname");
  var h2El = $("status-h2");
  var connsEl = $("status-conns");
  var emptyEl = $("status-empty");

  function str(v) { return v === undefined || v === null ? "" : String(v); }

  function formatTime(secs) {
    var n = Number(secs);
    if (!isFinite(n) || str(secs) === "") return str(secs);
    return new Date(n * 1000).toLocaleString();
  }

  function renderStatus(data) {
    if (!data || typeof data !== "object") return;
    versionEl.textContent = str(data.version) || "-";
    hostnameEl.textContent = str(data.hostname) || "-";
    // lws's wss_over_h2: "1" when this status socket runs over the page's HTTP/2 connection (RFC 8441).
    h2El.textContent = str(data.wss_over_h2) || "-";
    var conns = Array.isArray(data.conns) ? data.conns : [];
    var frag = document.createDocumentFragment();
    conns.forEach(function (c) {
      if (!c || typeof c !== "object") return;
      var li = document.createElement("li");
      li.className = "status-conn";
      [["peer", str(c.peer)], ["time", formatTime(c.time)], ["ua", str(c.ua)]].forEach(function (f) {
        var span = document.createElement("span");
        span.className = f[0];
        span.textContent = f[1];
        li.appendChild(span);
      });
      frag.appendChild(li);
    });
    connsEl.textContent = "";
    connsEl.appendChild(frag);
    emptyEl.textContent = "No connections.";
    emptyEl.hidden = connsEl.children.length > 0;
  }

  openSocket(baseUrl, "lws-status", $("status-state"), function (ev) {
    if (typeof ev.data !== "string") return;
    var data;
    try { data = JSON.parse(ev.data); } catch (e) { return; }
    renderStatus(data);
  });

  /* ---------- Vhosts and plugins (lws-server-status) ---------- */

  var serverTimeEl = $("server-time");
  var serverUptimeEl = $("server-uptime");
  var vhostsEl = $("server-vhosts");
  var vhostsEmptyEl = $("server-vhosts-empty");
  var pluginsEl = $("server-plugins");
  var pluginsEmptyEl = $("server-plugins-empty");
  var lastServerKey = null;
  // A plugin reloaded many times keeps its old generations in the document: show the newest few.
  var MAX_GENERATIONS = 5;

  function list(v) { return Array.isArray(v) ? v.filter(function (x) { return x && typeof x === "object"; }) : []; }

  function el(tag, className, text) {
    var node = document.createElement(tag);
    if (className) node.className = className;
    if (text !== undefined) node.textContent = text;
    return node;
  }

  // A state word as a small badge; data-state lets the style colour it (only for a plain word).
  function badge(state) {
    var text = str(state) || "unknown";
    var span = el("span", "pill", text);
    if (/^[a-z-]{1,20}$/.test(text)) span.setAttribute("data-state", text);
    return span;
  }

  function plural(n, one, many) {
    var count = Number(n);
    return (isFinite(count) ? String(count) : "?") + " " + (count === 1 ? one : many);
  }

  function formatUptime(secs) {
    var n = Math.floor(Number(secs));
    if (!isFinite(n) || n < 0) return "-";
    var d = Math.floor(n / 86400), h = Math.floor(n / 3600) % 24, m = Math.floor(n / 60) % 60, s = n % 60;
    return (d ? d + " d " : "") + (d || h ? h + " h " : "") + (d || h || m ? m + " min " : "") + s + " s";
  }

  function formatInstant(v) {
    var t = Date.parse(str(v));
    return isFinite(t) ? new Date(t).toLocaleString() : str(v) || "-";
  }

  // Why the vhost serves a protocol (field "selectedBy", when the server sends it): its protocols list names it, or
  // the vhost serves every loaded plugin (no list, or "*" in it).
  function selectedByText(v) {
    if (v === undefined || v === null || v === "") return "";
    if (v === "list") return "listed by the vhost";
    if (v === "all-plugins" || v === "*") return "every loaded plugin";
    return "selected by " + str(v);
  }

  function renderProtocol(p) {
    var li = el("li", "protocol");
    li.setAttribute("data-protocol", str(p.name));
    li.appendChild(el("code", "name", str(p.name)));
    li.appendChild(badge(p.state));
    var facts = [];
    if (str(p.pluginId)) facts.push("plugin " + str(p.pluginId) + (Number(p.generation) > 0 ? " #" + str(p.generation) : ""));
    facts.push(plural(p.sessions, "session", "sessions"));
    var why = selectedByText(p.selectedBy);
    if (why) facts.push(why);
    li.appendChild(el("span", "small detail", facts.join(" · ")));
    if (str(p.unavailableReason)) li.appendChild(el("p", "error", str(p.unavailableReason)));
    return li;
  }

  function renderVhost(v) {
    var li = el("li", "status-conn vhost");
    li.setAttribute("data-vhost", str(v.name));
    var head = el("div", "row");
    head.appendChild(el("span", "name", str(v.name) || "(unnamed)"));
    head.appendChild(badge(v.state));
    li.appendChild(head);
    li.appendChild(el("span", "small detail", "listen " + (str(v.listen) || "-") + " · " + plural(v.sessions, "session", "sessions")));
    var protocols = list(v.protocols);
    var ul = el("ul", "protocols");
    ul.setAttribute("aria-label", "Protocols of " + str(v.name));
    protocols.forEach(function (p) { ul.appendChild(renderProtocol(p)); });
    if (protocols.length === 0) li.appendChild(el("span", "small", "No protocols."));
    else li.appendChild(ul);
    return li;
  }

  function renderGeneration(g) {
    var li = el("li", "generation");
    li.setAttribute("data-number", str(g.number));
    li.setAttribute("data-state", str(g.state));
    var head = el("div", "row");
    head.appendChild(el("span", "number", "#" + str(g.number)));
    head.appendChild(badge(g.state));
    if (str(g.version)) head.appendChild(el("span", "small", "v" + str(g.version)));
    li.appendChild(head);
    var protocols = Array.isArray(g.protocols) ? g.protocols.map(str).filter(Boolean) : [];
    var facts = [];
    if (protocols.length) facts.push(protocols.join(", "));
    if (str(g.loadedAt)) facts.push("loaded " + formatInstant(g.loadedAt));
    if (facts.length) li.appendChild(el("span", "small detail", facts.join(" · ")));
    if (str(g.error)) li.appendChild(el("p", "error", str(g.error)));
    return li;
  }

  function renderPlugin(p) {
    var li = el("li", "status-conn plugin");
    li.setAttribute("data-plugin", str(p.id));
    li.appendChild(el("span", "name", str(p.id) || "(unnamed)"));
    var generations = list(p.generations);
    var shown = generations.slice(-MAX_GENERATIONS);
    var ol = el("ol", "generations");
    ol.setAttribute("aria-label", "Generations of " + str(p.id));
    shown.forEach(function (g) { ol.appendChild(renderGeneration(g)); });
    li.appendChild(ol);
    if (generations.length > shown.length) {
      li.appendChild(el("span", "small", plural(generations.length - shown.length, "earlier generation", "earlier generations") + " not shown"));
    }
    return li;
  }

  function fill(container, emptyEl, items, render, emptyText) {
    var frag = document.createDocumentFragment();
    items.forEach(function (item) { frag.appendChild(render(item)); });
    container.textContent = "";
    container.appendChild(frag);
    emptyEl.textContent = emptyText;
    emptyEl.hidden = items.length > 0;
  }

  function renderServer(data) {
    if (!data || typeof data !== "object") return;
    serverTimeEl.textContent = formatInstant(data.time);
    serverUptimeEl.textContent = formatUptime(data.uptimeSeconds);
    var vhosts = list(data.vhosts);
    var plugins = list(data.plugins);
    // The document comes every updateMs: rebuild the lists only when they changed (keeps a selection in place).
    var key = JSON.stringify([vhosts.map(function (v) {
      return [v.name, v.listen, v.state, v.sessions, list(v.protocols).map(function (p) {
        return [p.name, p.pluginId, p.generation, p.state, p.sessions, p.selectedBy, p.unavailableReason];
      })];
    }), plugins]);
    if (key === lastServerKey) return;
    lastServerKey = key;
    fill(vhostsEl, vhostsEmptyEl, vhosts, renderVhost, "No vhosts.");
    fill(pluginsEl, pluginsEmptyEl, plugins, renderPlugin, "No plugins.");
  }

  openSocket(baseUrl, "lws-server-status", $("server-state"), function (ev) {
    if (typeof ev.data !== "string") return;
    var data;
    try { data = JSON.parse(ev.data); } catch (e) { return; }
    renderServer(data);
  });

  connectIncrement();
})();
