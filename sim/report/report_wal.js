/*
 * report_wal.js — the WAL panel and the replication dashboard of a
 * RaftModel (report_model.js) at one moment (line i), shared by the
 * report page and the live page's timeline view.
 *
 * WAL: every node's log as cells `lsn:term key=value` (· a no-op),
 * committed cells green, the bar at the commit LSN.  A discard is struck
 * through from the moment it happens (then listed after the log,
 * dashed); before that the entry looks like any other, unless `future`
 * ("show what happens later") is set, which marks it with when and why.
 * A log that starts after a snapshot (compacted, or installed from the
 * leader) shows the prefix as one block "snapshot up to lsn N (term T)".
 * Dashboard: the runner's status table (role, term, last LSN, commit,
 * applied, lag in entries / bytes / seconds behind the leader, whom it
 * follows), the row in the alert colour from RaftModel.LAG_ALERT entries.
 * Both return HTML with classes only (no inline style: the live page's
 * Content-Security-Policy), every trace string escaped.
 */
(function (G) {
  "use strict";
  const R = G.RaftModel, esc = R.esc;
  const CELLS = 24;

  function roleChip(r, noTerm) {
    return '<span class="rolechip r-' + esc(r.role) + '">' + esc(r.role) + (noTerm ? "" : " t" + r.term) + "</span>";
  }

  function walHTML(M, i, future) {
    const out = [];
    for (let n = 1; n <= M.N; n++) {
      const w = R.walAt(M, n, i, CELLS, 4), commit = R.commitAt(M, n, i), r = R.roleAt(M, n, i);
      const last = w.live.length ? w.live[w.live.length - 1].lsn : 0;
      out.push('<div class="walrow" data-node="n' + n + '"><span class="who"><b>n' + n + "</b>" + roleChip(r) +
               '<br><span class="more">lsn ' + last + " · commit " + commit + "</span></span>");
      const base = w.snap ? w.snap.lsn : 0; /* the log starts after it */
      if (w.snap) {
        const sn = w.snap, how = sn.reason === "install" ? "installed from " + sn.from + " at " : "taken at ";
        out.push('<span class="cell snap" data-lsn="' + sn.lsn + '" data-term="' + sn.term + '" title="' +
                 esc("entries 1 to " + sn.lsn + " compacted into a snapshot (" + how + R.fmtT(sn.t) + "): their effect is kept, the entries are gone") + '">' +
                 esc("snapshot up to lsn " + sn.lsn + " (term " + sn.term + ")" + (sn.reason === "install" ? ", installed from " + sn.from : "")) + "</span>");
      }
      if (w.live.length && w.live[0].lsn > base + 1) out.push('<span class="more">' + (base + 1) + "…" + (w.live[0].lsn - 1) + "</span>");
      let lineDone = false;
      for (const en of w.live) {
        if (!lineDone && en.lsn > commit) { out.push('<span class="commitline" title="commit LSN ' + commit + '"></span>'); lineDone = true; }
        const doomed = future && en.ir !== Infinity;
        const cls = "cell" + (en.lsn <= commit ? " committed" : "") + (en.noop ? " noop" : "") + (doomed ? " doomed" : "");
        const title = "lsn " + en.lsn + ", term " + en.term + ", " + (en.noop ? "no-op" : "key " + en.key + (en.value !== undefined ? ", value " + en.value : "")) +
                      ", appended at " + R.fmtT(en.ta) + (en.lsn <= commit ? ", committed" : "") + (doomed ? "; will be discarded at " + R.fmtT(en.tr) + " (" + en.why + ")" : "");
        out.push('<span class="' + cls + '" title="' + esc(title) + '">' + esc(R.cellText(en)) + "</span>");
        if (doomed) out.push('<span class="why later">later: discarded at ' + (en.tr / 1e6).toFixed(3) + " s: " + esc(en.why) + "</span>");
      }
      if (!lineDone) out.push('<span class="commitline" title="commit LSN ' + commit + '"></span>');
      for (const en of w.gone)
        out.push('<span class="cell gone" title="' + esc("discarded at " + R.fmtT(en.tr) + " (" + en.why + ")") + '">' + esc(R.cellText(en)) + '</span><span class="why">' + esc(en.why + " at " + (en.tr / 1e6).toFixed(3) + " s") + "</span>");
      out.push("</div>");
    }
    return out.join("");
  }

  function dashHTML(M, i) {
    const d = R.dashboardAt(M, i), out = [];
    out.push('<table class="repl"><thead><tr><th>node</th><th>role</th><th>term</th><th>LSN</th><th>commit</th><th title="the trace has no apply event: applied is the commit LSN">applied</th>' +
             '<th>lag entries</th><th>bytes</th><th>seconds</th><th>follows</th></tr></thead><tbody>');
    for (const r of d.rows) {
      const lag = r.lag;
      out.push('<tr class="' + (r.alert ? "lagging" : "") + (r.n === d.leader ? " leads" : "") + '" data-node="n' + r.n + '"><td>n' + r.n + "</td><td>" + roleChip(r, true) + "</td><td>" + r.term +
               "</td><td>" + r.last + "</td><td>" + r.commit + "</td><td>" + r.applied + "</td><td>" + (lag ? lag.entries : "–") + "</td><td>" + (lag ? lag.bytes : "–") +
               "</td><td>" + (lag ? lag.seconds.toFixed(3) : "–") + "</td><td>" + (r.role === "down" ? "–" : r.follows ? "n" + r.follows : "–") + "</td></tr>");
    }
    out.push("</tbody></table>");
    if (!d.leader) out.push('<div class="more">no leader at this moment: no lag to measure</div>');
    out.push('<div class="more">lag: what the leader (up, highest term) has that the node has not applied; red from ' + R.LAG_ALERT + " entries behind</div>");
    const pg = R.pgAt(M, i);
    if (pg.length) {
      out.push('<table class="repl pgtable"><thead><tr><th>server</th><th>node</th><th>role</th><th>timeline</th><th>WAL LSN</th><th>replayed</th>' +
               '<th>lag bytes</th><th>seconds</th><th>seen at</th></tr></thead><tbody>');
      for (const p of pg)
        out.push('<tr data-server="' + esc(p.server) + '" class="pg-' + esc(p.role) + '"><td>' + esc(p.server) + "</td><td>" + esc(p.node) + "</td><td>" + esc(p.role) +
                 "</td><td>" + (p.timeline || "–") + "</td><td>" + esc(p.lsn || "–") + "</td><td>" + esc(p.replayed || "–") + "</td><td>" +
                 (p.lag_bytes !== undefined ? p.lag_bytes : "–") + "</td><td>" + (p.lag_s !== undefined ? Number(p.lag_s).toFixed(3) : "–") +
                 "</td><td>" + R.fmtT(p.t_us) + "</td></tr>");
      out.push("</tbody></table>");
      out.push('<div class="more">the real PostgreSQL servers, as the mirror last queried each one (pg_is_in_recovery, pg_current_wal_lsn / pg_last_wal_receive_lsn, pg_last_wal_replay_lsn; lag from the primary\'s pg_stat_replication)</div>');
    }
    return out.join("");
  }

  G.RaftWal = { walHTML, dashHTML };
})(window);
