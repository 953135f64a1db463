#!/usr/bin/env bash
# tests/report.sh — the report page end to end (README, "Visual report"):
# raftsim writes the split-brain report (the scenario with reads added),
# then headless Chromium (Debian's, driven by python3-selenium and
# chromium-driver) opens it offline: tests/report.py checks it opens on the
# first event, the client lanes and read values, that the old leader's y
# is struck through only from the discard on (and earlier only with "show
# what happens later"), and saves build/report.png.  Also: bad input
# exits 2 with a message.
set -euo pipefail
bin=${RAFTSIM:-build/raftsim}
cd "$(dirname "$0")/.."
mkdir -p build
fail=0
check_bad() { # NAME WANT_TEXT ARGS...
    local name=$1 want=$2; shift 2
    local rc=0 err
    err=$("$bin" "$@" 2>&1 >/dev/null) || rc=$?
    if [ "$rc" -ne 2 ] || ! grep -q -- "$want" <<<"$err"; then
        echo "FAIL: $name: exit $rc, stderr: $err"; fail=1
    fi
}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
printf '{"t_us":0,"node":"n1","kind":"role"}\nnot json\n' >"$tmp/bad.jsonl"
: >"$tmp/empty.jsonl"
check_bad "missing trace" "cannot read" report "$tmp/nope.jsonl" -o "$tmp/x.html"
check_bad "invalid line" "bad.jsonl:2:" report "$tmp/bad.jsonl" -o "$tmp/x.html"
check_bad "empty trace" "no trace lines" report "$tmp/empty.jsonl" -o "$tmp/x.html"
check_bad "no output" "no output given" report "$tmp/bad.jsonl"
[ ! -e "$tmp/x.html" ] || { echo "FAIL: a bad trace left a page behind"; fail=1; }

# The split-brain story with reads added during the split and after the
# heal, so the page has reads to draw: carol reads z from the new leader
# (3), then from the old one (nothing: stale, her own write missing, back
# in time), alice reads x from the old leader, carol z again once healed.
awk '{ print }
     /^expect committed z/ { print "read carol z from M"; print "read carol z from L"; print "read alice x from L" }
     /^expect write of bob y timeout/ { print "read carol z from L" }' \
    scenarios/split-brain.scn >build/split-brain-reads.scn
"$bin" run --color never --trace build/split-brain.jsonl --report build/split-brain.html \
    build/split-brain-reads.scn >build/split-brain.out
"$bin" report --quiet build/split-brain.jsonl -o "$tmp/again.html"
diff -q <(grep -v "<title>" build/split-brain.html) <(grep -v "<title>" "$tmp/again.html") >/dev/null || { echo "FAIL: run --report and report differ"; fail=1; }
if grep -Eq '(src|href)="https?:' build/split-brain.html; then
    echo "FAIL: the page fetches from the network"; fail=1
fi
REPORT_STATUS=build/split-brain.out timeout 300 /usr/bin/python3 tests/report.py "$PWD/build/split-brain.html" \
    build/split-brain.jsonl build/report.png ${REPORT_BIG:+--big "$REPORT_BIG"} || fail=1
# snapshot lines (section 8) on a page: described, no script errors
"$bin" run --quiet --trace build/snapshot.jsonl --report build/snapshot.html \
    scenarios/snapshot-catch-up.scn >/dev/null || { echo "FAIL: snapshot-catch-up.scn"; fail=1; }
timeout 300 /usr/bin/python3 tests/report.py --snapshots "$PWD/build/snapshot.html" \
    build/snapshot.jsonl || fail=1
[ "$fail" -eq 0 ] && echo "report.sh: all passed" || { echo "report.sh: FAILED"; exit 1; }
