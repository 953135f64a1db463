#!/usr/bin/env bash
# tests/live.sh — `raftsim serve` end to end (README 14): the HTTP API
# (tests/live_http.py: tokens, bad lines, bodies, 50 viewers in sync, the
# late joiner's snapshot, seek, export) and the page in headless Chromium
# (tests/live_browser.py).  The browser part is skipped, saying so, only
# when Chromium, chromedriver or python3-selenium is missing
# (tools/install-deps installs them).
set -u
cd "$(dirname "$0")/.."
RAFTSIM=${RAFTSIM:-build/raftsim}
export RAFTSIM
[ -x "$RAFTSIM" ] || { echo "live.sh: no raftsim binary at $RAFTSIM"; exit 2; }
mkdir -p build
fail=0
timeout 180 /usr/bin/python3 tests/live_http.py || fail=1
if [ -x /usr/bin/chromium ] && [ -x /usr/bin/chromedriver ] &&
    /usr/bin/python3 -c 'import selenium' 2>/dev/null; then
    timeout 300 /usr/bin/python3 tests/live_browser.py || fail=1
else
    echo "live.sh: SKIPPED the browser test: /usr/bin/chromium, /usr/bin/chromedriver or python3-selenium is missing (tools/install-deps installs them)"
fi
[ "$fail" -eq 0 ] && echo "live.sh: all passed" || { echo "live.sh: FAILED"; exit 1; }
