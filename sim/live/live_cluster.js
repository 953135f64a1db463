/*
 * live_cluster.js — the cluster view of the live page (issue 17): the
 * nodes on a ring (like RaftScope) drawn in SVG, with their role, term,
 * last LSN / commit LSN, crashed nodes greyed and paused ones marked; the
 * messages in flight animated along the chords from the trace's `send`,
 * `recv` and `drop` lines (heartbeats, i.e. `append` with no entries and
 * their answers, faint); cut links drawn broken from `partition`, `cut`,
 * `link` and `heal`.  live.js owns the model (roles, terms, LSNs) and
 * calls in here: event() for every trace object, draw() once a frame it
 * has something new, reset() when the model is dropped.  The messages
 * are animated in wall time, not virtual time: at ×1 a message takes
 * about a millisecond, far too fast to see, so each one is shown for
 * MSG_MS and held short of its target until its `recv` arrives.
 * Around each node an arc drains as its election timer runs out (the
 * `view` line of the stream gives every timer's deadline and length in
 * virtual time; live.js gives the virtual clock): full just after a
 * heartbeat, empty when the node campaigns; frozen while the node is
 * paused, none for a leader or a crashed node.  Links with latency, loss
 * or duplication (`link` lines) are drawn amber with their figures.  On
 * the controller every chord has a wide invisible hit line: clicking (or
 * long-pressing) it opens the link menu; shift-click selects nodes.
 * Clients (live_clients.js) sit in a column right of the ring.
 * No inline style (the CSP forbids it): classes, and SVG attributes.
 */
(function () {
  "use strict";

  var SVG = "http://www.w3.org/2000/svg";
  var W = 860, SIZE = 600, CX = 300, CY = 300, RING = 228;
  var LONG_PRESS_MS = 500; /* touch: a long press is a right-click */
  var DEFAULT_LATENCY_US = 1000, DEFAULT_JITTER_US = 500; /* the virtual clock's */
  var MSG_MS = 550;      /* how long a message is on screen, wall time */
  var DROP_MS = 450;     /* how long a dropped message stays, in red */
  var MAX_MSGS = 400;
  /* role words short enough to fit in a circle of 15 */
  var SHORT = { leader: "leader", candidate: "cand.", "pre-candidate": "pre-c.", follower: "" };    /* a late joiner's burst: the oldest go first */

  var svg, gLinks, gHits, gCuts, gMsgs, gNodes, gClients, onPick = null, onLink = null;
  var vnow = function () { return 0; };
  var timers = [];       /* per node: [deadline_us, timeout_us] or null */
  var frozen = {};       /* node id → the arc fraction when it paused */
  var shaped = new Map(); /* "a>b" → {latency_us, jitter_us, drop, dup} off the default */
  var selected = new Set();
  var lastModel = null;
  var msgs = new Map();  /* send id → {from, to, cls, t0, done, dropAt, el} */
  var cuts = new Set();  /* "a>b": nothing from node a reaches node b */
  var cutsVersion = 0, cutsDrawn = -1, drawnCount = -1, hitsDrawn = -1;
  var animating = false;

  function el(name, attrs, parent) {
    var e = document.createElementNS(SVG, name);
    for (var k in attrs)
      e.setAttribute(k, attrs[k]);
    if (parent)
      parent.appendChild(e);
    return e;
  }

  function id(name) {
    var m = /^n([0-9]+)$/.exec(name || "");
    return m ? parseInt(m[1], 10) : 0;
  }

  /* Node k of count on the ring: n1 at the top, clockwise. */
  function pos(k, count) {
    var a = -Math.PI / 2 + 2 * Math.PI * (k - 1) / Math.max(count, 1);
    return { x: CX + RING * Math.cos(a), y: CY + RING * Math.sin(a) };
  }

  function radius(count) {
    return Math.max(16, Math.min(46, 0.78 * Math.PI * RING / Math.max(count, 1)));
  }

  /* A long press (touch) calls f like a right-click; true when it fired. */
  function longPress(target, f) {
    var timer = 0, x = 0, y = 0;
    target.addEventListener("pointerdown", function (ev) {
      delete target.dataset.longPressed; /* a new gesture */
      if (ev.pointerType !== "touch" && ev.pointerType !== "pen")
        return;
      x = ev.clientX;
      y = ev.clientY;
      clearTimeout(timer);
      timer = setTimeout(function () {
        timer = 0;
        target.dataset.longPressed = "1"; /* the click that ends it, if any soon */
        setTimeout(function () { delete target.dataset.longPressed; }, 1000);
        f({ pageX: ev.pageX, pageY: ev.pageY, clientX: x, clientY: y,
            stopPropagation: function () {}, preventDefault: function () {},
            longPress: true });
      }, LONG_PRESS_MS);
    });
    function cancel(ev) {
      if (ev.type === "pointermove" && Math.hypot(ev.clientX - x, ev.clientY - y) < 10)
        return;
      clearTimeout(timer);
      timer = 0;
    }
    ["pointerup", "pointercancel", "pointerleave", "pointermove"].forEach(function (t) {
      target.addEventListener(t, cancel);
    });
    /* the click that ends a long press is not a second pick */
    target.addEventListener("click", function (ev) {
      if (target.dataset.longPressed === "1") {
        delete target.dataset.longPressed;
        ev.stopImmediatePropagation();
        ev.preventDefault();
      }
    }, true);
  }

  /* opts: pick(k, ev) for a node, link(a, b, ev) for a chord (controller
   * only), now() the virtual clock in µs. */
  function init(container, opts) {
    opts = opts || {};
    onPick = opts.pick || null;
    onLink = opts.link || null;
    if (opts.now)
      vnow = opts.now;
    svg = el("svg", { id: "cluster-svg", viewBox: "0 0 " + W + " " + SIZE,
                      role: "img", "aria-label": "the cluster" });
    var defs = el("defs", {}, svg);
    var mk = el("marker", { id: "cut-arrow", viewBox: "0 0 10 10", refX: "9", refY: "5",
                            markerWidth: "7", markerHeight: "7", orient: "auto" }, defs);
    el("path", { d: "M0,0 L10,5 L0,10 z", "class": "cut-head" }, mk);
    var ca = el("marker", { id: "client-arrow", viewBox: "0 0 10 10", refX: "9", refY: "5",
                            markerWidth: "6", markerHeight: "6", orient: "auto" }, defs);
    el("path", { d: "M0,0 L10,5 L0,10 z", "class": "client-head" }, ca);
    el("circle", { cx: CX, cy: CY, r: RING, "class": "ring" }, svg);
    gLinks = el("g", { id: "cluster-links" }, svg);
    gCuts = el("g", { id: "cluster-cuts" }, svg);
    gHits = el("g", { id: "cluster-hits" }, svg);
    gClients = el("g", { id: "cluster-clients" }, svg);
    gMsgs = el("g", { id: "cluster-msgs" }, svg);
    gNodes = el("g", { id: "cluster-nodes" }, svg);
    container.appendChild(svg);
    if (window.raftClients)
      window.raftClients.init(gClients, { nodePos: function (k) {
        return lastModel && k <= lastModel.nodes.length ? pos(k, lastModel.nodes.length) : null;
      }, nodeRadius: function () {
        return radius(lastModel ? lastModel.nodes.length : 5);
      }, x0: 2 * CX + 50, width: W - 2 * CX - 60, height: SIZE, animate: animate,
      now: function () { return vnow(); }, el: el, nodeId: id });
  }

  function reset() {
    msgs.forEach(function (m) { if (m.el.parentNode) m.el.parentNode.removeChild(m.el); });
    msgs.clear();
    cuts.clear();
    shaped.clear();
    timers = [];
    frozen = {};
    cutsVersion++;
    drawnCount = -1;
    if (window.raftClients)
      window.raftClients.reset();
    while (gNodes && gNodes.firstChild)
      gNodes.removeChild(gNodes.firstChild);
  }

  function setCut(a, b, on) {
    var k = a + ">" + b;
    if (on === cuts.has(k))
      return;
    if (on)
      cuts.add(k);
    else
      cuts.delete(k);
    cutsVersion++;
  }

  function newMsg(e, from) {
    if (msgs.size >= MAX_MSGS) {
      var oldest = msgs.keys().next().value;
      var o = msgs.get(oldest);
      if (o.el.parentNode)
        o.el.parentNode.removeChild(o.el);
      msgs.delete(oldest);
    }
    var beat = (e.type === "append" && !e.entries) ||
               (e.type === "append-resp" && e.success !== false && !e.entries);
    var cls = "msg msg-" + e.type + (beat ? " beat" : "");
    var m = { from: from, to: id(e.to), t0: performance.now(), done: false,
              dropAt: 0, el: el("circle", { r: beat ? 3 : 5, "class": cls }, gMsgs) };
    m.el.dataset.type = e.type;
    if (drawnCount > 0 && from <= drawnCount) { /* start at the sender, even if lost at once */
      var p = pos(from, drawnCount);
      m.el.setAttribute("cx", p.x.toFixed(1));
      m.el.setAttribute("cy", p.y.toFixed(1));
    } else {
      m.el.setAttribute("class", cls + " hidden");
    }
    msgs.set(e.id, m);
    animate();
  }

  /* One trace object (live.js has applied it to its model already). */
  function event(e) {
    var me = id(e.node);
    switch (e.kind) {
    case "run":
      reset();
      break;
    case "send":
      if (me && typeof e.id === "number")
        newMsg(e, me);
      break;
    case "recv":
      var m = msgs.get(e.id);
      if (m)
        m.done = true;
      break;
    case "drop":
      var d = msgs.get(e.id);
      if (d && !d.dropAt) {
        d.dropAt = performance.now();
        d.el.classList.add("dropped");
      }
      break;
    case "partition":
      var g = e.groups || [];
      for (var i = 0; i < g.length; i++)
        for (var j = 0; j < g.length; j++)
          if (i !== j)
            g[i].forEach(function (a) {
              g[j].forEach(function (b) { setCut(id(a), id(b), true); });
            });
      break;
    case "cut":
      setCut(me, id(e.to), true);
      break;
    case "link":
      setCut(me, id(e.to), !!e.cut);
      var k = me + ">" + id(e.to);
      var off = e.drop > 0 || e.dup > 0 || e.latency_us !== DEFAULT_LATENCY_US ||
                e.jitter_us !== DEFAULT_JITTER_US;
      if (off)
        shaped.set(k, { latency_us: e.latency_us, jitter_us: e.jitter_us,
                        drop: e.drop, dup: e.dup });
      else
        shaped.delete(k);
      cutsVersion++;
      break;
    case "client":
      if (window.raftClients)
        window.raftClients.event(e);
      break;
    case "heal":
      if (cuts.size) {
        cuts.clear();
        cutsVersion++;
      }
      break;
    }
  }

  /* ---------------------------------------------------------------- */

  function linkText(l) {
    var t = [];
    if (l.latency_us !== DEFAULT_LATENCY_US)
      t.push(fmtUs(l.latency_us));
    if (l.drop > 0)
      t.push(Math.round(l.drop * 100) + "% loss");
    if (l.dup > 0)
      t.push(Math.round(l.dup * 100) + "% dup");
    if (!t.length && l.jitter_us !== DEFAULT_JITTER_US)
      t.push("jitter " + fmtUs(l.jitter_us));
    return t.join(", ");
  }

  function fmtUs(us) {
    return us >= 1000000 ? (us / 1e6) + "s" : us >= 1000 ? (us / 1000) + "ms" : us + "us";
  }

  /* Slow or lossy links: an amber chord with the figures, one label a
   * direction (at the sender's third of the chord). */
  function drawShaped(count) {
    while (gLinks.firstChild)
      gLinks.removeChild(gLinks.firstChild);
    shaped.forEach(function (l, k) {
      var ab = k.split(">"), a = +ab[0], b = +ab[1];
      if (a > count || b > count)
        return;
      var p = pos(a, count), q = pos(b, count);
      var g = el("g", { "class": "shaped" }, gLinks);
      g.dataset.link = "n" + a + "-n" + b;
      el("line", { x1: p.x, y1: p.y, x2: q.x, y2: q.y }, g);
      var t = el("text", { x: (p.x + 0.3 * (q.x - p.x)).toFixed(1),
                           y: (p.y + 0.3 * (q.y - p.y) - 4).toFixed(1) }, g);
      t.textContent = linkText(l) + " \u2192n" + b;
    });
  }

  /* The chords' hit lines (controller): wide, invisible, one a pair. */
  function drawHits(count) {
    while (gHits.firstChild)
      gHits.removeChild(gHits.firstChild);
    if (!onLink)
      return;
    for (var a = 1; a <= count; a++)
      for (var b = a + 1; b <= count; b++) {
        var p = pos(a, count), q = pos(b, count);
        var hl = el("line", { x1: p.x, y1: p.y, x2: q.x, y2: q.y, "class": "hit" }, gHits);
        hl.dataset.link = "n" + a + "-n" + b;
        (function (a, b, hl) {
          var pick = function (ev) { onLink(a, b, ev); };
          hl.addEventListener("click", function (ev) { ev.stopPropagation(); pick(ev); });
          hl.addEventListener("contextmenu", function (ev) {
            ev.preventDefault();
            ev.stopPropagation();
            pick(ev);
          });
          longPress(hl, pick);
        })(a, b, hl);
      }
  }

  function drawCuts(count) {
    drawShaped(count);
    if (hitsDrawn !== count) {
      drawHits(count);
      hitsDrawn = count;
    }
    while (gCuts.firstChild)
      gCuts.removeChild(gCuts.firstChild);
    for (var a = 1; a <= count; a++)
      for (var b = a + 1; b <= count; b++) {
        var ab = cuts.has(a + ">" + b), ba = cuts.has(b + ">" + a);
        if (!ab && !ba)
          continue;
        var p = pos(a, count), q = pos(b, count);
        var g = el("g", { "class": "cut" + (ab && ba ? "" : " one-way") }, gCuts);
        g.dataset.link = "n" + a + "-n" + b;
        /* broken in the middle; a one-way cut points at the node its
         * sender cannot reach */
        var mx1 = p.x + 0.42 * (q.x - p.x), my1 = p.y + 0.42 * (q.y - p.y);
        var mx2 = p.x + 0.58 * (q.x - p.x), my2 = p.y + 0.58 * (q.y - p.y);
        var s1 = el("line", { x1: p.x, y1: p.y, x2: mx1, y2: my1 }, g);
        var s2 = el("line", { x1: q.x, y1: q.y, x2: mx2, y2: my2 }, g);
        if (ab && !ba)
          s1.setAttribute("marker-end", "url(#cut-arrow)");
        else if (ba && !ab)
          s2.setAttribute("marker-end", "url(#cut-arrow)");
      }
    cutsDrawn = cutsVersion;
  }

  function buildNodes(nodes) {
    while (gNodes.firstChild)
      gNodes.removeChild(gNodes.firstChild);
    var r = radius(nodes.length), fs = Math.max(9, r * 0.42);
    nodes.forEach(function (n) {
      var p = pos(n.id, nodes.length);
      var g = el("g", { "class": "node", transform: "translate(" + p.x + "," + p.y + ")" },
                 gNodes);
      g.dataset.node = String(n.id);
      /* the election timer: a ring just outside the body, drawn as a
       * fraction of its length (pathLength 100), from the top clockwise */
      el("circle", { r: r + 5, "class": "timer", pathLength: "100",
                     transform: "rotate(-90)", "stroke-dasharray": "0.0 100",
                     "data-fraction": "0.000" }, g);
      el("circle", { r: r, "class": "body" }, g);
      var t = el("text", { y: -fs * 0.45, "class": "name", "font-size": fs * 1.05 }, g);
      t.textContent = "n" + n.id;
      el("text", { y: fs * 0.6, "class": "term", "font-size": fs * 0.8 }, g);
      el("text", { y: fs * 1.45, "class": "lsn", "font-size": fs * 0.7 }, g);
      el("text", { y: -r - 6, "class": "badge", "font-size": fs * 0.9 }, g);
      g.addEventListener("click", function (ev) { if (onPick) onPick(n.id, ev); });
      g.addEventListener("contextmenu", function (ev) {
        if (onPick) {
          ev.preventDefault();
          onPick(n.id, ev);
        }
      });
      if (onPick)
        longPress(g, function (ev) { onPick(n.id, ev); });
    });
    drawnCount = nodes.length;
    hitsDrawn = -1;
  }

  function setText(e, s) {
    if (e.textContent !== s)
      e.textContent = s;
  }

  function draw(model, leaderId) {
    if (!svg)
      return;
    lastModel = model;
    var nodes = model.nodes;
    if (drawnCount !== nodes.length) {
      buildNodes(nodes);
      cutsVersion++;
    }
    if (cutsDrawn !== cutsVersion)
      drawCuts(nodes.length);
    var gs = gNodes.childNodes;
    nodes.forEach(function (n, i) {
      var g = gs[i], ts = g.getElementsByTagName("text");
      var cls = "node role-" + n.role + (n.up ? "" : " crashed") + (n.paused ? " paused" : "") +
                (n.id === leaderId ? " the-leader" : "") + (selected.has(n.id) ? " selected" : "");
      if (g.getAttribute("class") !== cls)
        g.setAttribute("class", cls);
      setText(ts[1], (n.up ? SHORT[n.role] || "" : "crashed") + " t" + n.term);
      setText(ts[2], n.last + " / " + n.commit);
      setText(ts[3], n.paused ? "paused" : "");
    });
    if (window.raftClients)
      window.raftClients.draw(model);
    drawTimers();
    animate();
  }

  /* The arcs, one frame: remaining / length of each node's timer at the
   * virtual clock; a paused node keeps the fraction it had. */
  function drawTimers() {
    if (!lastModel || drawnCount !== lastModel.nodes.length)
      return false;
    var now = vnow(), live = false, gs = gNodes.childNodes;
    lastModel.nodes.forEach(function (n, i) {
      var arc = gs[i] && gs[i].firstChild, t = timers[i], f = 0;
      if (!arc)
        return;
      if (n.up && n.paused) {
        if (frozen[n.id] === undefined)
          frozen[n.id] = t ? Math.max(0, Math.min(1, (t[0] - now) / t[1])) : 0;
        f = frozen[n.id];
      } else {
        delete frozen[n.id];
        if (t && n.up && n.role !== "leader" && t[1] > 0) {
          f = Math.max(0, Math.min(1, (t[0] - now) / t[1]));
          live = live || f > 0;
        }
      }
      var d = (100 * f).toFixed(1) + " 100";
      if (arc.getAttribute("stroke-dasharray") !== d) {
        arc.setAttribute("stroke-dasharray", d);
        arc.dataset.fraction = f.toFixed(3);
      }
      var c = "timer" + (f < 0.25 && f > 0 ? " low" : "") + (n.paused ? " frozen" : "");
      if (arc.getAttribute("class") !== c)
        arc.setAttribute("class", c);
    });
    return live;
  }

  /* The message dots, one frame: along the chord, in wall time. */
  function frame(now) {
    animating = false;
    if (!svg || drawnCount <= 0)
      return;
    var more = drawTimers();
    if (window.raftClients && window.raftClients.frame(now))
      more = true;
    var count = drawnCount;
    msgs.forEach(function (m, k) {
      var age = now - m.t0;
      if ((m.done && age >= MSG_MS) || (m.dropAt && now - m.dropAt >= DROP_MS) ||
          m.from > count || m.to > count || !m.to) {
        if (m.el.parentNode)
          m.el.parentNode.removeChild(m.el);
        msgs.delete(k);
        return;
      }
      if (m.dropAt)
        return; /* frozen where it was lost */
      var f = Math.min(age / MSG_MS, m.done ? 1 : 0.9);
      var p = pos(m.from, count), q = pos(m.to, count);
      m.el.setAttribute("cx", (p.x + f * (q.x - p.x)).toFixed(1));
      m.el.setAttribute("cy", (p.y + f * (q.y - p.y)).toFixed(1));
    });
    if (msgs.size || more)
      animate();
  }

  function animate() {
    if (animating)
      return;
    animating = true;
    window.requestAnimationFrame(frame);
  }

  window.raftCluster = {
    init: init, reset: reset, event: event, draw: draw,
    inFlight: function () { return msgs.size; },
    cuts: function () { return Array.from(cuts); },
    /* the view line's timers (per node, [deadline_us, timeout_us] or null) */
    timers: function (t) { timers = t || []; animate(); },
    /* the nodes selected for a partition (a Set of ids) */
    select: function (set) { selected = new Set(set); if (lastModel) draw(lastModel, leaderOf()); },
    longPress: longPress
  };

  function leaderOf() {
    var g = gNodes.querySelector("g.node.the-leader");
    return g ? +g.dataset.node : 0;
  }
})();
