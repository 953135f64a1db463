/*
 * report_model.js — the model both pages draw ("one page, two sources"):
 * built from trace objects (README, "Trace format"), one at a time, so
 * the report (its embedded trace) and the live page (its event stream)
 * feed the same code.  Positions are indexes into the model's lines; the
 * WAL answers "what did each log hold after line i" from per-entry
 * lifetimes [ia, ir), so stepping back costs the same as stepping
 * forward.  Nothing here touches the page: report_lamport.js and
 * report_wal.js draw it.  Plain script (no modules: the report page is
 * one file), everything under window.RaftModel.
 *
 * Clients (issue 17): a lane per client.  Write lines name the client
 * "c1" with `name` "alice" and number the write (`write`), read lines
 * name it "alice"; the read's badges are judged as the runner judges
 * them (sim/runner/runner_clients.c): `stale` is the trace's own verdict,
 * "went back in time" is a version older than the newest this client
 * read of that key before, "own write missing" a version older than the
 * client's newest write of the key acknowledged by then.
 */
(function (G) {
  "use strict";

  const ROLE_SHORT = { follower: "F", "pre-candidate": "PC", candidate: "C", leader: "L" };
  /* lag alert: entries behind the leader (the live dashboard's rule) */
  const LAG_ALERT = 5;
  /* what a WAL record costs (sim/runner/runner_view.c, rv_lag) */
  const RECORD_BYTES = 17;

  /* numbers from a trace line: anything else counts as 0 (a crafted
   * trace cannot smuggle markup through a number into the page) */
  function num(x) { return typeof x === "number" && isFinite(x) ? x : 0; }
  function nodeNum(s) { return typeof s === "string" && s[0] === "n" ? parseInt(s.slice(1), 10) || 0 : 0; }
  function fmtT(us) { return (us / 1e6).toFixed(6).replace(/(\.\d{3})(\d{3})$/, "$1 $2") + " s"; }
  function fmtShort(us) {
    const a = Math.abs(us);
    if (a >= 1e6) return (us / 1e6).toFixed(a >= 1e7 ? 1 : 3).replace(/\.?0+$/, "") + " s";
    if (a >= 1e3) return (us / 1e3).toFixed(a >= 1e4 ? 0 : 1).replace(/\.0$/, "") + " ms";
    return Math.round(us) + " µs";
  }
  function esc(s) { return String(s).replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" }[c])); }
  /* index of the last arr[k][key] <= v (key null: arr[k] itself), or -1 */
  function lastLE(arr, key, v) {
    let lo = 0, hi = arr.length - 1, r = -1;
    while (lo <= hi) {
      const m = (lo + hi) >> 1;
      if ((key === null ? arr[m] : arr[m][key]) <= v) { r = m; lo = m + 1; } else hi = m - 1;
    }
    return r;
  }
  function cellText(en) { return en.lsn + ":" + en.term + " " + (en.noop ? "·" : en.key + (en.value !== undefined ? "=" + en.value : "")); }

  function create() {
    const M = {
      E: [], N: 0, run: null, end: 0, version: 0,
      msgs: [], dups: [], dupsSorted: true, evMsg: [], open: new Set(), bands: [[]], gaps: [], parts: [],
      ents: [[]], commits: [[]], follows: [[]], snaps: [[]], notes: [], maxDur: 0, hasIdless: false,
      lanes: [], laneOf: new Map(), writes: [], reads: [], cmarks: [],
    };
    const st = { byId: new Map(), queue: new Map(), live: [new Map()], lastHb: new Map(),
                 openGap: [], openBand: [], openPart: null, writeNo: new Map(),
                 pending: new Map(), seen: new Map() };

    function grow(n) {
      while (M.N < n) {
        M.N++;
        M.bands.push([]); M.ents.push([]); M.commits.push([]); M.follows.push([]); M.snaps.push([]);
        st.live.push(new Map());
      }
    }
    function lane(key, label) {
      let l = M.laneOf.get(key);
      if (!l) { l = { key, label: label || key, k: M.lanes.length }; M.lanes.push(l); M.laneOf.set(key, l); }
      return l;
    }
    function follow(n, i, who) {
      const f = M.follows[n];
      if (!f.length || f[f.length - 1].who !== who) f.push({ i, who });
    }
    const closePart = (t) => { if (st.openPart) { st.openPart.t1 = t; st.openPart = null; } };
    const qkey = (from, to, e) => from + ">" + to + ":" + e.type + ":" + e.term;
    /* A duplicate's second copy is known only when it arrives: copies
     * go to M.dups, sorted by send time when a view asks (sortedDups). */
    function insertMsg(m) { M.dups.push(m); M.dupsSorted = false; }

    function client(e, i, t, n) {
      if (e.op === "read") {
        const l = lane(e.client, e.client);
        const sk = l.key + "\u0000" + e.key, lsn = num(e.lsn);
        let backwards = false;
        if (st.seen.has(sk)) { backwards = lsn < st.seen.get(sk); if (!backwards) st.seen.set(sk, lsn); }
        else st.seen.set(sk, lsn);
        let missedOwn = false;
        for (let k = M.writes.length - 1; k >= 0; k--) {
          const w = M.writes[k];
          if (w.lane === l && w.key === e.key && w.outcome === "acked") { missedOwn = lsn < w.lsn; break; }
        }
        const r = { op: "read", lane: l, key: e.key, value: e.value, lsn, node: n, t, i, route: e.route || "",
                    stale: !!e.stale, backwards, missedOwn };
        M.reads.push(r); M.cmarks.push({ kind: "read", t, i, r });
        return;
      }
      if (e.op !== "write") return;
      const l = lane(e.name || e.client, e.name ? e.name : e.client);
      if (e.name && !l.id) l.id = e.client;
      const pk = l.key + "\u0000" + e.key + "\u0000" + e.value;
      if (e.outcome === "sent") {
        const w = { op: "write", no: e.write, lane: l, key: e.key, value: e.value, node: n, t, i, ts: t,
                    outcome: "sent", tOut: -1, oi: -1, lsn: 0, ansNode: 0, tApp: -1 };
        M.writes.push(w); M.cmarks.push({ kind: "send", t, i, w });
        if (e.write !== undefined) st.writeNo.set(e.write, w);
        else { if (!st.pending.has(pk)) st.pending.set(pk, []); st.pending.get(pk).push(w); }
        return;
      }
      let w = e.write !== undefined ? st.writeNo.get(e.write) : null;
      if (!w && e.write === undefined) { /* an older trace: the oldest open write of that kind */
        const q = st.pending.get(pk);
        w = q && q.length ? q.shift() : null;
      }
      if (!w) return;
      w.outcome = String(e.outcome); w.tOut = t; w.oi = i; w.lsn = num(e.lsn); w.ansNode = n;
      M.cmarks.push({ kind: "out", t, i, w });
      if (w.lsn) { /* where the write entered a log: the arrow's end */
        const ents = M.ents[n] || [];
        for (let k = ents.length - 1, s = 0; k >= 0 && s < 4000; k--, s++)
          if (ents[k].lsn === w.lsn && ents[k].ta >= w.ts) { w.tApp = ents[k].ta; w.appNode = n; break; }
          else if (ents[k].ta < w.ts) break;
      }
    }

    M.add = function (e) {
      const i = M.E.length;
      M.E.push(e); M.version++;
      const t = e.t_us, n = nodeNum(e.node);
      if (n > M.N) grow(n);
      if (t > M.end) M.end = t;
      switch (e.kind) {
      case "run":
        if (!M.run) M.run = e;
        if (e.nodes > M.N) grow(e.nodes);
        break;
      case "role": {
        if (st.openBand[n]) st.openBand[n].t1 = t;
        const b = { t0: t, t1: Infinity, i0: i, role: String(e.role), term: num(e.term) };
        M.bands[n].push(b); st.openBand[n] = b;
        if (e.role === "leader") follow(n, i, n);
        else if (e.role === "follower" && e.reason === "leader-seen") follow(n, i, nodeNum(e.peer));
        else follow(n, i, 0);
        /* A heartbeat that changed a role (a stale leader hearing a higher
         * term) is part of the story: shown even when heartbeats are not. */
        for (let j = i - 1; j >= 0 && M.E[j].t_us === t && j > i - 8; j--)
          if (M.E[j].kind === "recv" && M.E[j].node === e.node && M.evMsg[j]) { M.evMsg[j].hb = false; break; }
        break;
      }
      case "crash": case "pause":
        if (e.kind === "crash") { if (st.openBand[n]) { st.openBand[n].t1 = t; st.openBand[n] = null; } follow(n, i, 0); }
        if (!st.openGap[n] || e.kind === "crash") {
          if (st.openGap[n]) { st.openGap[n].t1 = t; st.openGap[n].i1 = i; }
          st.openGap[n] = { n, t0: t, t1: Infinity, kind: e.kind === "crash" ? "down" : "paused", i0: i };
          M.gaps.push(st.openGap[n]);
        }
        break;
      case "restart": case "resume":
        if (st.openGap[n]) { st.openGap[n].t1 = t; st.openGap[n].i1 = i; st.openGap[n] = null; }
        break;
      case "partition":
        closePart(t);
        st.openPart = { t0: t, t1: Infinity, i0: i, groups: (e.groups || []).map((g) => g.map(nodeNum)), cuts: null, label: "partition" };
        M.parts.push(st.openPart);
        break;
      case "cut":
        if (!st.openPart) { st.openPart = { t0: t, t1: Infinity, i0: i, groups: null, cuts: [], label: "one-way cut" }; M.parts.push(st.openPart); }
        (st.openPart.cuts = st.openPart.cuts || []).push([n, nodeNum(e.to)]);
        break;
      case "heal": closePart(t); break;
      case "send": {
        const m = { id: e.id, from: n, to: nodeNum(e.to), type: e.type, term: e.term, ts: t, si: i, tr: -1, td: -1, e, hb: false };
        if (m.to > M.N) grow(m.to);
        if (e.type === "append") m.hb = e.entries === 0;
        else if (e.type === "append-resp") m.hb = !!st.lastHb.get(n + "<" + m.to);
        if (e.id !== undefined) st.byId.set(e.id, m);
        const k = qkey(n, m.to, e);
        if (!st.queue.has(k)) st.queue.set(k, []);
        st.queue.get(k).push(m);
        M.msgs.push(m); M.evMsg[i] = m; M.open.add(m);
        break;
      }
      case "recv": case "drop": {
        const from = e.kind === "recv" ? nodeNum(e.from) : n, to = e.kind === "recv" ? n : nodeNum(e.to);
        let m = e.id !== undefined ? st.byId.get(e.id) : null;
        if (!m) { /* no id (TCP): the oldest unanswered send of that kind */
          M.hasIdless = true;
          const q = st.queue.get(qkey(from, to, e));
          while (q && q.length && (q[0].tr >= 0 || q[0].td >= 0)) q.shift();
          m = q && q.length ? q[0] : null;
        }
        if (!m) break;
        if (m.tr >= 0 || m.td >= 0) { m = Object.assign({}, m, { tr: -1, td: -1 }); insertMsg(m); }
        if (e.kind === "recv") {
          m.tr = t; m.ri = i;
          if (m.type === "append") {
            st.lastHb.set(n + "<" + from, m.hb);
            const bs = M.bands[n], b = bs[bs.length - 1];
            if (b && b.role === "follower" && e.term === b.term) follow(n, i, from);
          }
        } else { m.td = t; m.di = i; m.reason = e.reason; }
        M.open.delete(m);
        if (t - m.ts > M.maxDur) M.maxDur = t - m.ts;
        M.evMsg[i] = m;
        break;
      }
      case "append": {
        const old = st.live[n].get(num(e.lsn));
        if (old !== undefined) { old.ir = i; old.tr = t; old.why = "overwritten"; }
        const en = { lsn: num(e.lsn), term: num(e.term), key: String(e.key), value: e.value === undefined ? undefined : String(e.value), noop: !!e.noop, ia: i, ta: t, ir: Infinity, tr: Infinity, why: "" };
        M.ents[n].push(en); st.live[n].set(en.lsn, en);
        break;
      }
      case "discard": {
        const en = st.live[n].get(num(e.lsn));
        if (en) {
          en.ir = i; en.tr = t; en.why = String(e.reason); st.live[n].delete(en.lsn);
          if (en.value === undefined && e.value !== undefined) en.value = e.value;
        }
        break;
      }
      case "snapshot": {
        /* compact: the log up to lsn is dropped, its effect kept in the
         * snapshot; install: the node's log up to lsn is replaced by the
         * leader's snapshot (what lay past it and conflicted came as
         * discard lines first).  Either way the entries at or below lsn
         * leave the log without being discarded: compacted. */
        if (e.reason !== "compact" && e.reason !== "install") break;
        const top = num(e.lsn);
        M.snaps[n].push({ i, t, lsn: top, term: num(e.term), reason: String(e.reason), from: e.from === undefined ? "" : String(e.from) });
        for (const [lsn, en] of st.live[n])
          if (lsn <= top) { en.ir = i; en.tr = t; en.why = "compacted"; en.compacted = true; st.live[n].delete(lsn); }
        break;
      }
      case "commit": M.commits[n].push({ i, lsn: num(e.lsn) }); break;
      case "client": client(e, i, t, n); break;
      case "say": M.notes.push({ i, t, cls: "say", text: e.text }); break;
      case "pg": (M.pg || (M.pg = [])).push(i); break;
      case "expect": M.notes.push({ i, t, cls: e.ok ? "ok" : "fail", text: e.text + (e.ok ? "" : " — got: " + (e.actual || "?")) }); break;
      case "violation": M.notes.push({ i, t, cls: "violation", text: e.invariant + ": " + e.detail }); break;
      }
    };
    return M;
  }

  function sortedDups(M) {
    if (!M.dupsSorted) { M.dups.sort((a, b) => a.ts - b.ts || a.si - b.si); M.dupsSorted = true; }
    return M.dups;
  }

  function fromArray(E) { const M = create(); for (let i = 0; i < E.length; i++) M.add(E[i]); return M; }

  /* ---------------------------------------------------------------- */
  /* Questions about one moment (line i)                               */

  function roleAt(M, n, i) {
    const b = M.bands[n], k = lastLE(b, "i0", i);
    for (let g = M.gaps.length - 1; g >= 0; g--) {
      const x = M.gaps[g];
      if (x.n === n && x.i0 <= i && (x.i1 === undefined || x.i1 > i))
        return { role: x.kind === "down" ? "down" : "paused", term: k >= 0 ? b[k].term : 0, up: x.kind !== "down" };
    }
    return k >= 0 ? { role: b[k].role, term: b[k].term, up: true } : { role: "follower", term: 0, up: true };
  }
  function commitAt(M, n, i) { const c = M.commits[n], k = lastLE(c, "i", i); return k >= 0 ? c[k].lsn : 0; }
  function followsAt(M, n, i) { const f = M.follows[n], k = lastLE(f, "i", i); return k >= 0 ? f[k].who : 0; }

  /* Node n's latest snapshot (compact or install) at line i, or null:
   * { lsn, term, reason, from, i, t }; its log starts after lsn. */
  function snapAt(M, n, i) { const s = M.snaps[n] || [], k = lastLE(s, "i", i); return k >= 0 ? s[k] : null; }

  /* The entries alive in node n's log after line i, oldest first (at most
   * `max` of the newest), the newest ones already discarded (not the
   * compacted ones: they are in `snap`, the snapshot the log starts
   * after, or null). */
  function walAt(M, n, i, max, goneMax) {
    const ents = M.ents[n], live = [], gone = [];
    let scanned = 0;
    const top = lastLE(ents, "ia", i);
    for (let j = top; j >= 0 && live.length < max && scanned < 40000; j--, scanned++)
      if (ents[j].ir > i) live.push(ents[j]);
    for (let j = top; j >= 0 && gone.length < (goneMax || 0) && scanned < 80000; j--, scanned++)
      if (ents[j].ir <= i && !ents[j].compacted) gone.push(ents[j]);
    live.reverse(); gone.reverse();
    return { live, gone, snap: snapAt(M, n, i), truncated: scanned >= 40000 };
  }
  function lastLsnAt(M, n, i) {
    const ents = M.ents[n];
    for (let j = lastLE(ents, "ia", i), s = 0; j >= 0 && s < 60000; j--, s++) if (ents[j].ir > i) return ents[j].lsn;
    const sn = snapAt(M, n, i); /* everything compacted: the log ends at the snapshot */
    return sn ? sn.lsn : 0;
  }

  /* The leader the way the runner names it: up, leading, highest term. */
  function leaderAt(M, i) {
    let best = 0, bt = -1;
    for (let n = 1; n <= M.N; n++) {
      const r = roleAt(M, n, i);
      if (r.up && r.role === "leader" && r.term >= bt) { best = n; bt = r.term; }
    }
    return best;
  }

  /* The live entries of node n after line i with an lsn above `from`,
   * by lsn.  Walking the appends back from i, the live ones come in
   * falling lsn order (a discard always takes a whole suffix), so the
   * walk stops at the first live one at or below `from`. */
  function tailAt(M, n, i, from) {
    const ents = M.ents[n], out = new Map();
    for (let j = lastLE(ents, "ia", i), s = 0; j >= 0 && s < 60000; j--, s++) {
      const en = ents[j];
      if (en.ir <= i) continue;
      if (en.lsn <= from) break;
      out.set(en.lsn, en);
    }
    return out;
  }

  /* One row per node: the runner's status table (sim/runner/runner_say.c,
   * rv_lag in runner_view.c) at line i.  The trace has no apply event:
   * applied is the commit LSN. */
  /* The mirrored PostgreSQL servers as the mirror last saw each one, at
   * or before event i (its `pg` trace lines; none in an unmirrored run). */
  function pgAt(M, i) {
    const seen = new Map();
    for (const j of M.pg || []) {
      if (j > i) break;
      seen.set(M.E[j].server, M.E[j]);
    }
    return Array.from(seen.values()).sort((a, b) => (a.server < b.server ? -1 : 1));
  }

  function dashboardAt(M, i) {
    const L = leaderAt(M, i), t = i >= 0 ? M.E[i].t_us : 0, rows = [];
    const leaderLast = L ? lastLsnAt(M, L, i) : 0;
    let low = leaderLast;
    const base = [];
    for (let n = 1; n <= M.N; n++) {
      const r = roleAt(M, n, i), commit = commitAt(M, n, i);
      base.push({ r, commit });
      if (r.role !== "down") low = Math.min(low, commit);
    }
    const LOOK = 256; /* how far back a node's history may differ */
    const lw = L ? tailAt(M, L, i, Math.max(0, low - LOOK)) : null;
    for (let n = 1; n <= M.N; n++) {
      const { r, commit } = base[n - 1], mine = tailAt(M, n, i, Math.max(0, commit - LOOK));
      let last = 0;
      mine.forEach((en) => { if (en.lsn > last) last = en.lsn; });
      if (!mine.size) last = lastLsnAt(M, n, i);
      const row = { n, role: r.role, term: r.term, up: r.up, last, commit, applied: commit,
                    follows: r.role === "down" ? 0 : followsAt(M, n, i), lag: null, alert: false };
      if (L && r.role !== "down") {
        /* entries applied from an older, discarded history are no progress */
        let a = commit;
        while (a > 0 && mine.has(a) && lw.has(a) && mine.get(a).term !== lw.get(a).term) a--;
        if (a > leaderLast) a = leaderLast;
        let bytes = 0;
        for (let k = a + 1; k <= leaderLast; k++) {
          const en = lw.get(k);
          bytes += RECORD_BYTES + (en && !en.noop ? (en.key || "").length + (en.value || "").length : 0);
        }
        const next = lw.get(a + 1);
        const secs = a < leaderLast && next && t > next.ta ? (t - next.ta) / 1e6 : 0;
        row.lag = { entries: leaderLast - a, bytes, seconds: secs };
        row.alert = row.lag.entries >= LAG_ALERT;
      }
      rows.push(row);
    }
    return { leader: L, rows, t };
  }

  /* ---------------------------------------------------------------- */
  /* Words                                                             */

  function describe(e) {
    if (!e) return "the start of the run";
    const t = e.type, k = e.kind;
    switch (k) {
    case "send": case "recv": case "drop": {
      const from = k === "recv" ? e.from : e.node, to = k === "recv" ? e.node : e.to;
      let d = from + " → " + to + " " + t + " (term " + e.term;
      if (t === "snapshot") d += ", snapshot to lsn " + e.last_lsn + ":" + e.last_term + ", " + e.bytes + " bytes at offset " + e.offset + (e.done ? ", the last chunk" : "");
      else if (t === "snapshot-resp") d += e.success ? ", installed, ok up to lsn " + e.match_lsn : ", wants offset " + e.offset;
      else if (e.last_lsn !== undefined) d += ", log ends " + e.last_lsn + ":" + e.last_term;
      if (e.prev_lsn !== undefined) d += ", after lsn " + e.prev_lsn + ", " + e.entries + " entr" + (e.entries === 1 ? "y" : "ies") + ", commit " + e.commit_lsn;
      if (e.granted !== undefined) d += e.granted ? ", granted" : ", refused";
      if (e.success !== undefined && t !== "snapshot-resp") d += e.success ? ", ok up to lsn " + e.match_lsn : ", rejected";
      d += ")";
      return (k === "send" ? "sent: " : k === "recv" ? "received: " : "dropped (" + e.reason + "): ") + d;
    }
    case "role": return e.node + " becomes " + e.role + " of term " + e.term + " (" + e.reason + (e.peer ? ", " + e.peer : "") + (e.votes ? ", votes " + e.votes.join(",") : "") + ")";
    case "vote": return e.node + (e.granted ? " grants " : " refuses ") + (e.prevote ? "pre-vote" : "vote") + " to " + e.candidate + " for term " + e.term + " (" + e.reason + ")";
    case "append": return e.node + " appends lsn " + e.lsn + " (term " + e.term + ")" + (e.noop ? ": the no-op that starts its term" : ": " + e.key + (e.value !== undefined ? "=" + e.value : ""));
    case "discard": return e.node + " discards lsn " + e.lsn + " (term " + e.term + ": " + (e.noop ? "no-op" : e.key + (e.value !== undefined ? "=" + e.value : "")) + ") — " + e.reason;
    case "commit": return e.node + " commit LSN " + e.lsn;
    case "snapshot":
      if (e.reason === "compact") return e.node + " snapshot at lsn " + e.lsn + " (term " + e.term + ", " + e.entries + " entries compacted, " + e.bytes + " bytes)";
      if (e.reason === "send") return e.node + " sends snapshot to " + e.to + " (lsn " + e.lsn + ", " + e.bytes + " bytes)";
      return e.node + " installs snapshot from " + e.from + " (lsn " + e.lsn + ", term " + e.term + ", " + e.bytes + " bytes)";
    case "ack": return e.node + " may acknowledge writes up to lsn " + e.lsn;
    case "client":
      if (e.op === "read") return e.client + " reads " + e.key + " from " + e.node + " (" + (e.route || "?") + "): " + (e.value !== undefined ? e.value + " (lsn " + e.lsn + ")" : "nothing") + (e.stale ? " — stale" : "");
      return (e.name || e.client) + " write " + e.key + "=" + e.value + " at " + e.node + ": " + e.outcome + (e.lsn ? " (lsn " + e.lsn + ")" : "");
    case "say": return "“" + e.text + "”";
    case "pg": return "pg " + e.server + " (" + e.node + "): " + e.role + (e.timeline ? ", timeline " + e.timeline : "") + (e.lsn ? ", lsn " + e.lsn : "") +
                      (e.replayed ? ", replayed " + e.replayed : "") + (e.lag_bytes !== undefined ? ", lag " + e.lag_bytes + " bytes " + Number(e.lag_s).toFixed(3) + " s" : "");
    case "expect": return (e.ok ? "✓ " : "✗ ") + e.text + (e.actual ? " — " + e.actual : "");
    case "violation": return "✗ invariant " + e.invariant + " broken: " + e.detail;
    case "partition": return "partition: " + (e.groups || []).map((g) => "{" + g.join(",") + "}").join(" | ");
    case "crash": return e.node + " crashes" + (e.lose_unflushed ? ", losing its unflushed tail" : "") + (e.silent ? ", silently (its connections stay open)" : "");
    case "closed": return e.node + " sees its connections to " + e.peer + " close";
    case "run": return "run: seed " + e.seed + ", " + e.nodes + " nodes, ack " + e.ack + ", " + e.election + ", prevote " + e.prevote + ", checkquorum " + e.checkquorum;
    default: return (e.node === "cluster" ? "" : e.node + " ") + k + (e.to ? " → " + e.to : "");
    }
  }

  /* The first thing that happens after the set-up at the start (the run
   * line, the nodes' start, narration at t=0): where a page opens. */
  function firstEvent(M) {
    const E = M.E;
    if (!E.length) return -1;
    const t0 = E[0].t_us;
    for (let i = 0; i < E.length; i++) {
      const e = E[i];
      if (e.t_us > t0) return i;
      if (!(e.kind === "run" || e.kind === "say" || (e.kind === "role" && e.reason === "start"))) return i;
    }
    return 0;
  }

  G.RaftModel = { num, create, fromArray, sortedDups, nodeNum, fmtT, fmtShort, esc, lastLE, cellText, roleAt, commitAt,
                  followsAt, walAt, snapAt, leaderAt, dashboardAt, pgAt, describe, firstEvent, ROLE_SHORT, LAG_ALERT };
})(window);
