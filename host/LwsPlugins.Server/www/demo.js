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

  connectIncrement();
})();
