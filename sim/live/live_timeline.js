/*
 * live_timeline.js — the live page's second view (issue 17): the report's
 * Lamport diagram, WAL panel and replication dashboard (sim/report/
 * report_model.js, report_lamport.js, report_wal.js, served by `serve`)
 * fed by the same event stream as the cluster view, through
 * raftLive.subscribe (live.js): every trace object goes into a RaftModel,
 * a reset drops it.  The selected moment follows the newest event until
 * the diagram is clicked ("follow live" brings it back); what lies after
 * a moment picked in the past is faded, as in the report.  Drawing is
 * batched to one frame, and only while the view is shown.
 */
(function () {
  "use strict";

  function $(id) { return document.getElementById(id); }
  var R = window.RaftModel, L = window.RaftLamport, W = window.RaftWal;
  if (!R || !L || !W || !window.raftLive)
    return;

  var M = R.create(), V, follow = true, cur = -1, shown = false, queued = false, fitted = false;

  function schedule() {
    if (queued || !shown)
      return;
    queued = true;
    window.requestAnimationFrame(draw);
  }

  function setFollow(on) {
    follow = on;
    $("tl-follow").checked = on;
  }

  function draw() {
    queued = false;
    if (!shown)
      return;
    /* the first scale once a few messages have arrived (typical latency) */
    if (!fitted && M.msgs.length >= 20) {
      fitted = true;
      V.setModel(M);
      if (zoomNow !== 1)
        V.zoom(zoomNow);
    }
    if (follow)
      cur = M.E.length - 1;
    V.setCursor(cur);
    var t = cur >= 0 ? M.E[cur].t_us : 0;
    if (follow)
      V.reveal(t);
    V.render();
    $("tl-dash").innerHTML = W.dashHTML(M, cur);
    $("tl-wal").innerHTML = W.walHTML(M, cur, false);
    $("tl-pos").textContent = cur >= 0 ? "event " + (cur + 1) + " / " + M.E.length + " · " +
                              R.fmtT(t) + " · " + R.describe(M.E[cur]) : "no events yet";
  }

  function show(which) {
    shown = which === "timeline";
    $("timeline").hidden = !shown;
    var view = document.querySelector("section.view");
    if (view)
      view.hidden = shown;
    $("view-timeline").checked = shown;
    $("view-cluster").checked = !shown;
    document.body.dataset.view = which;
    schedule();
  }

  V = L.create({ scroll: $("tl-scroll"), svg: $("tl-svg"), spacer: $("tl-spacer"),
                 lanehead: $("tl-lanehead"), warn: $("tl-warn"),
                 onPick: function (i) { setFollow(false); cur = i; schedule(); } });
  V.setModel(M);
  $("tl-legend").innerHTML = L.legendHTML();
  $("view-cluster").addEventListener("change", function () { show("cluster"); });
  $("view-timeline").addEventListener("change", function () { show("timeline"); });
  $("tl-follow").addEventListener("change", function () { setFollow($("tl-follow").checked); schedule(); });
  $("tl-hb").addEventListener("change", function () { V.showHb = $("tl-hb").checked; schedule(); });
  /* zoom relative to the fitted scale */
  var zoomNow = 1;
  $("tl-zoom").addEventListener("change", function () {
    var z = parseFloat($("tl-zoom").value) || 1;
    V.zoom(z / zoomNow);
    zoomNow = z;
  });
  window.addEventListener("resize", schedule);

  window.raftLive.subscribe(function (what, e) {
    if (what === "reset") {
      M = R.create();
      fitted = false;
      cur = -1;
      V.setModel(M);
    } else if (what === "trace" && e && typeof e.t_us === "number" && typeof e.kind === "string") {
      M.add(e);
    }
    schedule();
  });

  /* for tests and the console */
  window.raftTimeline = {
    model: function () { return M; },
    cursor: function () { return cur; },
    show: show
  };
})();
