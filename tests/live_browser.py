#!/usr/bin/python3
"""The live page in headless Chromium (tests/live.sh; README 14).

Starts `raftsim serve scenarios/split-brain.scn --speed 5`, opens the
controller URL and drives the page as a teacher would: resumes at each
`step` until the story is told, pauses, checks the node table against GET
/state, crashes the leader through the line form and waits for a new
leader, sees a bad line answered in red with the parser's caret, restarts
the node with its button, changes the speed, fetches the Export link and
replays it with `raftsim run` (exit 0), seeks back to 0.1 s (the page drops
its model), and opens the viewer URL, which has no controls.  Saves
build/live.png.  Every wait is bounded; Chromium runs with the flags that
keep it off the network (as tests/report.py).

usage: RAFTSIM=build/raftsim tests/live_browser.py
"""
import json
import os
import subprocess
import sys
import tempfile
import time
import traceback
import urllib.request

from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.action_chains import ActionChains
from selenium.webdriver.common.by import By
from selenium.common.exceptions import StaleElementReferenceException
from selenium.webdriver.support.ui import Select, WebDriverWait

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from live_http import Server  # noqa: E402  (the same server harness)
import live_acting  # noqa: E402  (acting with the mouse and keys, issue 17)

FLAGS = ["--headless=new", "--no-sandbox", "--disable-gpu", "--no-first-run",
         "--disable-background-networking", "--disable-component-update",
         "--disable-sync", "--disable-dev-shm-usage", "--window-size=1300,1100"]
SCENARIO = "scenarios/split-brain.scn"
SHOT = "build/live-controller.png"
SHOT_README = "build/live.png"  # docs/live.png, from tests/live_acting.py
CLUSTER_SHOT = "build/live-cluster.png"
FPS_JS = """
var done = arguments[arguments.length - 1], n = 0, t0 = performance.now(), seen = 0;
function f(t) {
  n++;
  seen = Math.max(seen, window.raftCluster.inFlight());
  if (t - t0 < 3000) requestAnimationFrame(f);
  else done([n * 1000 / (t - t0), seen]);
}
requestAnimationFrame(f);
"""

passed = 0
failed = 0


def check(name, ok, detail=""):
    global passed, failed
    if ok:
        passed += 1
    else:
        failed += 1
        print("live_browser: FAIL: %s%s" % (name, ": " + detail if detail else ""),
              flush=True)
    return ok


def browser(profile):
    opts = webdriver.ChromeOptions()
    opts.binary_location = "/usr/bin/chromium"
    for f in FLAGS + ["--user-data-dir=" + profile]:
        opts.add_argument(f)
    opts.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    d = webdriver.Chrome(service=Service("/usr/bin/chromedriver"), options=opts)
    d.set_page_load_timeout(60)
    d.set_script_timeout(30)
    return d


def js_errors(d):
    """SEVERE console lines, but the 400 the bad line is meant to get."""
    return [e["message"] for e in d.get_log("browser") if e["level"] == "SEVERE"
            and not ("/act?token=" in e["message"] and "status of 400" in e["message"])]


def until(d, pred, timeout_s, what):
    """Wait for pred(d); True, or a failed check naming what."""
    try:
        # a redraw between two WebDriver calls leaves a stale element: ask again
        WebDriverWait(d, timeout_s, poll_frequency=0.05,
                      ignored_exceptions=[StaleElementReferenceException]).until(pred)
        return True
    except Exception:
        return check(what, False, "not within %g s" % timeout_s)


def text(d, id_):
    return d.find_element(By.ID, id_).text


def state(srv):
    with urllib.request.urlopen("http://127.0.0.1:%d/state" % srv.port, timeout=10) as r:
        return json.loads(r.read())


def leader_on_page(d):
    v = d.find_element(By.ID, "leader").get_attribute("data-node")
    return int(v) if v else 0


def caught_up(d, srv):
    """The page has applied every released entry (the session paused)."""
    want = state(srv)["events"] - 1
    return until(d, lambda d: d.execute_script("return window.raftLive.lastId()") == want,
                 10, "the page catches up with entry %d" % want)


def table(d):
    rows = {}
    for r in d.find_elements(By.CSS_SELECTOR, "#nodes tr[data-node]"):
        k = int(r.get_attribute("data-node"))
        rows[k] = tuple(r.find_element(By.CSS_SELECTOR, "td." + c).text
                        for c in ("role", "term", "last", "commit", "state"))
    return rows


def table_of_state(s):
    return {n["id"]: (n["role"], str(n["term"]), str(n["last_lsn"]), str(n["commit_lsn"]),
                      "crashed" if not n["up"] else "paused" if n["paused"] else "up")
            for n in s["nodes"]}


def tell_the_story(d, srv):
    """Resume at each `step` until the file has run to its end."""
    end = time.monotonic() + 30
    clicks = 0
    while time.monotonic() < end:
        s = state(srv)
        if "next" not in s and not s["paused"] and s["t_us"] > 1_000_000:
            break
        if s["paused"] and s["at_step"]:
            if "paused at a step" not in text(d, "clock"):
                time.sleep(0.1)  # the clock event is ~5/s
                continue
            d.find_element(By.ID, "btn-resume").click()
            clicks += 1
            until(d, lambda d: not state(srv)["at_step"], 5, "resume leaves the step")
        time.sleep(0.1)
    s = state(srv)
    check("the story is told by clicking resume at its steps (%d clicks)" % clicks,
          "next" not in s and clicks >= 2, "state %r" % {k: s.get(k) for k in
                                                        ("t_us", "paused", "next")})


def controller(d, srv, tmp):
    d.get(srv.controller)
    until(d, lambda d: d.execute_script("return document.body.dataset.connected") == "1",
          15, "the page connects to /events")
    until(d, lambda d: leader_on_page(d) > 0, 20, "#leader shows a node")
    check("the controller panel is shown", d.find_element(By.ID, "controller").is_displayed())
    check("one row a node, 5 nodes", len(table(d)) == 5, repr(table(d)))

    tell_the_story(d, srv)

    d.find_element(By.ID, "btn-pause").click()
    until(d, lambda d: "paused" in text(d, "clock") and state(srv)["paused"], 5,
          "#btn-pause pauses (the clock says so)")
    caught_up(d, srv)
    s = state(srv)
    check("the table equals GET /state (role, term, last, commit, state)",
          table(d) == table_of_state(s), "page %r\nstate %r" % (table(d), table_of_state(s)))
    old = leader_on_page(d)
    check("#leader is GET /state's leader", old == s["leader"] and old > 0,
          "page n%d, state n%d" % (old, s["leader"]))
    narr = d.find_elements(By.CSS_SELECTOR, "#narration .line")
    check("the narration shows at most 200 lines, the newest at the bottom",
          0 < len(narr) <= 200 and "acknowledged was lost" in
          " ".join(l.text for l in narr[-40:]), "%d lines" % len(narr))

    # Crash the leader through the form, then let time run: a new leader.
    box = d.find_element(By.ID, "act-input")
    box.clear()
    box.send_keys("crash n%d" % old)
    d.find_element(By.ID, "act-send").click()
    until(d, lambda d: text(d, "act-result").startswith("ok at"), 10,
          "the crash line is answered 'ok at T s'")
    row = '#nodes tr[data-node="%d"]' % old
    until(d, lambda d: d.find_element(By.CSS_SELECTOR, row + " td.state").text == "crashed",
          10, "n%d's row says crashed" % old)
    check("n%d's button offers a restart" % old,
          d.find_element(By.ID, "node-btn-%d" % old).text == "restart n%d" % old)
    d.find_element(By.ID, "btn-resume").click()
    until(d, lambda d: leader_on_page(d) not in (0, old), 20,
          "#leader shows a new leader after crashing n%d" % old)
    new = leader_on_page(d)
    check("a different node leads", new not in (0, old), "n%d then n%d" % (old, new))

    # A bad line: the parser's message in red, preformatted.
    box.clear()
    box.send_keys("crsh n1")
    d.find_element(By.ID, "act-send").click()
    res = d.find_element(By.ID, "act-result")
    until(d, lambda d: "did you mean" in res.text, 10, "a bad line shows the parser's message")
    check("the bad line's answer is red and preformatted",
          "error" in res.get_attribute("class") and res.tag_name == "pre"
          and res.value_of_css_property("color") in ("rgba(192, 0, 0, 1)", "rgb(192, 0, 0)"),
          "%r %r" % (res.get_attribute("class"), res.value_of_css_property("color")))
    lines = res.text.split("\n")
    check("the caret lines up under the word",
          len(lines) >= 3 and lines[-2].index("crsh") == lines[-1].index("^"), repr(res.text))

    # The node button restarts the crashed node; the speed selector.
    d.find_element(By.ID, "node-btn-%d" % old).click()
    until(d, lambda d: d.find_element(By.CSS_SELECTOR, row + " td.state").text == "up",
          10, "the node button restarts n%d" % old)
    Select(d.find_element(By.ID, "speed")).select_by_value("2")
    until(d, lambda d: state(srv)["speed"] == 2 and "x2 " in text(d, "clock") + " ", 10,
          "the speed selector sets x2")
    d.find_element(By.ID, "btn-pause").click()
    until(d, lambda d: state(srv)["paused"] and "paused" in text(d, "clock"), 5,
          "pause again")
    caught_up(d, srv)
    s = state(srv)
    check("after the crash and the restart the table equals GET /state",
          table(d) == table_of_state(s), "page %r\nstate %r" % (table(d), table_of_state(s)))
    d.save_screenshot(SHOT)

    # Export: the link's file replays.
    href = d.find_element(By.ID, "export").get_attribute("href")
    with urllib.request.urlopen(href, timeout=10) as r:
        body = r.read().decode()
        disp = r.headers.get("Content-Disposition", "")
    check("the Export link is /export, an attachment live-session.scn",
          href.endswith("/export") and "live-session.scn" in disp, "%r %r" % (href, disp))
    check("the export has the crash and the restart",
          ("crash n%d" % old) in body and ("restart n%d" % old) in body, body[-400:])
    path = os.path.join(tmp, "live-session.scn")
    with open(path, "w") as f:
        f.write(body)
    r = subprocess.run([os.environ["RAFTSIM"], "run", "--quiet", path],
                       stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=60)
    check("raftsim run on the exported file exits 0", r.returncode == 0,
          "exit %d: %s" % (r.returncode, r.stdout.decode(errors="replace")[-600:]))

    # Seek back before the first leader: the page drops its model.
    n_before = len(d.find_elements(By.CSS_SELECTOR, "#narration .line"))
    seek = d.find_element(By.ID, "seek-input")
    seek.clear()
    seek.send_keys("0.1")
    d.find_element(By.ID, "seek-go").click()
    until(d, lambda d: text(d, "clock").startswith("t = 0.100 s"), 10,
          "#seek-go moves the clock to 0.100 s")
    caught_up(d, srv)
    check("after the seek: no leader yet, every term 0, fewer narration lines",
          leader_on_page(d) == 0 and all(v[1] == "0" for v in table(d).values())
          and len(d.find_elements(By.CSS_SELECTOR, "#narration .line")) < n_before,
          "%r %r" % (text(d, "leader"), table(d)))
    check("the table equals GET /state after the seek",
          table(d) == table_of_state(state(srv)),
          "page %r\nstate %r" % (table(d), table_of_state(state(srv))))
    errs = js_errors(d)
    check("no script errors or CSP reports on the controller page", not errs, repr(errs))


def viewer(d, srv):
    d.get(srv.viewer)
    until(d, lambda d: d.execute_script("return document.body.dataset.connected") == "1",
          15, "the viewer page connects")
    until(d, lambda d: len(table(d)) == 5, 10, "the viewer shows the 5 nodes")
    controls = d.find_elements(By.CSS_SELECTOR,
                               "#controller, #act-input, #act-send, #btn-pause, "
                               "#btn-resume, #btn-step, #speed, #seek-input, #seek-go, "
                               "#export, button, input:not(.view-only), "
                               "select:not(.view-only), form")
    check("the viewer page has no controls", not controls,
          repr([c.get_attribute("id") or c.tag_name for c in controls]))
    check("the viewer's table equals GET /state", table(d) == table_of_state(state(srv)),
          "page %r" % table(d))
    errs = js_errors(d)
    check("no script errors on the viewer page", not errs, repr(errs))


def svg_nodes(d):
    return d.find_elements(By.CSS_SELECTOR, "#cluster-svg g.node")


def svg_leader(d):
    """The node the cluster view draws as leader (up), or 0."""
    g = d.find_elements(By.CSS_SELECTOR, "#cluster-svg g.node.role-leader:not(.crashed)")
    return int(g[0].get_attribute("data-node")) if len(g) == 1 else 0


def post(srv, path, body):
    req = urllib.request.Request("http://127.0.0.1:%d%s?token=%s" % (srv.port, path, srv.token),
                                 data=body.encode(), method="POST")
    with urllib.request.urlopen(req, timeout=10) as r:
        return r.status


def cluster(d, tmp):
    """The cluster view: circles, messages, the node menu, cuts, 15 nodes."""
    scn = os.path.join(tmp, "five.scn")
    with open(scn, "w") as f:
        f.write("nodes 5\n")
    srv = Server(os.environ["RAFTSIM"], [scn, "--speed", "1"])
    try:
        d.get(srv.controller)
        until(d, lambda d: d.execute_script("return document.body.dataset.connected") == "1",
              15, "the cluster page connects")
        until(d, lambda d: len(svg_nodes(d)) == 5, 10, "the cluster view draws 5 nodes")
        check("the cluster view shows 5 node circles",
              len(d.find_elements(By.CSS_SELECTOR, "#cluster-svg g.node circle.body")) == 5)
        until(d, lambda d: svg_leader(d) > 0, 20, "the cluster view shows a leader")
        fps, seen = d.execute_async_script(FPS_JS)
        print("live_browser: cluster view at x1, 5 nodes: %.1f frames per second over 3 s "
              "(requestAnimationFrame), up to %d messages drawn at once" % (fps, seen),
              flush=True)
        check("messages in flight are drawn (heartbeats at x1)", seen > 0, "%d" % seen)
        old = svg_leader(d)
        body = d.find_element(By.CSS_SELECTOR,
                              '#cluster-svg g.node[data-node="%d"] circle.body' % old)
        ActionChains(d).context_click(body).perform()
        until(d, lambda d: d.find_elements(By.CSS_SELECTOR, "#node-menu button"), 5,
              "right-clicking n%d opens the node menu" % old)
        d.find_element(By.CSS_SELECTOR, '#node-menu button[data-act="crash"]').click()
        until(d, lambda d: "crashed" in d.find_element(
            By.CSS_SELECTOR, '#cluster-svg g.node[data-node="%d"]' % old).get_attribute("class"),
            10, "the menu's crash greys n%d" % old)
        until(d, lambda d: svg_leader(d) not in (0, old), 20,
              "another node becomes leader in the cluster view after crashing n%d" % old)
        check("a different node leads in the picture", svg_leader(d) not in (0, old),
              "n%d then n%d" % (old, svg_leader(d)))
        acts = [li.get_attribute("data-line") for li in
                d.find_elements(By.CSS_SELECTOR, "#actions li")]
        check("the actions list shows 'crash n%d'" % old, acts == ["crash n%d" % old],
              repr(acts))
        # A partition typed as a line is drawn as broken links; heal mends them.
        new = svg_leader(d)
        box = d.find_element(By.ID, "act-input")
        box.clear()
        box.send_keys("isolate n%d" % new)
        d.find_element(By.ID, "act-send").click()
        until(d, lambda d: len(d.find_elements(By.CSS_SELECTOR, "#cluster-cuts g.cut")) == 4,
              10, "isolating n%d draws its 4 links cut" % new)
        dash = {int(r.get_attribute("data-node")): r.find_element(By.CSS_SELECTOR, "td.role").text
                for r in d.find_elements(By.CSS_SELECTOR, "#dashboard-body tr")}
        check("the dashboard has a row a node, n%d crashed" % old,
              len(dash) == 5 and dash.get(old) == "crashed", repr(dash))
        d.save_screenshot(CLUSTER_SHOT)
        post(srv, "/act", "heal")
        until(d, lambda d: not d.find_elements(By.CSS_SELECTOR, "#cluster-cuts g.cut"), 10,
              "heal removes the broken links")
        # A switchover from the menu: a follower's `transfer leader to`.
        until(d, lambda d: svg_leader(d) > 0, 20, "a leader after the heal")
        lead = svg_leader(d)
        tgt = next(k for k in range(1, 6) if k not in (old, lead))
        body = d.find_element(By.CSS_SELECTOR,
                              '#cluster-svg g.node[data-node="%d"] circle.body' % tgt)
        ActionChains(d).context_click(body).perform()
        until(d, lambda d: d.find_elements(
            By.CSS_SELECTOR, '#node-menu button[data-act="transfer"]'), 5,
              "n%d's menu offers a transfer" % tgt)
        d.find_element(By.CSS_SELECTOR, '#node-menu button[data-act="transfer"]').click()
        until(d, lambda d: svg_leader(d) == tgt, 10,
              "the menu's 'transfer leader to n%d' makes it the leader" % tgt)
        acts = [li.get_attribute("data-line") for li in
                d.find_elements(By.CSS_SELECTOR, "#actions li")]
        check("the actions list shows 'transfer leader to n%d'" % tgt,
              "transfer leader to n%d" % tgt in acts, repr(acts))
        # The restart of the session with 15 nodes: readable ring.
        post(srv, "/control", "restart nodes=15")  # restarts paused
        post(srv, "/control", "resume")
        until(d, lambda d: len(svg_nodes(d)) == 15, 15, "the cluster view draws 15 nodes")
        until(d, lambda d: svg_leader(d) > 0, 20, "15 nodes: a leader in the picture")
        errs = js_errors(d)
        check("no script errors on the cluster page", not errs, repr(errs))
        # The viewer: the same picture, no menu.
        d.get(srv.viewer)
        until(d, lambda d: len(svg_nodes(d)) == 15, 15, "the viewer draws the 15 nodes")
        g = d.find_element(By.CSS_SELECTOR, '#cluster-svg g.node[data-node="1"] circle.body')
        ActionChains(d).context_click(g).perform()
        ActionChains(d).click(g).perform()
        time.sleep(0.3)
        check("a viewer URL has no node menu and no actions list",
              not d.find_elements(By.CSS_SELECTOR, "#node-menu, #actions, button"))
    finally:
        srv.stop()
        srv.kill()


def main():
    binary = os.environ.get("RAFTSIM")
    if not binary:
        print("live_browser: set RAFTSIM to the raftsim binary", file=sys.stderr)
        return 2
    os.environ["RAFTSIM"] = os.path.abspath(binary)
    os.chdir(os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
    os.makedirs("build", exist_ok=True)
    srv = Server(os.environ["RAFTSIM"], [SCENARIO, "--speed", "5"])
    d = None
    try:
        with tempfile.TemporaryDirectory(prefix="raftsim-live-browser-") as tmp:
            d = browser(os.path.join(tmp, "profile"))
            controller(d, srv, tmp)
            viewer(d, srv)
            cluster(d, tmp)
            timeline(d, tmp)
            live_acting.run(sys.modules[__name__], d, tmp)
    except Exception as e:
        traceback.print_exc()
        check("no exception", False, "%s: %s" % (type(e).__name__, e))
    finally:
        if d:
            d.quit()
        rc = srv.stop()
        check("SIGTERM ends serve with exit 0", rc == 0, "exit %r" % rc)
        srv.kill()
    for shot in (SHOT, CLUSTER_SHOT, TIMELINE_SHOT, "build/live-acting.png", "build/live-partition.png",
                 "build/live-fork.png", "build/live-viewer.png", SHOT_README):
        if os.path.exists(shot):
            print("live_browser: screenshot %s" % shot)
    print("live_browser: %d passed, %d failed" % (passed, failed))
    return 1 if failed else 0


TIMELINE_SHOT = "build/live-timeline.png"


def timeline(d, tmp):
    """The timeline view (the report's Lamport diagram, WAL and dashboard,
    fed by the event stream): on a viewer URL, it shows the messages, a
    client's write and the value its read returned, the WAL cells with
    their values, and no acting control."""
    scn = os.path.join(tmp, "timeline.scn")
    with open(scn, "w") as f:
        f.write("nodes 3\nseed 5\nawait leader as L within 3s\n"
                "write alice x=1 expect committed\nwait 120ms\nread alice x from any\n")
    srv = Server(os.environ["RAFTSIM"], [scn, "--speed", "2"])
    try:
        # the previous server's stream, cut when it stopped, is not ours
        d.get("about:blank")
        d.get_log("browser")
        d.get(srv.viewer)
        until(d, lambda d: d.execute_script("return document.body.dataset.connected") == "1",
              15, "the viewer connects (timeline)")
        d.find_element(By.ID, "view-timeline").click()
        check("the timeline view is shown and the cluster view hidden",
              d.find_element(By.ID, "timeline").is_displayed()
              and not d.find_element(By.CSS_SELECTOR, "section.view").is_displayed())
        until(d, lambda d: d.execute_script(
            "return document.querySelectorAll('#tl-svg .crlabel').length") > 0, 30,
            "the timeline draws alice's read")
        # every trace event the cluster view applied reached the timeline
        # too (one script: both count in the same stream handler); the
        # stream once opened before live_timeline.js had subscribed, and
        # a late joiner's backlog went to the cluster view alone
        both = d.execute_script("return [window.raftLive.model().events, "
                                "window.raftTimeline.model().E.length]")
        check("the timeline has every trace event the cluster view has",
              both[0] == both[1], "cluster view %d, timeline %d" % tuple(both))
        n_events = d.execute_script("return window.raftTimeline.model().E.length")
        n_msgs = d.execute_script("return document.querySelectorAll('#tl-svg .msg').length")
        check("the timeline's model has the stream's events", n_events > 20, "%d" % n_events)
        check("the timeline draws messages", n_msgs >= 3, "%d" % n_msgs)
        heads = d.execute_script("return Array.from(document.querySelectorAll("
                                 "'#tl-lanehead span'), (c) => c.textContent)")
        check("the timeline has a lane per node and one for alice",
              heads == ["n1", "n2", "n3", "alice"], repr(heads))
        reads = d.execute_script("return Array.from(document.querySelectorAll("
                                 "'#tl-svg .crlabel'), (c) => c.textContent)")
        check("the read shows the value returned", "read x → 1" in reads, repr(reads))
        writes = d.execute_script("return Array.from(document.querySelectorAll("
                                  "'#tl-svg .cwlabel'), (c) => c.textContent)")
        check("the write is drawn from alice's lane", "x=1" in writes, repr(writes))
        # read in one script: the panel is redrawn every frame
        cells = d.execute_script("return Array.from(document.querySelectorAll("
                                 "'#tl-wal .cell.committed'), (c) => c.textContent)")
        check("the timeline's WAL shows committed x=1 with its value",
              any(c.endswith(" x=1") for c in cells), repr(cells))
        rows = d.execute_script("return document.querySelectorAll('#tl-dash tr[data-node]').length")
        check("the timeline's dashboard has a row per node", rows == 3, "%d" % rows)
        # a moment picked in the past stops following; the box brings it back
        d.find_element(By.ID, "tl-svg").click()
        check("clicking the diagram stops following",
              not d.find_element(By.ID, "tl-follow").is_selected())
        d.find_element(By.ID, "tl-follow").click()
        check("the viewer still has no acting control",
              not d.find_elements(By.CSS_SELECTOR, "#node-menu, #actions, button, #controller"))
        d.save_screenshot(TIMELINE_SHOT)
        print("live_browser: timeline view: %d events, %d messages drawn, screenshot %s"
              % (n_events, n_msgs, TIMELINE_SHOT), flush=True)
        errs = js_errors(d)
        check("no script errors on the timeline view", not errs, repr(errs))
        d.get("about:blank")
    finally:
        srv.stop()
        srv.kill()


if __name__ == "__main__":
    sys.exit(main())
