/*
 * live.js — the minimal page of `raftsim serve` (see live_page.html).
 *
 * The model of the cluster is built only from the event stream's `trace`
 * events, the same JSON objects as `raftsim run --trace` (README,
 * "Trace format"), so this page and the report read one format:
 *   run       → the node count            role    → role, term, up again
 *   append    → last LSN                  discard → last LSN goes back
 *   commit    → commit LSN                crash / restart / pause / resume
 * A `reset` (seek, fork, restart) means the timeline was rebuilt and its
 * events follow from its start, so the model is dropped; so is it when
 * the stream reconnects, because the server always starts from the top.
 * The stream's `view` line names the clients (write lines number them)
 * and gives each node's election timer, which live_cluster.js drains
 * against vnow(), the clock line moved on by wall time at its speed.
 * Drawing is batched to one frame: a late joiner gets the whole timeline
 * at once.  With ?token=T the controller panel acts through POST /act and
 * POST /control (the node menu here; the client panel, partitions, the
 * link menu, the time slider and the keys in live_act.js); without it the
 * panel is removed from the page.
 * Everything is written with textContent (the trace holds client strings).
 */
(function () {
  "use strict";

  var NARRATION_MAX = 200;
  var LAG_ALERT = 5;      /* entries behind the leader: the row turns red */
  var ACTIONS_MAX = 100;
  var token = new URLSearchParams(window.location.search).get("token");

  function $(id) { return document.getElementById(id); }

  /* ---------------------------------------------------------------- */
  /* The model                                                         */

  var model;

  function newModel() {
    return { nodes: [], tUs: 0, lastId: -1, events: 0, generation: 0,
             caption: null, clientNames: [] };
  }

  function node(name) {
    var m = /^n([0-9]+)$/.exec(name || "");
    if (!m)
      return null;
    var id = parseInt(m[1], 10);
    while (model.nodes.length < id)
      model.nodes.push(blankNode(model.nodes.length + 1));
    return model.nodes[id - 1];
  }

  function blankNode(id) {
    return { id: id, role: "follower", term: 0, last: 0, commit: 0,
             up: true, paused: false, follows: 0 };
  }

  /* One trace object into the model. */
  function apply(e) {
    model.events++;
    if (typeof e.t_us === "number" && e.t_us > model.tUs)
      model.tUs = e.t_us;
    if (e.kind === "run") {
      model.nodes = [];
      for (var i = 1; i <= (e.nodes || 0); i++)
        model.nodes.push(blankNode(i));
      return;
    }
    if (e.kind === "say" && typeof e.text === "string") {
      model.caption = { text: e.text, ok: null, tUs: e.t_us };
      return;
    }
    if (e.kind === "expect" && typeof e.text === "string") {
      model.caption = { text: e.text, ok: !!e.ok, tUs: e.t_us };
      return;
    }
    var n = node(e.node);
    if (!n)
      return; /* a "cluster" line: partition, heal … */
    switch (e.kind) {
    case "role":
      n.role = e.role;
      n.term = e.term;
      n.up = true;
      /* whom it follows: a leader itself; a follower the leader it has
       * heard from (reason leader-seen), else nobody known yet */
      if (e.role === "leader")
        n.follows = n.id;
      else if (e.role === "follower" && e.reason === "leader-seen")
        n.follows = (node(e.peer) || { id: 0 }).id;
      else
        n.follows = 0;
      break;
    case "append":
      n.last = e.lsn;
      break;
    case "discard":
      if (e.lsn - 1 < n.last)
        n.last = e.lsn - 1;
      if (n.commit > n.last) /* the core keeps commit within the log */
        n.commit = n.last;
      break;
    case "commit":
      n.commit = e.lsn;
      break;
    case "crash":
      n.up = false;
      n.paused = false;
      n.role = "down";
      n.follows = 0;
      break;
    case "restart":
      n.up = true;
      n.paused = false;
      n.role = "follower"; /* its `role` line (reason restart) follows */
      break;
    case "recv":
      /* a follower that hears an append follows its sender (a restarted
       * node gets no leader-seen line while the term stays the same) */
      if (e.type === "append" && n.role === "follower" && e.term === n.term)
        n.follows = (node(e.from) || { id: 0 }).id;
      break;
    case "pause":
      n.paused = true;
      break;
    case "resume":
      n.paused = false;
      break;
    }
  }

  /* The leader the way GET /state names it: up, leading, highest term. */
  function leader() {
    var best = null;
    model.nodes.forEach(function (n) {
      if (n.up && n.role === "leader" && (!best || n.term >= best.term))
        best = n;
    });
    return best;
  }

  /* ---------------------------------------------------------------- */
  /* Drawing (batched)                                                 */

  var clock = null, clockAt = 0;

  /* The virtual clock now: the last clock line moved on by the wall time
   * since it came, at its speed (never past a released event's time by
   * much: the server paces the same way). */
  function vnow() {
    if (!clock)
      return model.tUs;
    var t = clock.t_us;
    if (!clock.paused)
      t += (performance.now() - clockAt) * 1000 * clock.speed;
    return Math.max(t, model.tUs);
  }
  var pendingLines = [];
  var narrationLines = 0;
  var dirty = false;

  function schedule() {
    if (dirty)
      return;
    dirty = true;
    (window.requestAnimationFrame || function (f) { setTimeout(f, 16); })(draw);
  }

  function setText(el, text) {
    if (el.textContent !== text)
      el.textContent = text;
  }

  function stateText(n) {
    if (!n.up)
      return "crashed";
    return n.paused ? "paused" : "up";
  }

  function drawNodes() {
    var body = $("nodes-body");
    while (body.rows.length > model.nodes.length)
      body.deleteRow(-1);
    model.nodes.forEach(function (n, i) {
      var row = body.rows[i];
      if (!row) {
        row = body.insertRow(-1);
        row.dataset.node = String(n.id);
        ["id", "role", "term", "last", "commit", "state"].forEach(function (c) {
          row.insertCell(-1).className = c;
        });
        if (token) {
          var b = document.createElement("button");
          b.type = "button";
          b.className = "node-act";
          b.id = "node-btn-" + n.id;
          b.addEventListener("click", function () {
            var up = b.dataset.up === "1";
            act((up ? "crash n" : "restart n") + n.id);
          });
          var cell = row.insertCell(-1);
          cell.className = "act";
          cell.appendChild(b);
        }
      }
      setText(row.cells[0], "n" + n.id);
      setText(row.cells[1], n.role);
      setText(row.cells[2], String(n.term));
      setText(row.cells[3], String(n.last));
      setText(row.cells[4], String(n.commit));
      setText(row.cells[5], stateText(n));
      row.className = "role-" + n.role + (n.up ? "" : " crashed") +
                      (n.paused ? " paused" : "");
      if (token) {
        var btn = row.cells[6].firstChild;
        btn.dataset.up = n.up ? "1" : "0";
        setText(btn, (n.up ? "crash n" : "restart n") + n.id);
      }
    });
  }

  function drawLeader() {
    var l = leader(), el = $("leader");
    if (l) {
      el.dataset.node = String(l.id);
      setText(el, "leader: n" + l.id + " (term " + l.term + ")");
    } else {
      delete el.dataset.node;
      setText(el, "leader: none");
    }
  }

  function drawClock() {
    var el = $("clock");
    if (!clock) {
      setText(el, "t = " + (model.tUs / 1e6).toFixed(3) + " s");
      return;
    }
    var s = "t = " + (clock.t_us / 1e6).toFixed(3) + " s   x" + clock.speed;
    if (clock.paused)
      s += clock.at_step ? "   paused at a step" : "   paused";
    else
      s += "   running";
    setText(el, s);
    el.classList.toggle("paused", !!clock.paused);
    var sel = $("speed");
    if (sel && document.activeElement !== sel) {
      var v = String(clock.speed);
      for (var i = 0; i < sel.options.length; i++)
        if (sel.options[i].value === v)
          sel.selectedIndex = i;
    }
  }

  function drawNarration() {
    if (!pendingLines.length)
      return;
    var pre = $("narration");
    var stick = pre.scrollTop + pre.clientHeight >= pre.scrollHeight - 24;
    if (pendingLines.length > NARRATION_MAX)
      pendingLines = pendingLines.slice(-NARRATION_MAX);
    var frag = document.createDocumentFragment();
    pendingLines.forEach(function (t) {
      var d = document.createElement("div");
      d.className = "line";
      d.textContent = t;
      frag.appendChild(d);
    });
    pre.appendChild(frag);
    narrationLines += pendingLines.length;
    pendingLines = [];
    while (narrationLines > NARRATION_MAX && pre.firstChild) {
      pre.removeChild(pre.firstChild);
      narrationLines--;
    }
    if (stick)
      pre.scrollTop = pre.scrollHeight;
  }

  /* The replication dashboard: the same model, lag against the leader. */
  function drawDashboard() {
    var body = $("dashboard-body"), l = leader();
    while (body.rows.length > model.nodes.length)
      body.deleteRow(-1);
    model.nodes.forEach(function (n, i) {
      var row = body.rows[i];
      if (!row) {
        row = body.insertRow(-1);
        row.dataset.node = String(n.id);
        ["id", "role", "term", "last", "commit", "applied", "lag", "follows"].forEach(
          function (c) { row.insertCell(-1).className = c; });
      }
      /* lag: entries the node has not applied that the leader has */
      var lag = l && n.up ? Math.max(0, l.last - n.commit) : null;
      setText(row.cells[0], "n" + n.id);
      setText(row.cells[1], n.up ? n.role : "crashed");
      setText(row.cells[2], String(n.term));
      setText(row.cells[3], String(n.last));
      setText(row.cells[4], String(n.commit));
      setText(row.cells[5], String(n.commit));
      setText(row.cells[6], lag === null ? "–" : String(lag));
      setText(row.cells[7], !n.up ? "–" : n.follows === n.id ? "(leads)" :
                            n.follows ? "n" + n.follows : "–");
      row.className = "role-" + n.role + (n.up ? "" : " crashed") +
                      (lag !== null && lag >= LAG_ALERT ? " lagging" : "");
    });
  }

  function drawCaption() {
    var el = $("caption"), c = model.caption;
    var t = c ? (c.ok === null ? "" : c.ok ? "\u2713 " : "\u2717 ") + c.text : "";
    setText(el, t);
    el.className = "caption" + (c && c.ok === true ? " ok" : "") +
                   (c && c.ok === false ? " failed" : "");
  }

  function draw() {
    dirty = false;
    if (window.raftCluster)
      window.raftCluster.draw(model, (leader() || { id: 0 }).id);
    drawDashboard();
    drawCaption();
    drawNodes();
    drawLeader();
    drawClock();
    drawNarration();
  }

  /* Other views of the same events (live_timeline.js): subscribe(f)
   * calls f("trace", e) for every trace object, f("reset") when the
   * model is dropped. */
  var subscribers = [];
  function tell(what, e) {
    for (var k = 0; k < subscribers.length; k++)
      subscribers[k](what, e);
  }

  function dropModel() {
    tell("reset");
    model = newModel();
    pendingLines = [];
    narrationLines = 0;
    if (window.raftCluster)
      window.raftCluster.reset();
    var pre = $("narration");
    while (pre.firstChild)
      pre.removeChild(pre.firstChild);
    schedule();
  }

  /* ---------------------------------------------------------------- */
  /* The event stream                                                  */

  function parse(ev) {
    try {
      return JSON.parse(ev.data);
    } catch (err) {
      return null;
    }
  }

  function connect() {
    var es = new EventSource("/events");
    es.addEventListener("open", function () {
      /* the server starts every connection from the timeline's start */
      dropModel();
      setText($("status"), "connected");
      document.body.dataset.connected = "1";
    });
    es.addEventListener("error", function () {
      setText($("status"), "disconnected: retrying…");
      document.body.dataset.connected = "0";
    });
    es.addEventListener("trace", function (ev) {
      var e = parse(ev);
      if (!e)
        return;
      var id = parseInt(ev.lastEventId, 10);
      if (!isNaN(id))
        model.lastId = id;
      apply(e);
      if (window.raftCluster)
        window.raftCluster.event(e);
      tell("trace", e);
      if (e.kind === "client" && window.raftAct)
        window.raftAct.clientEvent(e);
      schedule();
    });
    es.addEventListener("narration", function (ev) {
      var e = parse(ev);
      var id = parseInt(ev.lastEventId, 10);
      if (!isNaN(id))
        model.lastId = id;
      if (e && typeof e.text === "string") {
        pendingLines.push(e.text);
        if (pendingLines.length > 4 * NARRATION_MAX) /* a hidden tab */
          pendingLines = pendingLines.slice(-NARRATION_MAX);
        schedule();
      }
    });
    es.addEventListener("reset", function (ev) {
      var e = parse(ev) || {};
      dropModel();
      model.generation = e.generation || 0;
    });
    es.addEventListener("view", function (ev) {
      var e = parse(ev);
      if (!e)
        return;
      if (Array.isArray(e.clients))
        model.clientNames = e.clients;
      if (Array.isArray(e.timers) && window.raftCluster)
        window.raftCluster.timers(e.timers);
      schedule();
      if (window.raftAct)
        window.raftAct.changed();
    });
    es.addEventListener("clock", function (ev) {
      var e = parse(ev);
      if (e) {
        clockAt = performance.now();
        clock = e;
        if (window.raftAct)
          window.raftAct.changed();
        model.generation = e.generation || model.generation;
        schedule();
      }
    });
  }

  /* ---------------------------------------------------------------- */
  /* The controller                                                    */

  function showResult(el, ok, text) {
    el.textContent = text;
    el.classList.toggle("error", !ok);
    el.classList.toggle("ok", ok);
  }

  function post(path, body, out) {
    var url = path + "?token=" + encodeURIComponent(token);
    return fetch(url, { method: "POST", body: body, cache: "no-store",
                        headers: { "Content-Type": "text/plain" } })
      .then(function (r) {
        return r.text().then(function (t) {
          showResult(out, r.ok, t.replace(/\n$/, ""));
          return r.ok;
        });
      })
      .catch(function (err) {
        showResult(out, false, "request failed: " + err);
        return false;
      });
  }

  /* A scenario line from the page: sent, then shown in the actions list
   * (with its answer) so that students see the language behind a click. */
  function act(line) {
    return post("/act", line, $("act-result")).then(function (ok) {
      var list = $("actions");
      if (list) {
        var li = document.createElement("li");
        li.className = ok ? "ok" : "error";
        li.dataset.line = line;
        var at = /^ok at ([0-9.]+) s/.exec($("act-result").textContent);
        if (at)
          li.dataset.t = at[1]; /* when it happened (virtual seconds) */
        var code = document.createElement("code");
        code.textContent = line;
        li.appendChild(code);
        li.appendChild(document.createTextNode(
          "  " + ($("act-result").textContent.split("\n")[0] || "")));
        list.appendChild(li);
        while (list.childNodes.length > ACTIONS_MAX)
          list.removeChild(list.firstChild);
        list.scrollTop = list.scrollHeight;
      }
      return ok;
    });
  }

  /* The node menu of the cluster view (controller only). */
  var menu = null;

  function closeMenu() {
    /* the node menu and live_act.js's link menu */
    Array.prototype.forEach.call(document.querySelectorAll(".node-menu"), function (m) {
      m.parentNode.removeChild(m);
    });
    menu = null;
  }

  function openMenu(k, ev) {
    closeMenu();
    var n = model.nodes[k - 1];
    if (!n)
      return;
    if (window.raftAct && window.raftAct.wantsSelect(ev)) {
      window.raftAct.toggle(k);
      if (ev.stopPropagation)
        ev.stopPropagation();
      return;
    }
    menu = document.createElement("div");
    menu.id = "node-menu";
    menu.className = "node-menu";
    menu.dataset.node = String(k);
    var title = document.createElement("div");
    title.className = "title";
    title.textContent = "n" + k + (n.up ? " (" + n.role + ")" : " (crashed)");
    menu.appendChild(title);
    var items = n.up ? [["crash", "crash n" + k],
                        ["crash-lose", "crash n" + k + " lose-unflushed"],
                        n.paused ? ["resume", "resume n" + k] : ["pause", "pause n" + k],
                        ["campaign", "campaign n" + k]]
                       .concat(n.role === "leader" ? []
                               : [["transfer", "transfer leader to n" + k]])
                     : [["restart", "restart n" + k]];
    if (n.up)
      items.push(["isolate", "isolate n" + k]);
    items.forEach(function (it) {
      var b = document.createElement("button");
      b.type = "button";
      b.dataset.act = it[0];
      b.textContent = it[1];
      b.addEventListener("click", function (e2) {
        e2.stopPropagation();
        closeMenu();
        act(it[1]);
      });
      menu.appendChild(b);
    });
    if (window.raftAct) {
      var sel = document.createElement("button");
      sel.type = "button";
      sel.dataset.act = "select";
      sel.textContent = window.raftAct.isSelected(k) ? "unselect (partition)" : "select (partition)";
      sel.addEventListener("click", function (e2) {
        e2.stopPropagation();
        closeMenu();
        window.raftAct.toggle(k);
      });
      menu.appendChild(sel);
    }
    placeMenu(menu, ev);
  }

  /* A menu at the pointer, kept inside the window. */
  function placeMenu(m, ev) {
    document.body.appendChild(m);
    var x = ev.pageX + 4, y = ev.pageY + 4;
    var maxX = window.scrollX + document.documentElement.clientWidth - m.offsetWidth - 4;
    var maxY = window.scrollY + document.documentElement.clientHeight - m.offsetHeight - 4;
    m.style.left = Math.max(0, Math.min(x, maxX)) + "px";
    m.style.top = Math.max(0, Math.min(y, maxY)) + "px";
    if (ev.stopPropagation)
      ev.stopPropagation();
  }

  function seekWord(v) {
    v = v.trim();
    return /^[0-9]+(\.[0-9]*)?$/.test(v) ? v + "s" : v;
  }

  function setUpController() {
    var panel = $("controller");
    if (!token) {
      /* a viewer: no controls at all, not merely hidden ones */
      panel.parentNode.removeChild(panel);
      Array.prototype.forEach.call(document.querySelectorAll(".ctl-only"),
        function (el) { el.parentNode.removeChild(el); });
      return;
    }
    panel.hidden = false;
    document.addEventListener("click", closeMenu);
    document.addEventListener("keydown", function (ev) {
      if (ev.key === "Escape")
        closeMenu();
    });
    document.body.classList.add("is-controller");
    var history = [], pos = 0;
    var input = $("act-input");
    $("act-form").addEventListener("submit", function (ev) {
      ev.preventDefault();
      var line = input.value;
      if (!line.trim())
        return;
      history.push(line);
      pos = history.length;
      act(line).then(function (ok) {
        if (ok)
          input.value = "";
      });
    });
    input.addEventListener("keydown", function (ev) {
      if (ev.key === "ArrowUp" && pos > 0) {
        input.value = history[--pos];
        ev.preventDefault();
      } else if (ev.key === "ArrowDown" && pos < history.length) {
        pos++;
        input.value = pos < history.length ? history[pos] : "";
        ev.preventDefault();
      }
    });
    var out = $("control-result");
    [["btn-pause", "pause"], ["btn-resume", "resume"], ["btn-step", "step"],
     ["btn-step-say", "step say"]].forEach(function (b) {
      $(b[0]).addEventListener("click", function () { post("/control", b[1], out); });
    });
    $("speed").addEventListener("change", function () {
      post("/control", "speed " + $("speed").value, out);
    });
    $("seek-form").addEventListener("submit", function (ev) {
      ev.preventDefault();
      var v = seekWord($("seek-input").value);
      if (v)
        post("/control", "seek " + v, out);
    });
  }

  model = newModel();
  /* for tests, the console and live_act.js: the model the page draws and
   * the controller's two verbs */
  window.raftLive = {
    model: function () { return model; },
    leader: function () { var l = leader(); return l ? l.id : 0; },
    clock: function () { return clock; },
    now: vnow,
    /* the id of the last trace or narration message applied */
    lastId: function () { return model.lastId; },
    subscribe: function (f) { subscribers.push(f); },
    token: token,
    act: act,
    control: function (line) { return post("/control", line, $("control-result")); },
    closeMenu: closeMenu,
    placeMenu: placeMenu,
    openNodeMenu: openMenu
  };
  if (window.raftCluster)
    window.raftCluster.init($("cluster"), {
      pick: token ? openMenu : null,
      link: token ? function (a, b, ev) {
        closeMenu();
        if (window.raftAct)
          window.raftAct.linkMenu(a, b, ev);
      } : null,
      now: vnow
    });
  setUpController();
  if (token && window.raftAct)
    window.raftAct.init();
  /* The stream opens once every script of the page has run: the views
   * loaded after this one (live_timeline.js) subscribe as they run, and
   * while the parser waits for one of them the browser may already
   * deliver stream events, which such a view would never see (a late
   * joiner's whole timeline arrives at once). */
  if (document.readyState === "loading")
    document.addEventListener("DOMContentLoaded", connect);
  else
    connect();
})();
