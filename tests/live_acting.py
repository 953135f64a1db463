"""Acting on the live page with the mouse and the keyboard (issue 17, test 2
and 3), run by tests/live_browser.py with its browser and checks.

On a 5-node session at x1, from the controller URL: the client panel writes
(its ack arrow is drawn, the answer says who acknowledged) and reads with a
route (the value is shown); the election-timer arcs drain, freeze on a
paused node and vanish on a crashed one; shift-click two nodes and press
partition (`partition {…} rest`: the cuts are drawn, the majority elects);
a chord's menu cuts one way, sets a latency, heals that link; heal all; the
keyboard (`?`, space, a digit, `n`); step and step say from the buttons;
the time slider scrubs back to before the partition (the picture has no
cut there), a crash from the node menu forks, the export replays with
`raftsim run`, the set-aside timeline still has the partition; then the
viewer URL shows the same picture without a single control, and a POST
without the token (or with a forged one) gets 403.  Screenshots:
build/live-acting.png, build/live-partition.png, build/live-fork.png,
build/live-viewer.png; build/live.png is the README's (docs/live.png).
"""
import os
import subprocess
import time
import urllib.error
import urllib.request

from selenium.webdriver.common.action_chains import ActionChains
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.support.ui import Select

FPS_JS = """
var done = arguments[arguments.length - 1], n = 0, t0 = performance.now();
function f(t) {
  n++;
  if (t - t0 < 3000) requestAnimationFrame(f);
  else done(n * 1000 / (t - t0));
}
requestAnimationFrame(f);
"""


def run(lb, d, tmp):
    """lb: the live_browser module (check, until, browser helpers)."""
    from live_http import Server
    scn = os.path.join(tmp, "acting.scn")
    with open(scn, "w") as f:
        f.write("nodes 5\n")
    srv = Server(os.environ["RAFTSIM"], [scn, "--speed", "1"])
    try:
        _acting(lb, d, srv, tmp)
        _viewer(lb, d, srv)
    finally:
        rc = srv.stop()
        srv.kill()
    lb.check("SIGTERM ends the acting session's serve with exit 0", rc == 0, "exit %r" % rc)


def js(d, src, *args):
    return d.execute_script(src, *args)


# Every query of the picture is one script, so that a redraw between two
# WebDriver calls cannot leave a stale element behind.
def actions(d):
    return js(d, "return Array.from(document.querySelectorAll('#actions li'))"
                 ".map(function (li) { return li.dataset.line; })")


def leaders(d):
    """The up nodes the cluster view draws as leaders."""
    return sorted(js(d, "return Array.from(document.querySelectorAll("
                        "'#cluster-svg g.node.role-leader:not(.crashed)'))"
                        ".map(function (g) { return +g.dataset.node; })"))


def node_el(d, k):
    return d.find_element(By.CSS_SELECTOR, '#cluster-svg g.node[data-node="%d"] circle.body' % k)


def fractions(d):
    return js(d, "return Array.from(document.querySelectorAll('#cluster-svg g.node'))"
                 ".map(function (g) { var t = g.querySelector('.timer');"
                 " return [+g.dataset.node, +t.dataset.fraction, getComputedStyle(t).display,"
                 " t.getAttribute('class')]; })")


def cuts(d):
    return sorted(tuple(c) for c in js(
        d, "return Array.from(document.querySelectorAll('#cluster-cuts g.cut')).map("
           "function (g) { return [g.dataset.link, g.classList.contains('one-way')]; })"))


def exists(d, css):
    return js(d, "return !!document.querySelector(arguments[0])", css)


def picture(d):
    """What a viewer and the controller must agree on."""
    return js(d, """
      var m = window.raftLive.model();
      return {nodes: m.nodes.map(function (n) { return [n.id, n.role, n.term, n.last, n.commit, n.up]; }),
              cuts: window.raftCluster.cuts().sort(), clients: m.clientNames,
              boxes: Array.from(document.querySelectorAll('#cluster-clients g.client'))
                       .map(function (g) { return g.dataset.client + ':' + g.dataset.last; })};""")


def shot(d, path, at="cluster"):
    """A screenshot with the picture in view."""
    js(d, "document.getElementById(arguments[0]).scrollIntoView(); window.scrollBy(0, -48)", at)
    d.save_screenshot(path)


def _click_chord(d, a, b):
    line = d.find_element(By.CSS_SELECTOR, '#cluster-hits line[data-link="n%d-n%d"]' % (a, b))
    # a point on the chord a third of the way from a (away from the middle)
    x1, y1, x2, y2 = (float(line.get_attribute(k)) for k in ("x1", "y1", "x2", "y2"))
    js(d, """var l = arguments[0], r = l.ownerSVGElement.getBoundingClientRect(),
             vb = l.ownerSVGElement.viewBox.baseVal, s = r.width / vb.width;
             var x = r.left + (arguments[1]) * s, y = r.top + (arguments[2]) * s;
             var e = document.elementFromPoint(x, y);
             window.__chordHit = e === l;
             l.dispatchEvent(new MouseEvent('click', {bubbles: true, clientX: x, clientY: y,
               screenX: x, screenY: y, view: window}));""",
       line, x1 + 0.35 * (x2 - x1), y1 + 0.35 * (y2 - y1))
    return js(d, "return window.__chordHit")


def _acting(lb, d, srv, tmp):
    check, until = lb.check, lb.until
    d.get(srv.controller)
    d.get_log("browser")  # what the pages before said (a server they saw stop)
    until(d, lambda d: js(d, "return document.body.dataset.connected") == "1", 15,
          "the acting page connects")
    until(d, lambda d: len(leaders(d)) == 1, 20, "a leader in the picture")
    lead = leaders(d)[0]

    # The election timers: every follower's arc is partly full, none on the leader.
    until(d, lambda d: all(f > 0 for k, f, disp, c in fractions(d) if k != lead), 10,
          "every follower's timer arc is drawn")
    fr = {k: (f, disp) for k, f, disp, c in fractions(d)}
    check("the leader has no timer arc, followers have one (0 < f <= 1)",
          fr[lead][1] == "none" and all(0 < f <= 1 for k, (f, disp) in fr.items() if k != lead),
          repr(fr))

    # The client panel: a write, its ack arrow, the answer.
    name = d.find_element(By.ID, "client-name")
    name.clear()
    name.send_keys("alice")
    kv = d.find_element(By.ID, "write-kv")
    kv.send_keys("x=1")
    d.find_element(By.ID, "write-send").click()
    ack = '#cluster-clients g.c-arrow[data-kind="ack"][data-client="alice"]'
    until(d, lambda d: exists(d, ack), 10,
          "a write from the client panel draws its ack arrow")
    until(d, lambda d: "acknowledged by n%d" % lead in lb.text(d, "client-answer"), 10,
          "the client panel says who acknowledged the write")
    check("the write's line is in the actions list", "write alice x=1" in actions(d), repr(actions(d)))
    check("the client box says ok",
          d.find_element(By.CSS_SELECTOR, '#cluster-clients g.client[data-client="alice"]')
          .get_attribute("data-last") == "ack")
    fps = d.execute_async_script(FPS_JS)
    print("live_browser: acting page at x1, 5 nodes, timer arcs and a client: "
          "%.1f frames per second over 3 s (requestAnimationFrame)" % fps, flush=True)
    # A read with a route: a new client, typed.
    name.clear()
    name.send_keys("bob")
    d.find_element(By.ID, "read-key").send_keys("x")
    Select(d.find_element(By.ID, "read-route")).select_by_value("any")
    d.find_element(By.ID, "read-send").click()
    until(d, lambda d: "x = 1" in lb.text(d, "client-answer"), 10,
          "the read's answer shows the value")
    check("the read is sent as 'read bob x from any'", "read bob x from any" in actions(d),
          repr(actions(d)))
    until(d, lambda d: exists(d, '#cluster-clients g.c-arrow[data-kind="read"][data-client="bob"]'),
          10, "the read's arrow is drawn")
    shot(d, "build/live-acting.png")

    # Touch: a long press on a node opens its menu (a pointer of type touch).
    js(d, """var g = document.querySelector('#cluster-svg g.node[data-node="' + arguments[0] + '"]'),
             r = g.getBoundingClientRect(), x = r.left + r.width / 2, y = r.top + r.height / 2;
             g.dispatchEvent(new PointerEvent('pointerdown', {bubbles: true, pointerType: 'touch',
               clientX: x, clientY: y, isPrimary: true}));""", lead)
    until(d, lambda d: js(d, "var m = document.getElementById('node-menu');"
                             "return m ? m.dataset.node : null") == str(lead), 3,
          "a long press (touch) on n%d opens its node menu" % lead)
    d.find_element(By.TAG_NAME, "body").send_keys(Keys.ESCAPE)
    until(d, lambda d: not exists(d, "#node-menu"), 3, "Esc closes the menu")

    # Partition by the UI: shift-click the leader and one follower, press partition.
    other = [k for k in range(1, 6) if k != lead]
    minority = sorted([lead, other[0]])
    # the first by shift-click, the second in select mode (a touch screen's way)
    ActionChains(d).key_down(Keys.SHIFT).click(node_el(d, minority[0])).key_up(Keys.SHIFT).perform()
    d.find_element(By.ID, "btn-select-mode").click()
    node_el(d, minority[1]).click()
    d.find_element(By.ID, "btn-select-mode").click()
    until(d, lambda d: lb.text(d, "selection") == "selected: {n%d, n%d}" % tuple(minority), 10,
          "shift-click selects two nodes")
    check("no node menu opened by a shift-click", not d.find_elements(By.ID, "node-menu"))
    d.find_element(By.ID, "btn-partition").click()
    line = "partition {n%d, n%d} rest" % tuple(minority)
    until(d, lambda d: line in actions(d), 10, "partition sends '%s'" % line)
    until(d, lambda d: len(cuts(d)) == 6, 10, "the partition draws 6 cut links")
    rest = [k for k in range(1, 6) if k not in minority]
    until(d, lambda d: any(k in rest for k in leaders(d)), 20,
          "the majority side elects a leader in the picture")
    shot(d, "build/live-partition.png")
    lb.post(srv, "/control", "pause")
    lb.caught_up(d, srv)
    t_partition = [float(a.get_attribute("data-t") or 0) for a in
                   d.find_elements(By.CSS_SELECTOR, "#actions li")][-1]

    # A chord's menu: cut one way, heal that link; latency.
    a, b = rest[0], rest[1]
    check("the n%d-n%d chord is what the pointer hits a third of the way along" % (a, b),
          _click_chord(d, a, b))
    until(d, lambda d: exists(d, "#link-menu button"), 10,
          "clicking the n%d-n%d chord opens the link menu" % (a, b))
    d.find_element(By.CSS_SELECTOR, '#link-menu button[data-act="cut-ab"]').click()
    def dump():
        print("  actions %r\n  cuts %r\n  result %r" % (actions(d)[-3:], cuts(d),
                                                       lb.text(d, "act-result")), flush=True)
        print("  lastId %r state events %r, cuts model %r" % (
            js(d, "return window.raftLive.lastId()"), lb.state(srv)["events"],
            js(d, "return window.raftCluster.cuts()")), flush=True)
    if not until(d, lambda d: ("n%d-n%d" % (a, b), True) in cuts(d), 10,
                 "'cut n%d -> n%d' draws a one-way cut" % (a, b)):
        dump()
    check("the one-way cut is listed as its line", "cut n%d -> n%d" % (a, b) in actions(d))
    _click_chord(d, a, b)
    until(d, lambda d: exists(d, "#link-menu button"), 10, "the menu again")
    d.find_element(By.CSS_SELECTOR, '#link-menu button[data-act="heal-link"]').click()
    if not until(d, lambda d: ("n%d-n%d" % (a, b), True) not in cuts(d) and len(cuts(d)) == 6,
                 10, "'heal n%d <-> n%d' mends that link only" % (a, b)):
        dump()
    _click_chord(d, a, b)
    until(d, lambda d: exists(d, "#link-menu button"), 10, "the menu again")
    d.find_element(By.CSS_SELECTOR, '#link-menu button[data-act="latency"]').click()
    until(d, lambda d: js(d, "return Array.from(document.querySelectorAll('#cluster-links g.shaped'))"
                             ".some(function (g) { return /100ms/.test(g.textContent); })"),
          10, "a latency draws the link amber with 100ms")
    shot(d, lb.SHOT_README, "actions")  # the README's picture (docs/live.png)
    check("the link lines are listed",
          ["heal n%d <-> n%d" % (a, b), "link n%d <-> n%d latency 100ms" % (a, b)]
          == actions(d)[-2:], repr(actions(d)[-3:]))

    # Keyboard: ?, digits, space, n.
    body = d.find_element(By.TAG_NAME, "body")
    body.send_keys("?")
    until(d, lambda d: d.find_element(By.ID, "help").is_displayed(), 3, "? shows the help")
    body.send_keys(Keys.ESCAPE)
    until(d, lambda d: not d.find_element(By.ID, "help").is_displayed(), 3, "Esc hides it")
    body.send_keys(str(rest[2]))
    until(d, lambda d: exists(d, '#cluster-svg g.node.selected[data-node="%d"]' % rest[2]),
          3, "the digit %d selects n%d" % (rest[2], rest[2]))
    body.send_keys("p")
    until(d, lambda d: "pause n%d" % rest[2] in actions(d), 10, "p pauses the selected node")
    body.send_keys(Keys.ESCAPE)
    t0 = lb.state(srv)["t_us"]
    body.send_keys("n")
    until(d, lambda d: lb.state(srv)["t_us"] > t0, 10, "n steps to the next event")
    body.send_keys(" ")
    until(d, lambda d: not lb.state(srv)["paused"], 10, "space resumes")
    time.sleep(0.6)
    paused_f = [f for k, f, disp, c in fractions(d) if k == rest[2]][0]
    time.sleep(0.5)
    check("the paused node's arc is frozen",
          [(f, "frozen" in c) for k, f, disp, c in fractions(d) if k == rest[2]][0]
          == (paused_f, True), repr(fractions(d)))
    body.send_keys(" ")
    until(d, lambda d: lb.state(srv)["paused"], 10, "space pauses")
    # step and step say from the buttons
    t0, ev0 = lb.state(srv)["t_us"], lb.state(srv)["events"]
    d.find_element(By.ID, "btn-step").click()
    until(d, lambda d: lb.state(srv)["t_us"] > t0 and lb.state(srv)["events"] > ev0, 5,
          "the step button moves to the next event")
    def narr(d):
        return js(d, "var l = document.querySelectorAll('#narration .line');"
                     "return [window.raftLive.lastId(), l.length ? l[l.length - 1].textContent : '']")
    lb.caught_up(d, srv)
    n0 = narr(d)
    d.find_element(By.ID, "btn-step-say").click()
    until(d, lambda d: narr(d)[0] > n0[0] and narr(d)[1] != n0[1], 5,
          "step say shows the next narration line")

    # Scrub back to before the partition; fork with a crash instead.
    end = lb.state(srv)["t_us"]
    back_ms = int(t_partition * 1000) - 20
    js(d, "var s = document.getElementById('time-slider'); s.value = arguments[0];"
          "s.dispatchEvent(new Event('input')); s.dispatchEvent(new Event('change'));", back_ms)
    until(d, lambda d: lb.state(srv)["seeked"] and abs(lb.state(srv)["t_us"] - back_ms * 1000) < 2000,
          5, "the slider seeks back to %d ms" % back_ms)
    lb.caught_up(d, srv)
    check("scrubbed back: no cut in the picture, the banner says acting forks",
          cuts(d) == [] and d.find_element(By.ID, "past-banner").is_displayed()
          and "forks" in lb.text(d, "past-banner"), repr(cuts(d)))
    check("the slider's label reads the moment of the end recorded",
          lb.text(d, "timeline-label").endswith("of %.3f s" % (end / 1e6)),
          lb.text(d, "timeline-label"))
    ActionChains(d).context_click(node_el(d, lead)).perform()
    until(d, lambda d: exists(d, "#node-menu button"), 10, "the node menu")
    d.find_element(By.CSS_SELECTOR, '#node-menu button[data-act="crash"]').click()
    until(d, lambda d: not lb.state(srv)["seeked"], 10, "acting in the past forks")
    until(d, lambda d: exists(d, '#cluster-svg g.node.crashed[data-node="%d"]' % lead),
          10, "the fork's crash greys n%d" % lead)
    until(d, lambda d: [disp for k, f, disp, c in fractions(d) if k == lead] == ["none"], 10,
          "a crashed node has no timer arc")
    d.find_element(By.ID, "btn-resume").click()
    until(d, lambda d: any(k != lead for k in leaders(d)), 20, "the fork elects another leader")
    lb.post(srv, "/control", "pause")
    lb.caught_up(d, srv)
    shot(d, "build/live-fork.png")
    with urllib.request.urlopen("http://127.0.0.1:%d/export" % srv.port, timeout=10) as r:
        body_now = r.read().decode()
    check("the export has the fork's crash and not the partition",
          "crash n%d" % lead in body_now and "partition" not in body_now, body_now[-500:])
    path = os.path.join(tmp, "acting-export.scn")
    with open(path, "w") as f:
        f.write(body_now)
    rr = subprocess.run([os.environ["RAFTSIM"], "run", "--quiet", path],
                        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=60)
    check("raftsim run passes the fork's export", rr.returncode == 0,
          "exit %d: %s" % (rr.returncode, rr.stdout.decode(errors="replace")[-600:]))
    until(d, lambda d: d.find_element(By.ID, "export-abandoned").is_displayed(), 10,
          "after the fork the set-aside timeline can be exported")
    href = d.find_element(By.ID, "export-abandoned").get_attribute("href")
    with urllib.request.urlopen(href, timeout=10) as r:
        ab = r.read().decode()
        check("the set-aside timeline still has the partition", line in ab, ab[-600:])
    errs = lb.js_errors(d)
    check("no script errors on the acting page", not errs, repr(errs))


def _viewer(lb, d, srv):
    check, until = lb.check, lb.until
    d.get(srv.controller)
    until(d, lambda d: js(d, "return document.body.dataset.connected") == "1", 15, "reconnect")
    lb.caught_up(d, srv)
    want = picture(d)
    d.get(srv.viewer)
    until(d, lambda d: js(d, "return document.body.dataset.connected") == "1", 15,
          "the viewer connects")
    lb.caught_up(d, srv)
    got = picture(d)
    check("the viewer URL shows the controller's picture (nodes, cuts, clients)", got == want,
          "viewer %r\ncontroller %r" % (got, want))
    check("the viewer draws the client boxes", len(got["boxes"]) == 2, repr(got["boxes"]))
    # the view switch and the timeline view's follow/heartbeats/zoom
    # (class view-only) change only what this page shows: a viewer has them
    controls = d.find_elements(By.CSS_SELECTOR, "button, input:not(.view-only), "
                                                "select:not(.view-only), form, #controller, "
                                                "#client-panel, #time-slider, #help, "
                                                "#cluster-hits line")
    check("the viewer has no acting controls (no buttons, inputs, link hit lines)", not controls,
          repr([c.get_attribute("id") or c.tag_name for c in controls]))
    ActionChains(d).context_click(node_el(d, 1)).perform()
    d.find_element(By.TAG_NAME, "body").send_keys("?1c ")
    time.sleep(0.3)
    check("right-click and keys on a viewer open nothing, send nothing",
          not d.find_elements(By.CSS_SELECTOR, "#node-menu, #link-menu, #help")
          and lb.state(srv)["paused"], repr(lb.state(srv)["paused"]))
    shot(d, "build/live-viewer.png")
    for path, q in (("/act", ""), ("/act", "?token=" + "0" * 32), ("/control", "?token=x")):
        req = urllib.request.Request("http://127.0.0.1:%d%s%s" % (srv.port, path, q),
                                     data=b"crash n1", method="POST")
        try:
            with urllib.request.urlopen(req, timeout=10) as r:
                code = r.status
        except urllib.error.HTTPError as e:
            code = e.code
        check("a forged POST %s%s gets 403" % (path, q), code == 403, "got %d" % code)
    errs = lb.js_errors(d)
    check("no script errors on the viewer", not errs, repr(errs))
