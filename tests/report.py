#!/usr/bin/python3
"""End-to-end check of the report page in headless Chromium (tests/report.sh).

Opens the split-brain report (with reads added, tests/report.sh) as
file://: it must open on the first event with it on screen, lanes for the
nodes and the clients, a time axis and a compressed quiet start, and a
legend naming every mark.  Steps forward to the heal: the old leader's
entry y is not struck through yet (no spoilers) until "show what happens
later" is ticked; steps on to the discard: now it is.  The client writes,
answers and reads (with values and badges) are drawn.  Steps back,
reopens the address and saves a screenshot.  Every wait is bounded;
Chromium runs with the flags that keep it off the network.

--big PAGE.html opens a large report and prints (never asserts) the time
to open it and to step and redraw (tests/report_big.sh).

usage: report.py PAGE.html TRACE.jsonl SCREENSHOT.png [--big PAGE.html]
       report.py --big PAGE.html
"""
import json
import os
import sys
import tempfile
import time

from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.support.ui import WebDriverWait

FLAGS = ["--headless=new", "--no-sandbox", "--disable-gpu", "--no-first-run",
         "--disable-background-networking", "--disable-component-update",
         "--disable-sync", "--disable-dev-shm-usage", "--window-size=1500,1000"]


def fail(msg):
    print("report.py: FAIL: " + msg, file=sys.stderr)
    sys.exit(1)


def browser(profile):
    opts = webdriver.ChromeOptions()
    opts.binary_location = "/usr/bin/chromium"
    for f in FLAGS + ["--user-data-dir=" + profile]:
        opts.add_argument(f)
    opts.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    d = webdriver.Chrome(service=Service("/usr/bin/chromedriver"), options=opts)
    d.set_page_load_timeout(120)
    d.set_script_timeout(30)
    return d


def open_page(d, path, timeout=120):
    t0 = time.monotonic()
    d.get("file://" + path)
    WebDriverWait(d, timeout).until(
        lambda d: d.execute_script("return document.body.dataset.ready === '1'"))
    return time.monotonic() - t0


def js_errors(d):
    return [e["message"] for e in d.get_log("browser") if e["level"] == "SEVERE"]


def cur(d):
    return d.execute_script("return window.raftReport.state.cur")


def texts(d, css):
    """textContent of every match, in one script (the panels are redrawn)."""
    return d.execute_script(
        "return Array.from(document.querySelectorAll(arguments[0]), (e) => e.textContent)", css)


def struck(d, node, want):
    """The WAL cells of node reading `want`, and whether each is struck."""
    return d.execute_script("""
        const row = document.querySelector('.walrow[data-node="' + arguments[0] + '"]');
        return row ? Array.from(row.querySelectorAll('.cell'), (c) => c.textContent === arguments[1] ?
            [c.className, getComputedStyle(c).textDecorationLine.includes('line-through')] : null)
            .filter((x) => x) : null;""", node, want)


def row_text(d, node):
    return d.execute_script(
        "const r = document.querySelector('.walrow[data-node=\"' + arguments[0] + '\"]');"
        "return r ? r.textContent : ''", node)


def status_table(path):
    """The rows of the last status table in `raftsim run` output."""
    if not path:
        return None
    rows = []
    for line in open(path):
        w = line.split()
        if w[:2] == ["node", "role"]:
            rows = []
        elif len(w) == 10 and w[0].startswith("n") and w[0][1:].isdigit():
            rows.append(w)
    return rows


def first_event(lines):
    """Where the page opens: the first line after the set-up at the start."""
    t0 = lines[0]["t_us"]
    for i, e in enumerate(lines):
        if e["t_us"] > t0 or not (e["kind"] in ("run", "say") or
                                  (e["kind"] == "role" and e.get("reason") == "start")):
            return i
    return 0


def step_to(d, body, target, limit):
    for _ in range(limit):
        if cur(d) >= target:
            break
        body.send_keys(Keys.ARROW_RIGHT)
    return cur(d)


def big(d, path):
    """Open a large report; print (not assert) how long it took."""
    d.set_page_load_timeout(900)  # a loaded machine: the figure is printed
    d.set_script_timeout(300)
    secs = open_page(d, path, timeout=900)
    n = d.execute_script("return window.raftReport.lines")
    ms = d.execute_script("return window.raftReport.loadMs")
    # 200 steps forward from the middle, each drawing the WAL panel, the
    # dashboard and the diagram; then one scroll redraw with heartbeats
    step_ms = d.execute_script("""
        const S = window.raftReport.state, t0 = performance.now();
        document.getElementById('jump').value = (S.M.end / 2e6) + 's';
        document.getElementById('go').click();
        for (let k = 0; k < 200; k++) document.dispatchEvent(
            new KeyboardEvent('keydown', {key: 'ArrowRight'}));
        return (performance.now() - t0) / 201;""")
    draw_ms = d.execute_script("""
        const t0 = performance.now();
        document.getElementById('hb').click();
        document.getElementById('scroll').scrollTop += 5000;
        return new Promise((ok) => requestAnimationFrame(() =>
            ok(performance.now() - t0)));""")
    errs = js_errors(d)
    if errs:
        fail("script errors on the big page: %s" % errs)
    drawn = d.execute_script("return document.querySelectorAll('#svg .msg').length")
    if drawn < 10:
        fail("the big page drew only %d messages" % drawn)
    print("report.py: big: %s: %d lines opened in %.2f s (navigation to a drawn page; "
          "model and first drawing %.0f ms), %.1f ms per step, %.0f ms to redraw with "
          "heartbeats, %d messages on screen" % (path, n, secs, ms, step_ms, draw_ms, drawn))


def snapshots(d, page, trace):
    """A run with snapshot lines (scenarios/snapshot-catch-up.scn): the page
    opens without script errors, describes each snapshot line and shows the
    compacted logs honestly (wal_after_snapshots)."""
    lines = [json.loads(l) for l in open(trace) if l.strip()]
    snaps = [i for i, e in enumerate(lines) if e["kind"] == "snapshot"]
    reasons = {lines[i]["reason"] for i in snaps}
    if reasons != {"compact", "send", "install"}:
        fail("the snapshot trace has snapshot lines %s" % sorted(reasons))
    open_page(d, page)
    for i in snaps:
        d.execute_script("window.raftReport.setCur(arguments[0])", i)
        e = lines[i]
        text = d.execute_script("return window.RaftModel.describe(arguments[0])", e)
        want = {"compact": "snapshot at lsn %d" % e["lsn"],
                "send": "sends snapshot to %s" % e.get("to"),
                "install": "installs snapshot from %s" % e.get("from")}[e["reason"]]
        if want not in text:
            fail("line %d described as %r, not %r" % (i + 1, text, want))
    checked = wal_after_snapshots(d, lines, snaps)
    errs = js_errors(d)
    if errs:
        fail("script errors on the snapshot page: %s" % errs)
    print("report.py: snapshots: %d snapshot lines described, %d WAL views checked "
          "(compacted prefix as one block, no entry shown that the log no longer "
          "holds), no script errors" % (len(snaps), checked))


def wal_after_snapshots(d, lines, snaps):
    """The WAL panel after each snapshot line and at the end: a node whose
    log was compacted (or replaced by an installed snapshot) shows the
    prefix as one block "snapshot up to lsn N (term T)" and no entry at or
    below N; every other cell is an entry its log holds then, as the trace
    says (appends, discards, snapshots replayed here in Python)."""
    live, snap, checked = {}, {}, 0
    stops = set(snaps) | {len(lines) - 1}
    for i, e in enumerate(lines):
        n = e.get("node", "")
        if e["kind"] == "append":
            live.setdefault(n, {})[e["lsn"]] = e["term"]
        elif e["kind"] == "discard":
            live.get(n, {}).pop(e["lsn"], None)
        elif e["kind"] == "snapshot" and e["reason"] in ("compact", "install"):
            snap[n] = e
            live[n] = {k: v for k, v in live.get(n, {}).items() if k > e["lsn"]}
        if i not in stops:
            continue
        d.execute_script("window.raftReport.setCur(arguments[0])", i)
        for node in sorted(set(live) | set(snap)):
            cells = d.execute_script("""
                const r = document.querySelector('.walrow[data-node="' + arguments[0] + '"]');
                return r ? Array.from(r.querySelectorAll('.cell'), (c) => [c.className, c.textContent]) : null;""", node)
            if cells is None:
                fail("line %d: no WAL row for %s" % (i + 1, node))
            blocks = [t for c, t in cells if "snap" in c.split()]
            sn = snap.get(node)
            if sn:
                want = "snapshot up to lsn %d (term %d)" % (sn["lsn"], sn["term"])
                if sn["reason"] == "install":
                    want += ", installed from %s" % sn["from"]
                if blocks != [want]:
                    fail("line %d: %s's WAL shows %r, not the block %r" % (i + 1, node, blocks, want))
            elif blocks:
                fail("line %d: %s has no snapshot but its WAL shows %r" % (i + 1, node, blocks))
            shown = {}
            for c, t in cells:
                if "snap" in c.split() or "gone" in c.split():
                    continue
                lsn, term = t.split(" ")[0].split(":")
                shown[int(lsn)] = int(term)
            held = live.get(node, {})
            newest = dict(sorted(held.items())[-24:])
            if shown != newest:
                fail("line %d: %s's WAL shows entries %s, its log holds %s" % (i + 1, node, sorted(shown.items()), sorted(newest.items())))
            checked += 1
    installs = [e for e in snap.values() if e["reason"] == "install"]
    if not installs or len(snap) < 2:
        fail("the snapshot run should end with a compacted and an installed log: %s" % snap)
    return checked


def main():
    if sys.argv[1:2] == ["--snapshots"]:
        with tempfile.TemporaryDirectory(prefix="raftsim-chromium-") as profile:
            d = browser(profile)
            try:
                snapshots(d, sys.argv[2], sys.argv[3])
            finally:
                d.quit()
        return
    if sys.argv[1:2] == ["--big"]:
        with tempfile.TemporaryDirectory(prefix="raftsim-chromium-") as profile:
            d = browser(profile)
            try:
                big(d, sys.argv[2])
            finally:
                d.quit()
        return
    page, trace, shot = sys.argv[1:4]
    lines = [json.loads(l) for l in open(trace) if l.strip()]
    discards = [i for i, e in enumerate(lines) if e["kind"] == "discard" and e["reason"] == "conflict"]
    if not discards:
        fail("the split-brain trace has no conflict discard")
    lost = lines[discards[0]]
    old_leader = lost["node"]
    heal = next(i for i, e in enumerate(lines) if e["kind"] == "heal")
    want = "%d:%d %s=%s" % (lost["lsn"], lost["term"], lost["key"], lost["value"])
    reads = [e for e in lines if e["kind"] == "client" and e.get("op") == "read"]
    names = []
    for e in lines:
        if e["kind"] == "client":
            n = e.get("name", e["client"]) if e.get("op") == "write" else e["client"]
            if n not in names:
                names.append(n)
    with tempfile.TemporaryDirectory(prefix="raftsim-chromium-") as profile:
        d = browser(profile)
        try:
            secs = open_page(d, page)
            errs = js_errors(d)
            if errs:
                fail("script errors: %s" % errs)
            # (1) it opens on the first event, and that event is on screen
            first = first_event(lines)
            if cur(d) != first:
                fail("the page opened at line %d, not on the first event (line %d: %s)"
                     % (cur(d), first, lines[first]))
            if not d.execute_script("return window.raftReport.view.onScreen(arguments[0])",
                                    lines[first]["t_us"]):
                fail("the first event (t=%d us) is off screen when the page opens"
                     % lines[first]["t_us"])
            n_msgs = d.execute_script("return document.querySelectorAll('#svg .msg').length")
            if n_msgs < 3:
                fail("only %d messages drawn on opening" % n_msgs)
            # a lane per node, then one per client, named as the scenario names them
            heads = texts(d, "#lanehead span")
            nodes = ["n%d" % k for k in range(1, lines[0]["nodes"] + 1)]
            if heads != nodes + names:
                fail("lane heads %r, want %r" % (heads, nodes + names))
            if len(texts(d, "#svg .ticklabel")) < 3:
                fail("no time axis: %r" % texts(d, "#svg .ticklabel"))
            if not texts(d, "#svg .gaplabel"):
                fail("the quiet start is not compressed (no gap marked)")
            legend = d.find_element(By.ID, "legend").text
            for word in ("partition", "appends lsn", "discards", "client write", "unknown",
                         "refused", "stale", "own write missing", "went back in time",
                         "compressed", "heartbeat", "dropped"):
                if word not in legend:
                    fail("the legend does not explain %r: %r" % (word, legend))
            # no spoilers: before the heal, nothing says y will go
            body = d.find_element(By.TAG_NAME, "body")
            if step_to(d, body, heal, len(lines) + 5) != heal:
                fail("stepping forward passed the heal: at %d, heal is %d" % (cur(d), heal))
            if "heal" not in d.find_element(By.ID, "now").text:
                fail("the 'now' panel does not show the heal: %r" % d.find_element(By.ID, "now").text)
            if "#t=0.468760" not in d.current_url:
                fail("the address does not keep the moment: " + d.current_url)
            cells = struck(d, old_leader, want)
            if not cells or any(c[1] for c in cells):
                fail("at the heal, %s's %s is missing or already struck through (a spoiler): %r"
                     % (old_leader, want, cells))
            if "discard" in row_text(d, old_leader) or texts(d, "#svg .discmark"):
                fail("at the heal the page already tells of the discard: %r"
                     % row_text(d, old_leader))
            # the teacher's toggle shows it ahead of time
            d.find_element(By.ID, "future").click()
            cells = struck(d, old_leader, want)
            if not cells or not all(c[1] and "doomed" in c[0] for c in cells):
                fail("'show what happens later' does not strike %s through: %r" % (want, cells))
            if "later: discarded at 0.515 s: conflict" not in row_text(d, old_leader):
                fail("the toggle does not say when and why: %r" % row_text(d, old_leader))
            if not texts(d, "#svg .discmark"):
                fail("the toggle does not show the discard in the diagram")
            d.find_element(By.ID, "future").click()
            # ... and once it happens, it is struck through for everyone
            if step_to(d, body, discards[0], len(lines) + 5) != discards[0]:
                fail("stepping forward passed the discard")
            cells = struck(d, old_leader, want)
            if not cells or not all(c[1] and "gone" in c[0] for c in cells):
                fail("after the discard %s's %s is not struck through: %r" % (old_leader, want, cells))
            if "conflict" not in row_text(d, old_leader):
                fail("%s's WAL does not say why %s went: %r" % (old_leader, want, row_text(d, old_leader)))
            # client lanes: writes, answers, reads with values and badges
            writes = texts(d, "#svg .cwlabel")
            for w in ("x=1", "y=2", "z=3"):
                if w not in writes:
                    fail("no client write %s drawn: %r" % (w, writes))
            outs = texts(d, "#svg .colabel")
            if "ok x" not in outs or "? unknown y" not in outs:
                fail("the answers to the clients are not drawn: %r" % outs)
            got = texts(d, "#svg .crlabel")
            for e in reads:
                label = "read %s \u2192 %s" % (e["key"], e.get("value", "nothing"))
                if e["t_us"] <= lines[discards[0]]["t_us"] and label not in got:
                    fail("the read %r is not drawn with its value: %r" % (label, got))
            badges = texts(d, "#svg .badge")
            if reads and not all(b in badges for b in ("stale", "own write missing",
                                                       "went back in time")):
                fail("the read badges are missing: %r" % badges)
            dash = d.execute_script("return document.querySelectorAll('#dash tr[data-node]').length")
            if dash != lines[0]["nodes"]:
                fail("the dashboard has %d rows" % dash)
            # at the end, the dashboard says what the runner's last status
            # table said (`show status` at the same moment)
            want_rows = status_table(os.environ.get("REPORT_STATUS"))
            if want_rows:
                body.send_keys(Keys.END)
                got_rows = d.execute_script(
                    "return Array.from(document.querySelectorAll('#dash tr[data-node]'), (r) =>"
                    " Array.from(r.cells, (c) => c.textContent.trim()))")
                if got_rows != want_rows:
                    fail("the dashboard at the end %r is not the runner's status table %r"
                         % (got_rows, want_rows))
            # step back: the position moves back and the address follows
            for _ in range(len(lines)):
                if cur(d) < heal:
                    break
                body.send_keys(Keys.ARROW_LEFT)
            if cur(d) != heal - 1:
                fail("stepping back did not move: at %d" % cur(d))
            if "#t=" not in d.current_url or ("e=%d" % heal) in d.current_url:
                fail("the address did not follow the step back: " + d.current_url)
            # the link keeps the moment: reopen it
            url = d.current_url
            d.get("about:blank")
            d.get(url)
            WebDriverWait(d, 30).until(
                lambda d: d.execute_script("return document.body.dataset.ready === '1'"))
            if cur(d) != heal - 1:
                fail("reopening %s did not restore line %d (got %d)" % (url, heal - 1, cur(d)))
            d.save_screenshot(shot)
            errs = js_errors(d)
            if errs:
                fail("script errors: %s" % errs)
            print("report.py: ok: %s opened in %.2f s on line %d, heal at line %d, %s's %s "
                  "struck through only from line %d, %d client lanes, %d reads, screenshot %s"
                  % (page, secs, first + 1, heal + 1, old_leader, want, discards[0] + 1,
                     len(names), len(reads), shot))
            if len(sys.argv) > 5 and sys.argv[4] == "--big":
                big(d, sys.argv[5])
        finally:
            d.quit()


if __name__ == "__main__":
    main()
