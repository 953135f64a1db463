/*
 * live_clients.js — the clients of the cluster view (issue 17): a box a
 * client in a column right of the ring, with its last answer, and arrows
 * between a box and the node it talks to, from the trace's `client` lines:
 *   write sent      client → node, "x=1"
 *   write acked     node → client, "ok x=1 (lsn 4)"       (green)
 *   write refused   node → client, "refused: no leader"   (red, ✗)
 *   write unknown   node → client, "unknown"              (amber, ?)
 *   read            node → client, "x = 1", or "x: missing"; a stale
 *                   read is marked "stale" (red)
 * Write lines number clients c1, c2 … (README, "Trace format"); the
 * names come from the stream's `view` line (model.clientNames), so a
 * write is put to its box when the page draws.  An arrow grows from its
 * start for ARROW_GROW_MS and stays ARROW_MS of wall time; a late
 * joiner's burst (events older than the clock) makes no arrows, only the
 * boxes' last answers.  live_cluster.js calls init() with its group and
 * the node positions, event() for every `client` line, draw() once a
 * frame with news, frame() every animation frame, reset() with the model.
 */
(function () {
  "use strict";

  var ARROW_GROW_MS = 350, ARROW_MS = 3000, MAX_ARROWS = 40;
  var BOX_H = 40, BOX_GAP = 8, TOP = 16;

  var g, gBoxes, gArrows, opt;
  var last = {};     /* client key → its last answer */
  var arrows = [];   /* {key, node, dir, kind, label, t0, el} */
  var drawnNames = "";
  /* the cluster view's helpers, given at init: an SVG element maker and
   * "n3" -> 3 */
  var el, nodeId;

  function init(group, o) {
    g = group;
    opt = o;
    el = o.el;
    nodeId = o.nodeId;
    gArrows = el("g", { id: "client-arrows" }, g);
    gBoxes = el("g", { id: "client-boxes" }, g);
  }

  function reset() {
    last = {};
    arrows.forEach(function (a) { if (a.el.parentNode) a.el.parentNode.removeChild(a.el); });
    arrows = [];
    drawnNames = "";
    while (gBoxes && gBoxes.firstChild)
      gBoxes.removeChild(gBoxes.firstChild);
  }

  /* The key of a client line: writes say "c3", reads the name. */
  function keyOf(e) {
    return e.op === "write" ? "#" + (e.client || "").replace(/^c/, "") : "@" + e.client;
  }

  function nameOf(key, names) {
    if (key.charAt(0) === "@")
      return key.slice(1);
    var k = parseInt(key.slice(1), 10);
    return names && names[k - 1] ? names[k - 1] : "c" + k;
  }

  function describe(e) {
    if (e.op === "read") {
      var v = typeof e.value === "string" ? e.key + " = " + e.value : e.key + ": missing";
      return { kind: "read" + (e.stale ? " stale" : ""), dir: "in",
               label: v + (e.stale ? " (stale)" : ""),
               text: "read " + v + " from n" + nodeId(e.node) + (e.stale ? " \u2014 stale" : "") };
    }
    var kv = e.key + "=" + e.value;
    switch (e.outcome) {
    case "sent":
      return { kind: "write", dir: "out", label: kv, text: "write " + kv + " \u2192 n" + nodeId(e.node) };
    case "acked":
      return { kind: "ack", dir: "in", label: "ok " + kv + " (lsn " + e.lsn + ")",
               text: "\u2713 ok " + kv + " by n" + nodeId(e.node) + " (lsn " + e.lsn + ")" };
    case "refused":
      return { kind: "refused", dir: "in", label: "\u2717 refused " + kv,
               text: "\u2717 " + kv + " refused: no leader" };
    default:
      return { kind: "unknown", dir: "in", label: "? unknown " + kv,
               text: "? " + kv + " unknown: no answer" };
    }
  }

  function event(e) {
    if (e.kind !== "client")
      return;
    var key = keyOf(e), d = describe(e), node = nodeId(e.node);
    last[key] = { kind: d.kind, text: d.text, t_us: e.t_us };
    if (!gArrows || !node)
      return;
    var now = opt.now ? opt.now() : 0;
    if (now && e.t_us + 300000 < now)
      return; /* history replayed at once: no arrows */
    while (arrows.length >= MAX_ARROWS) {
      var o = arrows.shift();
      if (o.el.parentNode)
        o.el.parentNode.removeChild(o.el);
    }
    var a = { key: key, node: node, dir: d.dir, kind: d.kind, t0: performance.now() };
    a.el = el("g", { "class": "c-arrow c-" + d.kind.replace(" ", " c-") }, gArrows);
    a.el.dataset.kind = d.kind.split(" ")[0];
    a.el.dataset.node = String(node);
    a.el.dataset.key = key;
    a.line = el("line", { "marker-end": "url(#client-arrow)" }, a.el);
    a.text = el("text", {}, a.el);
    a.text.textContent = d.label;
    arrows.push(a);
    if (opt.animate)
      opt.animate();
  }

  /* Where client i's box is: one column, two past 12 clients. */
  function boxAt(i, count) {
    var cols = count > 12 ? 2 : 1, w = opt.width / cols - (cols > 1 ? 6 : 0);
    var col = cols > 1 ? i % 2 : 0, row = cols > 1 ? Math.floor(i / 2) : i;
    var h = Math.min(BOX_H, (opt.height - TOP) / Math.ceil(count / cols) - BOX_GAP);
    return { x: opt.x0 + col * (w + 6), y: TOP + row * (h + BOX_GAP), w: w, h: h };
  }

  function draw(model) {
    if (!gBoxes)
      return;
    var names = model.clientNames || [];
    var sig = names.join(",");
    if (sig !== drawnNames) {
      while (gBoxes.firstChild)
        gBoxes.removeChild(gBoxes.firstChild);
      names.forEach(function (name, i) {
        var b = boxAt(i, names.length);
        var bg = el("g", { "class": "client", transform: "translate(" + b.x + "," + b.y + ")" },
                    gBoxes);
        bg.dataset.client = name;
        el("rect", { width: b.w, height: b.h, rx: 5, "class": "client-box" }, bg);
        var t = el("text", { x: 6, y: Math.min(15, b.h * 0.45), "class": "client-name" }, bg);
        t.textContent = name;
        el("text", { x: 6, y: b.h - 6, "class": "client-last" }, bg);
      });
      drawnNames = sig;
    }
    var boxes = gBoxes.childNodes;
    names.forEach(function (name, i) {
      var w = last["#" + (i + 1)], r = last["@" + name];
      var l = w && r ? (w.t_us > r.t_us ? w : r) : w || r;
      var bg = boxes[i], t = bg.lastChild;
      var txt = l ? l.text : "";
      if (t.textContent !== txt)
        t.textContent = txt;
      var cls = "client" + (l ? " last-" + l.kind.split(" ")[0] : "") +
                (l && l.kind.indexOf("stale") >= 0 ? " last-stale" : "");
      if (bg.getAttribute("class") !== cls)
        bg.setAttribute("class", cls);
      bg.dataset.last = l ? l.kind.split(" ")[0] : "";
    });
    arrows.forEach(function (a) {
      if (!a.el.dataset.client) {
        var n = nameOf(a.key, names);
        if (n.charAt(0) !== "c" || names.indexOf(n) >= 0)
          a.el.dataset.client = n;
      }
    });
  }

  /* One frame: each arrow grows from its start, then stays; true while
   * any is on screen. */
  function frame(now) {
    if (!gArrows)
      return false;
    var names = lastNames();
    arrows = arrows.filter(function (a) {
      var age = now - a.t0;
      if (age >= ARROW_MS) {
        if (a.el.parentNode)
          a.el.parentNode.removeChild(a.el);
        return false;
      }
      var i = names.indexOf(nameOf(a.key, names)), p = opt.nodePos(a.node);
      if (i < 0 || !p) {
        a.el.setAttribute("visibility", "hidden");
        return true;
      }
      a.el.removeAttribute("visibility");
      var b = boxAt(i, names.length), r = opt.nodeRadius() + 4;
      var bx = b.x - 2, by = b.y + b.h / 2;
      var dx = bx - p.x, dy = by - p.y, len = Math.hypot(dx, dy) || 1;
      var nx = p.x + dx / len * r, ny = p.y + dy / len * r;
      /* a write and its answer side by side, 4 px either side of the
       * line between the box and the node */
      var ox = -dy / len * 4 * (a.dir === "out" ? 1 : -1), oy = dx / len * 4 * (a.dir === "out" ? 1 : -1);
      var s = a.dir === "out" ? [bx + ox, by + oy, nx + ox, ny + oy]
                              : [nx + ox, ny + oy, bx + ox, by + oy];
      var f = Math.min(1, age / ARROW_GROW_MS);
      a.line.setAttribute("x1", s[0].toFixed(1));
      a.line.setAttribute("y1", s[1].toFixed(1));
      a.line.setAttribute("x2", (s[0] + f * (s[2] - s[0])).toFixed(1));
      a.line.setAttribute("y2", (s[1] + f * (s[3] - s[1])).toFixed(1));
      /* the label near the client's end (away from the ring's crowd),
       * above the line for writes and below it for answers */
      var c = a.dir === "out" ? 0.22 : 0.78;
      var tx = s[0] + c * (s[2] - s[0]), ty = s[1] + c * (s[3] - s[1]);
      ty += a.dir === "out" ? -7 : 15;
      a.text.setAttribute("x", tx.toFixed(1));
      a.text.setAttribute("y", ty.toFixed(1));
      if (age > ARROW_MS * 0.7 && !a.fading) {
        a.fading = true;
        a.el.classList.add("fading");
      }
      return true;
    });
    return arrows.length > 0;
  }

  var namesRef = [];
  function lastNames() { return namesRef; }

  window.raftClients = {
    init: init, reset: reset, event: event, frame: frame,
    draw: function (model) { namesRef = model.clientNames || []; draw(model); },
    arrows: function () { return arrows.length; }
  };
})();
