/*
 * report_lamport.js — the Lamport diagram of a RaftModel (report_model.js),
 * shared by the report page and the live page's timeline view.
 *
 * A lane per node, then a lane per client; time runs down.  Time is
 * mapped to pixels piecewise: a stretch where nothing shown happens (no
 * event but hidden heartbeats) longer than GAP_MIN_PX is drawn GAP_PX
 * tall and marked, so the story fits; the axis on the left has ticks in
 * the linear stretches.  Only the window around the scroll position is
 * drawn (at most MAX_DRAWN shapes a frame), so a trace of millions of
 * lines scrolls as fast as a short one.
 *
 * No spoilers: unless `future` is set, what lies below the cursor is
 * faded and carries no words (narration, verdicts, discards, answers to
 * clients), so a class can be asked "what happens next?".
 * Colours are CSS classes (report_views.css), never inline style: the
 * live page's Content-Security-Policy forbids it.
 */
(function (G) {
  "use strict";
  const R = G.RaftModel;
  const esc = R.esc, lastLE = R.lastLE;
  const MAX_DRAWN = 6000, LEFT = 64, TOP = 24, NOTE_W = 340, CLIENT_W = 118, MARGIN = 600;
  const GAP_MIN_PX = 160, GAP_PX = 40, MAX_H = 3e7;
  const NOTE_CHARS = 52; /* a narration line wraps at this many characters */

  function msgClass(m) { return m.type === "prevote" ? "prevote" : m.type === "vote" ? "vote" : m.type === "append" ? "append" : m.type === "append-resp" ? "resp" : "vote"; }

  /* Words into lines of at most n characters (a word longer than that
   * is cut into pieces): SVG text does not wrap by itself. */
  function wrap(text, n) {
    const out = []; let line = "";
    for (let w of String(text).split(/\s+/)) {
      while (w.length > n) { if (line) { out.push(line); line = ""; } out.push(w.slice(0, n)); w = w.slice(n); }
      if (!w) continue;
      if (line && line.length + 1 + w.length > n) { out.push(line); line = w; } else line = line ? line + " " + w : w;
    }
    if (line) out.push(line);
    return out.length ? out : [""];
  }
  function textLines(x, y, lines, cls, anchor) {
    let s = '<text class="' + cls + '" x="' + x + '" y="' + y + '"' + (anchor ? ' text-anchor="' + anchor + '"' : "") + ">";
    lines.forEach((l, k) => { s += '<tspan x="' + x + '" dy="' + (k ? 13 : 0) + '">' + esc(l) + "</tspan>"; });
    return s;
  }
  function niceStep(us) {
    const p = Math.pow(10, Math.floor(Math.log10(Math.max(1, us))));
    for (const f of [1, 2, 5, 10]) if (f * p >= us) return f * p;
    return 10 * p;
  }

  function create(o) {
    const V = { M: null, cur: -1, scale: 0.002, showHb: false, future: false, map: null, notes: o.notes !== false };
    const sc = o.scroll, svg = o.svg;

    /* ---- the time map ---- */
    function hiddenAt(i) { const m = V.M.evMsg[i]; return !V.showHb && m && m.hb; }
    function newMap() {
      const E = V.M.E, t0 = E.length ? E[0].t_us : 0;
      return { T: [t0], Y: [TOP], K: [V.scale], gaps: [], done: 0, prev: t0, scale: V.scale, hb: V.showHb };
    }
    function extendMap(mp) {
      const E = V.M.E, gapUs = GAP_MIN_PX / mp.scale;
      for (let i = mp.done; i < E.length; i++) {
        if (hiddenAt(i)) continue;
        const t = E[i].t_us;
        if (t - mp.prev > gapUs) {
          const k = mp.T.length - 1, y = mp.Y[k] + (mp.prev - mp.T[k]) * mp.K[k];
          mp.T.push(mp.prev); mp.Y.push(y); mp.K.push(GAP_PX / (t - mp.prev));
          mp.T.push(t); mp.Y.push(y + GAP_PX); mp.K.push(mp.scale);
          mp.gaps.push({ t0: mp.prev, t1: t, y0: y, y1: y + GAP_PX });
        }
        if (t > mp.prev) mp.prev = t;
      }
      mp.done = E.length;
    }
    function map() {
      if (!V.map || V.map.scale !== V.scale || V.map.hb !== V.showHb) V.map = newMap();
      const mp = V.map;
      if (mp.done < V.M.E.length) extendMap(mp);
      /* after the last event shown, a quiet tail up to the end is a gap too
       * (on the live page: the stretch since anything happened) */
      const k = mp.T.length - 1;
      mp.yPrev = mp.Y[k] + (mp.prev - mp.T[k]) * mp.K[k];
      mp.tail = V.M.end - mp.prev > GAP_MIN_PX / mp.scale ? { t0: mp.prev, t1: V.M.end, y0: mp.yPrev, y1: mp.yPrev + GAP_PX } : null;
      return mp;
    }
    function yOf(t) {
      const mp = map();
      if (mp.tail && t > mp.prev) return mp.yPrev + Math.min(1, (t - mp.prev) / (mp.tail.t1 - mp.prev)) * GAP_PX + Math.max(0, t - mp.tail.t1) * mp.scale;
      const k = lastLE(mp.T, null, t);
      if (k < 0) return mp.Y[0] - (mp.T[0] - t) * mp.scale;
      return mp.Y[k] + (t - mp.T[k]) * mp.K[k];
    }
    function tOf(y) {
      const mp = map();
      if (mp.tail && y > mp.yPrev) return y <= mp.tail.y1 ? mp.prev + (y - mp.yPrev) / GAP_PX * (mp.tail.t1 - mp.prev) : mp.tail.t1 + (y - mp.tail.y1) / mp.scale;
      const k = lastLE(mp.Y, null, y);
      if (k < 0) return mp.T[0] - (mp.Y[0] - y) / mp.scale;
      return mp.T[k] + (y - mp.Y[k]) / mp.K[k];
    }
    function height() { return yOf(V.M.end) + 60; }

    /* ---- geometry ---- */
    function laneW() {
      const n = Math.max(1, V.M.N), free = sc.clientWidth - LEFT - (V.notes ? NOTE_W : 0) - V.M.lanes.length * CLIENT_W - (V.M.lanes.length ? 130 : 20);
      return Math.max(84, Math.min(170, free / n));
    }
    function xOf(n) { return LEFT + (n - 0.5) * laneW(); }
    function xClient(l) { return LEFT + V.M.N * laneW() + (l.k + 0.5) * CLIENT_W; }
    /* client labels are written right of their lane: room for them */
    function notesX() { return LEFT + V.M.N * laneW() + V.M.lanes.length * CLIENT_W + (V.M.lanes.length ? 130 : 14); }
    function curT() { return V.cur >= 0 && V.M.E[V.cur] ? V.M.E[V.cur].t_us : (V.M.E.length ? V.M.E[0].t_us : 0); }

    /* The first scale: a typical message gets ~28 px of slope. */
    function fitScale() {
      const M = V.M, lat = [];
      for (let k = 0; k < M.msgs.length && lat.length < 2000; k++) { const m = M.msgs[k]; if (m.tr > m.ts) lat.push(m.tr - m.ts); }
      lat.sort((a, b) => a - b);
      const median = lat.length ? lat[lat.length >> 1] : 1000;
      V.scale = Math.min(0.2, 28 / Math.max(100, median));
      clampScale();
    }
    function clampScale() {
      for (let k = 0; k < 4 && height() > MAX_H; k++) V.scale *= 0.9 * MAX_H / height();
    }

    V.setModel = function (M, keepScale) { V.M = M; V.map = null; if (!keepScale) fitScale(); };
    V.setCursor = function (i) { V.cur = i; };
    V.yOf = yOf; V.tOf = tOf; V.curT = curT;
    V.indexAtTime = function (t) {
      const E = V.M.E; let lo = 0, hi = E.length - 1, r = -1;
      while (lo <= hi) { const m = (lo + hi) >> 1; if (E[m].t_us <= t) { r = m; lo = m + 1; } else hi = m - 1; }
      return r;
    };
    /* Bring time t into view (a third from the top) unless it is on screen. */
    V.reveal = function (t, force) {
      const y = yOf(t);
      o.spacer.style.height = height() + "px";
      if (force || y < sc.scrollTop + 40 || y > sc.scrollTop + sc.clientHeight - 40) sc.scrollTop = Math.max(0, y - sc.clientHeight / 3);
    };
    V.onScreen = function (t) { const y = yOf(t); return y >= sc.scrollTop && y <= sc.scrollTop + sc.clientHeight; };
    V.zoom = function (f) {
      const tMid = tOf(sc.scrollTop + sc.clientHeight / 2);
      V.scale = Math.max(1e-7, Math.min(0.2, V.scale * f));
      clampScale();
      o.spacer.style.height = height() + "px";
      sc.scrollTop = yOf(tMid) - sc.clientHeight / 2;
      V.schedule();
    };
    let queued = false;
    V.schedule = function () {
      if (queued) return;
      queued = true;
      requestAnimationFrame(() => { queued = false; V.render(); });
    };
    svg.addEventListener("click", (ev) => {
      const r = svg.getBoundingClientRect(), y = ev.clientY - r.top + (parseFloat(svg.style.top) || 0);
      if (o.onPick) o.onPick(V.indexAtTime(tOf(y)));
    });
    sc.addEventListener("scroll", V.schedule, { passive: true });

    V.render = function () {
      const M = V.M;
      if (!M) return;
      const H = height(), W = Math.max(sc.clientWidth - 2, notesX() + (V.notes ? NOTE_W : 0));
      o.spacer.style.height = H + "px";
      o.spacer.style.width = W + "px";
      const top = Math.max(0, sc.scrollTop - MARGIN), bot = sc.scrollTop + sc.clientHeight + MARGIN;
      const t0 = tOf(top), t1 = tOf(bot), tc = curT(), yCur = yOf(tc), cur = V.cur;
      const past = (i) => V.future || i <= cur; /* words only for what happened by the cursor */
      svg.style.top = top + "px";
      svg.setAttribute("width", W); svg.setAttribute("height", bot - top);
      svg.setAttribute("viewBox", "0 " + top + " " + W + " " + (bot - top));
      const out = []; let drawn = 0, skipped = 0;
      out.push("<defs>");
      for (const c of ["prevote", "vote", "append", "resp", "hb", "cw", "ack", "unknown", "refused", "read"])
        out.push('<marker id="a-' + c + '" class="mk-' + c + '" viewBox="0 0 8 8" refX="7" refY="4" markerWidth="7" markerHeight="7" orient="auto-start-reverse"><path d="M0,0 L8,4 L0,8 z"/></marker>');
      out.push('<pattern id="hatch" width="6" height="6" patternUnits="userSpaceOnUse" patternTransform="rotate(45)"><rect class="hatch-bg" width="6" height="6"/><line class="hatch-line" x1="0" y1="0" x2="0" y2="6"/></pattern>');
      out.push("</defs>");
      const lw = laneW(), yc = (t) => yOf(Math.max(t0, Math.min(t1, t))), xEnd = LEFT + lw * M.N;
      const mp = map();
      /* the time axis: ticks in the linear stretches */
      out.push('<line class="axis" x1="' + (LEFT - 8) + '" x2="' + (LEFT - 8) + '" y1="' + Math.max(TOP, top) + '" y2="' + Math.min(bot, H - 60) + '"/>');
      const step = niceStep(70 / V.scale);
      for (let k = Math.max(0, lastLE(mp.T, null, t0)); k < mp.T.length && mp.T[k] <= t1; k++) {
        if (mp.K[k] !== mp.scale) continue;
        const a = Math.max(mp.T[k], t0), b = Math.min(k + 1 < mp.T.length ? mp.T[k + 1] : mp.tail ? mp.prev : M.end, t1);
        for (let t = Math.ceil(a / step) * step, c = 0; t <= b && c < 400; t += step, c++) {
          const y = yOf(t);
          out.push('<line class="tick" x1="' + (LEFT - 12) + '" x2="' + (LEFT - 8) + '" y1="' + y + '" y2="' + y + '"/><text class="ticklabel" x="' + (LEFT - 14) + '" y="' + (y + 4) + '" text-anchor="end">' + esc(R.fmtShort(t)) + "</text>");
        }
      }
      /* compressed stretches: a zigzag across the lanes and how long */
      const gapsHere = [];
      for (let g = Math.max(0, lastLE(mp.gaps, "t0", t0)); g < mp.gaps.length && mp.gaps[g].t0 <= t1; g++) gapsHere.push(mp.gaps[g]);
      if (mp.tail && mp.tail.t0 <= t1) gapsHere.push(mp.tail);
      for (const gp of gapsHere) {
        const ym = (gp.y0 + gp.y1) / 2;
        if (gp.y1 < top) continue;
        let d = "M" + (LEFT - 14) + "," + ym;
        for (let x = LEFT - 14, k = 0; x < xEnd + M.lanes.length * CLIENT_W; x += 8, k++) d += " L" + (x + 8) + "," + (ym + (k % 2 ? -4 : 4));
        out.push('<g class="gap"><title>' + esc(R.fmtShort(gp.t1 - gp.t0) + " compressed: from " + R.fmtT(gp.t0) + " to " + R.fmtT(gp.t1) + " nothing shown happens" + (V.showHb ? "" : " (heartbeats are hidden)")) + '</title><rect class="gapbg" x="' + (LEFT - 14) + '" y="' + gp.y0 + '" width="' + (xEnd + M.lanes.length * CLIENT_W - LEFT + 14) + '" height="' + (gp.y1 - gp.y0) + '"/><path class="zigzag" d="' + d + '"/><text class="gaplabel" x="' + (xEnd - 4) + '" y="' + (ym - 7) + '" text-anchor="end">⋯ ' + esc(R.fmtShort(gp.t1 - gp.t0)) + " compressed</text></g>");
      }
      /* partitions: a light band, hatched between lanes of different groups */
      for (const p of M.parts) {
        if (p.t1 < t0 || p.t0 > t1) continue;
        const ya = yc(p.t0), yb = yc(p.t1 === Infinity ? M.end : p.t1);
        out.push('<rect class="partband" x="' + LEFT + '" y="' + ya + '" width="' + (lw * M.N) + '" height="' + Math.max(1, yb - ya) + '"/>');
        const grp = (n) => { if (!p.groups) return 0; for (let g = 0; g < p.groups.length; g++) if (p.groups[g].includes(n)) return g; return -1; };
        const label = p.groups ? "partition " + p.groups.map((g) => "{" + g.map((x) => "n" + x).join(",") + "}").join(" | ") : "one-way cut " + (p.cuts || []).map(([a, b]) => "n" + a + "→n" + b).join(", ");
        for (let n = 1; n < M.N; n++) {
          const cut = p.groups ? grp(n) !== grp(n + 1) : (p.cuts || []).some(([a, b]) => (a === n && b === n + 1) || (a === n + 1 && b === n));
          if (cut) out.push('<rect class="parthatch" x="' + (xOf(n) + 10) + '" y="' + ya + '" width="' + (lw - 20) + '" height="' + Math.max(1, yb - ya) + '" fill="url(#hatch)"><title>' + esc(label) + "</title></rect>");
        }
        if (p.t0 >= t0) out.push(textLines(LEFT + 2, ya - 4 - 13 * (wrap(label, Math.max(20, Math.floor(lw * M.N / 6.2))).length - 1), wrap(label, Math.max(20, Math.floor(lw * M.N / 6.2))), "partlabel") + "<title>" + esc(label) + "</title></text>");
        if (p.t1 !== Infinity && p.t1 <= t1) out.push('<text class="heallabel" x="' + (LEFT + 2) + '" y="' + (yb + 12) + '">heal</text>');
      }
      /* lanes with gaps (down, paused), and role bands */
      for (let n = 1; n <= M.N; n++) {
        const x = xOf(n);
        let ya = yc(M.E.length ? M.E[0].t_us : 0);
        for (const g of M.gaps) {
          if (g.n !== n) continue;
          const g0 = yc(g.t0), g1 = yc(g.t1 === Infinity ? M.end : g.t1);
          if (g0 > ya) out.push('<line class="lane" x1="' + x + '" x2="' + x + '" y1="' + ya + '" y2="' + g0 + '"/>');
          if (g.t1 >= t0 && g.t0 <= t1) {
            if (g.kind === "down") out.push('<text class="downlabel" x="' + (x + 10) + '" y="' + (g0 + 12) + '">✖ crashed</text><line class="downlane" x1="' + x + '" x2="' + x + '" y1="' + g0 + '" y2="' + g1 + '"/>');
            else out.push('<rect x="' + (x - 4) + '" y="' + g0 + '" width="8" height="' + Math.max(1, g1 - g0) + '" fill="url(#hatch)"/><text class="downlabel" x="' + (x + 10) + '" y="' + (g0 + 12) + '">❚❚ paused</text>');
          }
          ya = Math.max(ya, g1);
        }
        const yEnd = yc(M.end);
        if (yEnd > ya) out.push('<line class="lane" x1="' + x + '" x2="' + x + '" y1="' + ya + '" y2="' + yEnd + '"/>');
        const bands = M.bands[n];
        for (let k = Math.max(0, lastLE(bands, "t0", t0)); k < bands.length && bands[k].t0 <= t1; k++) {
          const b = bands[k], e1 = b.t1 === Infinity ? M.end : b.t1;
          if (e1 < t0) continue;
          const y0 = yc(b.t0), y1 = yc(e1);
          out.push('<rect class="band r-' + esc(b.role) + '" x="' + (x - 3) + '" y="' + y0 + '" width="6" height="' + Math.max(1, y1 - y0) + '"><title>n' + n + " " + esc(b.role) + " term " + b.term + "</title></rect>");
          if (y1 - y0 > 14 || b.t0 >= t0) out.push('<text class="bandlabel" x="' + (x - 6) + '" y="' + (Math.max(y0, yOf(t0) + 2) + 10) + '" text-anchor="end">' + esc((R.ROLE_SHORT[b.role] || b.role) + " t" + b.term) + "</text>");
        }
      }
      /* client lanes */
      for (const l of M.lanes) {
        const x = xClient(l);
        out.push('<line class="clane" x1="' + x + '" x2="' + x + '" y1="' + yc(M.E.length ? M.E[0].t_us : 0) + '" y2="' + yc(M.end) + '"/>');
      }
      /* messages: those sent in the window, or in flight through it */
      const msgs = M.msgs;
      const drawMsg = (m) => {
        if (m.hb && !V.showHb) return;
        const end = m.tr >= 0 ? m.tr : m.td >= 0 ? m.td : M.end;
        if (end < t0) return;
        if (drawn >= MAX_DRAWN) { skipped++; return; }
        drawn++;
        const x1 = xOf(m.from), y1 = yOf(m.ts), x2 = xOf(m.to);
        const isCur = cur >= 0 && M.evMsg[cur] === m;
        const cls = "msg m-" + (m.hb ? "hb" : msgClass(m)) + (isCur ? " cur" : "");
        const tip = "<title>" + esc(R.describe(m.e)) + (m.td >= 0 ? " — dropped: " + esc(m.reason) : m.tr < 0 ? " — not delivered by the end of the trace" : "") + "</title>";
        if (m.tr >= 0) {
          out.push('<line class="' + cls + '" x1="' + x1 + '" y1="' + y1 + '" x2="' + x2 + '" y2="' + yOf(m.tr) + '" marker-end="url(#a-' + (m.hb ? "hb" : msgClass(m)) + ')">' + tip + "</line>");
        } else { /* dropped (or never arrived): a stub ending in a cross */
          const frac = m.td >= 0 && m.td > m.ts ? Math.min(0.8, Math.max(0.3, (m.td - m.ts) / Math.max(1, M.maxDur))) : 0.3;
          const xe = x1 + (x2 - x1) * frac, ye = m.td >= 0 ? Math.max(yOf(m.td), y1 + 6) : yOf(end);
          out.push('<g class="' + cls + (m.td < 0 ? " inflight" : "") + '">' + tip + '<line x1="' + x1 + '" y1="' + y1 + '" x2="' + xe + '" y2="' + ye + '"/>' +
            (m.td >= 0 ? '<path class="dropx" d="M' + (xe - 4) + "," + (ye - 4) + "l8,8m0,-8l-8,8\"/>" : "") + "</g>");
        }
      };
      for (let k = lastLE(msgs, "ts", t0 - M.maxDur - 1) + 1; k < msgs.length && msgs[k].ts <= t1; k++) drawMsg(msgs[k]);
      const dups = R.sortedDups(M);
      for (let k = lastLE(dups, "ts", t0 - M.maxDur - 1) + 1; k < dups.length && dups[k].ts <= t1; k++) drawMsg(dups[k]);
      for (const m of M.open) if (m.ts < t0 - M.maxDur - 1) drawMsg(m);
      /* WAL marks on lanes: appends when close; discards once they happened */
      const fine = V.scale >= 0.004;
      for (let n = 1; n <= M.N; n++) {
        const ents = M.ents[n];
        if (fine) for (let j = Math.max(0, lastLE(ents, "ta", t0)); j < ents.length && ents[j].ta <= t1; j++) {
          const en = ents[j];
          if (en.ta >= t0 && drawn++ < MAX_DRAWN) out.push('<text class="appmark" x="' + (xOf(n) + 6) + '" y="' + (yOf(en.ta) + 4) + '">+' + en.lsn + "<title>" + esc("n" + n + " appends " + R.cellText(en)) + "</title></text>");
        }
      }
      for (let n = 1; n <= M.N; n++) for (const en of M.ents[n]) if (en.tr !== Infinity && en.tr >= t0 && en.tr <= t1 && past(en.ir))
        out.push('<text class="discmark" x="' + (xOf(n) + 6) + '" y="' + (yOf(en.tr) + 4) + '">✗' + esc(en.lsn + " " + (en.noop ? "no-op" : en.key) + " (" + en.why + ")") + "<title>" + esc("n" + n + " discards " + R.cellText(en) + ": " + en.why) + "</title></text>");
      /* clients: write → the node that appended it, answer ← back, reads */
      const cm = M.cmarks; let lastY = -1e9;
      for (let k = Math.max(0, lastLE(cm, "t", t0) - 40); k < cm.length && cm[k].t <= t1; k++) {
        const c = cm[k], y0 = yOf(c.t), y = Math.max(y0, lastY + 15);
        if (y < top - 100) { continue; }
        lastY = y;
        if (drawn++ >= MAX_DRAWN) { skipped++; continue; }
        const words = past(c.i);
        if (c.kind === "send") {
          const w = c.w, xc = xClient(w.lane), endN = w.tApp >= 0 ? w.appNode : w.node;
          const ye = w.tApp >= 0 && past(w.oi) ? Math.max(yOf(w.tApp), y + 4) : y + 6;
          const tip = w.lane.label + " writes " + w.key + "=" + w.value + ": sent to n" + w.node + (w.tApp >= 0 && past(w.oi) ? "; n" + w.appNode + " appended it at lsn " + w.lsn + " (" + R.fmtT(w.tApp) + ")" : "");
          out.push('<g class="cw"><title>' + esc(tip) + '</title><line x1="' + xc + '" y1="' + y + '" x2="' + xOf(endN === w.node || past(w.oi) ? endN : w.node) + '" y2="' + ye + '" marker-end="url(#a-cw)"/>' +
            '<text class="cwlabel" x="' + (xc - 6) + '" y="' + (y - 3) + '" text-anchor="end">' + esc(w.key + "=" + w.value) + "</text></g>");
        } else if (c.kind === "out") {
          const w = c.w, xc = xClient(w.lane), xn = xOf(w.ansNode), oc = w.outcome === "acked" ? "ack" : w.outcome === "refused" ? "refused" : "unknown";
          const word = w.outcome === "acked" ? "ok" : w.outcome === "refused" ? "✗ refused" : "? unknown";
          const tip = w.lane.label + " write " + w.key + "=" + w.value + ": " + w.outcome + " (n" + w.ansNode + (w.lsn ? ", lsn " + w.lsn : "") + ")" +
            (w.outcome === "unknown" ? " — the client was never told ok: it may or may not commit" : w.outcome === "refused" ? " — no leader took it" : "");
          out.push('<g class="co co-' + oc + '"><title>' + esc(tip) + '</title><line x1="' + xn + '" y1="' + y + '" x2="' + xc + '" y2="' + (y + 4) + '" marker-end="url(#a-' + oc + ')"/>' +
            (words ? '<text class="colabel" x="' + (xc + 6) + '" y="' + (y + 8) + '">' + esc(word + " " + w.key) + "</text>" : "") + "</g>");
        } else {
          const r = c.r, xc = xClient(r.lane), xn = xOf(r.node);
          const val = r.value !== undefined ? r.value : "nothing";
          const badges = [];
          if (r.stale) badges.push("stale");
          if (r.missedOwn) badges.push("own write missing");
          if (r.backwards) badges.push("went back in time");
          const tip = r.lane.label + " reads " + r.key + " from n" + r.node + " (" + r.route + "): " + val + (r.lsn ? " (lsn " + r.lsn + ")" : "") + (badges.length ? " — " + badges.join(", ") : " — fresh");
          out.push('<g class="cr' + (badges.length ? " bad" : "") + '"><title>' + esc(tip) + '</title><line x1="' + xc + '" y1="' + y + '" x2="' + xn + '" y2="' + y + '" stroke-dasharray="2 2"/>' +
            '<line x1="' + xn + '" y1="' + (y + 1) + '" x2="' + xc + '" y2="' + (y + 5) + '" marker-end="url(#a-read)"/>' +
            (words ? '<text class="crlabel" x="' + (xc + 6) + '" y="' + (y + 8) + '">' + esc("read " + r.key + " → " + val) + "</text>" +
              badges.map((b, j) => '<text class="badge" x="' + (xc + 6) + '" y="' + (y + 21 + 12 * j) + '">' + esc(b) + "</text>").join("") : "") + "</g>");
          if (words) lastY += 12 * badges.length;
        }
      }
      /* narration and expectations, pinned at their time, right of the lanes */
      if (V.notes) {
        const nx = notesX(); let ly = -1e9;
        for (let k = Math.max(0, lastLE(M.notes, "t", t0) - 20); k < M.notes.length && M.notes[k].t <= t1; k++) {
          const note = M.notes[k];
          if (!past(note.i)) continue;
          const y = yOf(note.t), lines = wrap((note.cls === "ok" ? "✓ " : note.cls === "say" ? "" : "✗ ") + note.text, NOTE_CHARS);
          const yy = Math.max(y, ly + 14); ly = yy + 13 * (lines.length - 1);
          out.push('<line class="note" x1="' + LEFT + '" x2="' + (nx - 4) + '" y1="' + y + '" y2="' + y + '"/>' + textLines(nx, yy + 4, lines, "notetext " + note.cls) + "</text>");
        }
      }
      /* what has not happened yet is faded */
      if (!V.future && yCur < bot) out.push('<rect class="future" x="0" y="' + Math.max(top, yCur) + '" width="' + W + '" height="' + (bot - Math.max(top, yCur)) + '"/>');
      /* the cursor */
      out.push('<line class="cursor" x1="0" x2="' + W + '" y1="' + yCur + '" y2="' + yCur + '"/><text class="cursorlabel" x="2" y="' + (yCur - 3) + '">' + esc(R.fmtShort(tc)) + "</text>");
      svg.innerHTML = out.join("");
      if (o.warn) o.warn.textContent = skipped ? skipped + " marks not drawn here: zoom in (+)" : "";
      /* the lane heads (HTML, kept over the scrolling diagram) */
      const lh = o.lanehead, want = M.N + M.lanes.length;
      if (lh.childElementCount !== want) {
        lh.innerHTML = "";
        for (let n = 1; n <= M.N; n++) { const s = document.createElement("span"); s.textContent = "n" + n; lh.appendChild(s); }
        for (const l of M.lanes) { const s = document.createElement("span"); s.className = "clienthead"; s.textContent = l.label; s.title = "client " + l.label + (l.id ? " (" + l.id + " on write lines)" : ""); lh.appendChild(s); }
      }
      for (let n = 1; n <= M.N; n++) lh.children[n - 1].style.left = (xOf(n) - sc.scrollLeft) + "px";
      M.lanes.forEach((l, k) => { lh.children[M.N + k].style.left = (xClient(l) - sc.scrollLeft) + "px"; });
    };
    return V;
  }

  /* The legend: one sample of every mark the diagram draws. */
  function legendHTML() {
    const s = (body, w) => '<svg class="lg" width="' + (w || 34) + '" height="16" viewBox="0 0 ' + (w || 34) + ' 16">' + body + "</svg>";
    const arrow = (cls, mk, dash) => s('<defs><marker id="lg-' + mk + '" class="mk-' + mk + '" viewBox="0 0 8 8" refX="7" refY="4" markerWidth="6" markerHeight="6" orient="auto"><path d="M0,0 L8,4 L0,8 z"/></marker></defs><line class="' + cls + '" x1="2" y1="3" x2="30" y2="13"' + (dash ? ' stroke-dasharray="3 3"' : "") + ' marker-end="url(#lg-' + mk + ')"/>');
    const item = (pic, text) => '<span class="lgi">' + pic + " " + text + "</span>";
    return [
      item(arrow("msg m-prevote", "prevote"), "pre-vote"), item(arrow("msg m-vote", "vote"), "vote"),
      item(arrow("msg m-append", "append"), "append"), item(arrow("msg m-resp", "resp"), "append reply"),
      item(arrow("msg m-hb", "hb"), "heartbeat (<kbd>h</kbd>)"),
      item(s('<g class="msg m-vote"><line x1="2" y1="3" x2="20" y2="11"/><path class="dropx" d="M16,7 l8,8 m0,-8 l-8,8"/></g>'), "dropped (hover: why)"),
      item(s('<g class="msg m-append inflight"><line x1="2" y1="3" x2="30" y2="13"/></g>'), "not delivered by the end"),
      item(s('<rect class="partband" x="0" y="0" width="34" height="16"/><rect class="parthatch-lg" x="8" y="0" width="18" height="16"/>'), "partition: band, hatched between the groups"),
      item(s('<line class="lane" x1="17" y1="0" x2="17" y2="5"/><line class="downlane" x1="17" y1="5" x2="17" y2="16"/>'), "✖ crashed / ❚❚ paused"),
      item(s('<rect class="band r-follower" x="4" y="2" width="6" height="12"/><rect class="band r-pre-candidate" x="12" y="2" width="6" height="12"/><rect class="band r-candidate" x="20" y="2" width="6" height="12"/><rect class="band r-leader" x="28" y="2" width="6" height="12"/>', 36), "role: F follower, PC pre-candidate, C candidate, L leader, with the term (t2)"),
      item('<span class="appmark-lg">+3</span>', "appends lsn 3 (when zoomed in)"),
      item('<span class="discmark-lg">✗3 y</span>', "discards lsn 3, with why"),
      item(arrow("cwline", "cw"), "client write → the node that appended it"),
      item(arrow("coline co-ack", "ack"), "ok: acknowledged"), item(arrow("coline co-unknown", "unknown"), "? unknown: never told ok"),
      item(arrow("coline co-refused", "refused"), "✗ refused: no leader"),
      item(arrow("crline", "read"), "read: the value the node returned"),
      item('<span class="badge-lg">stale</span> <span class="badge-lg">own write missing</span> <span class="badge-lg">went back in time</span>', "what was wrong with a read"),
      item(s('<path class="zigzag" d="M0,8 L4,4 L8,12 L12,4 L16,12 L20,4 L24,12 L28,4 L32,8"/>'), "a quiet stretch, compressed (its length written)"),
      item(s('<line class="note" x1="0" y1="8" x2="34" y2="8"/>'), "narration, ✓/✗ expectations at their time"),
      item(s('<line class="cursor" x1="0" y1="8" x2="34" y2="8"/>'), "the selected moment; below it, faded: what has not happened yet"),
    ].join(" ");
  }

  G.RaftLamport = { create, legendHTML, wrap };
})(window);
