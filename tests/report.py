#!/usr/bin/python3
"""End-to-end check of the report page in headless Chromium (tests/report.sh).

Opens the split-brain report as file://, steps forward event by event to
the heal, checks that the old leader's WAL shows its discarded entry
struck through, steps back, and saves a screenshot.  Every wait is
bounded; Chromium runs with the flags that keep it off the network.

usage: report.py PAGE.html TRACE.jsonl SCREENSHOT.png [--big PAGE.html]
"""
import json
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


def main():
    page, trace, shot = sys.argv[1:4]
    lines = [json.loads(l) for l in open(trace) if l.strip()]
    discards = [e for e in lines if e["kind"] == "discard" and e["reason"] == "conflict"]
    if not discards:
        fail("the split-brain trace has no conflict discard")
    old_leader, lost = discards[0]["node"], discards[0]
    heal = next(i for i, e in enumerate(lines) if e["kind"] == "heal")
    with tempfile.TemporaryDirectory(prefix="raftsim-chromium-") as profile:
        d = browser(profile)
        try:
            secs = open_page(d, page)
            errs = js_errors(d)
            if errs:
                fail("script errors: %s" % errs)
            body = d.find_element(By.TAG_NAME, "body")
            # step forward with the keyboard until the heal line is current
            for _ in range(len(lines) + 5):
                if cur(d) >= heal:
                    break
                body.send_keys(Keys.ARROW_RIGHT)
            if cur(d) != heal:
                fail("stepping forward passed the heal: at %d, heal is %d" % (cur(d), heal))
            if "heal" not in d.find_element(By.ID, "now").text:
                fail("the 'now' panel does not show the heal: %r" % d.find_element(By.ID, "now").text)
            if "#t=0.468760" not in d.current_url:
                fail("the address does not keep the moment: " + d.current_url)
            row = d.find_element(By.CSS_SELECTOR, '.walrow[data-node="%s"]' % old_leader)
            want = "%d:%d %s" % (lost["lsn"], lost["term"], lost["key"])
            struck = [c for c in row.find_elements(By.CSS_SELECTOR, ".cell")
                      if c.text == want and "line-through" in
                      c.value_of_css_property("text-decoration-line")]
            if not struck:
                fail("%s's WAL does not show %s struck through: %r" % (old_leader, want, row.text))
            if "conflict" not in row.text:
                fail("%s's WAL does not say why %s goes: %r" % (old_leader, want, row.text))
            # the diagram drew something: lanes, messages, a partition band
            n_msgs = d.execute_script("return document.querySelectorAll('#svg .msg').length")
            if n_msgs < 3:
                fail("only %d messages drawn" % n_msgs)
            # step back: the position moves back and the address follows
            body.send_keys(Keys.ARROW_LEFT)
            if cur(d) >= heal:
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
            print("report.py: ok: %s opened in %.2f s, heal at line %d, %s's %s struck through, screenshot %s"
                  % (page, secs, heal + 1, old_leader, want, shot))
            if len(sys.argv) > 5 and sys.argv[4] == "--big":
                big = sys.argv[5]
                secs = open_page(d, big, timeout=300)
                n = d.execute_script("return window.raftReport.lines")
                ms = d.execute_script("return window.raftReport.loadMs")
                # 200 steps forward from the middle, each drawing the WAL
                # panel and the diagram; then one scroll redraw
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
                print("report.py: big: %s: %d lines opened in %.2f s (model %.0f ms), "
                      "%.1f ms per step, %.0f ms to redraw with heartbeats"
                      % (big, n, secs, ms, step_ms, draw_ms))
        finally:
            d.quit()


if __name__ == "__main__":
    main()
