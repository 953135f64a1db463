#!/usr/bin/python3
"""tests/report_pg.py REPORT.html TRACE.jsonl SHOT.png — the report of a
mirrored run shows the real PostgreSQL servers beside the nodes (the
dashboard's second table, README section 13): at any moment, each server
as the mirror's last `pg` trace line about it says, and nothing before the
first one.  Run by tests/pg.sh (it needs a real pair to make the trace)."""
import json
import sys
import tempfile

sys.path.insert(0, __file__.rsplit("/", 1)[0])
import report  # noqa: E402  (browser(), open_page(), js_errors() of report.py)


def fail(msg):
    print("report_pg.py: FAIL: " + msg, file=sys.stderr)
    sys.exit(1)


def expected(lines, i):
    """What the table must show at line i, from the trace itself."""
    seen = {}
    for e in lines[:i + 1]:
        if e["kind"] == "pg":
            seen[e["server"]] = e
    return [seen[k] for k in sorted(seen)]


def shown(d):
    return d.execute_script("""
        return Array.from(document.querySelectorAll('#dash .pgtable tbody tr'),
            (r) => Array.from(r.cells, (c) => c.textContent));""")


def main():
    page, trace, shot = sys.argv[1:4]
    lines = [json.loads(l) for l in open(trace) if l.strip()]
    pg = [i for i, e in enumerate(lines) if e["kind"] == "pg"]
    if not pg:
        fail("the mirrored trace has no pg lines")
    roles = {lines[i]["role"] for i in pg}
    if not {"primary", "standby"} <= roles:
        fail("the trace never shows both a primary and a standby: %s" % sorted(roles))
    with tempfile.TemporaryDirectory(prefix="raftsim-chromium-") as profile:
        d = report.browser(profile)
        try:
            report.open_page(d, page)
            errs = report.js_errors(d)
            if errs:
                fail("script errors: %s" % errs)
            checked = 0
            # before the first observation: no table; then at each pg line
            # and just before the next one
            probes = ([pg[0] - 1] if pg[0] > 0 else []) + pg + [len(lines) - 1]
            for i in probes:
                d.execute_script("window.raftReport.setCur(arguments[0], false)", i)
                got = shown(d)
                want = expected(lines, i)
                if len(got) != len(want):
                    fail("at line %d the table has %d servers, the trace says %d: %s"
                         % (i, len(got), len(want), got))
                for row, e in zip(got, want):
                    if row[0] != e["server"] or row[1] != e["node"] or row[2] != e["role"]:
                        fail("at line %d: row %s, but the trace says server %s node %s %s"
                             % (i, row, e["server"], e["node"], e["role"]))
                    if row[4] != e.get("lsn", "–") or row[5] != e.get("replayed", "–"):
                        fail("at line %d: LSNs %s/%s, the trace says %s/%s"
                             % (i, row[4], row[5], e.get("lsn"), e.get("replayed")))
                checked += 1
            d.execute_script("window.raftReport.setCur(arguments[0], false)", len(lines) - 1)
            d.save_screenshot(shot)
            print("report_pg.py: %d moments checked against %d pg lines (%s); screenshot %s"
                  % (checked, len(pg), ", ".join(sorted(roles)), shot))
        finally:
            d.quit()


if __name__ == "__main__":
    main()
