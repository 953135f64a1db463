/*
 * live_act.js — acting on the live page, controller URL only (issue 17):
 *   the client panel   choose a client (or type a new name), write
 *                      key=value (via its leader, the leader or a node),
 *                      read a key with a route, and see the answer from
 *                      the trace's `client` lines;
 *   the network        select nodes (shift- or ctrl-click, or the select
 *                      mode for a touch screen) and press partition
 *                      (`partition {…} rest`) or isolate; click a chord
 *                      for the link menu: cut one way or both, latency,
 *                      loss, back to the default link, heal that link;
 *   the time slider    scrubs back over the recorded timeline (`seek`),
 *                      and "act here" at a past moment forks (resume);
 *   the keyboard       every action has a key; `?` shows them.
 * Each click sends the scenario line (POST /act) or control word (POST
 * /control) it stands for through live.js, which lists every line sent
 * under "actions".  live.js calls init() on the controller page only,
 * changed() when a clock or view line came, clientEvent() for each
 * `client` trace line, wantsSelect()/toggle() from its node clicks and
 * linkMenu() from the chords.  The viewer page has none of this (its
 * controller section is removed from the document).
 */
(function () {
  "use strict";

  var SEEK_EVERY_MS = 200; /* while the slider is dragged */
  var ROUTES = ["leader", "any", "follower", "monotonic", "ryw"];

  var L;                 /* window.raftLive */
  var selected = new Set();
  var selectMode = false;
  var dragging = false, lastSeek = 0, seekTimer = 0;
  var pending = null;    /* the client request whose answer is awaited */
  var sawFork = false, wasSeeked = false;
  var nodesDrawn = -1, namesDrawn = "";

  function $(id) { return document.getElementById(id); }

  function setText(el, t) {
    if (el && el.textContent !== t)
      el.textContent = t;
  }

  function nodeCount() { return L.model().nodes.length; }

  /* ---------------------------------------------------------------- */
  /* Selection and partitions                                          */

  function setList(ids) {
    return ids.length === 1 ? "n" + ids[0]
                            : "{" + ids.map(function (k) { return "n" + k; }).join(", ") + "}";
  }

  function selIds() {
    return Array.from(selected).sort(function (a, b) { return a - b; });
  }

  function showSelection() {
    var ids = selIds();
    setText($("selection"), ids.length ? "selected: " + setList(ids) : "selected: none");
    $("btn-partition").disabled = !ids.length || ids.length >= nodeCount();
    $("btn-isolate").disabled = !ids.length;
    $("btn-link-menu").disabled = ids.length !== 2;
    if (window.raftCluster)
      window.raftCluster.select(selected);
  }

  function toggle(k) {
    if (selected.has(k))
      selected.delete(k);
    else if (k >= 1 && k <= nodeCount())
      selected.add(k);
    showSelection();
  }

  function clearSelection() {
    selected.clear();
    showSelection();
  }

  function partition() {
    var ids = selIds();
    if (!ids.length || ids.length >= nodeCount())
      return;
    L.act("partition " + setList(ids) + " rest");
    clearSelection();
  }

  function isolate() {
    var ids = selIds();
    if (!ids.length)
      return;
    L.act("isolate " + setList(ids));
    clearSelection();
  }

  /* ---------------------------------------------------------------- */
  /* The link menu                                                     */

  function linkMenu(a, b, ev) {
    L.closeMenu();
    var m = document.createElement("div");
    m.id = "link-menu";
    m.className = "node-menu link-menu";
    m.dataset.link = "n" + a + "-n" + b;
    var title = document.createElement("div");
    title.className = "title";
    title.textContent = "link n" + a + " \u2013 n" + b;
    m.appendChild(title);
    var A = "n" + a, B = "n" + b;
    function item(act, line, hint) {
      var bt = document.createElement("button");
      bt.type = "button";
      bt.dataset.act = act;
      bt.textContent = line;
      if (hint)
        bt.title = hint;
      bt.addEventListener("click", function (e2) {
        e2.stopPropagation();
        L.closeMenu();
        L.act(typeof line === "function" ? line() : line);
      });
      m.appendChild(bt);
      return bt;
    }
    item("cut-ab", "cut " + A + " -> " + B, B + " no longer hears " + A);
    item("cut-ba", "cut " + B + " -> " + A, A + " no longer hears " + B);
    item("cut-both", "cut " + A + " <-> " + B, "no message either way");
    /* latency and loss with a value the teacher can change first */
    function shaped(act, word, def, pattern) {
      var row = document.createElement("div");
      row.className = "menu-row";
      var input = document.createElement("input");
      input.type = "text";
      input.size = 6;
      input.value = def;
      input.id = "link-" + act;
      input.setAttribute("aria-label", word);
      input.addEventListener("click", function (e2) { e2.stopPropagation(); });
      var bt = document.createElement("button");
      bt.type = "button";
      bt.dataset.act = act;
      function line() { return "link " + A + " <-> " + B + " " + word + " " + input.value.trim(); }
      bt.textContent = "link " + A + " <-> " + B + " " + word;
      bt.addEventListener("click", function (e2) {
        e2.stopPropagation();
        if (!pattern.test(input.value.trim()))
          return input.focus();
        L.closeMenu();
        L.act(line());
      });
      input.addEventListener("keydown", function (e2) {
        if (e2.key === "Enter")
          bt.click();
      });
      row.appendChild(bt);
      row.appendChild(input);
      m.appendChild(row);
    }
    shaped("latency", "latency", "100ms", /^[0-9.]+(us|ms|s)$/);
    shaped("drop", "drop", "20%", /^[0-9.]+%?$/);
    item("reset", "link " + A + " <-> " + B + " reset", "back to the default latency, no loss");
    item("heal-link", "heal " + A + " <-> " + B, "this link works again both ways");
    L.placeMenu(m, ev);
  }

  /* ---------------------------------------------------------------- */
  /* The client panel                                                  */

  function clientName() {
    return $("client-name").value.trim();
  }

  function answer(text, cls) {
    var el = $("client-answer");
    setText(el, text);
    el.className = "answer" + (cls ? " " + cls : "");
  }

  function validName(n) {
    return /^[a-z][a-z0-9_-]{0,31}$/.test(n);
  }

  function write(ev) {
    if (ev)
      ev.preventDefault();
    var who = clientName(), kv = $("write-kv").value.trim(), via = $("write-via").value;
    if (!validName(who))
      return answer("a client is a lower-case name, e.g. alice", "error");
    if (!/^[^=\s]+=[^=\s]+$/.test(kv))
      return answer("write key=value, e.g. x=1", "error");
    pending = { op: "write", client: who, key: kv.split("=")[0], known: knows(who) };
    answer(who + " write " + kv + ": sending\u2026", "waiting");
    L.act("write " + who + " " + kv + (via ? " via " + via : "")).then(function (ok) {
      if (!ok && pending && pending.op === "write") {
        answer($("act-result").textContent, "error");
        pending = null;
      }
    });
  }

  function read(ev) {
    if (ev)
      ev.preventDefault();
    var who = clientName(), key = $("read-key").value.trim(), route = $("read-route").value;
    if (!validName(who))
      return answer("a client is a lower-case name, e.g. alice", "error");
    if (!/^[^=\s]+$/.test(key))
      return answer("read a key, e.g. x", "error");
    pending = { op: "read", client: who, key: key, known: knows(who) };
    answer(who + " read " + key + " from " + route + ": asking\u2026", "waiting");
    L.act("read " + who + " " + key + " from " + route).then(function (ok) {
      if (!ok && pending && pending.op === "read") {
        answer($("act-result").textContent, "error");
        pending = null;
      }
    });
  }

  function knows(name) {
    return L.model().clientNames.indexOf(name) >= 0;
  }

  /* The name of a `client` line's client: reads say it, writes say c3. */
  function nameOf(e) {
    if (e.op === "read")
      return e.client;
    var k = parseInt(String(e.client).replace(/^c/, ""), 10);
    return L.model().clientNames[k - 1];
  }

  function clientEvent(e) {
    if (!L || !pending || e.op !== pending.op || e.key !== pending.key)
      return;
    var n = nameOf(e);
    /* a new client's write may come before the view line that names it */
    if (n !== pending.client && !(n === undefined && !pending.known))
      return;
    var who = pending.client, node = e.node;
    if (e.op === "read") {
      var v = typeof e.value === "string" ? e.key + " = " + e.value : e.key + ": missing";
      answer(who + " read from " + node + " (" + e.route + "): " + v +
             (e.lsn ? " (lsn " + e.lsn + ")" : "") + (e.stale ? " \u2014 stale" : ""),
             e.stale ? "stale" : "ok");
      pending = null;
      return;
    }
    var kv = e.key + "=" + e.value;
    switch (e.outcome) {
    case "sent":
      answer(who + " write " + kv + ": sent to " + node + ", waiting for its answer\u2026", "waiting");
      break;
    case "acked":
      answer(who + " write " + kv + ": \u2713 acknowledged by " + node + " (lsn " + e.lsn + ")", "ok");
      pending = null;
      break;
    case "refused":
      answer(who + " write " + kv + ": \u2717 refused (no leader: read-only)", "error");
      pending = null;
      break;
    default:
      answer(who + " write " + kv + ": ? unknown (no acknowledgement: it may or may not commit)",
             "stale");
      pending = null;
    }
  }

  /* The node and client lists of the panel's selectors. */
  function fillLists() {
    var n = nodeCount();
    if (n !== nodesDrawn) {
      var via = $("write-via"), route = $("read-route");
      var keepVia = via.value, keepRoute = route.value;
      while (via.options.length)
        via.remove(0);
      while (route.options.length)
        route.remove(0);
      via.add(new Option("(whom it believes leads)", ""));
      via.add(new Option("leader", "leader"));
      ROUTES.forEach(function (r) { route.add(new Option(r, r)); });
      for (var k = 1; k <= n; k++) {
        via.add(new Option("n" + k, "n" + k));
        route.add(new Option("n" + k, "n" + k));
      }
      via.value = keepVia;
      route.value = keepRoute || "leader";
      if (via.selectedIndex < 0)
        via.selectedIndex = 0;
      if (route.selectedIndex < 0)
        route.value = "leader";
      nodesDrawn = n;
      selected.forEach(function (k) { if (k > n) selected.delete(k); });
      showSelection();
    }
    var names = L.model().clientNames, sig = names.join(",");
    if (sig !== namesDrawn) {
      var dl = $("client-names");
      while (dl.firstChild)
        dl.removeChild(dl.firstChild);
      names.forEach(function (c) {
        var o = document.createElement("option");
        o.value = c;
        dl.appendChild(o);
      });
      namesDrawn = sig;
    }
  }

  /* ---------------------------------------------------------------- */
  /* Time: the slider, the past, stepping                              */

  function fmt(us) { return (us / 1e6).toFixed(3) + " s"; }

  function seekTo(ms) {
    lastSeek = performance.now();
    return L.control("seek " + Math.max(0, Math.round(ms)) + "ms");
  }

  function sliderInput() {
    var v = +$("time-slider").value;
    var c = L.clock();
    setText($("timeline-label"), fmt(v * 1000) + " of " + fmt(c ? c.end_us : 0));
    clearTimeout(seekTimer);
    var wait = SEEK_EVERY_MS - (performance.now() - lastSeek);
    seekTimer = setTimeout(function () { seekTo(+$("time-slider").value); }, Math.max(0, wait));
  }

  function nudge(ms) {
    var c = L.clock();
    if (!c)
      return;
    var t = Math.max(0, Math.min(c.end_us, c.t_us + ms * 1000));
    seekTo(t / 1000);
  }

  function changed() {
    if (!L)
      return; /* a viewer: nothing to act with */
    fillLists();
    var c = L.clock();
    if (!c)
      return;
    var sl = $("time-slider");
    var max = Math.max(1, Math.ceil(c.end_us / 1000));
    if (+sl.max !== max)
      sl.max = String(max);
    if (!dragging && document.activeElement !== sl) {
      var v = String(Math.round(c.t_us / 1000));
      if (sl.value !== v)
        sl.value = v;
      setText($("timeline-label"), fmt(c.t_us) + " of " + fmt(c.end_us));
    }
    if (wasSeeked && !c.seeked)
      sawFork = true;
    wasSeeked = c.seeked;
    $("btn-fork").hidden = !c.seeked;
    $("past-banner").hidden = !c.seeked;
    $("export-abandoned").hidden = !sawFork;
    if (c.seeked)
      setText($("past-banner"), "looking at the past: " + fmt(c.t_us) + " of " + fmt(c.end_us) +
              " recorded \u2014 acting here (a menu, the client panel, a line, resume) forks" +
              " the story; the rest is kept for export");
  }

  /* ---------------------------------------------------------------- */
  /* The keyboard and the help overlay                                 */

  var speeds = [0.1, 0.25, 0.5, 1, 2, 5];

  function speedStep(d) {
    var c = L.clock(), cur = c ? c.speed : 1, i = 0;
    while (i < speeds.length - 1 && speeds[i] < cur)
      i++;
    i = Math.max(0, Math.min(speeds.length - 1, i + d));
    L.control("speed " + speeds[i]);
  }

  function toggleHelp(show) {
    var h = $("help");
    h.hidden = show === undefined ? !h.hidden : !show;
  }

  function onSelected(verb) {
    var ids = selIds();
    if (!ids.length)
      return;
    ids.forEach(function (k) {
      var n = L.model().nodes[k - 1];
      if (!n)
        return;
      if (verb === "crash" && n.up)
        L.act("crash n" + k);
      else if (verb === "restart" && !n.up)
        L.act("restart n" + k);
      else if (verb === "pause" && n.up)
        L.act((n.paused ? "resume n" : "pause n") + k);
      else if (verb === "campaign" && n.up)
        L.act("campaign n" + k);
    });
  }

  function typing(t) {
    return t && (t.tagName === "INPUT" || t.tagName === "SELECT" || t.tagName === "TEXTAREA");
  }

  function onKey(ev) {
    if (ev.key === "Escape") {
      L.closeMenu();
      toggleHelp(false);
      if (typing(ev.target))
        ev.target.blur();
      else
        clearSelection();
      return;
    }
    if (typing(ev.target) || ev.altKey || ev.ctrlKey || ev.metaKey)
      return;
    var c = L.clock(), k = ev.key, done = true;
    if (/^[1-9]$/.test(k))
      toggle(parseInt(k, 10));
    else if (k === "0")
      toggle(10);
    else switch (k) {
    case "?": toggleHelp(); break;
    case " ": L.control(c && c.paused ? "resume" : "pause"); break;
    case "n": L.control("step"); break;
    case "N": L.control("step say"); break;
    case "ArrowLeft": nudge(ev.shiftKey ? -1000 : -100); break;
    case "ArrowRight": nudge(ev.shiftKey ? 1000 : 100); break;
    case "Home": seekTo(0); break;
    case "+": case "=": speedStep(1); break;
    case "-": speedStep(-1); break;
    case "f": if (c && c.seeked) L.control("resume"); break;
    case "c": onSelected("crash"); break;
    case "r": onSelected("restart"); break;
    case "p": onSelected("pause"); break;
    case "e": onSelected("campaign"); break;
    case "x": partition(); break;
    case "i": isolate(); break;
    case "l": openPairMenu(); break;
    case "h": L.act("heal"); break;
    case "s": setSelectMode(!selectMode); break;
    case "w": $("write-kv").focus(); break;
    case "k": $("read-key").focus(); break;
    case "/": case ":": $("act-input").focus(); break;
    default: done = false;
    }
    if (done)
      ev.preventDefault();
  }

  /* The link menu of the two selected nodes, beside the picture. */
  function openPairMenu() {
    var ids = selIds();
    if (ids.length !== 2)
      return;
    var r = $("cluster").getBoundingClientRect();
    linkMenu(ids[0], ids[1], { pageX: r.left + window.scrollX + r.width / 2,
                               pageY: r.top + window.scrollY + r.height / 3 });
  }

  function setSelectMode(on) {
    selectMode = on;
    var b = $("btn-select-mode");
    b.setAttribute("aria-pressed", on ? "true" : "false");
    b.classList.toggle("on", on);
    document.body.classList.toggle("select-mode", on);
  }

  /* ---------------------------------------------------------------- */

  function init() {
    L = window.raftLive;
    $("write-form").addEventListener("submit", write);
    $("read-form").addEventListener("submit", read);
    $("btn-partition").addEventListener("click", partition);
    $("btn-isolate").addEventListener("click", isolate);
    $("btn-clear-sel").addEventListener("click", clearSelection);
    $("btn-heal").addEventListener("click", function () { L.act("heal"); });
    $("btn-link-menu").addEventListener("click", function (ev) {
      ev.stopPropagation();
      openPairMenu();
    });
    $("btn-select-mode").addEventListener("click", function () { setSelectMode(!selectMode); });
    $("btn-fork").addEventListener("click", function () { L.control("resume"); });
    $("btn-help").addEventListener("click", function (ev) {
      ev.stopPropagation();
      toggleHelp();
    });
    $("help-close").addEventListener("click", function () { toggleHelp(false); });
    var sl = $("time-slider");
    sl.addEventListener("pointerdown", function () { dragging = true; });
    sl.addEventListener("pointerup", function () { dragging = false; });
    sl.addEventListener("input", sliderInput);
    sl.addEventListener("change", function () {
      dragging = false;
      clearTimeout(seekTimer);
      seekTo(+sl.value);
    });
    document.addEventListener("keydown", onKey);
    showSelection();
    fillLists();
  }

  window.raftAct = {
    init: init, changed: changed, clientEvent: clientEvent, linkMenu: linkMenu,
    toggle: function (k) { toggle(k); },
    isSelected: function (k) { return selected.has(k); },
    wantsSelect: function (ev) {
      return !!(ev && (ev.shiftKey || ev.ctrlKey || ev.metaKey)) || selectMode;
    },
    selected: selIds
  };
})();
