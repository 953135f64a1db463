#!/usr/bin/env bash
# tests/report_big.sh — a report of over a million trace lines still opens
# (issue 17; README "Visual report"): `raftsim explore` writes 70 s of a
# 5-node cluster at 1,000 writes/s (about 1.1 million lines), `raftsim
# report` turns it into one page, and headless Chromium opens it
# (tests/report.py --big), printing the time to open it, to step and to
# redraw.  The figures are printed, never asserted (a benchmark: `make
# bench-report`); it fails only if the page does not open or draw.
# REPORT_BIG_DURATION (default 70s) and REPORT_BIG_RATE (default 1000)
# change the size.
set -euo pipefail
bin=${RAFTSIM:-build/raftsim}
cd "$(dirname "$0")/.."
mkdir -p build
"$bin" explore --nodes 5 --start-seed 1 --seeds 1 \
    --duration "${REPORT_BIG_DURATION:-70s}" --writes-per-s "${REPORT_BIG_RATE:-1000}" \
    --trace build/report-big.jsonl | tail -1
echo "report_big: $(wc -l <build/report-big.jsonl) trace lines"
"$bin" report build/report-big.jsonl -o build/report-big.html
timeout 900 /usr/bin/python3 tests/report.py --big "$PWD/build/report-big.html"
